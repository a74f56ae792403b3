"""Issue 10: ``renamed_from`` on tables and indexes — located spec errors, and the diff renaming
instead of dropping and creating (pure; the round trip on PostgreSQL is
tests/integration/test_relation_renames.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from schemadiff.core.constraint_ops import DropConstraint
from schemadiff.core.diff import diff_schema, reverse_ops
from schemadiff.core.fingerprint import group_schemas
from schemadiff.core.index_swap import ReplaceIndex
from schemadiff.core.model import Column, Constraint, Index, SchemaModel, Table
from schemadiff.core.ops import CreateIndex, CreateTable, DropTable, RenameColumn
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


# --- a renamed table carries the names PostgreSQL gave after it (issue 10) -------------------------

IDENTITY = Column("id", "integer", nullable=False, identity="d")
PARENT = Column("parent", "integer")


def derived(name: str) -> Table:
    """A table as PostgreSQL names its objects when it is created as ``name``."""
    return Table(
        name,
        (IDENTITY, PARENT),
        (Index(f"{name}_parent_idx", False, "USING btree (parent)"),),
        (  # by name, as introspection reads them
            Constraint(f"{name}_parent_check", "c", "CHECK ((parent > 0))"),
            Constraint(f"{name}_parent_fkey", "f", f"FOREIGN KEY (parent) REFERENCES {name}(id)"),
            Constraint(f"{name}_pkey", "p", "PRIMARY KEY (id)"),
        ),
    )


TASKS = Table(
    "tasks",
    (Column("job_id", "integer"),),
    (),
    (Constraint("tasks_job_fk", "f", "FOREIGN KEY (job_id) REFERENCES jobs(id)"),),
)
TO_JOBS = RelationRenames(tables={"jobs": "jobs_old"})


def test_object_name_is_cut_like_postgresql_does() -> None:
    from schemadiff.core.identity_sequences import derived_sequence, object_name

    assert derived_sequence("jobs", "id") == "jobs_id_seq"
    long = object_name("t" * 40, "c" * 40, "seq")  # the longer name loses a byte at a time
    assert long == "t" * 29 + "_" + "c" * 29 + "_seq" and len(long) == 63
    assert object_name("t" * 60, "id", "seq") == "t" * 56 + "_id_seq"  # these three: as PostgreSQL 18 names them
    assert object_name("é" * 31, "c", "seq") == "é" * 28 + "_c_seq"  # never half a character


def test_a_renamed_table_takes_its_derived_indexes_sequences_and_keys_along() -> None:
    from schemadiff.core.identity_sequences import RenameSequence

    current = SchemaModel(
        (
            derived("jobs_old"),
            replace(
                TASKS,
                constraints=(replace(TASKS.constraints[0], definition="FOREIGN KEY (job_id) REFERENCES jobs_old(id)"),),
            ),
        )
    )
    target = SchemaModel((derived("jobs"), TASKS))
    ops = diff_schema(current, target, relations=TO_JOBS)
    assert ops == [
        RenameTable("jobs", "jobs_old"),
        RenameConstraint("jobs", "jobs_old_parent_check", "jobs_parent_check"),
        RenameConstraint("jobs", "jobs_old_parent_fkey", "jobs_parent_fkey"),  # its own key: kept, renamed
        RenameConstraint("jobs", "jobs_old_pkey", "jobs_pkey"),
        RenameIndex("jobs", "jobs_old_parent_idx", "jobs_parent_idx"),
        RenameSequence("jobs", "id", "jobs_old_id_seq", "jobs_id_seq"),
    ]  # tasks' key to jobs_old reads as naming jobs once renamed: not dropped and added
    assert ops[-1].sql("user_1") == ["ALTER SEQUENCE user_1.jobs_old_id_seq RENAME TO jobs_id_seq"]
    assert ops[-1].describe() == "rename sequence jobs_old_id_seq of jobs.id to jobs_id_seq"
    assert all(op.reverse().reverse() == op and op.hazards == () for op in ops)
    assert reverse_ops(ops)[0] == RenameSequence("jobs", "id", "jobs_id_seq", "jobs_old_id_seq")


def test_a_table_renamed_before_has_the_names_it_left_renamed() -> None:
    """A tenant renamed by hand (or by a schemadiff that renamed the table alone): named like no fresh table."""
    from schemadiff.core.identity_sequences import RenameSequence

    by_hand = replace(
        derived("jobs_old"),
        name="jobs",
        columns=(replace(IDENTITY, identity_sequence="jobs_old_id_seq"), PARENT),
        constraints=tuple(
            replace(c, definition=c.definition.replace("jobs_old(", "jobs(")) for c in derived("jobs_old").constraints
        ),
    )
    ops = diff_schema(SchemaModel((by_hand,)), SchemaModel((derived("jobs"),)), relations=TO_JOBS)
    assert ops == [
        RenameConstraint("jobs", "jobs_old_parent_check", "jobs_parent_check"),
        RenameConstraint("jobs", "jobs_old_parent_fkey", "jobs_parent_fkey"),
        RenameConstraint("jobs", "jobs_old_pkey", "jobs_pkey"),
        RenameIndex("jobs", "jobs_old_parent_idx", "jobs_parent_idx"),
        RenameSequence("jobs", "id", "jobs_old_id_seq", "jobs_id_seq"),
    ]


def test_a_key_of_a_renamed_table_that_differs_is_dropped_after_the_rename() -> None:
    """Foreign keys are dropped before other ops, but after the table renames: the drop names the new table."""
    current = SchemaModel((derived("jobs_old"),))
    wanted = derived("jobs")
    wanted = replace(wanted, constraints=tuple(c for c in wanted.constraints if c.kind != "f"))
    ops = diff_schema(current, SchemaModel((wanted,)), relations=TO_JOBS)
    assert ops[0] == RenameTable("jobs", "jobs_old")
    dropped = ops[1]
    assert isinstance(dropped, DropConstraint) and dropped.constraint.name == "jobs_old_parent_fkey"
    assert (
        dropped.constraint.definition == "FOREIGN KEY (parent) REFERENCES jobs(id)"
    )  # re-added so, before the rename back
    down = reverse_ops(ops)
    assert down[-1] == RenameTable("jobs_old", "jobs") and down[-2] == dropped.reverse()


def test_an_index_declared_renamed_from_keeps_its_declaration() -> None:
    """The derived rename never takes a name an explicit ``renamed_from`` gives or takes."""
    current = SchemaModel(
        (
            replace(
                derived("jobs_old"),
                indexes=(
                    Index("jobs_old_parent_idx", False, "USING btree (parent)"),
                    Index("idx_p", False, "USING btree (parent)"),
                ),
            ),
        )
    )
    target = SchemaModel(
        (replace(derived("jobs"), indexes=(Index("jobs_parent_idx", False, "USING btree (parent)"),)),)
    )
    renames = RelationRenames(tables={"jobs": "jobs_old"}, indexes={"jobs": {"jobs_parent_idx": "idx_p"}})
    ops = diff_schema(current, target, relations=renames)
    assert RenameIndex("jobs", "idx_p", "jobs_parent_idx") in ops
    assert not any(isinstance(op, RenameIndex) and op.old == "jobs_old_parent_idx" for op in ops)


def test_a_renamed_identity_column_renames_its_sequence() -> None:
    from schemadiff.core.identity_sequences import RenameSequence

    live = Table("jobs", (replace(IDENTITY, name="job_id"),))
    ops = diff_schema(
        SchemaModel((live,)), SchemaModel((Table("jobs", (IDENTITY,)),)), renames={"jobs": {"id": "job_id"}}
    )
    assert ops == [RenameColumn("jobs", "job_id", "id"), RenameSequence("jobs", "id", "jobs_job_id_seq", "jobs_id_seq")]


def test_a_sequence_of_another_name_is_a_state_of_its_own_created_as_it_is() -> None:
    from schemadiff.core.fingerprint import fingerprint
    from schemadiff.core.identity_sequences import RenameSequence

    odd = Table("jobs", (replace(IDENTITY, identity_sequence="legacy_seq"),))
    assert fingerprint(SchemaModel((odd,))) != fingerprint(SchemaModel((Table("jobs", (IDENTITY,)),)))
    assert diff_schema(SchemaModel((odd,)), SchemaModel((Table("jobs", (IDENTITY,)),))) == [
        RenameSequence("jobs", "id", "legacy_seq", "jobs_id_seq")
    ]
    created = CreateTable("jobs", odd).sql(None)[0]
    assert "id integer GENERATED BY DEFAULT AS IDENTITY (SEQUENCE NAME legacy_seq) NOT NULL" in created
    started = replace(odd.columns[0], identity_start=5)
    assert (
        "IDENTITY (SEQUENCE NAME legacy_seq START WITH 5 INCREMENT BY 1)"
        in CreateTable("t", Table("t", (started,))).sql(None)[0]
    )


def test_the_revision_renders_the_sequence_rename_and_a_named_identity() -> None:
    from schemadiff.core.identity_sequences import RenameSequence
    from schemadiff.core.ops import AddColumn

    from .test_revision_render import recorded

    assert recorded(RenameSequence("jobs", "id", "jobs_old_id_seq", "jobs_id_seq")) == (
        "ALTER SEQUENCE jobs_old_id_seq RENAME TO jobs_id_seq",
    )
    named = replace(IDENTITY, identity_sequence="legacy_seq")  # a downgrade putting a dropped column back
    assert recorded(AddColumn("jobs", named)) == (
        "ALTER TABLE jobs ADD COLUMN id integer GENERATED BY DEFAULT AS IDENTITY (SEQUENCE NAME legacy_seq) NOT NULL",
    )
