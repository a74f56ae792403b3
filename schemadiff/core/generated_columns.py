"""Generated columns (``GENERATED ALWAYS AS (expr) STORED``): changing one. Pure.

PostgreSQL 17 has ``ALTER COLUMN … SET EXPRESSION``; PostgreSQL 15 and 16 have no way to change
a generated column's expression, so the column is dropped and added again with its new
expression (every row computed anew: the table is rewritten). Its values are computed from the
other columns, so dropping it loses nothing. A plain column that becomes generated loses its
stored values the same way (``deletes_data``); a generated column that becomes plain keeps its
values (``DROP EXPRESSION``, PostgreSQL 13+, a catalog change).

Dropping a column drops the indexes and constraints that use it: the diff passes them, and the
op creates them again after the column is back (``dependents``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from schemadiff.core.alter_column import AlterColumn
from schemadiff.core.constraint_ops import AddConstraint
from schemadiff.core.ddl_clauses import column_sql
from schemadiff.core.hazards import ACCESS_EXCLUSIVE, DELETES_DATA, IRREVERSIBLE, REWRITES_TABLE
from schemadiff.core.index_swap import ReplaceIndex
from schemadiff.core.model import Column, Constraint, Index, Table, unmanaged
from schemadiff.core.ops import AddColumn, CreateIndex, DropIndex, Op
from schemadiff.core.sqltext import qualify, quote_ident
from schemadiff.core.statements import Statement


@dataclass(frozen=True)
class ReplaceGenerated(Op):
    """``old`` → ``new`` where either is generated and they differ in more than the rest of the
    column's shape: drop and add (``new`` generated), or ``DROP EXPRESSION`` (``new`` plain)."""

    kind: ClassVar[str] = "replace_generated"
    table: str
    old: Column
    new: Column
    indexes: tuple[Index, ...] = ()  # the table's indexes using the column, created again after the add
    constraints: tuple[Constraint, ...] = ()  # likewise its constraints (foreign keys excluded)

    @property
    def name(self) -> str:
        return self.new.name

    @property
    def dropping(self) -> bool:
        """True when the column is dropped and added (``new`` generated); False for DROP EXPRESSION."""
        return self.new.generated is not None

    @property
    def hazards(self) -> tuple[str, ...]:
        if not self.dropping:
            return ()
        lost = (DELETES_DATA, IRREVERSIBLE) if self.old.generated is None else ()
        return tuple(sorted({REWRITES_TABLE, ACCESS_EXCLUSIVE, *lost}))

    def statements(self, schema: str | None) -> list[Statement]:
        table = qualify(schema, self.table)
        if not self.dropping:
            return [Statement(f"ALTER TABLE {table} ALTER COLUMN {quote_ident(self.new.name)} DROP EXPRESSION")]
        out = [Statement(f"ALTER TABLE {table} DROP COLUMN {quote_ident(self.old.name)}")]
        out += AddColumn(self.table, self.new).statements(schema)
        for constraint in self.constraints:
            out += AddConstraint(self.table, constraint).statements(schema)
        for index in self.indexes:
            out += CreateIndex(self.table, index).statements(schema)
        return out

    def reverse(self) -> Op:
        return ReplaceGenerated(self.table, self.new, self.old, self.indexes, self.constraints)

    def describe(self) -> str:
        what = f"{self.table}.{self.new.name}"
        if not self.dropping:
            return f"alter column {what}: no longer generated (DROP EXPRESSION, its values kept)"
        again = [i.name for i in self.indexes] + [c.name for c in self.constraints]
        rebuilt = f"; {', '.join(again)} created again" if again else ""
        if self.old.generated is None:
            return f"replace column {what} by {column_sql(self.new)} (its stored values are lost{rebuilt})"
        return (
            f"replace generated column {what}: drop and add {column_sql(self.new)} "
            f"(nothing is lost: its values are computed anew{rebuilt})"
        )


def generated_change(
    table: str, old: Column, new: Column, indexes: tuple[Index, ...], constraints: tuple[Constraint, ...]
) -> list[Op]:
    """The ops for a column whose generation expression changes (``old.generated != new.generated``);
    ``indexes`` and ``constraints`` are the target's ones that use the column."""
    if new.generated is not None:
        return [ReplaceGenerated(table, old, new, indexes, constraints)]
    middle = replace(old, generated=None)  # DROP EXPRESSION first, then the rest as a plain column
    rest = AlterColumn(table, middle, new)
    return [ReplaceGenerated(table, old, middle)] + ([rest] if rest.statements(None) else [])


def dependents(current: Table, target: Table, column: str) -> tuple[tuple[Index, ...], tuple[Constraint, ...]]:
    """The live indexes and constraints using ``column`` that the diff keeps as they are (dropping
    the column drops them; the diff drops and creates the others itself): the same in both
    directions, so the op reverses into its exact mirror."""
    indexes = tuple(i for i in current.indexes if column in i.uses and target.index(i.name) == i)
    constraints = tuple(
        c for c in current.constraints if column in c.uses and (target.constraint(c.name) == c or unmanaged(c, target))
    )
    return indexes, constraints


def unswapped(ops: list[Op]) -> list[Op]:
    """A live index using a column that a ReplaceGenerated drops cannot be swapped after it (the
    drop took it): it is dropped before, and its new definition created in the swap's place."""
    dropped = {(op.table, op.old.name) for op in ops if isinstance(op, ReplaceGenerated) and op.dropping}
    if not dropped:
        return ops
    gone = [op for op in ops if isinstance(op, ReplaceIndex) and any((op.table, c) in dropped for c in op.old.uses)]
    if not gone:
        return ops
    first = next(i for i, op in enumerate(ops) if isinstance(op, ReplaceGenerated))
    out = ops[:first] + [DropIndex(op.table, op.old) for op in gone] + ops[first:]
    return [CreateIndex(op.table, op.new) if op in gone else op for op in out]
