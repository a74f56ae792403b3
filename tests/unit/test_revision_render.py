"""Revision rendering as text (golden, compiled), op → op.* calls, and the runtime's SQL recording."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

from schemadiff.core.alter_column import AlterColumn
from schemadiff.core.constraint_ops import AddConstraint, DropConstraint
from schemadiff.core.model import Column, Constraint, Index, Table
from schemadiff.core.ops import AddColumn, CreateIndex, CreateTable, DropColumn, DropIndex, Op, RenameColumn, SetComment
from schemadiff.core.statements import AFTER, BEFORE, INSIDE, Statement
from schemadiff.render.alembic_ops import py_type, render_op
from schemadiff.render.revision_file import (
    RevisionInfo,
    render_revision,
    revision_filename,
    slugify,
)
from schemadiff.runtime import record

from .test_plan_render import demo_plan

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
INFO = RevisionInfo(
    "0123456789ab",
    "fedcba987654",
    "add task orchestration columns",
    "Enables granular task tracking",
    datetime(2026, 1, 15, 14, 30),
)


def test_revision_matches_golden_and_compiles() -> None:
    text = render_revision(demo_plan(3), INFO)
    path = GOLDEN / "revision_render.py.txt"
    if os.environ.get("SCHEMADIFF_REGENERATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()
    compile(text, "revision.py", "exec")


def test_filename_and_slug() -> None:
    assert revision_filename(INFO) == "20260115_1430_add_task_orchestration_columns.py"
    assert slugify("Add: step_type & friends!!") == "add_step_type_friends"
    assert slugify("!!!") == "schemadiff"


@pytest.mark.parametrize(
    "pg,py",
    [
        ("integer", "sa.Integer()"),
        ("character varying(50)", "sa.String(length=50)"),
        ("numeric(12,2)", "sa.Numeric(12, 2)"),
        ("jsonb", "postgresql.JSONB()"),
        ("integer[]", "runtime.pg_type('integer[]')"),
    ],
)
def test_py_type(pg: str, py: str) -> None:
    assert py_type(pg) == py


def recorded_forms(op: Op) -> tuple[tuple[Statement, ...], tuple[Statement, ...]]:
    """Exec the rendered op.* lines in a function and record what Alembic emits (online, inline)."""
    import sqlalchemy as sa
    from alembic import op as alembic_op
    from sqlalchemy.dialects import postgresql

    from schemadiff import runtime

    source = "def fn():\n" + "".join(f"    {line}\n" for line in render_op(op))
    namespace = {"sa": sa, "op": alembic_op, "postgresql": postgresql, "runtime": runtime}
    exec(source, namespace)
    forms = record(namespace["fn"], 2)  # type: ignore[arg-type]
    return forms.online, forms.inline


def recorded(op: Op) -> tuple[str, ...]:
    return tuple(s.sql for s in recorded_forms(op)[0])


COL = Column("step_type", "character varying(50)", False, "'validate'::character varying")
IDX = Index("ix_t", False, "USING btree (a, b) WHERE (a > 0)")
CHECK = Constraint("ck_t", "c", "CHECK ((a > 0))", source="CHECK (a > 0)")


@pytest.mark.parametrize(
    "op,expected",
    [
        (
            AddColumn("t", COL),
            ("ALTER TABLE t ADD COLUMN step_type VARCHAR(50) DEFAULT 'validate'::character varying NOT NULL",),
        ),
        (DropColumn("t", COL), ("ALTER TABLE t DROP COLUMN step_type",)),
        (RenameColumn("t", "a", "b"), ("ALTER TABLE t RENAME a TO b",)),
        (
            AlterColumn("t", Column("a", "integer", True, "0"), Column("a", "bigint", False, "1")),
            (
                "ALTER TABLE t ALTER COLUMN a DROP DEFAULT",
                "ALTER TABLE t ALTER COLUMN a TYPE bigint USING a::bigint",
                "ALTER TABLE t ALTER COLUMN a SET DEFAULT 1",
                "ALTER TABLE t ALTER COLUMN a SET NOT NULL",
            ),
        ),
        (CreateIndex("t", IDX), ("CREATE INDEX ix_t ON t (a, b) WHERE (a > 0)",)),
        (
            CreateIndex("t", Index("ix_e", True, "USING btree (lower(a))")),
            ("CREATE UNIQUE INDEX ix_e ON t USING btree (lower(a))",),
        ),
        (DropIndex("t", IDX), ("DROP INDEX ix_t",)),
        (AddConstraint("t", CHECK), ("ALTER TABLE t ADD CONSTRAINT ck_t CHECK (a > 0)",)),
        (
            AddConstraint("t", Constraint("t_pkey", "p", "PRIMARY KEY (id)")),
            ("ALTER TABLE t ADD CONSTRAINT t_pkey PRIMARY KEY (id)",),
        ),
        (
            AddConstraint("t", Constraint("t_fk", "f", "FOREIGN KEY (a) REFERENCES jobs(id)")),
            (  # its guard first: the rows no job holds, counted (see core.foreign_keys)
                "SELECT count(*) FROM t AS c WHERE c.a IS NOT NULL AND NOT EXISTS (SELECT 1 FROM jobs AS r WHERE r.id = c.a)",
                "ALTER TABLE t ADD CONSTRAINT t_fk FOREIGN KEY (a) REFERENCES jobs(id)",
            ),
        ),
        (DropConstraint("t", CHECK), ("ALTER TABLE t DROP CONSTRAINT ck_t",)),
        (SetComment("t", None, None, "tasks"), ("COMMENT ON TABLE t IS 'tasks'",)),
        (SetComment("t", None, "tasks", None), ("COMMENT ON TABLE t IS NULL",)),
        (SetComment("t", "a", None, "it's"), ("COMMENT ON COLUMN t.a IS 'it''s'",)),
        (
            CreateTable("t", Table("t", (Column("id", "integer", False),))),
            ("CREATE TABLE t (\n    id integer NOT NULL\n)",),
        ),
    ],
)
def test_rendered_op_emits_the_expected_sql(op: Op, expected: tuple[str, ...]) -> None:
    assert recorded(op) == expected


def test_execute_fallback_is_verbatim_and_names_no_schema() -> None:
    lines = render_op(CreateTable("order", Table("order", (Column("user", "text"),))))
    assert lines == ['op.execute(runtime.verbatim(\'CREATE TABLE "order" (\\n    "user" text\\n)\'))']


def test_online_index_ops_carry_their_phase_as_data_and_a_plain_inline_form() -> None:
    create = CreateIndex("t", Index("ix_t", False, "USING btree (a)"), online=True)
    online, inline = recorded_forms(create)
    assert online == (Statement("CREATE INDEX CONCURRENTLY ix_t ON t (a)", AFTER, index="ix_t"),)
    assert inline == (Statement("CREATE INDEX ix_t ON t (a)", INSIDE),)
    online, inline = recorded_forms(DropIndex("t", Index("ix_t", False, "USING btree (a)"), online=True))
    assert online == (Statement("DROP INDEX CONCURRENTLY IF EXISTS ix_t", BEFORE, index="ix_t"),)
    assert inline == (Statement("DROP INDEX IF EXISTS ix_t", INSIDE),)
    expression = CreateIndex("t", Index("ix_e", False, "USING btree (lower(a))"), online=True)
    online, inline = recorded_forms(expression)
    assert online == (Statement("CREATE INDEX CONCURRENTLY ix_e ON t USING btree (lower(a))", AFTER, index="ix_e"),)
    assert inline == (Statement("CREATE INDEX ix_e ON t USING btree (lower(a))", INSIDE),)


def test_online_constraint_validates_after_the_commit() -> None:
    online, inline = recorded_forms(AddConstraint("t", CHECK, online=True))
    assert online == (
        Statement("ALTER TABLE t ADD CONSTRAINT ck_t CHECK (a > 0) NOT VALID"),
        Statement("ALTER TABLE t VALIDATE CONSTRAINT ck_t", AFTER, validates="ck_t"),
    )
    assert [s.phase for s in inline] == [INSIDE, INSIDE]


@pytest.mark.parametrize(
    "text",
    [
        "100%",
        "a\\b",
        "it's",
        "{schema}",
        "sdtenant__placeholder",
        ":name",
        "\\:x",
        "tab\there",
        "new\nline",
        "ünï",
        "%(x)s",
    ],
)
def test_literals_are_recorded_byte_exact(text: str) -> None:
    from schemadiff.core.sqltext import quote_literal

    col = Column("c", "text", True, f"{quote_literal(text)}::text", comment=text)
    assert recorded(AddColumn("t", col)) == (
        f"ALTER TABLE t ADD COLUMN c TEXT DEFAULT {quote_literal(text)}::text",
        f"COMMENT ON COLUMN t.c IS {quote_literal(text)}",
    )
    assert recorded(SetComment("t", None, None, text)) == (f"COMMENT ON TABLE t IS {quote_literal(text)}",)


def test_a_narrowing_type_change_is_guarded() -> None:
    op = AlterColumn("t", Column("a", "character varying(100)"), Column("a", "character varying(20)"))
    [guard, alter] = recorded_forms(op)[0]
    assert guard.guard == "row(s) of t.a do not fit character varying(20)"
    assert guard.sql.startswith("SELECT count(*) FROM t WHERE")
    assert alter.sql == "ALTER TABLE t ALTER COLUMN a TYPE character varying(20) USING a::character varying(20)"


def test_the_repository_environment_is_the_one_init_writes() -> None:
    root = Path(__file__).resolve().parents[2]
    assert (root / "migrations" / "env.py").read_text() == (
        root / "schemadiff" / "workflow" / "templates" / "env.py"
    ).read_text()
    assert (root / "migrations" / "script.py.mako").read_text() == (
        root / "schemadiff" / "workflow" / "templates" / "script.py.mako"
    ).read_text()


def test_a_guard_in_a_psql_script_raises_with_the_count() -> None:
    from schemadiff.render.tenant_script import script_line

    op = AlterColumn("t", Column("a", "character varying(100)"), Column("a", "character varying(20)"))
    guard, alter = op.statements("s")
    line = script_line(guard)
    assert line.startswith("DO $sd$ DECLARE n bigint; BEGIN SELECT count(*) FROM s.t WHERE ")
    assert line.endswith(
        "INTO n; IF n > 0 THEN RAISE EXCEPTION '% row(s) of t.a do not fit character varying(20)', n; END IF; END $sd$;"
    )
    assert script_line(alter) == alter.sql + ";"
    tagged = script_line(Statement("SELECT count(*) FROM t WHERE b = '$sd$'", guard="100% of t.b"))
    assert tagged.startswith("DO $sdx$ ") and "'% 100%% of t.b'" in tagged  # a tag the body does not contain; % escaped
