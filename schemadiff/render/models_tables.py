"""One spec table → the SQLAlchemy code of its columns, constraints and indexes. Pure.

No schema is written for a tenant's own tables (the tenant is chosen at run time with
``schema_translate_map``); a foreign key to a table every tenant shares (``schema: public``) points
at a stand-in :class:`sqlalchemy.Table` of that schema, which the translation leaves alone.

The column shorthands of the spec (``primary_key``, ``unique``, ``references``) stay shorthands
(``primary_key=True``, ``unique=True``, ``sa.ForeignKey``): the names the spec gives them are
PostgreSQL's own (``<table>_pkey``, ``<table>_<column>_key``, ``<table>_<column>_fkey``). Every other
constraint and index is named.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from schemadiff.core.foreign_keys import ForeignKey
from schemadiff.core.sqltext import parse_type, quote_ident, quote_literal
from schemadiff.render.models_types import MappedType, mapped_type
from schemadiff.render.python_source import Node, call, mapping, py_str, seq
from schemadiff.spec.exclusions import ExclusionElementSpec, ExclusionSpec
from schemadiff.spec.field_types import IdentitySpec
from schemadiff.spec.keys import UniqueSpec, column_reference, declared_keys, foreign_key
from schemadiff.spec.schema import ColumnSpec, IndexSpec, TableSpec, primary_key_columns
from schemadiff.spec.to_model import column_model, index_key

# what sqlalchemy.text() would take for a bind parameter (its own pattern), escaped as \:
_BIND = re.compile(r"(?<![:\w\\]):(\w+)(?!:)")
_PLAIN_CALL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\(\)")  # now(), gen_random_uuid(): no parentheses needed


@dataclass(frozen=True)
class Names:
    """The module-level names the table code refers to."""

    enums: dict[str, str]  # spec enum type → its variable
    shared: dict[tuple[str, str], str]  # (schema, table) of a shared table → its variable


@dataclass(frozen=True)
class ColumnCode:
    attribute: str
    column: str
    type: MappedType
    not_null: bool
    items: tuple[Node, ...]  # type, ForeignKey, Identity / Computed
    options: tuple[tuple[str, Node], ...]  # keyword arguments


def sql_text(sql: str) -> Node:
    """``sa.text("…")`` of SQL the spec wrote, a colon that text() would bind escaped."""
    return call("sa.text", sql_literal(sql))


def sql_literal(sql: str) -> str:
    """A Python string of SQL that SQLAlchemy coerces to text()."""
    return py_str(_BIND.sub(lambda m: "\\:" + m.group(1), sql))


def column_code(name: str, col: ColumnSpec, pk: list[str], names: Names, attribute: str) -> ColumnCode:
    """One column: its type, key, identity or expression, and the keyword arguments that differ from
    SQLAlchemy's defaults (nullability is the annotation's ``| None``)."""
    model = column_model(name, col, frozenset(names.enums))
    ctype = mapped_type(col.type, col.collation, names.enums.get(col.type))
    items: list[Node] = [ctype.sql]
    if col.references:
        items.append(call("sa.ForeignKey", _target(column_reference(name, col.references), 0, names)))
    if col.identity:
        items.append(_identity(col.identity))
    if col.generated is not None:
        items.append(call("sa.Computed", sql_literal(col.generated), persisted="True"))
    options: dict[str, Node | None] = {
        "primary_key": "True" if name in pk else None,
        "autoincrement": "False" if _serial_by_default(col, pk == [name]) else None,
        "unique": "True" if col.unique else None,
        "server_default": _default(model.default, col.default_sql) if model.default is not None else None,
        "comment": py_str(col.comment) if col.comment is not None else None,
    }
    return ColumnCode(
        attribute,
        name,
        ctype,
        not model.nullable or name in pk or bool(col.identity),
        tuple(items),
        tuple((k, v) for k, v in options.items() if v is not None),
    )


def _serial_by_default(col: ColumnSpec, single_key: bool) -> bool:
    """SQLAlchemy makes a one-column integer primary key SERIAL unless told otherwise."""
    plain = not col.identity and col.default is None and col.default_sql is None and col.generated is None
    try:
        return single_key and plain and parse_type(col.type).category == "int" and "[]" not in col.type
    except ValueError:  # a spec enum type
        return False


def _default(default: str, default_sql: str | None) -> Node:
    if default_sql is not None and _PLAIN_CALL.fullmatch(default_sql.strip()):
        return sql_text(default_sql.strip())
    return sql_text(default)


def _identity(identity: bool | str | IdentitySpec) -> Node:
    kind = identity.kind if isinstance(identity, IdentitySpec) else identity
    start = identity.start if isinstance(identity, IdentitySpec) else None
    increment = identity.increment if isinstance(identity, IdentitySpec) else None
    return call(
        "sa.Identity",
        always="True" if kind == "always" else None,
        start=str(start) if start is not None else None,
        increment=str(increment) if increment is not None else None,
    )


def _target(key: ForeignKey, i: int, names: Names) -> Node:
    """The referenced column: ``"jobs.id"`` for a tenant's own table, the stand-in's column else."""
    if key.schema is not None:
        return f"{names.shared[(key.schema, key.table)]}.c[{py_str(key.ref_columns[i])}]"
    if "." in key.table + key.ref_columns[i]:  # a dotted string cannot say it (SQLAlchemy 2.1 tokens)
        return seq("(", [py_str(key.table), py_str(key.ref_columns[i])], ")")
    return py_str(f"{key.table}.{key.ref_columns[i]}")


def dotted_targets(name: str, table: TableSpec) -> bool:
    """Whether a tenant-local foreign key names a table or column holding a dot, which only
    SQLAlchemy 2.1's (table, column) tokens can say (a dotted string cannot)."""
    return any(
        key.schema is None and "." in "".join((key.table, *key.ref_columns))
        for _n, key, _p in declared_keys(name, table)
    )


