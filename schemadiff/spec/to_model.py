"""Spec → model as the spec writes it, and the one way to create a spec table. Pure.

The model built here is not normalized: its types, defaults, checks and index tails are the spec's
own text (every fragment already parsed by pglast at load, every identifier quoted here). It exists
to be created by the ops, exactly as a migration creates a table (:class:`CreateTable`): the
normalizer creates it in a scratch schema and reads back PostgreSQL's normalized model; the demo,
the benchmarks and the tests seed their tenants with the same statements.
"""

from __future__ import annotations

from schemadiff.core.ddl_clauses import add_constraint_sql
from schemadiff.core.enum_ops import create_enum_sql
from schemadiff.core.foreign_keys import foreign_keys, without_foreign_keys
from schemadiff.core.model import Column, Constraint, EnumType, Index, Partition, SchemaModel, Table
from schemadiff.core.ops import CreateTable
from schemadiff.core.sqltext import parse_type, quote_ident, quote_literal, render_default
from schemadiff.spec.field_types import IdentitySpec
from schemadiff.spec.keys import declared_keys
from schemadiff.spec.schema import (
    ColumnSpec,
    IndexColumnSpec,
    IndexSpec,
    Spec,
    TableSpec,
    primary_key_columns,
)


def spec_model(spec: Spec) -> SchemaModel:
    """Every spec table and enum type, as written (see :func:`table_model`); not the tables it
    drops (``drop: true``)."""
    enums = tuple(EnumType(name, tuple(labels)) for name, labels in spec.enums.items())
    names = frozenset(spec.enums)
    tables = tuple(table_model(name, table, names) for name, table in spec.tables.items() if not table.drop)
    return SchemaModel(tables, enums)


def table_model(name: str, table: TableSpec, enums: frozenset[str] = frozenset()) -> Table:
    """One spec table: columns, constraints and indexes in spec order, their SQL as the spec writes
    it, each constraint and index carrying that text as its ``source`` (what creates it)."""
    return Table(
        name=name,
        columns=tuple(column_model(cname, col, enums) for cname, col in table.columns.items()),
        indexes=tuple(index_model(iname, index) for iname, index in table.indexes.items()),
        constraints=constraint_models(name, table),
        comment=table.comment,
        unlogged=table.unlogged,
        partition_by=table.partition_by,
        partitions=tuple(Partition(p, bound) for p, bound in table.partitions.items()),
    )


def column_model(name: str, col: ColumnSpec, enums: frozenset[str] = frozenset()) -> Column:
    if col.type in enums:  # a spec enum type: its name, a default one of its values (checked at load)
        type_sql = quote_ident(col.type)
        default = quote_literal(str(col.default)) if col.default is not None else None
    else:
        ctype = parse_type(col.type)
        type_sql = ctype.sql
        default = render_default(col.default, ctype) if col.default is not None else None
    if col.default_sql is not None:
        default = f"({col.default_sql})"  # one expression (checked at load), whole in any context
    return Column(
        name=name,
        type=type_sql,
        nullable=col.nullable and not col.primary_key,
        default=default,
        identity=_identity_kind(col.identity),
        comment=col.comment,
        generated=col.generated,
        collation=col.collation,
        identity_start=_option(col.identity, "start"),
        identity_increment=_option(col.identity, "increment"),
    )


def _identity_kind(identity: bool | str | IdentitySpec) -> str:
    kind = identity.kind if isinstance(identity, IdentitySpec) else identity
    return "a" if kind == "always" else "d" if kind else ""


def _option(identity: bool | str | IdentitySpec, name: str) -> int | None:
    """``start`` or ``increment`` of an identity, None where it is PostgreSQL's default 1."""
    value = getattr(identity, name) if isinstance(identity, IdentitySpec) else None
    return None if value == 1 else value


def constraint_models(table_name: str, table: TableSpec) -> tuple[Constraint, ...]:
    """The primary key, ``<table>_<column>_key`` uniques, ``ck_<table>_<column>`` enum checks and the
    named checks, with the names ``spec.names.derived_names`` checks."""
    out: list[Constraint] = []
    pk = primary_key_columns(table)
    if pk:
        out.append(_written(f"{table_name}_pkey", "p", f"PRIMARY KEY ({', '.join(quote_ident(c) for c in pk)})"))
    for cname, col in table.columns.items():
        if col.unique:
            out.append(_written(f"{table_name}_{cname}_key", "u", f"UNIQUE ({quote_ident(cname)})"))
        if col.enum:
            values = ", ".join(quote_literal(v) for v in col.enum)
            out.append(_written(f"ck_{table_name}_{cname}", "c", f"CHECK ({quote_ident(cname)} IN ({values}))"))
    out += [_written(name, "u", unique.clause()) for name, unique in table.uniques.items()]
    out += [_written(name, "c", f"CHECK ({expression})") for name, expression in table.checks.items()]
    out += [_written(name, "f", key.clause()) for name, key, _path in declared_keys(table_name, table)]
    out += [_written(name, "x", exclusion.clause()) for name, exclusion in table.exclusions.items()]
    return tuple(out)


def _written(name: str, kind: str, clause: str) -> Constraint:
    return Constraint(name, kind, clause, source=clause)


def index_model(name: str, index: IndexSpec) -> Index:
    """``USING method (keys) [WHERE …]`` as the spec writes it (the tail PostgreSQL would print)."""
    keys = [index_key(c) for c in index.columns] + [f"({e})" for e in index.expressions]
    include = f" INCLUDE ({', '.join(quote_ident(c) for c in index.include)})" if index.include else ""
    where = f" WHERE {index.where}" if index.where else ""
    tail = f"USING {index.using} ({', '.join(keys)}){include}{where}"
    return Index(name, index.unique, tail, source=tail)


def index_key(column: str | IndexColumnSpec) -> str:
    """``name [COLLATE c] [opclass] [DESC] [NULLS LAST]``, in the order PostgreSQL's grammar takes."""
    if isinstance(column, str):
        return quote_ident(column)
    parts = [quote_ident(column.name)]
    if column.collation is not None:
        parts.append(f"COLLATE {quote_ident(column.collation)}")
    if column.opclass is not None:
        parts.append(quote_ident(column.opclass))
    if column.order is not None:
        parts.append(column.order.upper())
    if column.nulls is not None:
        parts.append(f"NULLS {column.nulls.upper()}")
    return " ".join(parts)


def create_statements(schema: str | None, table: Table) -> list[str]:
    """The statements creating ``table`` in ``schema``: the migration's own (:class:`CreateTable`)."""
    return CreateTable(table.name, table).sql(schema)


def create_schema_statements(schema: str | None, model: SchemaModel) -> list[tuple[str | None, str]]:
    """Every statement creating ``model`` in ``schema`` (which exists; None: names no schema), each
    with the table it belongs to (None for an enum type): the enum types, the tables without their
    foreign keys, then the keys, once every table exists (they may point at any). Unqualified names
    in the spec's fragments (an enum type, a tenant-local key's table) resolve through a search_path
    naming the schema: whoever runs them sets it."""
    out: list[tuple[str | None, str]] = [(None, create_enum_sql(schema, enum)) for enum in model.enums]
    out += [(t.name, s) for t in model.tables for s in create_statements(schema, without_foreign_keys(t))]
    out += [(t.name, add_constraint_sql(schema, t.name, c)) for t in model.tables for c in foreign_keys(t)]
    return out
