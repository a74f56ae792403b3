"""Constraint ops: add (plainly, or NOT VALID with its VALIDATE after the commit), drop, validate a
live NOT VALID constraint, and that op's reverse. Pure; ``ops`` states what every op provides."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from schemadiff.core.ddl_clauses import add_constraint_sql
from schemadiff.core.foreign_keys import offending_rows_guard
from schemadiff.core.hazards import (
    ACCESS_EXCLUSIVE,
    BLOCKS_WRITES,
    DROPS_CONSTRAINT,
    DROPS_INDEX,
    FAILS_ON_EXISTING_ROWS,
    SCANS_TABLE,
)
from schemadiff.core.model import Constraint
from schemadiff.core.ops import Op
from schemadiff.core.sqltext import qualify, quote_ident
from schemadiff.core.statements import AFTER, Statement


@dataclass(frozen=True)
class _ConstraintOp(Op):
    table: str
    constraint: Constraint
    online: bool = False  # added NOT VALID, validated in a transaction of its own

    @property
    def name(self) -> str:
        return self.constraint.name


@dataclass(frozen=True)
class AddConstraint(_ConstraintOp):
    kind: ClassVar[str] = "add_constraint"

    @property
    def hazards(self) -> tuple[str, ...]:
        if self.online:  # the scan holds only SHARE UPDATE EXCLUSIVE: reads and writes go on
            return (FAILS_ON_EXISTING_ROWS,)
        if self.constraint.kind in ("p", "u"):  # builds a unique index under ACCESS EXCLUSIVE
            return (ACCESS_EXCLUSIVE, BLOCKS_WRITES, FAILS_ON_EXISTING_ROWS)
        if self.constraint.kind == "f":  # SHARE ROW EXCLUSIVE on both tables while it scans
            return (BLOCKS_WRITES, FAILS_ON_EXISTING_ROWS, SCANS_TABLE)
        return (ACCESS_EXCLUSIVE, FAILS_ON_EXISTING_ROWS, SCANS_TABLE)

    def statements(self, schema: str | None) -> list[Statement]:
        head = f"ALTER TABLE {qualify(schema, self.table)}"
        add = add_constraint_sql(schema, self.table, self.constraint)
        guard = offending_rows_guard(schema, self.table, self.constraint) if self.constraint.valid else None
        first = [guard] if guard is not None else []  # a foreign key: its offending rows, counted
        if not self.online:
            return [*first, Statement(add)]
        return [
            *first,
            Statement(f"{add} NOT VALID"),
            Statement(
                f"{head} VALIDATE CONSTRAINT {quote_ident(self.constraint.name)}", AFTER, validates=self.constraint.name
            ),
        ]

    def reverse(self) -> Op:
        return DropConstraint(self.table, self.constraint, self.online)

    def describe(self) -> str:
        kind = {"p": "primary key", "u": "unique", "c": "check", "f": "foreign key", "x": "exclusion"}
        how = " (NOT VALID, then VALIDATE)" if self.online else ""
        return f"add {kind.get(self.constraint.kind, '')} constraint {self.constraint.name} on {self.table}{how}"


@dataclass(frozen=True)
class DropConstraint(_ConstraintOp):
    kind: ClassVar[str] = "drop_constraint"

    @property
    def hazards(self) -> tuple[str, ...]:
        """No longer enforced; a key or exclusion takes its index with it."""
        indexed = self.constraint.kind in ("p", "u", "x")
        return (DROPS_CONSTRAINT, DROPS_INDEX) if indexed else (DROPS_CONSTRAINT,)

    def sql(self, schema: str | None) -> list[str]:
        return [f"ALTER TABLE {qualify(schema, self.table)} DROP CONSTRAINT {quote_ident(self.constraint.name)}"]

    def reverse(self) -> Op:
        return AddConstraint(self.table, self.constraint, self.online)

    def describe(self) -> str:
        return f"drop constraint {self.constraint.name} on {self.table}"


@dataclass(frozen=True)
class ValidateConstraint(_ConstraintOp):
    """Validate a live NOT VALID constraint the spec wants valid (``constraint`` is the live one).

    Runs after the tenant's transaction: the scan holds SHARE UPDATE EXCLUSIVE, so reads and
    writes go on. PostgreSQL cannot un-validate; the reverse drops the constraint and adds it
    back ``NOT VALID`` (no scan), which restores the start exactly, fingerprint included.
    """

    kind: ClassVar[str] = "validate_constraint"

    @property
    def hazards(self) -> tuple[str, ...]:
        return (FAILS_ON_EXISTING_ROWS,)

    def sql(self, schema: str | None) -> list[str]:
        return [f"ALTER TABLE {qualify(schema, self.table)} VALIDATE CONSTRAINT {quote_ident(self.constraint.name)}"]

    def reverse(self) -> Op:
        return InvalidateConstraint(self.table, self.constraint)

    def describe(self) -> str:
        return f"validate constraint {self.constraint.name} on {self.table} (NOT VALID live)"


@dataclass(frozen=True)
class InvalidateConstraint(_ConstraintOp):
    """The downgrade of :class:`ValidateConstraint`: drop, then add back ``NOT VALID``."""

    kind: ClassVar[str] = "invalidate_constraint"

    def sql(self, schema: str | None) -> list[str]:
        return DropConstraint(self.table, self.constraint).sql(schema) + AddConstraint(self.table, self.constraint).sql(
            schema
        )

    def reverse(self) -> Op:
        return ValidateConstraint(self.table, self.constraint)

    def describe(self) -> str:
        return f"drop constraint {self.constraint.name} on {self.table} and add it back NOT VALID"
