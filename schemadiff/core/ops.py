"""Op types: each renders its SQL for one schema, knows its reverse and carries its hazards. Pure.

``sql(schema)`` qualifies every name with ``schema``; ``sql(None)`` leaves names unqualified, for a
revision, whose statements are the same for every tenant and run with the search_path set to
the tenant. Expressions copied from the catalog (defaults, index keys, constraint bodies) are
always resolved under ``search_path = <tenant>``, which the runtime sets for every statement.
``statements(schema)`` gives the same SQL with the facts later stages need as data: its phase
(before, inside or after the tenant's transaction), the index it builds concurrently, the
constraint it validates, the rows a narrowing would lose.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from schemadiff.core.hazards import (
    ACCESS_EXCLUSIVE,
    BLOCKS_WRITES,
    DELETES_DATA,
    DROPS_INDEX,
    FAILS_ON_EXISTING_ROWS,
    IRREVERSIBLE,
    REWRITES_TABLE,
    SCANS_TABLE,
    is_volatile,
    is_widening,
    type_change,
)
from schemadiff.core.model import Column, Constraint, Index, Partition, Table
from schemadiff.core.sqltext import qualify, quote_ident, quote_literal
from schemadiff.core.statements import AFTER, BEFORE, Statement


class Op:
    """Base: ``kind`` names the op, ``table`` the managed table it changes."""

    kind: ClassVar[str] = "op"
    table: str

    @property
    def name(self) -> str:
        return self.table

    @property
    def hazards(self) -> tuple[str, ...]:
        return ()

    def sql(self, schema: str | None) -> list[str]:
        return [s.sql for s in self.statements(schema)]

    def statements(self, schema: str | None) -> list[Statement]:
        """The op's statements with their phase; plain ops run inside the tenant's transaction."""
        return [Statement(sql) for sql in self.sql(schema)]

    def reverse(self) -> Op:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


NOT_NULL_CHECK_PREFIX = "sd_nn_"
_IDENTITY_KINDS = {"": "drop identity", "d": "identity by default", "a": "identity always"}


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


def _comment_sql(schema: str | None, table: str, column: str | None, text: str | None) -> str:
    target = f"TABLE {qualify(schema, table)}"
    if column is not None:
        target = f"COLUMN {qualify(schema, table)}.{quote_ident(column)}"
    return f"COMMENT ON {target} IS {quote_literal(text) if text is not None else 'NULL'}"


@dataclass(frozen=True)
class _ColumnOp(Op):
    table: str
    column: Column

    @property
    def name(self) -> str:
        return self.column.name


@dataclass(frozen=True)
class _IndexOp(Op):
    table: str
    index: Index
    online: bool = False  # CONCURRENTLY, outside the tenant's transaction

    @property
    def name(self) -> str:
        return self.index.name


@dataclass(frozen=True)
class CreateTable(Op):
    kind: ClassVar[str] = "create_table"
    table: str
    model: Table

    def sql(self, schema: str | None) -> list[str]:
        parts = [column_sql(c) for c in self.model.columns]
        parts += [
            f"CONSTRAINT {quote_ident(c.name)} {c.source or c.definition}"
            for c in self.model.constraints
            if c.valid and c.kind != "f"
        ]
        kind = "UNLOGGED TABLE" if self.model.unlogged else "TABLE"
        key = f" PARTITION BY {self.model.partition_by}" if self.model.partition_by is not None else ""
        out = [f"CREATE {kind} {qualify(schema, self.table)} (\n    " + ",\n    ".join(parts) + f"\n){key}"]
        # CREATE TABLE marks every CHECK valid: a NOT VALID one is added afterwards, as it was live;
        # so is a foreign key (after the table exists: it may reference the table itself)
        out += [
            add_constraint_sql(schema, self.table, c) for c in self.model.constraints if not c.valid or c.kind == "f"
        ]
        out += [index_sql(schema, self.table, i) for i in self.model.indexes]
        out += [partition_sql(schema, self.table, p) for p in self.model.partitions]  # they take its indexes
        if self.model.comment is not None:
            out.append(_comment_sql(schema, self.table, None, self.model.comment))
        out += [_comment_sql(schema, self.table, c.name, c.comment) for c in self.model.columns if c.comment]
        return out

    def reverse(self) -> Op:
        return DropTable(self.table, self.model)

    def describe(self) -> str:
        return f"create table {self.table} ({len(self.model.columns)} columns)"


@dataclass(frozen=True)
class DropTable(Op):
    kind: ClassVar[str] = "drop_table"
    table: str
    model: Table

    @property
    def hazards(self) -> tuple[str, ...]:
        return (DELETES_DATA, IRREVERSIBLE)

    def sql(self, schema: str | None) -> list[str]:
        return [f"DROP TABLE {qualify(schema, self.table)}"]

    def reverse(self) -> Op:
        return CreateTable(self.table, self.model)

    def describe(self) -> str:
        return f"drop table {self.table} (its rows are lost: reversing it recreates the structure only)"


@dataclass(frozen=True)
class AddColumn(_ColumnOp):
    kind: ClassVar[str] = "add_column"

    @property
    def hazards(self) -> tuple[str, ...]:
        col = self.column
        if col.identity or col.generated is not None or is_volatile(col.default):  # a value per existing row
            return (REWRITES_TABLE, ACCESS_EXCLUSIVE)
        if not col.nullable and col.default is None:
            return (FAILS_ON_EXISTING_ROWS,)
        return ()

    def sql(self, schema: str | None) -> list[str]:
        out = [f"ALTER TABLE {qualify(schema, self.table)} ADD COLUMN {column_sql(self.column)}"]
        if self.column.comment is not None:
            out.append(_comment_sql(schema, self.table, self.column.name, self.column.comment))
        return out

    def reverse(self) -> Op:
        return DropColumn(self.table, self.column)

    def describe(self) -> str:
        return f"add column {self.table}.{column_sql(self.column)}"


@dataclass(frozen=True)
class DropColumn(_ColumnOp):
    kind: ClassVar[str] = "drop_column"

    @property
    def hazards(self) -> tuple[str, ...]:
        if self.column.generated is not None:  # computed from the other columns: adding it back recomputes it
            return ()
        return (DELETES_DATA, IRREVERSIBLE)

    def sql(self, schema: str | None) -> list[str]:
        return [f"ALTER TABLE {qualify(schema, self.table)} DROP COLUMN {quote_ident(self.column.name)}"]

    def reverse(self) -> Op:
        return AddColumn(self.table, self.column)

    def describe(self) -> str:
        return f"drop column {self.table}.{self.column.name}"


@dataclass(frozen=True)
class RenameColumn(Op):
    kind: ClassVar[str] = "rename_column"
    table: str
    old: str
    new: str

    @property
    def name(self) -> str:
        return self.new

    def sql(self, schema: str | None) -> list[str]:
        return [
            f"ALTER TABLE {qualify(schema, self.table)} RENAME COLUMN "
            f"{quote_ident(self.old)} TO {quote_ident(self.new)}"
        ]

    def reverse(self) -> Op:
        return RenameColumn(self.table, self.new, self.old)

    def describe(self) -> str:
        return f"rename column {self.table}.{self.old} to {self.new}"


@dataclass(frozen=True)
class AlterColumn(Op):
    kind: ClassVar[str] = "alter_column"
    # whether the op writes its own USING for a type change (an enum conversion goes through text)
    converts_itself: ClassVar[bool] = False
    table: str
    old: Column
    new: Column
    online: bool = False  # SET NOT NULL through CHECK … NOT VALID, VALIDATE, SET NOT NULL, drop the check
    using: str | None = None  # the spec's USING expression for a type change (core/conversions.py)
    down_using: str | None = None  # the spec's USING expression for the reverse type change
    rebuilds: tuple[str, ...] = ()  # the live indexes a collation change rebuilds (core/collations.py)

    @property
    def name(self) -> str:
        return self.new.name

    @property
    def hazards(self) -> tuple[str, ...]:
        out: list[str] = []
        rule = type_change(self.old.type, self.new.type)  # one table of type changes: hazards.TYPE_CHANGES
        if rule is not None and rule.loses_data and round_trips(self.old.type, self.new.type):
            out += [FAILS_ON_EXISTING_ROWS]  # guarded: a value that does not fit fails the tenant, never lost
        elif rule is not None and rule.loses_data:
            out += [DELETES_DATA, IRREVERSIBLE]
        if rule is not None and rule.rewrites:
            out += [REWRITES_TABLE, ACCESS_EXCLUSIVE]
        if rule is not None and self.using is not None:  # computed anew for every row, and may fail on one
            out += [REWRITES_TABLE, ACCESS_EXCLUSIVE, FAILS_ON_EXISTING_ROWS]
        if self.old.collation != self.new.collation:  # ALTER TYPE: the indexes using it are rebuilt
            out += [ACCESS_EXCLUSIVE, BLOCKS_WRITES] if self.rebuilds else [ACCESS_EXCLUSIVE]
        if self.old.nullable and not self.new.nullable:
            out += [FAILS_ON_EXISTING_ROWS] if self.online else [SCANS_TABLE, ACCESS_EXCLUSIVE, FAILS_ON_EXISTING_ROWS]
        return tuple(sorted(set(out)))

    def statements(self, schema: str | None) -> list[Statement]:
        head = f"ALTER TABLE {qualify(schema, self.table)} ALTER COLUMN {quote_ident(self.new.name)}"
        old, new = self.old, self.new
        out: list[Statement] = []
        if old.identity and new.identity and old.identity != new.identity:  # the sequence stays as it is
            out.append(Statement(f"{head} SET GENERATED {'ALWAYS' if new.identity == 'a' else 'BY DEFAULT'}"))
        elif old.identity and old.identity != new.identity:
            out.append(Statement(f"{head} DROP IDENTITY"))
        if old.identity and new.identity:
            out += _identity_options(head, old, new)
        if old.default is not None and old.default != new.default:
            out.append(Statement(f"{head} DROP DEFAULT"))
        if old.type != new.type:
            if self.using is None and not is_widening(old.type, new.type) and round_trips(old.type, new.type):
                out.append(self._fits_guard(schema))
            using = self.using if self.using is not None else f"{quote_ident(new.name)}::{new.type}"
            out.append(Statement(f"{head} TYPE {new.type}{collate(new)} USING {using}"))
        elif old.collation != new.collation:  # no USING: the values stay as they are, no rewrite
            out.append(Statement(f"{head} TYPE {new.type} COLLATE {quote_ident(new.collation or 'default')}"))
        if new.default is not None and old.default != new.default:
            out.append(Statement(f"{head} SET DEFAULT {new.default}"))
        if old.nullable != new.nullable and self.online and not new.nullable:
            out += self._online_not_null(schema, head)
        elif old.nullable != new.nullable:
            out.append(Statement(f"{head} {'DROP' if new.nullable else 'SET'} NOT NULL"))
        if new.identity and not old.identity:
            out += [Statement(s) for s in self._add_identity(schema, head)]
        return out

    def _fits_guard(self, schema: str | None) -> Statement:
        """Counts the values a narrowing cast would change (a varchar cut short, a numeric rounded):
        the tenant fails with that count instead of losing them. A value the cast rejects
        (an integer out of range) fails the tenant with PostgreSQL's own error."""
        column = quote_ident(self.new.name)
        sql = (
            f"SELECT count(*) FROM {qualify(schema, self.table)} "
            f"WHERE {column}::text IS DISTINCT FROM (({column}::{self.new.type})::{self.old.type})::text"
        )
        return Statement(sql, guard=f"row(s) of {self.table}.{self.new.name} do not fit {self.new.type}")

    def _online_not_null(self, schema: str | None, head: str) -> list[Statement]:
        """PostgreSQL 12+ skips the SET NOT NULL scan when a validated CHECK proves it."""
        name = not_null_check_name(self.table, self.new.name)
        table, check = qualify(schema, self.table), quote_ident(name)
        return [
            Statement(
                f"ALTER TABLE {table} ADD CONSTRAINT {check} CHECK ({quote_ident(self.new.name)} IS NOT NULL) NOT VALID"
            ),
            Statement(f"ALTER TABLE {table} VALIDATE CONSTRAINT {check}", AFTER, validates=name),
            Statement(f"{head} SET NOT NULL", AFTER, not_null=(self.table, self.new.name)),
            Statement(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {check}", AFTER),
        ]

    def _add_identity(self, schema: str | None, head: str) -> list[str]:
        table, column = qualify(schema, self.table), quote_ident(self.new.name)
        start = self.new.identity_options[0]
        after = (
            f"coalesce(max({column}), 0) + 1" if start == 1 else f"greatest(coalesce(max({column}), 0) + 1, {start})"
        )
        # a new identity sequence starts at its start: move it past the rows that already exist
        return [
            f"{head} ADD {identity_clause(self.new)}",
            f"SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence("
            f"{quote_literal(table)}, {quote_literal(self.new.name)}), {after}, false) FROM {table}",
        ]

    def reverse(self) -> Op:
        return AlterColumn(self.table, self.new, self.old, self.online, self.down_using, self.using, self.rebuilds)

    def describe(self) -> str:
        changes = []
        if self.old.type != self.new.type:
            changes.append(f"type {self.old.type} → {self.new.type}" + (f" using {self.using}" if self.using else ""))
        if self.old.nullable != self.new.nullable:
            changes.append("nullable" if self.new.nullable else "NOT NULL")
        if self.old.default != self.new.default:
            changes.append(f"default {self.old.default or 'none'} → {self.new.default or 'none'}")
        if self.old.identity != self.new.identity:
            changes.append(_IDENTITY_KINDS[self.new.identity])
        if self.old.collation != self.new.collation:
            again = f", rebuilding {', '.join(self.rebuilds)}" if self.rebuilds else ""
            changes.append(f"collation {self.old.collation or 'default'} → {self.new.collation or 'default'}{again}")
        if self.old.identity and self.new.identity and self.old.identity_options != self.new.identity_options:
            start, increment = self.new.identity_options
            changes.append(f"identity start {start} increment {increment}")
        return f"alter column {self.table}.{self.new.name}: {', '.join(changes)}"


def _identity_options(head: str, old: Column, new: Column) -> list[Statement]:
    """``SET START WITH`` / ``SET INCREMENT BY`` where they differ: the sequence's recorded start
    (what ``RESTART`` goes back to) and its step; the next value it hands out stays as it is."""
    (old_start, old_step), (start, step) = old.identity_options, new.identity_options
    out = [Statement(f"{head} SET START WITH {start}")] if start != old_start else []
    return out + ([Statement(f"{head} SET INCREMENT BY {step}")] if step != old_step else [])


@dataclass(frozen=True)
class CreateIndex(_IndexOp):
    kind: ClassVar[str] = "create_index"

    @property
    def hazards(self) -> tuple[str, ...]:
        unique = (FAILS_ON_EXISTING_ROWS,) if self.index.unique else ()
        return unique if self.online else (BLOCKS_WRITES, *unique)

    def statements(self, schema: str | None) -> list[Statement]:
        sql = index_sql(schema, self.table, self.index, self.online)
        return [Statement(sql, AFTER, index=self.index.name) if self.online else Statement(sql)]

    def reverse(self) -> Op:
        return DropIndex(self.table, self.index, self.online)

    def describe(self) -> str:
        how = " concurrently" if self.online else ""
        return f"create {'unique ' if self.index.unique else ''}index{how} {self.index.name} on {self.table} {self.index.tail}"


@dataclass(frozen=True)
class DropIndex(_IndexOp):
    kind: ClassVar[str] = "drop_index"

    @property
    def hazards(self) -> tuple[str, ...]:
        return (DROPS_INDEX,)

    def statements(self, schema: str | None) -> list[Statement]:
        if self.online:
            return [
                Statement(
                    f"DROP INDEX CONCURRENTLY IF EXISTS {qualify(schema, self.index.name)}",
                    BEFORE,
                    index=self.index.name,
                )
            ]
        return [Statement(f"DROP INDEX {qualify(schema, self.index.name)}")]

    def reverse(self) -> Op:
        return CreateIndex(self.table, self.index, self.online)

    def describe(self) -> str:
        invalid = " (INVALID)" if not self.index.valid else ""
        return f"drop index {self.index.name}{invalid} on {self.table}"


@dataclass(frozen=True)
class SetComment(Op):
    kind: ClassVar[str] = "set_comment"
    table: str
    column: str | None
    old: str | None
    new: str | None

    @property
    def name(self) -> str:
        return self.column or self.table

    def sql(self, schema: str | None) -> list[str]:
        return [_comment_sql(schema, self.table, self.column, self.new)]

    def reverse(self) -> Op:
        return SetComment(self.table, self.column, self.new, self.old)

    def describe(self) -> str:
        what = f"column {self.table}.{self.column}" if self.column else f"table {self.table}"
        return f"set comment on {what}" if self.new is not None else f"remove comment on {what}"
