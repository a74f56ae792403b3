"""Issue 10: index key columns with order, nulls, operator class and collation, and INCLUDE columns:
the spec's form, its located errors, and the tail the spec writes (normalized by PostgreSQL in
tests/integration/test_index_columns.py)."""

from __future__ import annotations

from schemadiff.spec.schema import parse_spec
from schemadiff.spec.to_model import spec_model

from .test_spec import GOOD_HEAD, problems

TABLE = "  t:\n    columns:\n      a: {type: integer}\n      b: {type: text}\n    indexes:\n      t_ab:\n"


def test_the_spec_writes_each_key_as_postgresql_takes_it() -> None:
    spec = parse_spec(
        GOOD_HEAD + TABLE + "        columns: [a, {name: b, order: desc, nulls: first, opclass: text_pattern_ops, "
        'collation: "C"}]\n        include: [a]\n        where: "a > 0"\n'
    )
    [index] = spec_model(spec).tables[0].indexes
    assert index.tail == 'USING btree (a, b COLLATE "C" text_pattern_ops DESC NULLS FIRST) INCLUDE (a) WHERE a > 0'


def test_bad_key_forms_and_unknown_columns_are_located_errors() -> None:
    found = problems(GOOD_HEAD + TABLE + "        columns: [a, {name: b, order: down}]\n")
    assert found == ["schema.yaml:12:39: tables.t.indexes.t_ab.columns.1.order: Input should be 'asc' or 'desc'"]
    found = problems(GOOD_HEAD + TABLE + "        columns: [a, {name: c, nulls: last}]\n        include: [bb]\n")
    assert found == [
        "schema.yaml:12:22: tables.t.indexes.t_ab.columns.1: index column 'c' is not a column of this table",
        "schema.yaml:13:19: tables.t.indexes.t_ab.include.0: index column 'bb' is not a column of this table; "
        "did you mean 'b'?",
    ], found
