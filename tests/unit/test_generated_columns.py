"""Generated columns without a database: the spec's ``generated``, its errors, the ops and their
hazards, reverses and rendering."""

from __future__ import annotations

import pytest

from schemadiff.core.alter_column import AlterColumn
from schemadiff.core.diff import diff_schema, reverse_ops
from schemadiff.core.fingerprint import canonical
from schemadiff.core.generated_columns import ReplaceGenerated
from schemadiff.core.model import Column, Constraint, Index, SchemaModel, Table, model_from_dict, model_to_dict
from schemadiff.core.ops import AddColumn, DropColumn
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
      price: {{type: numeric}}
      quantity: {{type: integer}}
      total: {{type: numeric, {total}}}
"""
PRICE, QUANTITY = Column("price", "numeric"), Column("quantity", "integer")
TOTAL = Column("total", "numeric", generated="price * quantity")
DOUBLE = Column("total", "numeric", generated="price * 2")
PLAIN = Column("total", "numeric")
BY_TOTAL = Index("items_total_idx", False, "USING btree (total)", uses=("total",))
POSITIVE = Constraint("total_positive", "c", "CHECK (total > 0)", uses=("total",))


def _table(total: Column, *, indexes: tuple[Index, ...] = (), checks: tuple[Constraint, ...] = ()) -> SchemaModel:
    return SchemaModel((Table("items", (PRICE, QUANTITY, total), indexes, checks),))


def test_generated_in_the_spec_becomes_the_columns_expression() -> None:
    model = spec_model(parse_spec(SPEC.format(total='generated: "price * quantity"')))
    assert model.tables[0].column("total") == TOTAL


@pytest.mark.parametrize(
    "written,message",
    [
        ('generated: "price * quantity", default: 0', "a generated column cannot also have a default"),
        ('generated: "price * quantity", default_sql: "0"', "a generated column cannot also have a default"),
        ('generated: "price; DROP TABLE items"', "must be one SQL expression (found 2 statements)"),
        ('generated: "(SELECT 1)"', "must be one SQL expression (found a subquery)"),
    ],
)
def test_generated_spec_errors_are_located(written: str, message: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_spec(SPEC.format(total=written))
    [problem] = [str(p) for p in info.value.problems]
    assert problem.startswith("schema.yaml:9:") and message in problem, problem


def test_a_generated_identity_column_is_an_error() -> None:
    spec = SPEC.replace("type: numeric, {total}", "type: bigint, {total}")
    with pytest.raises(SpecError) as info:
        parse_spec(spec.format(total='generated: "quantity * 2", identity: true'))
    assert [str(p) for p in info.value.problems] == [
        "schema.yaml:9:14: tables.items.columns.total: a generated column cannot also be an identity column"
    ]


def test_adding_a_generated_column_rewrites_the_table_and_dropping_it_loses_nothing() -> None:
    [op] = diff_schema(_without_total(), _table(TOTAL))
    assert op == AddColumn("items", TOTAL)
    assert op.sql(None) == ["ALTER TABLE items ADD COLUMN total numeric GENERATED ALWAYS AS (price * quantity) STORED"]
    assert op.hazards == ("rewrites_table", "access_exclusive")
    assert op.reverse() == DropColumn("items", TOTAL) and op.reverse().hazards == ()
    assert render_op(op) == [
        "op.execute(runtime.verbatim('ALTER TABLE items ADD COLUMN total numeric GENERATED ALWAYS AS "
        "(price * quantity) STORED'))"
    ]


def _without_total() -> SchemaModel:
    return SchemaModel((Table("items", (PRICE, QUANTITY)),))


def test_a_new_expression_drops_and_adds_the_column_and_its_dependents_again() -> None:
    current = _table(DOUBLE, indexes=(BY_TOTAL,), checks=(POSITIVE,))
    target = _table(TOTAL, indexes=(BY_TOTAL,), checks=(POSITIVE,))
    [op] = diff_schema(current, target)
    assert op == ReplaceGenerated("items", DOUBLE, TOTAL, (BY_TOTAL,), (POSITIVE,))
    assert op.sql(None) == [
        "ALTER TABLE items DROP COLUMN total",
        "ALTER TABLE items ADD COLUMN total numeric GENERATED ALWAYS AS (price * quantity) STORED",
        "ALTER TABLE items ADD CONSTRAINT total_positive CHECK (total > 0)",
        "CREATE INDEX items_total_idx ON items USING btree (total)",
    ]
    assert op.hazards == ("access_exclusive", "rewrites_table")  # nothing deleted: the values are computed
    assert "nothing is lost" in op.describe() and "items_total_idx, total_positive created again" in op.describe()
    assert op.reverse().reverse() == op
    assert reverse_ops([op])[0].sql(None)[1].endswith("GENERATED ALWAYS AS (price * 2) STORED")


def test_a_changed_index_on_the_column_is_left_to_the_index_ops() -> None:
    other = Index("items_total_idx", False, "USING btree (total DESC)", uses=("total",))
    ops = diff_schema(_table(DOUBLE, indexes=(BY_TOTAL,)), _table(TOTAL, indexes=(other,)))
    assert [type(op).__name__ for op in ops] == ["DropIndex", "ReplaceGenerated", "CreateIndex"]
    assert ops[1] == ReplaceGenerated("items", DOUBLE, TOTAL)


def test_plain_to_generated_deletes_its_values_and_back_keeps_them() -> None:
    [op] = diff_schema(_table(PLAIN), _table(TOTAL))
    assert op.hazards == ("access_exclusive", "deletes_data", "irreversible", "rewrites_table")
    [back] = diff_schema(_table(TOTAL), _table(PLAIN))
    assert back == op.reverse()
    assert back.sql(None) == ["ALTER TABLE items ALTER COLUMN total DROP EXPRESSION"] and back.hazards == ()


def test_generated_to_plain_with_another_type_drops_the_expression_first() -> None:
    wider = Column("total", "double precision", nullable=False)
    ops = diff_schema(_table(TOTAL), _table(wider))
    assert ops == [ReplaceGenerated("items", TOTAL, PLAIN), AlterColumn("items", PLAIN, wider)]
    assert [op.sql(None)[-1] for op in reverse_ops(ops)] == [
        "ALTER TABLE items ALTER COLUMN total DROP NOT NULL",
        "ALTER TABLE items ADD COLUMN total numeric GENERATED ALWAYS AS (price * quantity) STORED",
    ]


def test_the_same_expression_is_no_change() -> None:
    assert diff_schema(_table(TOTAL), _table(TOTAL)) == []


def test_fingerprints_and_revision_data_of_plain_columns_are_unchanged() -> None:
    assert '"generated"' not in canonical(_table(PLAIN)) and '"uses"' not in canonical(
        _table(PLAIN, indexes=(BY_TOTAL,))
    )
    assert '"generated":"price * quantity"' in canonical(_table(TOTAL))
    data = model_to_dict(_table(TOTAL, indexes=(BY_TOTAL,)))
    assert "generated" not in data[0]["columns"][0] and "uses" not in data[0]["indexes"][0]
    assert model_from_dict(data) == _table(TOTAL, indexes=(BY_TOTAL,))
