"""Column collations: a changed collation rebuilds the indexes using the column. Pure.

``ALTER COLUMN … TYPE t COLLATE c`` keeps the values (no rewrite of the table) but PostgreSQL
rebuilds every index using the column, under the ACCESS EXCLUSIVE lock of the ALTER: the
AlterColumn names them (``rebuilds``) so its hazards and its description say so.
"""

from __future__ import annotations

from dataclasses import replace

from schemadiff.core.alter_column import AlterColumn
from schemadiff.core.model import Table
from schemadiff.core.ops import Op


def with_rebuilds(ops: list[Op], current: Table) -> list[Op]:
    """Each AlterColumn of ``current``'s table changing a collation, with the live indexes (those of
    its constraints included) that use the column."""
    return [_rebuilding(op, current) if isinstance(op, AlterColumn) else op for op in ops]


def _rebuilding(op: AlterColumn, current: Table) -> AlterColumn:
    if op.old.collation == op.new.collation:
        return op
    column = op.old.name
    names = [i.name for i in current.indexes if column in i.uses]
    names += [c.name for c in current.constraints if c.kind in ("p", "u", "x") and column in c.uses]
    return replace(op, rebuilds=tuple(sorted(names)))
