"""Exclusion constraints without a database: the spec (located errors), the clause it writes, the
ops' hazards and reverse, and the revision's rendering recorded back into SQL."""

from __future__ import annotations

import pytest

from schemadiff.core.constraint_ops import AddConstraint, DropConstraint
from schemadiff.core.fingerprint import fingerprint, group_schemas
from schemadiff.core.model import Constraint, SchemaModel, Table
from schemadiff.core.online import make_online
from schemadiff.core.ops import CreateTable
from schemadiff.errors import SpecError
from schemadiff.spec.schema import parse_spec
from schemadiff.spec.to_model import spec_model

from .test_revision_render import recorded

SPEC = """version: 1
tenants: {pattern: '^user_[0-9]+$'}
tables:
  bookings:
    columns:
      id: {type: integer, primary_key: true}
      room: {type: integer}
      during: {type: tsrange}
    exclusions:
      no_double_booking:
        elements:
          - {expression: "int4range(room, room, '[]')", operator: "="}
          - {column: during, operator: "&&"}
        where: "room > 0"
        deferrable: true
"""
CLAUSE = "EXCLUDE USING gist ((int4range(room, room, '[]')) WITH =, during WITH &&) WHERE (room > 0) DEFERRABLE"
EX = Constraint("no_double_booking", "x", CLAUSE, source=CLAUSE)


def problems(text: str) -> list[str]:
    with pytest.raises(SpecError) as info:
        parse_spec(text, "schema.yaml")
    return [str(p) for p in info.value.problems]


def test_the_spec_writes_an_exclusion_constraint() -> None:
    table = spec_model(parse_spec(SPEC)).table("bookings")
    assert table is not None and table.constraint("no_double_booking") == EX
    plain = SPEC.replace('        where: "room > 0"\n        deferrable: true\n', "").replace(
        "during, operator", '"select", operator'
    )
    plain = plain.replace("during: {type: tsrange}", '"select": {type: tsrange}')
    table = spec_model(parse_spec(plain)).table("bookings")
    assert table is not None
    assert table.constraints[-1].source == (
        "EXCLUDE USING gist ((int4range(room, room, '[]')) WITH =, \"select\" WITH &&)"
    )


def test_exclusion_mistakes_are_located_errors() -> None:
    text = (
        SPEC.replace('operator: "="', 'operator: "=; DROP"')
        .replace("room > 0", "room > 0; DROP TABLE x")
        .replace("deferrable: true", "initially_deferred: true")
        .replace("{column: during,", '{column: during, expression: "during",')
    )
    assert problems(text) == [
        "schema.yaml:12:67: tables.bookings.exclusions.no_double_booking.elements.0.operator: '=; DROP' is not "
        "an operator: write one such as =, && or <>",
        "schema.yaml:13:13: tables.bookings.exclusions.no_double_booking.elements.1: give either column or expression",
        "schema.yaml:14:16: tables.bookings.exclusions.no_double_booking.where: must be one SQL expression "
        "(found 2 statements)",
    ]
    assert problems(SPEC.replace("deferrable: true", "initially_deferred: true")) == [
        "schema.yaml:11:9: tables.bookings.exclusions.no_double_booking: initially_deferred needs deferrable: true"
    ]


def test_an_unknown_column_and_a_name_used_twice_are_located_errors() -> None:
    text = SPEC.replace("{column: during,", "{column: durng,").replace("no_double_booking:", "bookings_pkey:")
    assert problems(text) == [
        "schema.yaml:6:40: tables.bookings.columns.id.primary_key: name 'bookings_pkey' is used twice in one schema",
        "schema.yaml:11:9: tables.bookings.exclusions.bookings_pkey: name 'bookings_pkey' is used twice in "
        "table 'bookings'",
        "schema.yaml:13:22: tables.bookings.exclusions.bookings_pkey.elements.1.column: column 'durng' is not a "
        "column of this table; did you mean 'during'?",
    ]


def test_a_dropped_table_takes_no_exclusions() -> None:
    text = SPEC.replace("    columns:\n", "    drop: true\n    columns:\n", 1)
    assert any("a table with drop: true takes no other key" in p for p in problems(text))


def test_adding_one_scans_under_access_exclusive_and_fails_on_conflicting_rows_and_it_reverses() -> None:
    add = AddConstraint("bookings", EX)
    assert add.hazards == ("access_exclusive", "fails_on_existing_rows", "scans_table")
    assert add.reverse() == DropConstraint("bookings", EX) and add.reverse().reverse() == add
    assert DropConstraint("bookings", EX).hazards == ("drops_constraint", "drops_index")  # no longer enforced
    assert add.describe() == "add exclusion constraint no_double_booking on bookings"


def test_it_is_never_added_not_valid_even_on_a_large_table() -> None:
    """PostgreSQL has no NOT VALID for exclusion constraints: the plain form, refused on large tables."""
    ops = make_online([AddConstraint("bookings", EX)], {"bookings"}, set())
    assert ops == [AddConstraint("bookings", EX)]


def test_the_revision_renders_it_and_records_the_spec_clause() -> None:
    assert recorded(AddConstraint("bookings", EX)) == (
        f"ALTER TABLE bookings ADD CONSTRAINT no_double_booking {CLAUSE}",
    )
    assert recorded(DropConstraint("bookings", EX)) == ("ALTER TABLE bookings DROP CONSTRAINT no_double_booking",)
    created = recorded(CreateTable("bookings", Table("bookings", constraints=(EX,))))
    assert created == (f"CREATE TABLE bookings (\n    CONSTRAINT no_double_booking {CLAUSE}\n)",)


def test_a_live_exclusion_is_part_of_the_state() -> None:
    """Managed since issue 10: tenants with and without one are different groups."""
    bare = SchemaModel((Table("bookings"),))
    held = SchemaModel((Table("bookings", constraints=(EX,)),))
    assert fingerprint(bare) != fingerprint(held)
    assert len(group_schemas({"user_1": bare, "user_2": held})) == 2


OPCLASS_SPEC = SPEC.replace(
    '{column: during, operator: "&&"}', '{column: during, opclass: range_ops, operator: "&&"}'
).replace("during: {type: tsrange}", "during: {type: tsrange}\n      addr: {type: inet}")


def test_an_element_names_its_operator_class() -> None:
    """``opclass`` goes between the key and ``WITH``, where PostgreSQL's grammar takes it (quoted)."""
    text = OPCLASS_SPEC.replace(
        "          - {column: during,",
        '          - {column: addr, opclass: inet_ops, operator: "&&"}\n'
        '          - {expression: "lower(during)", opclass: "Odd Ops", operator: "="}\n          - {column: during,',
    )
    table = spec_model(parse_spec(text)).table("bookings")
    assert table is not None
    assert table.constraint("no_double_booking") is not None
    assert table.constraints[-1].source == (
        "EXCLUDE USING gist ((int4range(room, room, '[]')) WITH =, addr inet_ops WITH &&, "
        '(lower(during)) "Odd Ops" WITH =, during range_ops WITH &&) WHERE (room > 0) DEFERRABLE'
    )


def test_a_bad_operator_class_is_a_located_error() -> None:
    assert problems(OPCLASS_SPEC.replace("opclass: range_ops", "opclass: ''")) == [
        "schema.yaml:14:39: tables.bookings.exclusions.no_double_booking.elements.1.opclass: "
        "identifier must not be empty"
    ]
    assert problems(OPCLASS_SPEC.replace("opclass: range_ops", "opclass: [range_ops]")) == [
        "schema.yaml:14:39: tables.bookings.exclusions.no_double_booking.elements.1.opclass: Input should be a "
        "valid string"
    ]
