"""(current model, target model) → ordered ops. Pure: no I/O, deterministic order.

Per table: drop stale constraints and indexes, rename columns, add, alter, replace changed
indexes (the new one is built beside the old), then drop columns, add constraints, validate live
NOT VALID ones the spec wants valid, create indexes, set comments. The downgrade is never a
second diff: it is ``reverse_ops(upgrade)``.

Foreign keys are dropped before every other op and added after them (``_foreign_keys_in_order``).
Constraints of a kind the spec cannot express (``model.UNMANAGED_KINDS``: none since exclusion
constraints became declarable) are never dropped, added or altered unless the target names them:
they are listed as unmanaged instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from schemadiff.core.alter_column import AlterColumn
from schemadiff.core.collations import with_rebuilds
from schemadiff.core.constraint_ops import (
    AddConstraint,
    DropConstraint,
    ValidateConstraint,
)
from schemadiff.core.conversions import Conversion, Conversions, converted
from schemadiff.core.enum_ops import diff_enums, enum_columns
from schemadiff.core.foreign_keys import FOREIGN_KEY, foreign_keys, without_foreign_keys
from schemadiff.core.generated_columns import dependents, generated_change, unswapped
from schemadiff.core.identity_sequences import moved, sequence_renames
from schemadiff.core.index_swap import ReplaceIndex
from schemadiff.core.model import (
    NOT_VALID,
    Column,
    Constraint,
    Index,
    SchemaModel,
    Table,
    unmanaged,
)
from schemadiff.core.ops import AddColumn, CreateIndex, CreateTable, DropColumn, DropIndex, Op, RenameColumn, SetComment
from schemadiff.core.relation_renames import (
    NO_RENAMES,
    RelationRenames,
    RenameTable,
    left_behind,
    renamed_indexes,
    renamed_table,
    tables_renamed,
    with_references_renamed,
)
from schemadiff.core.serial_ops import SerialToIdentity, serial_sequence
from schemadiff.core.table_kinds import diff_kind, kind_problems, new_partitions
from schemadiff.errors import SchemadiffError

Renames = Mapping[str, Mapping[str, str]]  # table -> {new column name: old column name}


def diff_schema(
    current: SchemaModel,
    target: SchemaModel,
    renames: Renames | None = None,
    relations: RelationRenames = NO_RENAMES,
    conversions: Conversions | None = None,
) -> list[Op]:
    """Ops that take ``current`` to ``target``, for the tables (and enum types) ``target`` names only
    (a table declared ``renamed_from`` is renamed first: ``core.relation_renames``)."""
    problems = kind_problems(current, target, relations.tables)
    if problems:  # build_plan refuses these first, naming the schemas
        raise SchemadiffError("; ".join(f"{what}: {fix}" for what, fix in problems))
    ops: list[Op] = diff_enums(current, target)
    current = with_references_renamed(current, tables_renamed(current, target, relations))
    for table in target.tables:
        moved, live = renamed_table(current, table, relations)
        ops += moved + diff_table(
            live,
            table,
            (renames or {}).get(table.name, {}),
            relations.indexes.get(table.name),
            (conversions or {}).get(table.name),
        )
    ops += left_behind(current, relations)
    ops = enum_columns(ops, current, target) if current.enums or target.enums else ops
    return _foreign_keys_in_order(ops)


def _foreign_keys_in_order(ops: list[Op]) -> list[Op]:
    """Foreign keys dropped before every other op and added (or validated) after them: a key needs
    its referenced table and unique key, which the other ops create, change or drop. Tables are
    renamed before all: every op after names a table by its new name (the keys that name a renamed
    table were read as naming its new name: ``relation_renames.with_references_renamed``)."""
    renamed = [op for op in ops if isinstance(op, RenameTable)]
    first = [op for op in ops if isinstance(op, DropConstraint) and op.constraint.kind == FOREIGN_KEY]
    last = [
        op for op in ops if isinstance(op, (AddConstraint, ValidateConstraint)) and op.constraint.kind == FOREIGN_KEY
    ]
    if not first and not last:
        return ops
    early = renamed + first
    return early + [op for op in ops if op not in early and op not in last] + last


def reverse_ops(ops: list[Op]) -> list[Op]:
    return [op.reverse() for op in reversed(ops)]


def diff_table(
    current: Table | None,
    target: Table,
    renames: Mapping[str, str],
    index_renames: Mapping[str, str] | None = None,
    conversions: Mapping[str, Conversion] | None = None,
) -> list[Op]:
    if current is None:  # its foreign keys once every table exists (see ``diff_schema``)
        return [CreateTable(target.name, without_foreign_keys(target))] + [
            AddConstraint(target.name, c) for c in foreign_keys(target)
        ]
    name = target.name
    ops, current = renamed_indexes(current, target, index_renames or {})
    ops += [
        DropConstraint(name, c)
        for c in current.constraints
        if target.constraint(c.name) not in (c, c.validated()) and not unmanaged(c, target)
    ]
    ops += [DropIndex(name, i) for i in current.indexes if target.index(i.name) != i and not _replaced(i, target)]
    renamed, columns = _renames(current, target, renames)
    ops += renamed
    ops += diff_kind(current, target)
    ops += [AddColumn(name, c) for c in target.columns if c.name not in columns]
    for col in target.columns:
        was = columns.get(col.name)
        if was is not None and was.generated != col.generated:
            ops += generated_change(name, was, col, *dependents(current, target, was.name))
        elif was is not None and _shape(was) != _shape(col):
            ops += _alter_column(name, was, col, (conversions or {}).get(col.name))
        if was is not None:
            ops += sequence_renames(name, was, col)
    ops += [
        ReplaceIndex(name, i, wanted)
        for i in current.indexes
        if _replaced(i, target) and (wanted := target.index(i.name)) is not None
    ]
    ops += [DropColumn(name, c) for c in columns.values() if target.column(c.name) is None]
    ops += [AddConstraint(name, c) for c in target.constraints if not _kept(current.constraint(c.name), c)]
    ops += [
        ValidateConstraint(name, _readable(c, target))
        for c in current.constraints
        if not c.valid and target.constraint(c.name) == c.validated()
    ]
    ops += [
        CreateIndex(name, i)
        for i in target.indexes
        if (live := current.index(i.name)) != i and not (live and _replaced(live, target))
    ]
    ops += new_partitions(current, target)
    ops += _comments(current, target, columns)
    return with_rebuilds(unswapped(ops), current)


def _renames(current: Table, target: Table, renames: Mapping[str, str]) -> tuple[list[Op], dict[str, Column]]:
    """Rename live columns declared ``renamed_from``; returns the ops and the live columns after.

    Renames run in dependency order, not the spec's: with ``name_v2`` renamed from ``name_v1``
    and ``name_v3`` from ``name_v2``, the live ``name_v2`` becomes ``name_v3`` first, then
    ``name_v1`` becomes ``name_v2``. A rename whose new name is live and not freed by another
    rename is already done (or blocked), and so is any rename waiting on it. A cycle (a swap)
    is refused when the spec is loaded (``spec._rename_problems``): its result looks like its
    start, so it would swap again on every run; here it is left alone.
    """
    columns = {c.name: c for c in current.columns}
    pending = _unblocked(
        {new: old for new, old in renames.items() if old in columns and old != new and target.column(new) is not None},
        columns,
    )
    ops: list[Op] = []
    while ready := [new for new in pending if new not in columns]:
        for new in ready:
            old = pending.pop(new)
            ops.append(RenameColumn(target.name, old, new))
            columns[new] = moved(replace(columns.pop(old), name=new), target.name, target.name, old)
    return ops, columns


def _unblocked(pending: dict[str, str], columns: Mapping[str, Column]) -> dict[str, str]:
    """Drop renames whose new name stays taken by a live column no other rename moves away."""
    once: dict[str, str] = {}
    for new, old in pending.items():  # two renames of one column: the spec refuses it; keep the first
        if old not in once.values():
            once[new] = old
    while blocked := [new for new in once if new in columns and new not in once.values()]:
        for new in blocked:
            del once[new]
    return once


def _kept(live: Constraint | None, wanted: Constraint) -> bool:
    """The live constraint is the wanted one, or will be once validated."""
    return live is not None and live.validated() == wanted


def _readable(live: Constraint, target: Table) -> Constraint:
    """A live NOT VALID constraint the spec writes: re-added (downgrade) from the spec's text."""
    wanted = target.constraint(live.name)
    source = wanted.source if wanted is not None else None
    return replace(live, source=f"{source}{NOT_VALID}") if source else live


