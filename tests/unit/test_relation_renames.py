"""Issue 10: ``renamed_from`` on tables and indexes — located spec errors, and the diff renaming
instead of dropping and creating (pure; the round trip on PostgreSQL is
tests/integration/test_relation_renames.py)."""

from __future__ import annotations

import pytest

from schemadiff.core.diff import diff_schema, reverse_ops
from schemadiff.core.fingerprint import group_schemas
from schemadiff.core.index_swap import ReplaceIndex
from schemadiff.core.model import Column, Constraint, Index, SchemaModel, Table
from schemadiff.core.ops import CreateIndex, CreateTable, DropTable
from schemadiff.core.plan import build_plan
from schemadiff.core.relation_renames import (
    RelationRenames,
    RenameConstraint,
    RenameIndex,
    RenameTable,
    rename_conflicts,
)
from schemadiff.errors import SpecError
from schemadiff.spec.relation_renames import relation_renames
from schemadiff.spec.schema import parse_spec

from .test_spec import GOOD_HEAD, problems

ID = Column("id", "integer", nullable=False)
INDEX = Index("idx_new", False, "USING btree (id)")


def jobs(name: str, index: str = "idx_new", tail: str = "USING btree (id)") -> Table:
    return Table(
        name,
        (ID,),
        (Index(index, False, tail),),
        (Constraint(f"{name}_pkey", "p", "PRIMARY KEY (id)"), Constraint("other_check", "c", "CHECK ((id > 0))")),
    )


RENAMES = RelationRenames(tables={"jobs": "jobs_old"}, indexes={"jobs": {"idx_new": "idx_old"}})
TARGET = SchemaModel((jobs("jobs"),))


def test_a_table_renamed_from_a_live_one_is_renamed_with_its_derived_constraints() -> None:
    ops = diff_schema(SchemaModel((jobs("jobs_old", "idx_old"),)), TARGET, relations=RENAMES)
    assert ops == [
        RenameTable("jobs", "jobs_old"),
        RenameConstraint("jobs", "jobs_old_pkey", "jobs_pkey"),
        RenameIndex("jobs", "idx_old", "idx_new"),
    ]
    assert ops[0].describe() == "rename table jobs_old to jobs"
    assert [op.sql("user_1") for op in ops] == [
        ["ALTER TABLE user_1.jobs_old RENAME TO jobs"],
        ["ALTER TABLE user_1.jobs RENAME CONSTRAINT jobs_old_pkey TO jobs_pkey"],
        ["ALTER INDEX user_1.idx_old RENAME TO idx_new"],
    ]
    assert all(op.hazards == () for op in ops)
    assert reverse_ops(ops) == [
        RenameIndex("jobs", "idx_new", "idx_old"),
        RenameConstraint("jobs", "jobs_pkey", "jobs_old_pkey"),
        RenameTable("jobs_old", "jobs"),
    ]
    assert all(op.reverse().reverse() == op for op in ops)


def test_done_absent_and_different_states() -> None:
    assert diff_schema(TARGET, TARGET, relations=RENAMES) == []  # already renamed: nothing again
    assert diff_schema(SchemaModel(), TARGET, relations=RENAMES) == [CreateTable("jobs", jobs("jobs"))]
    other = diff_schema(SchemaModel((jobs("jobs_old", "idx_old", "USING btree (id DESC)"),)), TARGET, relations=RENAMES)
    assert other[:3] == [
        RenameTable("jobs", "jobs_old"),
        RenameConstraint("jobs", "jobs_old_pkey", "jobs_pkey"),
        RenameIndex("jobs", "idx_old", "idx_new"),
    ]
    assert isinstance(other[3], ReplaceIndex) and len(other) == 4  # renamed, then replaced: never dropped


