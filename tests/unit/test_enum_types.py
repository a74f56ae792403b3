"""Enum types without a database: the spec format and its located errors, the model, the diff, the
ops (statements, phases, hazards, reverses) and the revision's rendering."""

from __future__ import annotations

import pytest

from schemadiff.core.alter_column import AlterColumn
from schemadiff.core.diff import diff_schema, reverse_ops
from schemadiff.core.enum_ops import AlterEnum, AlterEnumColumn, CreateEnum, DropEnum, EnumUser
from schemadiff.core.fingerprint import canonical, fingerprint
from schemadiff.core.model import Column, EnumType, SchemaModel, Table, model_from_dict, model_to_dict
from schemadiff.core.statements import BEFORE, INSIDE, Statement
from schemadiff.errors import SpecError
from schemadiff.render.alembic_ops import render_op
from schemadiff.spec.schema import parse_spec
from schemadiff.spec.to_model import spec_model

from .test_revision_render import recorded_forms

STEPS = ("validate", "map", "upload_image", "create", "save")
SPEC = """version: 1
tenants:
  pattern: '^user_[0-9]+$'
enums:
  task_step: [validate, map, upload_image, create, save]
tables:
  tasks:
    columns:
      id: {type: integer, primary_key: true}
      step_type: {type: task_step, nullable: false, default: validate}
"""
VARCHAR = Column("step_type", "character varying(50)", False, "'validate'::character varying")
ENUM_COL = Column("step_type", "task_step", False, "'validate'::task_step")
USER = EnumUser("tasks", "step_type", "'validate'::task_step")


def problems(text: str) -> list[str]:
    with pytest.raises(SpecError) as info:
        parse_spec(text, "schema.yaml")
    return [str(p) for p in info.value.problems]


def test_a_column_typed_by_a_spec_enum_becomes_the_quoted_name_with_its_default_a_literal() -> None:
    model = spec_model(parse_spec(SPEC))
    assert model.enums == (EnumType("task_step", STEPS),)
    column = model.tables[0].column("step_type")
    assert column is not None and (column.type, column.default) == ("task_step", "'validate'")


@pytest.mark.parametrize(
    "old,new,expected",
    [
        (
            "  task_step: [validate, map, upload_image, create, save]\n",
            "  task_step: [validate, validate]\n",
            ["schema.yaml:5:25: enums.task_step.1: enum value 'validate' is listed twice"],
        ),
        (
            "  task_step: [validate, map, upload_image, create, save]\n",
            "  task_step: []\n",
            ["schema.yaml:5:14: enums.task_step: an enum type needs at least one value"],
        ),
        (
            "  task_step: [validate, map, upload_image, create, save]\n",
            "  task_step: ['']\n",
            ["schema.yaml:5:15: enums.task_step.0: an enum value must not be empty"],
        ),
        (
            "  task_step: [validate, map, upload_image, create, save]\n",
            "  tasks: [a]\n  task_step: [validate]\n",
            ["schema.yaml:5:3: enums.tasks: 'tasks' is also a table: its row type has that name; rename one"],
        ),
        (
            "default: validate}",
            "default: finish}",
            [
                "schema.yaml:10:62: tables.tasks.columns.step_type.default: default 'finish' is not a value of enum task_step"
            ],
        ),
        (
            "default: validate}",
            "default: validate, enum: [validate]}",
            [
                "schema.yaml:10:78: tables.tasks.columns.step_type.enum: "
                "the type task_step is an enum already: drop 'enum:'"
            ],
        ),
        (
            "type: task_step,",
            "type: task_stp,",
            [
                "schema.yaml:10:25: tables.tasks.columns.step_type.type: "
                "unknown column type 'task_stp'; did you mean 'task_step'?"
            ],
        ),
    ],
    ids=["twice", "empty", "empty value", "a table's name", "default", "enum check too", "unknown type"],
)
def test_enum_mistakes_are_located_errors(old: str, new: str, expected: list[str]) -> None:
    assert old in SPEC
    assert problems(SPEC.replace(old, new)) == expected


def test_the_diff_creates_the_type_before_the_table_and_drops_it_after() -> None:
    target = spec_model(parse_spec(SPEC))
    ops = diff_schema(SchemaModel(), target)
    assert [op.kind for op in ops] == ["create_enum", "create_table"]
    assert [op.kind for op in reverse_ops(ops)] == ["drop_table", "drop_enum"]
    assert ops[0].sql("user_1") == [
        "CREATE TYPE user_1.task_step AS ENUM ('validate', 'map', 'upload_image', 'create', 'save')"
    ]


def test_added_values_commit_on_their_own_before_the_transaction_in_place() -> None:
    op = AlterEnum("tasks", "task_step", ("map", "create"), ("validate", "map", "upload_image", "create", "save"))
    assert not op.rebuilds and op.hazards == ()
    head = "ALTER TYPE task_step ADD VALUE IF NOT EXISTS"
    assert op.statements(None) == [
        Statement(f"{head} 'validate' BEFORE 'map'", BEFORE, always=True),
        Statement(f"{head} 'upload_image' AFTER 'map'", BEFORE, always=True),
        Statement(f"{head} 'save' AFTER 'create'", BEFORE, always=True),
    ]
    assert op.reverse().rebuilds and op.reverse().reverse() == op


