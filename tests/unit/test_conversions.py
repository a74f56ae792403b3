"""Issue 10: ``using`` / ``down_using`` on a column — checked by pglast at load, carried by
AlterColumn both ways (the round trip on PostgreSQL is tests/integration/test_conversions.py)."""

from __future__ import annotations

from schemadiff.core.alter_column import AlterColumn
from schemadiff.core.conversions import CastNeed, Conversion, casts_needed
from schemadiff.core.diff import diff_schema, reverse_ops
from schemadiff.core.model import Column, SchemaModel, Table
from schemadiff.spec.conversions import spec_conversions
from schemadiff.spec.schema import parse_spec

from .test_spec import GOOD_HEAD, problems

OLD, NEW = Column("status", "character varying(20)"), Column("status", "integer")
CONVERSIONS = {"t": {"status": Conversion("status::integer", "status::text")}}


def test_the_spec_expressions_reach_alter_column_both_ways() -> None:
    [op] = diff_schema(SchemaModel((Table("t", (OLD,)),)), SchemaModel((Table("t", (NEW,)),)), conversions=CONVERSIONS)
    assert isinstance(op, AlterColumn) and (op.using, op.down_using) == ("status::integer", "status::text")
    assert op.sql("user_1") == ["ALTER TABLE user_1.t ALTER COLUMN status TYPE integer USING status::integer"]
    assert reverse_ops([op])[0].sql("user_1") == [
        "ALTER TABLE user_1.t ALTER COLUMN status TYPE character varying(20) USING status::text"
    ]
    assert op.reverse().reverse() == op
    assert {"rewrites_table", "fails_on_existing_rows"} <= set(op.hazards)
    assert casts_needed([op]) == []


def test_without_expressions_both_directions_need_a_cast_and_an_unchanged_type_none() -> None:
    op = AlterColumn("t", OLD, NEW)
    assert casts_needed([op]) == [
        CastNeed("t", "status", "character varying(20)", "integer", False),
        CastNeed("t", "status", "integer", "character varying(20)", True),
    ]
    assert casts_needed([AlterColumn("t", OLD, Column("status", OLD.type, nullable=False))]) == []
    same = diff_schema(SchemaModel((Table("t", (NEW,)),)), SchemaModel((Table("t", (NEW,)),)), conversions=CONVERSIONS)
    assert same == []  # converted already: the expression is inert


def test_using_is_one_expression_checked_at_load() -> None:
    spec = parse_spec(
        GOOD_HEAD + '  t:\n    columns:\n      s: {type: integer, using: "s::integer", down_using: "s::text"}\n'
    )
    assert spec_conversions(spec) == {"t": {"s": Conversion("s::integer", "s::text")}}
    found = problems(GOOD_HEAD + '  t:\n    columns:\n      s: {type: integer, using: "1; DROP TABLE x"}\n')
    assert len(found) == 1 and found[0] == (
        "schema.yaml:8:33: tables.t.columns.s.using: must be one SQL expression (found 2 statements)"
    ), found


def test_an_enum_conversion_writes_its_own_using_and_needs_no_implicit_cast() -> None:
    from schemadiff.core.alter_column import AlterColumn
    from schemadiff.core.conversions import casts_needed
    from schemadiff.core.enum_ops import AlterEnumColumn
    from schemadiff.core.model import Column

    old, new = Column("step_type", "character varying(50)", True), Column("step_type", "task_step", True)
    assert casts_needed([AlterEnumColumn("tasks", old, new, labels=("a", "b"))]) == []
    assert [n.key for n in casts_needed([AlterColumn("tasks", old, new)])] == ["using", "down_using"]
