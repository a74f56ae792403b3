"""(current model, target model) → ordered ops. Pure: no I/O, deterministic order.

Per table: drop stale constraints and indexes, rename columns, add, alter, replace changed
indexes (the new one is built beside the old), then drop columns, add constraints, create
indexes, set comments. The downgrade is never a second diff: it is ``reverse_ops(upgrade)``.

Constraints the spec cannot express (foreign keys, exclusion constraints) are never dropped,
added or altered unless the target names them: they are listed as unmanaged instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from schemadiff.model import Column, Constraint, Index, SchemaModel, Table, unmanaged
from schemadiff.ops import (
    AddColumn, AddConstraint, AlterColumn, CreateIndex, CreateTable, DropColumn, DropConstraint,
    DropIndex, Op, RenameColumn, SetComment,
)
from schemadiff.index_swap import ReplaceIndex
from schemadiff.serial import SerialToIdentity, serial_sequence

Renames = Mapping[str, Mapping[str, str]]  # table -> {new column name: old column name}


def diff_schema(current: SchemaModel, target: SchemaModel, renames: Renames | None = None) -> list[Op]:
    """Ops that take ``current`` to ``target``, for the tables ``target`` names only."""
    ops: list[Op] = []
    for table in target.tables:
        ops += diff_table(current.table(table.name), table, (renames or {}).get(table.name, {}))
    return ops


def reverse_ops(ops: list[Op]) -> list[Op]:
    return [op.reverse() for op in reversed(ops)]


def diff_table(current: Table | None, target: Table, renames: Mapping[str, str]) -> list[Op]:
    if current is None:
        return [CreateTable(target.name, target)]
    name = target.name
    ops: list[Op] = []
    ops += [DropConstraint(name, c) for c in current.constraints
            if target.constraint(c.name) != c and not unmanaged(c, target)]
    ops += [DropIndex(name, i) for i in current.indexes if target.index(i.name) != i and not _replaced(i, target)]
    renamed, columns = _renames(current, target, renames)
    ops += renamed
    ops += [AddColumn(name, c) for c in target.columns if c.name not in columns]
    for col in target.columns:
        if col.name in columns and _shape(columns[col.name]) != _shape(col):
            ops += _alter_column(name, columns[col.name], col)
    ops += [ReplaceIndex(name, i, wanted) for i in current.indexes
            if _replaced(i, target) and (wanted := target.index(i.name)) is not None]
    ops += [DropColumn(name, c) for c in columns.values() if target.column(c.name) is None]
    ops += [AddConstraint(name, c) for c in target.constraints if current.constraint(c.name) != c]
    ops += [CreateIndex(name, i) for i in target.indexes
            if (live := current.index(i.name)) != i and not (live and _replaced(live, target))]
    ops += _comments(current, target, columns)
    return ops


def _renames(current: Table, target: Table, renames: Mapping[str, str]) -> tuple[list[Op], dict[str, Column]]:
    """Rename live columns declared ``renamed_from``; returns the ops and the live columns after."""
    columns = {c.name: c for c in current.columns}
    ops: list[Op] = []
    for new, old in renames.items():
        if old in columns and new not in columns and target.column(new) is not None:
            ops.append(RenameColumn(target.name, old, new))
            col = columns.pop(old)
            columns[new] = Column(new, col.type, col.nullable, col.default, col.identity, col.comment)
    return ops, columns


def _replaced(live: Index, target: Table) -> bool:
    """A valid live index the spec defines differently: replaced (an INVALID one serves no query:
    it is dropped and created, online on large tables)."""
    wanted = target.index(live.name)
    return wanted is not None and wanted != live and live.valid


def _alter_column(table: str, old: Column, new: Column) -> list[Op]:
    """AlterColumn, except serial → identity: first the type and nullability, then SerialToIdentity."""
    sequence = serial_sequence(old) if new.identity and new.default is None else None
    if sequence is None:
        return [AlterColumn(table, old, new)]
    middle = replace(old, type=new.type, nullable=new.nullable)
    ops: list[Op] = [AlterColumn(table, old, middle)] if _shape(middle) != _shape(old) else []
    return ops + [SerialToIdentity(table, new, sequence)]


def unmanaged_constraints(current: SchemaModel, target: SchemaModel) -> list[tuple[str, Constraint]]:
    """(table, constraint) of every live constraint the diff leaves alone (see ``model.unmanaged``)."""
    out = []
    for table in target.tables:
        live = current.table(table.name)
        out += [(table.name, c) for c in (live.constraints if live else ()) if unmanaged(c, table)]
    return out


def _shape(col: Column) -> tuple[object, ...]:
    return (col.type, col.nullable, col.default, col.identity)


def _comments(current: Table, target: Table, columns: dict[str, Column]) -> list[Op]:
    ops: list[Op] = []
    if current.comment != target.comment:
        ops.append(SetComment(target.name, None, current.comment, target.comment))
    for col in target.columns:
        live = columns.get(col.name)
        old = live.comment if live is not None else None
        if live is not None and old != col.comment:
            ops.append(SetComment(target.name, col.name, old, col.comment))
    return ops
