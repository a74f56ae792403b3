"""The SQL clauses the op types are made of: a column's definition, an index, a constraint, a
partition, a comment, and the facts about type changes they depend on. Pure."""

from __future__ import annotations

from schemadiff.core.model import Column, Constraint, Index, Partition
from schemadiff.core.sqltext import qualify, quote_ident, quote_literal

NOT_NULL_CHECK_PREFIX = "sd_nn_"


_ROUND_TRIP_FAMILY = (
    "character varying",
    "character",
    "text",
    "numeric",
    "smallint",
    "integer",
    "bigint",
    "real",
    "double precision",
)


def _base(type_: str) -> str:
    return type_.split("(")[0].strip()


def round_trips(old: str, new: str) -> bool:
    """Whether ``old → new → old`` casts exist, so a guard can count the values a change alters:
    within the text and number families, or the same type with other modifiers."""
    return _base(old) == _base(new) or (_base(old) in _ROUND_TRIP_FAMILY and _base(new) in _ROUND_TRIP_FAMILY)


def not_null_check_name(table: str, column: str) -> str:
    """The temporary CHECK behind an online SET NOT NULL (within PostgreSQL's 63 bytes)."""
    return (NOT_NULL_CHECK_PREFIX + f"{table}_{column}").encode("utf-8")[:63].decode("utf-8", "ignore")


def identity_clause(col: Column) -> str:
    """``GENERATED … AS IDENTITY``, with ``(START WITH n INCREMENT BY m)`` where either is not 1, and
    ``SEQUENCE NAME`` where the sequence's name is not the derived one (created in the table's schema)."""
    sql = f"GENERATED {'ALWAYS' if col.identity == 'a' else 'BY DEFAULT'} AS IDENTITY"
    options = [f"SEQUENCE NAME {quote_ident(col.identity_sequence)}"] if col.identity_sequence else []
    if col.identity_options != (1, 1):
        start, increment = col.identity_options
        options.append(f"START WITH {start} INCREMENT BY {increment}")
    return f"{sql} ({' '.join(options)})" if options else sql


def column_sql(col: Column) -> str:
    sql = f"{quote_ident(col.name)} {col.type}{collate(col)}"
    if col.identity:
        sql += f" {identity_clause(col)}"
    if not col.nullable:
        sql += " NOT NULL"
    if col.default is not None:
        sql += f" DEFAULT {col.default}"
    if col.generated is not None:
        sql += f" GENERATED ALWAYS AS ({col.generated}) STORED"
    return sql


def collate(col: Column) -> str:
    """`` COLLATE "C"`` for a column with its own collation, else nothing."""
    return f" COLLATE {quote_ident(col.collation)}" if col.collation is not None else ""


def index_sql(schema: str | None, table: str, index: Index, concurrently: bool = False) -> str:
    unique = "UNIQUE " if index.unique else ""
    how = "CONCURRENTLY " if concurrently else ""
    return (
        f"CREATE {unique}INDEX {how}{quote_ident(index.name)} ON {qualify(schema, table)} {index.source or index.tail}"
    )


def partition_sql(schema: str | None, table: str, partition: Partition) -> str:
    """``CREATE TABLE p PARTITION OF t <bound>``: the partition takes the table's columns, constraints
    and indexes."""
    return f"CREATE TABLE {qualify(schema, partition.name)} PARTITION OF {qualify(schema, table)} {partition.bound}"


def add_constraint_sql(schema: str | None, table: str, constraint: Constraint) -> str:
    """``ALTER TABLE … ADD CONSTRAINT`` as the spec wrote it (or as PostgreSQL printed it)."""
    return (
        f"ALTER TABLE {qualify(schema, table)} ADD CONSTRAINT {quote_ident(constraint.name)} "
        f"{constraint.source or constraint.definition}"
    )


def comment_sql(schema: str | None, table: str, column: str | None, text: str | None) -> str:
    target = f"TABLE {qualify(schema, table)}"
    if column is not None:
        target = f"COLUMN {qualify(schema, table)}.{quote_ident(column)}"
    return f"COMMENT ON {target} IS {quote_literal(text) if text is not None else 'NULL'}"
