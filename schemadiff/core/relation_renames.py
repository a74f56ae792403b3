"""Renames of tables and indexes declared ``renamed_from``: never a drop and a create. Pure.

A table renamed from ``old`` keeps its rows, indexes and constraints, but PostgreSQL renames none
of the objects it named after the table: so that the tenant ends equal to one built fresh from the
spec, they are renamed with it in the same revision (and back by its downgrade). A constraint named
``<old>_…`` (or ``ck_<old>_…``: ``<old>_pkey``, ``<old>_<column>_key``, ``<old>_<column>_fkey``,
``<old>_<column>_check``, ``<old>_<column>_excl`` …) becomes ``<new>_…`` when the spec's constraint
of that name is the same constraint; an index named ``<old>_…`` becomes ``<new>_…`` when the spec
declares that index (a definition that also changed is then replaced as any other); an identity
sequence ``<old>_<column>_seq`` becomes ``<new>_<column>_seq`` (``core.identity_sequences``). A
foreign key naming ``old`` (the table's own, or another table's) reads as naming the new name, as
PostgreSQL prints it after the rename, so it is kept, not dropped and added. An index renamed from
``old`` keeps its build; a definition that also changed is then replaced as any other. A rename
whose old and new names both exist is not made: the schema's new table (or index) is planned as it
stands, and the old one, which the spec's state does not have, is dropped: an old index as drift
(``drops_index``), an old table by :func:`left_behind` (``deletes_data``: refused unless allowed).
:func:`rename_conflicts` says why in the plan. Such a schema is in its own group, since its state
differs from every schema without the old name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import ClassVar

from schemadiff.core.foreign_keys import referencing_renamed
from schemadiff.core.identity_sequences import moved as moved_column
from schemadiff.core.model import Index, SchemaModel, Table
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


def tables_renamed(current: SchemaModel, target: SchemaModel, renames: RelationRenames) -> dict[str, str]:
    """{old: new} of the declared table renames made in ``current`` (the old name live, the new not)."""
    return {
        old: new
        for new, old in renames.tables.items()
        if target.table(new) is not None and current.table(new) is None and current.table(old) is not None
    }


def with_references_renamed(current: SchemaModel, moves: Mapping[str, str]) -> SchemaModel:
    """``current`` with its foreign keys to the tables in ``moves`` naming them by their new names, as
    PostgreSQL prints them once the tables are renamed."""
    if not moves:
        return current
    tables = []
    for table in current.tables:
        constraints = list(table.constraints)
        for old, new in moves.items():
            constraints = [referencing_renamed(c, old, new) for c in constraints]
        tables.append(replace(table, constraints=tuple(constraints)))
    return replace(current, tables=tuple(tables))


def renamed_table(current: SchemaModel, target: Table, renames: RelationRenames) -> tuple[list[Op], Table | None]:
    """The live table ``target`` is diffed against, and the ops renaming it (and the constraints,
    indexes and identity sequences named after it) there: none when the new name is live, the old
    one is not, or no rename is declared. ``current``'s foreign keys already name the new name
    (:func:`with_references_renamed`)."""
    live = current.table(target.name)
    old = renames.tables.get(target.name)
    source = current.table(old) if old is not None else None
    if old is None or (live is None) == (source is None):  # nothing to rename, or both names (left_behind)
        return [], live
    if live is not None:  # renamed before: the names it left behind
        return _derived_renames([], live, target, old, renames)
    assert source is not None
    new = target.name
    moved = replace(source, name=new, columns=tuple(moved_column(c, old, new) for c in source.columns))
    return _derived_renames([RenameTable(new, old)], moved, target, old, renames)


def _derived_renames(
    ops: list[Op], moved: Table, target: Table, old: str, renames: RelationRenames
) -> tuple[list[Op], Table]:
    """``ops`` and the renames of the constraints and indexes of ``moved`` (the live table under its
    new name) still named after ``old``. Also where the table was renamed before (by hand, or by a
    schemadiff that renamed the table alone): its names are then those of no fresh table either."""
    new = target.name
    constraints = []
    for c in moved.constraints:
        name = _derived_name(c.name, old, new)
        wanted = target.constraint(name) if name and moved.constraint(name) is None else None
        if wanted is not None and name and wanted.kind == c.kind and wanted.definition == c.validated().definition:
            ops.append(RenameConstraint(new, c.name, name))
            c = replace(c, name=name)
        constraints.append(c)
    index_ops, indexes = _derived_indexes(moved, target, old, renames.indexes.get(new, {}))
    return ops + index_ops, replace(moved, constraints=tuple(constraints), indexes=indexes)


def _derived_indexes(
    moved: Table, target: Table, old: str, declared: Mapping[str, str]
) -> tuple[list[Op], tuple[Index, ...]]:
    """Rename the indexes named ``<old>_…`` to ``<new>_…`` where the spec declares that name (and
    no index declared ``renamed_from`` takes it or is taken from the old one)."""
    ops: list[Op] = []
    indexes = []
    for index in moved.indexes:
        name = _derived_name(index.name, old, target.name, prefixes=("",))
        if (
            name
            and target.index(name) is not None
            and moved.index(name) is None
            and name not in declared
            and index.name not in declared.values()
        ):
            ops.append(RenameIndex(target.name, index.name, name))
            index = replace(index, name=name)
        indexes.append(index)
    return ops, tuple(indexes)


def _derived_name(name: str, old: str, new: str, prefixes: tuple[str, ...] = ("", "ck_")) -> str | None:
    for prefix in prefixes:
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
