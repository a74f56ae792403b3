"""Foreign keys without a database: the spec (located errors), the model it writes, the ops, their
order and reverse, and the guard counting the rows that break a key."""

from __future__ import annotations

import pytest

from schemadiff.core.constraint_ops import AddConstraint, DropConstraint
from schemadiff.core.diff import diff_schema, reverse_ops
from schemadiff.core.foreign_keys import ForeignKey, offending_rows_guard, parse_foreign_key
from schemadiff.core.model import Column, Constraint, SchemaModel, Table
from schemadiff.core.online import make_online
from schemadiff.core.ops import AddColumn, CreateTable
from schemadiff.errors import SpecError
from schemadiff.spec.schema import parse_spec
from schemadiff.spec.to_model import spec_model

HEAD = """version: 1
tenants:
  template: public
  pattern: '^user_[0-9]+$'
tables:
"""
TASKS_FIRST = HEAD + (
    "  tasks:\n    columns:\n"
    "      id: {type: integer, primary_key: true}\n"
    "      job_id: {type: integer, references: jobs.id}\n"
    "      country: {type: text}\n"
    "    foreign_keys:\n"
    "      fk_country:\n"
    "        columns: [country]\n"
    "        references: {schema: public, table: countries, columns: [code]}\n"
    "        on_delete: set null\n"
    "        on_update: cascade\n"
    "        deferrable: true\n"
    "        initially_deferred: true\n"
    "  jobs:\n    columns:\n      id: {type: integer, primary_key: true}\n"
)


def problems(text: str) -> list[str]:
    with pytest.raises(SpecError) as info:
        parse_spec(text, "schema.yaml")
    return [str(p) for p in info.value.problems]


def test_the_spec_writes_a_column_shorthand_and_a_table_level_key() -> None:
    tasks = spec_model(parse_spec(TASKS_FIRST)).table("tasks")
    assert tasks is not None
    assert [(c.name, c.kind, c.source) for c in tasks.constraints if c.kind == "f"] == [
        ("tasks_job_id_fkey", "f", "FOREIGN KEY (job_id) REFERENCES jobs (id)"),
        (
            "fk_country",
            "f",
            "FOREIGN KEY (country) REFERENCES public.countries (code) ON UPDATE CASCADE ON DELETE SET NULL "
            "DEFERRABLE INITIALLY DEFERRED",
        ),
    ]


def test_foreign_key_mistakes_are_located_errors() -> None:
    text = HEAD + (
        "  jobs:\n    columns:\n      id: {type: integer}\n"
        "  t:\n    columns:\n"
        "      a: {type: integer, references: job.id}\n"
        "      b: {type: integer, references: jobs.id}\n"
        "      d: {type: integer, references: public.jobs.id}\n"
        "    foreign_keys:\n"
        "      fk_c:\n        columns: [zz]\n        references: {table: jobs, columns: [idd]}\n"
    )
    assert problems(text) == [
        "schema.yaml:11:38: tables.t.columns.a.references: 'job' is not a table of this spec (a tenant-local "
        "reference needs one; give schema: <name> for a table every tenant shares); did you mean 'jobs'?",
        "schema.yaml:12:38: tables.t.columns.b.references: (id) of 'jobs' is neither its primary key nor unique: "
        "PostgreSQL needs a primary key, unique constraint or unique index on exactly those columns",
        "schema.yaml:13:38: tables.t.columns.d.references: 'jobs' is a table of this spec, created in every "
        "tenant: drop schema to reference each tenant's own, or name a table of public the spec does not manage",
        "schema.yaml:16:19: tables.t.foreign_keys.fk_c.columns.0: column 'zz' is not a column of this table",
        "schema.yaml:17:21: tables.t.foreign_keys.fk_c.references: 'idd' is not a column of table 'jobs'",
    ]


