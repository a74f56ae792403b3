"""(current model, target model) → ordered ops. Pure: no I/O, deterministic order.

Per table: drop stale constraints and indexes, rename columns, add, alter, then drop
columns, add constraints, validate live NOT VALID ones the spec wants valid, create indexes,
set comments. The downgrade is never a second
diff: it is ``reverse_ops(upgrade)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from schemadiff.model import NOT_VALID, Column, Constraint, SchemaModel, Table
from schemadiff.ops import (
    AddColumn, AddConstraint, AlterColumn, CreateIndex, CreateTable, DropColumn, DropConstraint,
    DropIndex, Op, RenameColumn, SetComment, ValidateConstraint,
)

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
    ops += [DropConstraint(name, c) for c in current.constraints if target.constraint(c.name) not in (c, c.validated())]
    ops += [DropIndex(name, i) for i in current.indexes if target.index(i.name) != i]
    renamed, columns = _renames(current, target, renames)
    ops += renamed
    ops += [AddColumn(name, c) for c in target.columns if c.name not in columns]
    ops += [AlterColumn(name, columns[c.name], c) for c in target.columns
            if c.name in columns and _shape(columns[c.name]) != _shape(c)]
    ops += [DropColumn(name, c) for c in columns.values() if target.column(c.name) is None]
    ops += [AddConstraint(name, c) for c in target.constraints if not _kept(current.constraint(c.name), c)]
    ops += [ValidateConstraint(name, _readable(c, target)) for c in current.constraints
            if not c.valid and target.constraint(c.name) == c.validated()]
    ops += [CreateIndex(name, i) for i in target.indexes if current.index(i.name) != i]
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


def _kept(live: Constraint | None, wanted: Constraint) -> bool:
    """The live constraint is the wanted one, or will be once validated."""
    return live is not None and live.validated() == wanted


def _readable(live: Constraint, target: Table) -> Constraint:
    """A live NOT VALID constraint the spec writes: re-added (downgrade) from the spec's text."""
    wanted = target.constraint(live.name)
    source = wanted.source if wanted is not None else None
    return replace(live, source=f"{source}{NOT_VALID}") if source else live


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
