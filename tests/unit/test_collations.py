"""Column collations without a database: the spec's ``collation``, its errors, the ALTER that
changes it (no USING, no guard), the indexes it rebuilds named in its hazards and description."""

from __future__ import annotations

import pytest

from schemadiff.core.alter_column import AlterColumn
from schemadiff.core.diff import diff_schema
from schemadiff.core.fingerprint import canonical
from schemadiff.core.model import Column, Constraint, Index, SchemaModel, Table
from schemadiff.core.ops import AddColumn, CreateTable
from schemadiff.errors import SpecError
from schemadiff.render.alembic_ops import render_op
from schemadiff.spec.schema import parse_spec
from schemadiff.spec.to_model import spec_model

SPEC = """version: 1
tenants:
  pattern: '^user_[0-9]+$'
tables:
  items:
    columns:
      code: {{type: {type}, collation: "{collation}"}}
"""
PLAIN, C = Column("code", "text"), Column("code", "text", collation="C")
BY_CODE = Index("idx_items_code", False, "USING btree (code)", uses=("code",))
UNIQUE = Constraint("items_code_key", "u", "UNIQUE (code)", uses=("code",))
OTHER = Index("idx_items_other", False, "USING btree (other)", uses=("other",))


def _model(code: Column, indexes: tuple[Index, ...] = (), constraints: tuple[Constraint, ...] = ()) -> SchemaModel:
    return SchemaModel((Table("items", (code,), indexes, constraints),))


def test_collation_in_the_spec() -> None:
    model = spec_model(parse_spec(SPEC.format(type="varchar(20)", collation="C")))
    assert model.tables[0].column("code") == Column("code", "varchar(20)", collation="C")
    assert (
        CreateTable("items", model.tables[0]).sql(None)[0]
        == 'CREATE TABLE items (\n    code varchar(20) COLLATE "C"\n)'
    )


@pytest.mark.parametrize(
    "type_,collation,message",
    [
        ("integer", "C", "collation needs a text type (text, varchar(n), char(n), citext)"),
        ("text", "", "collation: identifier must not be empty"),
    ],
)
def test_collation_spec_errors_are_located(type_: str, collation: str, message: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_spec(SPEC.format(type=type_, collation=collation))
    [problem] = [str(p) for p in info.value.problems]
    assert problem.startswith("schema.yaml:7:") and message in problem, problem


def test_a_collation_change_rebuilds_the_indexes_using_the_column() -> None:
    [op] = diff_schema(_model(PLAIN, (BY_CODE, OTHER), (UNIQUE,)), _model(C, (BY_CODE, OTHER), (UNIQUE,)))
    assert op == AlterColumn("items", PLAIN, C, rebuilds=("idx_items_code", "items_code_key"))
    assert op.sql(None) == ['ALTER TABLE items ALTER COLUMN code TYPE text COLLATE "C"']
    assert op.hazards == ("access_exclusive", "blocks_writes")
    assert op.describe() == "alter column items.code: collation default → C, rebuilding idx_items_code, items_code_key"
    assert op.reverse().sql(None) == ['ALTER TABLE items ALTER COLUMN code TYPE text COLLATE "default"']
    assert op.reverse().reverse() == op and op.reverse().hazards == op.hazards
    assert render_op(op) == [
        "op.execute(runtime.verbatim('ALTER TABLE items ALTER COLUMN code TYPE text COLLATE \"C\"'))"
    ]


def test_without_indexes_only_the_lock_remains() -> None:
    [op] = diff_schema(_model(PLAIN), _model(C))
    assert op.hazards == ("access_exclusive",) and op.rebuilds == ()


def test_a_type_and_collation_change_together() -> None:
    wide = Column("code", "character varying(10)")
    [op] = diff_schema(_model(wide), _model(C))
    assert op.sql(None)[-1] == 'ALTER TABLE items ALTER COLUMN code TYPE text COLLATE "C" USING code::text'


def test_adding_a_collated_column_and_fingerprints_without_one() -> None:
    op = AddColumn("items", C)
    assert op.sql(None) == ['ALTER TABLE items ADD COLUMN code text COLLATE "C"'] and op.hazards == ()
    assert render_op(op) == ["op.execute(runtime.verbatim('ALTER TABLE items ADD COLUMN code text COLLATE \"C\"'))"]
    assert '"collation"' not in canonical(_model(PLAIN)) and '"collation":"C"' in canonical(_model(C))