def test_malformed_keys_are_located_errors() -> None:
    text = HEAD + (
        "  jobs:\n    columns:\n      id: {type: integer, primary_key: true}\n"
        "  t:\n    columns:\n      a: {type: integer, references: jobs}\n"
        "    foreign_keys:\n"
        "      fk_a:\n        columns: [a, a]\n        references: {table: jobs, columns: [id]}\n"
        "      fk_b:\n        columns: [a]\n        references: {table: jobs, columns: [id]}\n"
        "        initially_deferred: true\n"
        "      fk_c:\n        columns: [a]\n        references: {table: jobs, columns: [id]}\n"
        "        on_delete: explode\n"
    )
    assert problems(text) == [
        "schema.yaml:11:38: tables.t.columns.a.references: 'jobs' is not table.column (or schema.table.column)",
        "schema.yaml:14:9: tables.t.foreign_keys.fk_a: 2 column(s) reference 1 column(s); give as many",
        "schema.yaml:17:9: tables.t.foreign_keys.fk_b: initially_deferred needs deferrable: true",
        "schema.yaml:23:20: tables.t.foreign_keys.fk_c.on_delete: Input should be 'no action', 'restrict', "
        "'cascade', 'set null' or 'set default'",
    ]


def test_a_key_name_used_twice_in_a_table_is_an_error() -> None:
    text = HEAD + (
        "  jobs:\n    columns:\n      id: {type: integer, primary_key: true}\n"
        "  t:\n    columns:\n      a: {type: integer, references: jobs.id}\n"
        "    foreign_keys:\n"
        "      t_a_fkey:\n        columns: [a]\n        references: {table: jobs, columns: [id]}\n"
    )
    assert problems(text) == [
        "schema.yaml:14:9: tables.t.foreign_keys.t_a_fkey: name 't_a_fkey' is used twice in table 't'"
    ]


LOCAL = Constraint("t_job_id_fkey", "f", "FOREIGN KEY (job_id) REFERENCES jobs(id) ON DELETE CASCADE")
SHARED = Constraint("fk_c", "f", 'FOREIGN KEY (c, "D") REFERENCES public.countries(code, "X") DEFERRABLE')


def test_a_definition_parses_back_to_its_parts() -> None:
    assert parse_foreign_key(LOCAL.definition) == ForeignKey(("job_id",), None, "jobs", ("id",), on_delete="CASCADE")
    key = parse_foreign_key(SHARED.definition)
    assert key is not None and (key.schema, key.columns, key.ref_columns, key.deferrable) == (
        "public",
        ("c", "D"),
        ("code", "X"),
        True,
    )
    assert parse_foreign_key("CHECK ((a > 0))") is None


def test_the_guard_counts_rows_whose_key_no_referenced_row_holds() -> None:
    guard = offending_rows_guard("user_1", "t", SHARED)
    assert guard is not None and guard.sql == (
        'SELECT count(*) FROM user_1.t AS c WHERE c.c IS NOT NULL AND c."D" IS NOT NULL '
        'AND NOT EXISTS (SELECT 1 FROM public.countries AS r WHERE r.code = c.c AND r."X" = c."D")'
    )
    local = offending_rows_guard(None, "t", LOCAL)
    assert local is not None and "FROM jobs AS r" in local.sql  # the tenant's own, by search_path
    assert offending_rows_guard(None, "t", Constraint("ck", "c", "CHECK ((a > 0))")) is None


ID, JOB = Column("id", "integer", False), Column("job_id", "integer")
JOBS = Table("jobs", (ID,), (), (Constraint("jobs_pkey", "p", "PRIMARY KEY (id)"),))
TASKS = Table("t", (ID, JOB), (), (Constraint("t_pkey", "p", "PRIMARY KEY (id)"), LOCAL))


def test_new_tables_are_created_before_any_key_and_dropped_after_every_key() -> None:
    ops = diff_schema(SchemaModel(()), SchemaModel((TASKS, JOBS)))  # the referencing table first in the spec
    bare = Table("t", (ID, JOB), (), (Constraint("t_pkey", "p", "PRIMARY KEY (id)"),))
    assert ops == [CreateTable("t", bare), CreateTable("jobs", JOBS), AddConstraint("t", LOCAL)]
    assert [op.kind for op in reverse_ops(ops)] == ["drop_constraint", "drop_table", "drop_table"]