def test_the_added_values_stay_before_the_transaction_in_the_inline_form_too() -> None:
    op = AlterEnum("tasks", "task_step", ("validate",), ("validate", "map"))
    assert render_op(op) == [
        "with runtime.own_transaction():",
        "    op.execute(runtime.verbatim(\"ALTER TYPE task_step ADD VALUE IF NOT EXISTS 'map' AFTER 'validate'\"))",
    ]
    online, inline = recorded_forms(op)
    assert online == inline == (op.statements(None)[0],)
    assert online[0].phase == BEFORE


def test_removing_or_reordering_rebuilds_the_type_under_its_columns() -> None:
    op = AlterEnum("tasks", "task_step", (*STEPS, "obsolete"), STEPS, (USER,))
    assert op.rebuilds and op.removed == ("obsolete",)
    assert op.hazards == ("access_exclusive", "fails_on_existing_rows", "rewrites_table")
    head = "ALTER TABLE tasks ALTER COLUMN step_type"
    assert [s.sql for s in op.statements(None)] == [
        "ALTER TYPE task_step RENAME TO task_step_sdold",
        "CREATE TYPE task_step AS ENUM ('validate', 'map', 'upload_image', 'create', 'save')",
        f"{head} DROP DEFAULT",
        f"{head} TYPE task_step USING step_type::text::task_step",
        f"{head} SET DEFAULT 'validate'::task_step",
        "DROP TYPE task_step_sdold",
    ]
    assert all(s.phase == INSIDE for s in op.statements(None))
    reordered = AlterEnum("tasks", "task_step", tuple(reversed(STEPS)), STEPS, (USER,))
    assert reordered.hazards == ("access_exclusive", "rewrites_table")  # no value goes: none can fail
    assert AlterEnum("task_step", "task_step", ("b", "a"), ("a", "b")).hazards == ()  # no column uses it


def test_a_default_naming_a_removed_value_is_not_restored() -> None:
    user = EnumUser("tasks", "step_type", "'obsolete'::task_step")
    op = AlterEnum("tasks", "task_step", ("obsolete", "map"), ("map",), (user,))
    assert not any("SET DEFAULT" in s.sql for s in op.statements(None))


def test_the_diff_rebuilds_with_the_live_columns_of_the_type() -> None:
    live = SchemaModel((Table("tasks", (ENUM_COL,)),), (EnumType("task_step", (*STEPS, "obsolete")),))
    target = SchemaModel((Table("tasks", (ENUM_COL,)),), (EnumType("task_step", STEPS),))
    assert diff_schema(live, target) == [AlterEnum("tasks", "task_step", (*STEPS, "obsolete"), STEPS, (USER,))]
    assert diff_schema(target, target) == []


def test_converting_a_checked_varchar_fails_on_strays_and_never_deletes() -> None:
    live = SchemaModel((Table("tasks", (VARCHAR,)),))
    target = SchemaModel((Table("tasks", (ENUM_COL,)),), (EnumType("task_step", STEPS),))
    create, alter = diff_schema(live, target)
    assert isinstance(create, CreateEnum)
    assert alter == AlterEnumColumn("tasks", VARCHAR, ENUM_COL, labels=STEPS)
    assert alter.hazards == ("access_exclusive", "fails_on_existing_rows", "rewrites_table")
    assert alter.reverse().hazards == ("access_exclusive", "rewrites_table")
    assert alter.reverse().reverse() == alter
    assert "TYPE task_step USING step_type::task_step" in " ".join(alter.sql(None))
    short = AlterEnumColumn("tasks", ENUM_COL, Column("step_type", "character varying(5)", False), labels=STEPS)
    assert "deletes_data" in short.hazards  # 'upload_image' would be cut to 5 characters
    plain = AlterColumn("tasks", VARCHAR, ENUM_COL)
    assert "deletes_data" in plain.hazards  # without the enum's labels a change of type is unknown


def test_create_and_drop_reverse_each_other() -> None:
    create = CreateEnum("task_step", STEPS)
    assert create.reverse() == DropEnum("task_step", STEPS) and create.reverse().reverse() == create
    assert create.reverse().sql(None) == ["DROP TYPE task_step"]


def test_fingerprints_without_enums_are_unchanged_and_enums_count() -> None:
    table = Table("tasks", (VARCHAR,))
    assert canonical(SchemaModel((table,))).startswith('[{"')
    assert "enums" not in canonical(SchemaModel((table,)))
    with_enum = SchemaModel((table,), (EnumType("task_step", STEPS),))
    reordered = SchemaModel((table,), (EnumType("task_step", tuple(reversed(STEPS))),))
    assert len({fingerprint(SchemaModel((table,))), fingerprint(with_enum), fingerprint(reordered)}) == 3


def test_the_revision_model_carries_the_enum_types() -> None:
    model = SchemaModel((Table("tasks", (ENUM_COL,)),), (EnumType("task_step", STEPS),))
    assert model_from_dict(model_to_dict(model)) == model
