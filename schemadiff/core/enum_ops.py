"""Enum types of the tenant's schema (the spec's top-level ``enums:``): create, add values, rebuild,
and columns converted to and from them. Pure.

* A new type is created before the tables that use it (and dropped after them going back).
* Values only added (the old labels keep their order) are ``ALTER TYPE … ADD VALUE IF NOT EXISTS``,
  each committed on its own before the tenant's transaction, for every tenant: a value added in a
  transaction cannot be used in it (a column converted to the type, a default naming the value).
* Any other change (a value removed, the order changed) rebuilds the type: the old one is renamed
  aside, the new one created, every managed column using it converted through ``text`` (a rewrite
  of its table), then the old type dropped. A row holding a removed value fails the cast, and so
  the tenant, alone and rolled back (PostgreSQL names the value): nothing is lost, and the
  downgrade can add the value back.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from schemadiff.core.alter_column import AlterColumn
from schemadiff.core.hazards import (
    ACCESS_EXCLUSIVE,
    DELETES_DATA,
    FAILS_ON_EXISTING_ROWS,
    IRREVERSIBLE,
    REWRITES_TABLE,
)
from schemadiff.core.model import EnumType, SchemaModel
from schemadiff.core.ops import Op
from schemadiff.core.serial_ops import temporary_name
from schemadiff.core.sqltext import qualify, quote_ident, quote_literal
from schemadiff.core.statements import BEFORE, Statement

_TEXT_TYPES = ("text", "character varying", "character")


@dataclass(frozen=True)
class EnumUser:
    """A managed column whose type is the enum (its default as PostgreSQL prints it)."""

    table: str
    column: str
    default: str | None = None


def enum_values(labels: tuple[str, ...]) -> str:
    return ", ".join(quote_literal(label) for label in labels)


def create_enum_sql(schema: str | None, enum: EnumType) -> str:
    return f"CREATE TYPE {qualify(schema, enum.name)} AS ENUM ({enum_values(enum.labels)})"


def only_added(old: tuple[str, ...], new: tuple[str, ...]) -> bool:
    """``new`` keeps every label of ``old`` in the same order (``ADD VALUE`` reaches it)."""
    kept = [label for label in new if label in old]
    return kept == list(old) and len(set(new)) == len(new)


@dataclass(frozen=True)
class CreateEnum(Op):
    kind: ClassVar[str] = "create_enum"
    table: str  # the enum type's name: the object it changes (no table holds it)
    labels: tuple[str, ...]

    def sql(self, schema: str | None) -> list[str]:
        return [create_enum_sql(schema, EnumType(self.table, self.labels))]

    def reverse(self) -> Op:
        return DropEnum(self.table, self.labels)

    def describe(self) -> str:
        return f"create enum type {self.table} ({', '.join(self.labels)})"


@dataclass(frozen=True)
class DropEnum(Op):
    kind: ClassVar[str] = "drop_enum"
    table: str  # the enum type's name
    labels: tuple[str, ...]

    def sql(self, schema: str | None) -> list[str]:
        return [f"DROP TYPE {qualify(schema, self.table)}"]

    def reverse(self) -> Op:
        return CreateEnum(self.table, self.labels)

    def describe(self) -> str:
        return f"drop enum type {self.table}"


@dataclass(frozen=True)
class AlterEnum(Op):
    """Labels ``old`` → ``new`` of enum ``enum``; ``users`` are the managed columns of its type
    (``table`` is the first one's table, or the enum's name when none uses it)."""

    kind: ClassVar[str] = "alter_enum"
    table: str
    enum: str
    old: tuple[str, ...]
    new: tuple[str, ...]
    users: tuple[EnumUser, ...] = ()

    @property
    def name(self) -> str:
        return self.enum

    @property
    def rebuilds(self) -> bool:
        return not only_added(self.old, self.new)

    @property
    def removed(self) -> tuple[str, ...]:
        return tuple(label for label in self.old if label not in self.new)

    @property
    def hazards(self) -> tuple[str, ...]:
        if not self.rebuilds or not self.users:
            return ()
        out = [REWRITES_TABLE, ACCESS_EXCLUSIVE] + ([FAILS_ON_EXISTING_ROWS] if self.removed else [])
        return tuple(sorted(out))

    def statements(self, schema: str | None) -> list[Statement]:
        return self._rebuild(schema) if self.rebuilds else self._add_values(schema)

    def _add_values(self, schema: str | None) -> list[Statement]:
        head = f"ALTER TYPE {qualify(schema, self.enum)} ADD VALUE IF NOT EXISTS"
        out = []
        for i, label in enumerate(self.new):
            if label in self.old:
                continue
            where = ""
            if i > 0:
                where = f" AFTER {quote_literal(self.new[i - 1])}"
            elif self.old:
                where = f" BEFORE {quote_literal(self.old[0])}"
            out.append(Statement(f"{head} {quote_literal(label)}{where}", BEFORE, always=True))
        return out

    def _rebuild(self, schema: str | None) -> list[Statement]:
        aside = temporary_name(self.enum, "_sdold")
        enum = quote_ident(self.enum)
        out = [
            Statement(f"ALTER TYPE {qualify(schema, self.enum)} RENAME TO {quote_ident(aside)}"),
            Statement(create_enum_sql(schema, EnumType(self.enum, self.new))),
        ]
        for user in self.users:
            head = f"ALTER TABLE {qualify(schema, user.table)} ALTER COLUMN {quote_ident(user.column)}"
            column = quote_ident(user.column)
            if user.default is not None:
                out.append(Statement(f"{head} DROP DEFAULT"))
            out.append(Statement(f"{head} TYPE {enum} USING {column}::text::{enum}"))
            if user.default is not None and not self._names_removed(user.default):
                out.append(Statement(f"{head} SET DEFAULT {user.default}"))
        out.append(Statement(f"DROP TYPE {qualify(schema, aside)}"))
        return out

    def _names_removed(self, default: str) -> bool:
        """A default that is one removed value (as PostgreSQL prints it): left dropped here."""
        return any(default == f"{quote_literal(label)}::{quote_ident(self.enum)}" for label in self.removed)

    def reverse(self) -> Op:
        return AlterEnum(self.table, self.enum, self.new, self.old, self.users)

    def describe(self) -> str:
        if not self.rebuilds:
            added = [label for label in self.new if label not in self.old]
            return f"add value(s) {', '.join(added)} to enum type {self.enum}"
        users = ", ".join(f"{u.table}.{u.column}" for u in self.users) or "no managed column"
        return f"rebuild enum type {self.enum} ({', '.join(self.old)}) → ({', '.join(self.new)}), converting {users}"


@dataclass(frozen=True)
class AlterEnumColumn(AlterColumn):
    """A column converted to or from an enum type (``labels`` are the enum's): a rewrite; a value
    the enum lacks fails the cast (the tenant fails alone); an enum label too long for a
    ``varchar(n)`` would be cut (data lost)."""

    converts_itself: ClassVar[bool] = True  # USING col::text::type, never an implicit cast
    labels: tuple[str, ...] = ()

    @property
    def hazards(self) -> tuple[str, ...]:
        rest = AlterColumn(self.table, self.old, replace(self.new, type=self.old.type), self.online).hazards
        out = [*rest, REWRITES_TABLE, ACCESS_EXCLUSIVE]
        if _text_base(self.old.type) and not _text_base(self.new.type):
            out.append(FAILS_ON_EXISTING_ROWS)  # to the enum: a value that is no label fails the cast
        elif _text_base(self.new.type) and not _fits(self.labels, self.new.type):
            out += [DELETES_DATA, IRREVERSIBLE]  # from the enum: a cast to varchar(n) cuts longer labels
        elif not _text_base(self.new.type):
            out += [DELETES_DATA, IRREVERSIBLE]
        return tuple(sorted(set(out)))

    def reverse(self) -> Op:
        return AlterEnumColumn(self.table, self.new, self.old, self.online, labels=self.labels)


def _text_base(type_: str) -> bool:
    return type_.split("(")[0].strip() in _TEXT_TYPES


def _fits(labels: tuple[str, ...], type_: str) -> bool:
    if "(" not in type_:
        return type_ != "character"  # bare character is character(1)
    length = int(type_.split("(")[1].rstrip(")"))
    return all(len(label) <= length for label in labels)


def diff_enums(current: SchemaModel, target: SchemaModel) -> list[Op]:
    """Create or change the enum types ``target`` names (before any table op)."""
    ops: list[Op] = []
    for enum in target.enums:
        live = current.enum(enum.name)
        if live is None:
            ops.append(CreateEnum(enum.name, enum.labels))
        elif live.labels != enum.labels:
            users = enum_users(current, enum.name)
            ops.append(AlterEnum(users[0].table if users else enum.name, enum.name, live.labels, enum.labels, users))
    return ops


def enum_users(model: SchemaModel, name: str) -> tuple[EnumUser, ...]:
    type_ = quote_ident(name)
    return tuple(EnumUser(t.name, c.name, c.default) for t in model.tables for c in t.columns if c.type == type_)


def enum_columns(ops: list[Op], current: SchemaModel, target: SchemaModel) -> list[Op]:
    """Column type changes to or from a managed enum type, as :class:`AlterEnumColumn`."""
    labels = {quote_ident(e.name): e.labels for e in (*current.enums, *target.enums)}
    return [_enum_column(op, labels) if type(op) is AlterColumn else op for op in ops]


def _enum_column(op: AlterColumn, labels: dict[str, tuple[str, ...]]) -> Op:
    old, new = op.old.type, op.new.type
    if old == new or (old not in labels and new not in labels):
        return op
    return AlterEnumColumn(op.table, op.old, op.new, op.online, labels=labels.get(old, labels.get(new, ())))
