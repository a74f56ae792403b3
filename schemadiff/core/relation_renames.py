"""Renames of tables and indexes declared ``renamed_from``: never a drop and a create. Pure.

A table renamed from ``old`` keeps its rows, indexes and constraints; the constraints whose names
schemadiff derives from the table's (``<table>_pkey``, ``<table>_<column>_key``,
``ck_<table>_<column>``) are renamed with it when the spec's constraint of the new name is the same
constraint. An index renamed from ``old`` keeps its build; a definition that also changed is then
replaced as any other. A rename whose old and new names both exist is not made: the schema's new
table (or index) is planned as it stands, and the old one, which the spec's state does not have, is
dropped: an old index as drift (``drops_index``), an old table by :func:`left_behind`
(``deletes_data``: refused unless allowed). :func:`rename_conflicts` says why in the plan. Such a
schema is in its own group, since its state differs from every schema without the old name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import ClassVar

from schemadiff.core.model import SchemaModel, Table
from schemadiff.core.ops import DropTable, Op
from schemadiff.core.sqltext import qualify, quote_ident


@dataclass(frozen=True)
class RelationRenames:
    """The spec's renames, and the managed tables it drops on purpose (``drop: true``)."""

    tables: Mapping[str, str] = field(default_factory=dict)  # new table name -> old
    indexes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # table -> {new index name: old}
    dropped: tuple[str, ...] = ()

    def old_tables(self) -> tuple[str, ...]:
        """Names read besides the target's tables: a tenant holding one is in another state."""
        return tuple(self.tables.values()) + self.dropped


NO_RENAMES = RelationRenames()


@dataclass(frozen=True)
class RenameTable(Op):
    kind: ClassVar[str] = "rename_table"
    table: str  # the new name
    old: str

    def sql(self, schema: str | None) -> list[str]:
        return [f"ALTER TABLE {qualify(schema, self.old)} RENAME TO {quote_ident(self.table)}"]

    def reverse(self) -> Op:
        return RenameTable(self.old, self.table)

    def describe(self) -> str:
        return f"rename table {self.old} to {self.table}"


@dataclass(frozen=True)
class RenameIndex(Op):
    kind: ClassVar[str] = "rename_index"
    table: str
    old: str
    new: str

    @property
    def name(self) -> str:
        return self.new

    def sql(self, schema: str | None) -> list[str]:
        return [f"ALTER INDEX {qualify(schema, self.old)} RENAME TO {quote_ident(self.new)}"]

    def reverse(self) -> Op:
        return RenameIndex(self.table, self.new, self.old)

    def describe(self) -> str:
        return f"rename index {self.old} on {self.table} to {self.new}"


@dataclass(frozen=True)
class RenameConstraint(Op):
    """Also renames the index of a primary key or unique constraint."""

    kind: ClassVar[str] = "rename_constraint"
    table: str
    old: str
    new: str

    @property
    def name(self) -> str:
        return self.new

    def sql(self, schema: str | None) -> list[str]:
        return [
            f"ALTER TABLE {qualify(schema, self.table)} RENAME CONSTRAINT "
            f"{quote_ident(self.old)} TO {quote_ident(self.new)}"
        ]

    def reverse(self) -> Op:
        return RenameConstraint(self.table, self.new, self.old)

    def describe(self) -> str:
        return f"rename constraint {self.old} on {self.table} to {self.new}"


def renamed_table(current: SchemaModel, target: Table, renames: RelationRenames) -> tuple[list[Op], Table | None]:
    """The live table ``target`` is diffed against, and the ops renaming it (and its derived
    constraints) there: none when the new name is live, the old one is not, or no rename is declared."""
    live = current.table(target.name)
    old = renames.tables.get(target.name)
    source = current.table(old) if old is not None and live is None else None
    if old is None or source is None:
        return [], live
    ops: list[Op] = [RenameTable(target.name, old)]
    moved = replace(source, name=target.name)
    constraints = []
    for c in moved.constraints:
        new = _derived_name(c.name, old, target.name)
        wanted = target.constraint(new) if new and moved.constraint(new) is None else None
        if wanted is not None and new and wanted.kind == c.kind and wanted.definition == c.validated().definition:
            ops.append(RenameConstraint(target.name, c.name, new))
            c = replace(c, name=new)
        constraints.append(c)
    return ops, replace(moved, constraints=tuple(constraints))


def _derived_name(name: str, old: str, new: str) -> str | None:
    for prefix in ("", "ck_"):
        if name.startswith(f"{prefix}{old}_"):
            return f"{prefix}{new}_{name[len(prefix) + len(old) + 1 :]}"
    return None


def renamed_indexes(current: Table, target: Table, renames: Mapping[str, str]) -> tuple[list[Op], Table]:
    """Rename the live indexes ``target`` declares ``renamed_from`` (when the new name is not live)."""
    ops: list[Op] = []
    for new, old in renames.items():
        if target.index(new) is None or current.index(new) is not None or current.index(old) is None:
            continue
        ops.append(RenameIndex(target.name, old, new))
        current = replace(current, indexes=tuple(replace(i, name=new) if i.name == old else i for i in current.indexes))
    return ops, current


def left_behind(current: SchemaModel, renames: RelationRenames) -> list[Op]:
    """A table renamed from ``old`` where ``old`` and the new name both exist: the rename cannot be
    made, and the spec's state has no ``old``, so the plan drops it there — ``deletes_data``,
    refused unless allowed; :func:`rename_conflicts` says why in the plan. Then the tables the spec
    drops on purpose (``drop: true``), where they exist."""
    conflicts: list[Op] = [
        DropTable(old, live)
        for new, old in renames.tables.items()
        if current.table(new) is not None and (live := current.table(old)) is not None
    ]
    return conflicts + [DropTable(name, live) for name in renames.dropped if (live := current.table(name)) is not None]


def rename_conflicts(current: SchemaModel, target: SchemaModel, renames: RelationRenames) -> list[str]:
    """Declared renames not made because the old and the new name both exist."""
    out = [
        f"table {old} is not renamed to {new}: both exist; {new} is planned as it stands and "
        f"{old} is dropped (deletes_data: allow it, or drop or rename {old} by hand first)"
        for new, old in renames.tables.items()
        if current.table(new) is not None and current.table(old) is not None
    ]
    for table in target.tables:
        live = current.table(table.name)
        for new, old in renames.indexes.get(table.name, {}).items():
            if live is not None and live.index(new) is not None and live.index(old) is not None:
                out.append(
                    f"index {old} on {table.name} is not renamed to {new}: both exist; "
                    f"{new} is planned as it stands and {old}, which the spec does not name, is dropped"
                )
    return out