def _replaced(live: Index, target: Table) -> bool:
    """A valid live index the spec defines differently: replaced (an INVALID one serves no query:
    it is dropped and created, online on large tables). Not on a partitioned table: its partitions'
    indexes, built beside theirs, would keep the names PostgreSQL gives the second of two."""
    wanted = target.index(live.name)
    return wanted is not None and wanted != live and live.valid and target.partition_by is None


def _alter_column(table: str, old: Column, new: Column, conversion: Conversion | None = None) -> list[Op]:
    """AlterColumn (with the spec's USING expressions), except serial → identity: first the type
    and nullability, then SerialToIdentity."""
    sequence = serial_sequence(old) if new.identity and new.default is None else None
    if sequence is None:
        return [converted(AlterColumn(table, old, new), conversion)]
    middle = replace(old, type=new.type, nullable=new.nullable)
    ops: list[Op] = [converted(AlterColumn(table, old, middle), conversion)] if _shape(middle) != _shape(old) else []
    return [*ops, SerialToIdentity(table, new, sequence)]


def unmanaged_constraints(current: SchemaModel, target: SchemaModel) -> list[tuple[str, Constraint]]:
    """(table, constraint) of every live constraint the diff leaves alone (see ``model.unmanaged``)."""
    out = []
    for table in target.tables:
        live = current.table(table.name)
        out += [(table.name, c) for c in (live.constraints if live else ()) if unmanaged(c, table)]
    return out


def _shape(col: Column) -> tuple[object, ...]:
    return (col.type, col.nullable, col.default, col.identity, col.identity_options, col.generated, col.collation)


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