def table_args(name: str, table: TableSpec, names: Names) -> list[Node]:
    """Constraints and indexes beyond the columns' own, each kind sorted by name."""
    args: list[Node] = []
    pk = primary_key_columns(table)
    if pk and pk != [c for c in table.columns if c in pk]:  # an order the columns' flags cannot say
        args.append(call("sa.PrimaryKeyConstraint", *map(py_str, pk), name=py_str(f"{name}_pkey")))
    args += [_unique(n, unique) for n, unique in sorted(table.uniques.items())]
    args += [call("sa.CheckConstraint", sql_literal(sql), name=py_str(n)) for n, sql in sorted(_checks(name, table))]
    args += [_foreign_key(n, foreign_key(key), names) for n, key in sorted(table.foreign_keys.items())]
    args += [_exclusion(n, exclusion) for n, exclusion in sorted(table.exclusions.items())]
    args += [_index(n, index) for n, index in sorted(table.indexes.items())]
    return args


def _checks(name: str, table: TableSpec) -> list[tuple[str, str]]:
    """``enum:`` columns' ``ck_<table>_<column>`` and the named checks."""
    out = [
        (f"ck_{name}_{c}", f"{quote_ident(c)} IN ({', '.join(quote_literal(v) for v in col.enum)})")
        for c, col in table.columns.items()
        if col.enum
    ]
    return out + list(table.checks.items())


def _unique(name: str, unique: UniqueSpec) -> Node:
    return call(
        "sa.UniqueConstraint",
        *map(py_str, unique.columns),
        name=py_str(name),
        postgresql_nulls_not_distinct="True" if unique.nulls_not_distinct else None,
        **_deferral(unique.deferrable, unique.initially_deferred),
    )


def _deferral(deferrable: bool, deferred: bool) -> dict[str, Node | None]:
    return {"deferrable": "True" if deferrable else None, "initially": py_str("DEFERRED") if deferred else None}


def _foreign_key(name: str, key: ForeignKey, names: Names) -> Node:
    return call(
        "sa.ForeignKeyConstraint",
        seq("[", [py_str(c) for c in key.columns], "]"),
        seq("[", [_target(key, i, names) for i in range(len(key.columns))], "]"),
        name=py_str(name),
        ondelete=py_str(key.on_delete) if key.on_delete != "NO ACTION" else None,
        onupdate=py_str(key.on_update) if key.on_update != "NO ACTION" else None,
        **_deferral(key.deferrable, key.initially_deferred),
    )


def _exclusion(name: str, spec: ExclusionSpec) -> Node:
    elements: list[Node] = [seq("(", [_element_key(e), py_str(e.operator)], ")") for e in spec.elements]
    ops: list[tuple[str, Node]] = [
        (e.column, py_str(e.opclass)) for e in spec.elements if e.column is not None and e.opclass is not None
    ]
    return call(
        "postgresql.ExcludeConstraint",
        *elements,
        name=py_str(name),
        using=py_str(spec.using) if spec.using != "gist" else None,
        ops=mapping(ops) if ops else None,
        where=sql_text(spec.where) if spec.where is not None else None,
        **_deferral(spec.deferrable, spec.initially_deferred),
    )


def _element_key(element: ExclusionElementSpec) -> Node:
    """A column by name (its operator class in ``ops=``), or the expression as text with its class."""
    if element.column is not None:
        return py_str(element.column)
    opclass = f" {quote_ident(element.opclass)}" if element.opclass is not None else ""
    return sql_text(f"({element.expression}){opclass}")


def table_options(table: TableSpec) -> list[tuple[str, Node]]:
    """The table's keyword options: its comment, ``UNLOGGED`` and its partition key."""
    out: list[tuple[str, Node]] = []
    if table.comment is not None:
        out.append(("comment", py_str(table.comment)))
    if table.unlogged:
        out.append(("prefixes", seq("[", [py_str("UNLOGGED")], "]")))
    if table.partition_by is not None:
        out.append(("postgresql_partition_by", py_str(table.partition_by)))
    return out


def _index(name: str, index: IndexSpec) -> Node:
    keys: list[Node] = []
    ops: list[tuple[str, Node]] = []
    for key in index.columns:
        if isinstance(key, str):
            keys.append(py_str(key))
        elif key.opclass is not None and key.order is None and key.nulls is None and key.collation is None:
            keys.append(py_str(key.name))
            ops.append((key.name, py_str(key.opclass)))
        else:  # order, nulls, collation: written as PostgreSQL takes them
            keys.append(sql_text(index_key(key)))
    keys += [sql_text(f"({e})") for e in index.expressions]
    return call(
        "sa.Index",
        py_str(name),
        *keys,
        unique="True" if index.unique else None,
        postgresql_using=py_str(index.using) if index.using != "btree" else None,
        postgresql_include=seq("[", [py_str(c) for c in index.include], "]") if index.include else None,
        postgresql_where=sql_text(index.where) if index.where is not None else None,
        postgresql_ops=mapping(ops) if ops else None,
    )


def shared_tables(tables: dict[str, TableSpec]) -> dict[tuple[str, str], list[str]]:
    """(schema, table) → referenced columns of every table the spec's foreign keys share."""
    out: dict[tuple[str, str], set[str]] = {}
    for name, table in tables.items():
        for _n, key, _p in declared_keys(name, table):
            if key.schema is not None:
                out.setdefault((key.schema, key.table), set()).update(key.ref_columns)
    return {k: sorted(v) for k, v in sorted(out.items())}