def test_a_constraint_that_differs_is_not_renamed_but_replaced() -> None:
    live = Table("jobs_old", (ID,), (INDEX,), (Constraint("jobs_old_pkey", "p", "PRIMARY KEY (id, id)"),))
    ops = diff_schema(
        SchemaModel((live,)),
        SchemaModel((Table("jobs", (ID,), (INDEX,), jobs("jobs").constraints),)),
        relations=RENAMES,
    )
    assert not any(isinstance(op, RenameConstraint) for op in ops)
    assert [op.kind for op in ops][:2] == ["rename_table", "drop_constraint"]


def test_both_names_live_is_its_own_plan_that_drops_the_old_table_and_says_why() -> None:
    both = SchemaModel((jobs("jobs"), jobs("jobs_old", "idx_old")))
    ops = diff_schema(both, TARGET, relations=RENAMES)
    assert ops == [DropTable("jobs_old", jobs("jobs_old", "idx_old"))]
    assert "deletes_data" in ops[0].hazards
    assert rename_conflicts(both, TARGET, RENAMES)[0].startswith("table jobs_old is not renamed to jobs: both exist")
    groups = group_schemas({"public": SchemaModel((jobs("jobs_old", "idx_old"),)), "user_1": both, "user_2": TARGET})
    plan = build_plan(groups, TARGET, template="public", pattern="user_.*", relations=RENAMES)
    assert [g.schemas for g in plan.groups] == [("public",), ("user_1",)]
    assert plan.tables == ("jobs", "jobs_old")  # the runtime reads the old name too
    assert len(plan.notes) == 1 and plan.notes[0].endswith(": user_1")


def test_an_index_whose_new_name_is_live_is_not_renamed() -> None:
    live = Table("jobs", (ID,), (INDEX, Index("idx_old", False, "USING btree (id)")), jobs("jobs").constraints)
    ops = diff_schema(SchemaModel((live,)), TARGET, relations=RENAMES)
    assert [op.kind for op in ops] == ["drop_index"] and ops[0].name == "idx_old"
    assert (
        "index idx_old on jobs is not renamed to idx_new" in rename_conflicts(SchemaModel((live,)), TARGET, RENAMES)[0]
    )
    assert not any(isinstance(op, CreateIndex) for op in ops)


SPEC = GOOD_HEAD + (
    "  jobs:\n    renamed_from: jobs_old\n    columns:\n      id: {type: integer}\n"
    "    indexes:\n      idx_new: {columns: [id], renamed_from: idx_old}\n"
)


def test_the_spec_hands_its_renames_to_the_diff() -> None:
    assert relation_renames(parse_spec(SPEC)) == RelationRenames({"jobs": "jobs_old"}, {"jobs": {"idx_new": "idx_old"}})


@pytest.mark.parametrize(
    "extra,message",
    [
        (
            "  jobs_old:\n    columns:\n      id: {type: integer}\n",
            "schema.yaml:7:19: tables.jobs.renamed_from: 'jobs_old' is also a table of the spec",
        ),
        (
            "  other:\n    renamed_from: jobs_old\n    columns:\n      id: {type: integer}\n",
            "schema.yaml:13:19: tables.other.renamed_from: 'jobs_old' is already renamed to 'jobs'; a table can be "
            "renamed once",
        ),
        (
            "  other:\n    columns:\n      id: {type: integer}\n    indexes:\n      idx_old: {columns: [id]}\n",
            "schema.yaml:11:46: tables.jobs.indexes.idx_new.renamed_from: 'idx_old' is also an index of the spec",
        ),
    ],
)
def test_renames_from_a_name_the_spec_uses_or_twice_are_located_errors(extra: str, message: str) -> None:
    found = problems(SPEC + extra)
    assert len(found) == 1 and found[0].startswith(message), found


def test_a_table_renamed_from_itself_is_an_error() -> None:
    with pytest.raises(SpecError, match="cannot be renamed from its own name"):
        parse_spec(GOOD_HEAD + "  t:\n    renamed_from: t\n    columns:\n      id: {type: integer}\n")