def test_keys_are_dropped_first_added_last_and_each_op_reverses_itself() -> None:
    changed = Constraint("t_job_id_fkey", "f", "FOREIGN KEY (job_id) REFERENCES jobs(id)")
    order = Column("step", "integer")
    live = SchemaModel((Table("t", (ID, JOB), (), (LOCAL,)), JOBS))
    target = SchemaModel((Table("t", (ID, JOB, order), (), (changed,)), JOBS))
    ops = diff_schema(live, target)
    assert ops == [DropConstraint("t", LOCAL), AddColumn("t", order), AddConstraint("t", changed)]
    assert all(op.reverse().reverse() == op for op in ops)
    assert AddConstraint("t", changed).hazards == ("blocks_writes", "fails_on_existing_rows", "scans_table")


def test_on_a_large_table_a_key_is_added_not_valid_after_its_guard_and_validated_after_commit() -> None:
    [op] = make_online([AddConstraint("t", LOCAL)], {"t"}, set())
    guard, add, validate = op.statements(None)
    assert guard.guard is not None and guard.phase == "inside"
    assert add.sql.endswith("ON DELETE CASCADE NOT VALID") and add.phase == "inside"
    assert validate.sql == "ALTER TABLE t VALIDATE CONSTRAINT t_job_id_fkey" and validate.phase == "after"
    assert op.hazards == ("fails_on_existing_rows",)


def test_create_table_adds_its_keys_after_the_table() -> None:
    assert CreateTable("t", TASKS).sql("s")[-1] == (
        "ALTER TABLE s.t ADD CONSTRAINT t_job_id_fkey FOREIGN KEY (job_id) REFERENCES jobs(id) ON DELETE CASCADE"
    )


def test_uniques_are_written_as_unique_constraints_and_their_columns_checked() -> None:
    text = HEAD + (
        "  t:\n    columns:\n      a: {type: integer}\n      b: {type: integer}\n"
        "    uniques:\n"
        "      uq_t_a_b: {columns: [a, b], nulls_not_distinct: true, deferrable: true, initially_deferred: true}\n"
    )
    t = spec_model(parse_spec(text)).table("t")
    assert t is not None and t.constraints == (
        Constraint(
            "uq_t_a_b",
            "u",
            "UNIQUE NULLS NOT DISTINCT (a, b) DEFERRABLE INITIALLY DEFERRED",
            source="UNIQUE NULLS NOT DISTINCT (a, b) DEFERRABLE INITIALLY DEFERRED",
        ),
    )
    bad = text.replace("columns: [a, b]", "columns: [a, c]").replace("deferrable: true, ", "")
    assert problems(bad) == [
        "schema.yaml:11:17: tables.t.uniques.uq_t_a_b: initially_deferred needs deferrable: true",
    ]
    assert problems(text.replace("columns: [a, b]", "columns: [a, c]")) == [
        "schema.yaml:11:31: tables.t.uniques.uq_t_a_b.columns.1: column 'c' is not a column of this table",
    ]


def test_a_key_may_reference_a_multi_column_unique() -> None:
    text = HEAD + (
        "  jobs:\n    columns:\n      a: {type: integer}\n      b: {type: integer}\n"
        "    uniques:\n      uq_jobs_a_b: {columns: [a, b]}\n"
        "  t:\n    columns:\n      a: {type: integer}\n      b: {type: integer}\n"
        "    foreign_keys:\n      fk_t:\n        columns: [b, a]\n        references: {table: jobs, columns: [b, a]}\n"
    )
    t = spec_model(parse_spec(text)).table("t")
    assert t is not None and [c.source for c in t.constraints] == ["FOREIGN KEY (b, a) REFERENCES jobs (b, a)"]
