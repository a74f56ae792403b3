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

from schemadiff.core.ddl_clauses import add_constraint_sql, column_sql, comment_sql, index_sql, partition_sql
from schemadiff.core.hazards import (
    ACCESS_EXCLUSIVE,
    BLOCKS_WRITES,
    DELETES_DATA,
    DROPS_INDEX,
    FAILS_ON_EXISTING_ROWS,
    IRREVERSIBLE,
    REWRITES_TABLE,
    is_volatile,
)
from schemadiff.core.model import Column, Index, Table
from schemadiff.core.sqltext import qualify, quote_ident
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
            out.append(comment_sql(schema, self.table, None, self.model.comment))
        out += [comment_sql(schema, self.table, c.name, c.comment) for c in self.model.columns if c.comment]
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
            out.append(comment_sql(schema, self.table, self.column.name, self.column.comment))
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
        return [comment_sql(schema, self.table, self.column, self.new)]

    def reverse(self) -> Op:
        return SetComment(self.table, self.column, self.new, self.old)

    def describe(self) -> str:
        what = f"column {self.table}.{self.column}" if self.column else f"table {self.table}"
        return f"set comment on {what}" if self.new is not None else f"remove comment on {what}"
