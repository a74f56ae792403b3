"""spec → model as written: the text CreateTable creates the spec's tables with. Pure, no database."""

from __future__ import annotations

from schemadiff.core.model import Column, Constraint, Index
from schemadiff.core.ops import CreateTable
from schemadiff.spec.names import derived_names
from schemadiff.spec.schema import parse_spec
from schemadiff.spec.to_model import create_statements, spec_model, table_model

SPEC = """\
version: 1
tenants: {pattern: '^user_[0-9]+$'}
tables:
  t:
    comment: tasks
    columns:
      id:     {type: bigint, primary_key: true, identity: true}
      order:  {type: integer, nullable: false, default: 1}
      status: {type: VARCHAR(20), default: new, enum: [new, "it's"], comment: state}
      code:   {type: text, unique: true}
      at:     {type: timestamptz, default_sql: now()}
    checks:
      positive: '"order" > 0'
    indexes:
      t_partial: {columns: [order], unique: true, where: code IS NOT NULL}
      t_expr:    {expressions: [lower(code)], using: hash}
  pairs:
    columns: {a: {type: int}, b: {type: int}}
    primary_key: [a, b]
"""


def test_columns_constraints_and_indexes_are_written_as_the_spec_writes_them() -> None:
    table = table_model("t", parse_spec(SPEC).tables["t"])
    assert table.comment == "tasks"
    assert table.columns == (
        Column("id", "bigint", False, None, "d"),
        Column("order", "integer", False, "1"),
        Column("status", "varchar(20)", True, "'new'", comment="state"),
        Column("code", "text"),
        Column("at", "timestamptz", True, "(now())"),
    )
    assert table.constraints == (
        Constraint("t_pkey", "p", "PRIMARY KEY (id)"),
        Constraint("ck_t_status", "c", "CHECK (status IN ('new', 'it''s'))"),
        Constraint("t_code_key", "u", "UNIQUE (code)"),
        Constraint("positive", "c", 'CHECK ("order" > 0)'),
    )
    assert all(c.source == c.definition for c in table.constraints)
    assert table.indexes == (
        Index("t_partial", True, 'USING btree ("order") WHERE code IS NOT NULL'),
        Index("t_expr", False, "USING hash ((lower(code)))"),
    )
    assert all(i.source == i.tail for i in table.indexes)


def test_the_derived_constraint_names_are_the_ones_the_spec_checks() -> None:
    spec = parse_spec(SPEC)
    for name, table in spec.tables.items():
        declared = [c.name for c in table_model(name, table).constraints if c.name not in table.checks]
        assert declared == [d.name for d in derived_names(name, table)]


def test_a_spec_table_is_created_by_create_table() -> None:
    for table in spec_model(parse_spec(SPEC)).tables:
        assert create_statements("user_1", table) == CreateTable(table.name, table).sql("user_1")
    pairs = spec_model(parse_spec(SPEC)).table("pairs")
    assert pairs is not None and pairs.constraint("pairs_pkey") == Constraint("pairs_pkey", "p", "PRIMARY KEY (a, b)")
