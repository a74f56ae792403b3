"""A statement and the facts later stages need about it, as data. Pure.

Whether a statement runs before, inside or after a tenant's transaction, which index it builds
or drops concurrently, which constraint it validates: every consumer (runtime, ``--format sql``,
lint, the migra proof) reads these fields; none re-reads them from the SQL text.
"""

from __future__ import annotations

from dataclasses import dataclass

BEFORE = "before"  # outside the tenant's transaction, before it (DROP INDEX CONCURRENTLY)
INSIDE = "inside"  # in the tenant's one transaction, with its ledger row
AFTER = "after"  # outside it, after its commit (CREATE INDEX CONCURRENTLY, VALIDATE CONSTRAINT …)
PHASES = (BEFORE, INSIDE, AFTER)


@dataclass(frozen=True)
class Statement:
    sql: str
    phase: str = INSIDE
    index: str | None = None  # the index a CONCURRENTLY statement builds or drops
    validates: str | None = None  # the constraint a VALIDATE CONSTRAINT statement checks
    not_null: tuple[str, str] | None = None  # (table, column) a SET NOT NULL after the transaction changes
    guard: str | None = None  # a query counting rows that would be lost; non-zero fails the tenant
    # runs in its phase for every tenant, also where a small tenant's online forms run inline
    # (ALTER TYPE … ADD VALUE: the tenant's transaction may use the value only once it is committed)
    always: bool = False

    def __post_init__(self) -> None:
        if self.phase not in PHASES:
            raise ValueError(f"unknown phase {self.phase!r}")


def by_phase(statements: tuple[Statement, ...] | list[Statement]) -> tuple[tuple[Statement, ...], ...]:
    """(before, inside, after), each in statement order."""
    return tuple(tuple(s for s in statements if s.phase == phase) for phase in PHASES)
