"""Type conversions the spec spells out (``using:`` and ``down_using:`` on a column). Pure.

``ALTER COLUMN … TYPE`` without a USING clause needs a cast PostgreSQL applies implicitly (or by
assignment): ``varchar`` → ``integer`` has none, so the spec must say how (``using:
"status::integer"``), and the downgrade how back (``down_using``) where the reverse has none either.
Which casts PostgreSQL has is read from its catalog at plan time (``pg.casts``); here are the type
changes a plan makes, and the spec fragment each direction runs with.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from schemadiff.core.alter_column import AlterColumn
from schemadiff.core.ops import Op


@dataclass(frozen=True)
class Conversion:
    using: str | None = None  # the spec's expression computing the new value (one expression, pglast-checked)
    down_using: str | None = None  # the same for the downgrade


Conversions = Mapping[str, Mapping[str, Conversion]]  # table -> column -> conversion


@dataclass(frozen=True)
class CastNeed:
    """A type change one direction of a plan makes without a spec expression: it needs an implicit cast."""

    table: str
    column: str
    source: str
    target: str
    downgrade: bool

    @property
    def key(self) -> str:
        return "down_using" if self.downgrade else "using"


def casts_needed(ops: Iterable[Op]) -> list[CastNeed]:
    """The type changes of ``ops`` (an upgrade) and of their reverse that no spec expression covers."""
    out: list[CastNeed] = []
    for op in ops:
        if not isinstance(op, AlterColumn) or op.old.type == op.new.type or op.converts_itself:
            continue
        if op.using is None:
            out.append(CastNeed(op.table, op.new.name, op.old.type, op.new.type, False))
        if op.down_using is None:
            out.append(CastNeed(op.table, op.new.name, op.new.type, op.old.type, True))
    return out


def converted(op: AlterColumn, conversion: Conversion | None) -> AlterColumn:
    """``op`` with the spec's expressions, when its type changes."""
    if conversion is None or op.old.type == op.new.type:
        return op
    return AlterColumn(op.table, op.old, op.new, op.online, conversion.using, conversion.down_using)
