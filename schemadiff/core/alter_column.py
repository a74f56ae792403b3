"""``AlterColumn``: one column's type, collation, default, nullability and identity changed in
place, with the guards and the online steps that keep it from losing rows or blocking writes. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from schemadiff.core.ddl_clauses import (
    collate,
    identity_clause,
    not_null_check_name,
    round_trips,
)
from schemadiff.core.hazards import (
    ACCESS_EXCLUSIVE,
    BLOCKS_WRITES,
    DELETES_DATA,
    FAILS_ON_EXISTING_ROWS,
    IRREVERSIBLE,
    REWRITES_TABLE,
    SCANS_TABLE,
    is_widening,
    type_change,
)
from schemadiff.core.model import Column
from schemadiff.core.ops import Op
from schemadiff.core.sqltext import qualify, quote_ident, quote_literal
from schemadiff.core.statements import AFTER, Statement

_IDENTITY_KINDS = {"": "drop identity", "d": "identity by default", "a": "identity always"}


@dataclass(frozen=True)
class AlterColumn(Op):
    kind: ClassVar[str] = "alter_column"
    # whether the op writes its own USING for a type change (an enum conversion goes through text)
    converts_itself: ClassVar[bool] = False
    table: str
    old: Column
    new: Column
    online: bool = False  # SET NOT NULL through CHECK … NOT VALID, VALIDATE, SET NOT NULL, drop the check
    using: str | None = None  # the spec's USING expression for a type change (core/conversions.py)
    down_using: str | None = None  # the spec's USING expression for the reverse type change
    rebuilds: tuple[str, ...] = ()  # the live indexes a collation change rebuilds (core/collations.py)

    @property
    def name(self) -> str:
        return self.new.name

    @property
    def hazards(self) -> tuple[str, ...]:
        out: list[str] = []
        rule = type_change(self.old.type, self.new.type)  # one table of type changes: hazards.TYPE_CHANGES
        if rule is not None and rule.loses_data and round_trips(self.old.type, self.new.type):
            out += [FAILS_ON_EXISTING_ROWS]  # guarded: a value that does not fit fails the tenant, never lost
        elif rule is not None and rule.loses_data:
            out += [DELETES_DATA, IRREVERSIBLE]
        if rule is not None and rule.rewrites:
            out += [REWRITES_TABLE, ACCESS_EXCLUSIVE]
        if rule is not None and self.using is not None:  # computed anew for every row, and may fail on one
            out += [REWRITES_TABLE, ACCESS_EXCLUSIVE, FAILS_ON_EXISTING_ROWS]
        if self.old.collation != self.new.collation:  # ALTER TYPE: the indexes using it are rebuilt
            out += [ACCESS_EXCLUSIVE, BLOCKS_WRITES] if self.rebuilds else [ACCESS_EXCLUSIVE]
        if self.old.nullable and not self.new.nullable:
            out += [FAILS_ON_EXISTING_ROWS] if self.online else [SCANS_TABLE, ACCESS_EXCLUSIVE, FAILS_ON_EXISTING_ROWS]
        return tuple(sorted(set(out)))

    def statements(self, schema: str | None) -> list[Statement]:
        head = f"ALTER TABLE {qualify(schema, self.table)} ALTER COLUMN {quote_ident(self.new.name)}"
        old, new = self.old, self.new
        out: list[Statement] = []
        if old.identity and new.identity and old.identity != new.identity:  # the sequence stays as it is
            out.append(Statement(f"{head} SET GENERATED {'ALWAYS' if new.identity == 'a' else 'BY DEFAULT'}"))
        elif old.identity and old.identity != new.identity:
            out.append(Statement(f"{head} DROP IDENTITY"))
        if old.identity and new.identity:
            out += _identity_options(head, old, new)
        if old.default is not None and old.default != new.default:
            out.append(Statement(f"{head} DROP DEFAULT"))
        if old.type != new.type:
            if self.using is None and not is_widening(old.type, new.type) and round_trips(old.type, new.type):
                out.append(self._fits_guard(schema))
            using = self.using if self.using is not None else f"{quote_ident(new.name)}::{new.type}"
            out.append(Statement(f"{head} TYPE {new.type}{collate(new)} USING {using}"))
        elif old.collation != new.collation:  # no USING: the values stay as they are, no rewrite
            out.append(Statement(f"{head} TYPE {new.type} COLLATE {quote_ident(new.collation or 'default')}"))
        if new.default is not None and old.default != new.default:
            out.append(Statement(f"{head} SET DEFAULT {new.default}"))
        if old.nullable != new.nullable and self.online and not new.nullable:
            out += self._online_not_null(schema, head)
        elif old.nullable != new.nullable:
            out.append(Statement(f"{head} {'DROP' if new.nullable else 'SET'} NOT NULL"))
        if new.identity and not old.identity:
            out += [Statement(s) for s in self._add_identity(schema, head)]
        return out

    def _fits_guard(self, schema: str | None) -> Statement:
        """Counts the values a narrowing cast would change (a varchar cut short, a numeric rounded):
        the tenant fails with that count instead of losing them. A value the cast rejects
        (an integer out of range) fails the tenant with PostgreSQL's own error."""
        column = quote_ident(self.new.name)
        sql = (
            f"SELECT count(*) FROM {qualify(schema, self.table)} "
            f"WHERE {column}::text IS DISTINCT FROM (({column}::{self.new.type})::{self.old.type})::text"
        )
        return Statement(sql, guard=f"row(s) of {self.table}.{self.new.name} do not fit {self.new.type}")

    def _online_not_null(self, schema: str | None, head: str) -> list[Statement]:
        """PostgreSQL 12+ skips the SET NOT NULL scan when a validated CHECK proves it."""
        name = not_null_check_name(self.table, self.new.name)
        table, check = qualify(schema, self.table), quote_ident(name)
        return [
            Statement(
                f"ALTER TABLE {table} ADD CONSTRAINT {check} CHECK ({quote_ident(self.new.name)} IS NOT NULL) NOT VALID"
            ),
            Statement(f"ALTER TABLE {table} VALIDATE CONSTRAINT {check}", AFTER, validates=name),
            Statement(f"{head} SET NOT NULL", AFTER, not_null=(self.table, self.new.name)),
            Statement(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {check}", AFTER),
        ]

    def _add_identity(self, schema: str | None, head: str) -> list[str]:
        table, column = qualify(schema, self.table), quote_ident(self.new.name)
        start = self.new.identity_options[0]
        after = (
            f"coalesce(max({column}), 0) + 1" if start == 1 else f"greatest(coalesce(max({column}), 0) + 1, {start})"
        )
        # a new identity sequence starts at its start: move it past the rows that already exist
        return [
            f"{head} ADD {identity_clause(self.new)}",
            f"SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence("
            f"{quote_literal(table)}, {quote_literal(self.new.name)}), {after}, false) FROM {table}",
        ]

    def reverse(self) -> Op:
        return AlterColumn(self.table, self.new, self.old, self.online, self.down_using, self.using, self.rebuilds)

    def describe(self) -> str:
        changes = []
        if self.old.type != self.new.type:
            changes.append(f"type {self.old.type} → {self.new.type}" + (f" using {self.using}" if self.using else ""))
        if self.old.nullable != self.new.nullable:
            changes.append("nullable" if self.new.nullable else "NOT NULL")
        if self.old.default != self.new.default:
            changes.append(f"default {self.old.default or 'none'} → {self.new.default or 'none'}")
        if self.old.identity != self.new.identity:
            changes.append(_IDENTITY_KINDS[self.new.identity])
        if self.old.collation != self.new.collation:
            again = f", rebuilding {', '.join(self.rebuilds)}" if self.rebuilds else ""
            changes.append(f"collation {self.old.collation or 'default'} → {self.new.collation or 'default'}{again}")
        if self.old.identity and self.new.identity and self.old.identity_options != self.new.identity_options:
            start, increment = self.new.identity_options
            changes.append(f"identity start {start} increment {increment}")
        return f"alter column {self.table}.{self.new.name}: {', '.join(changes)}"


def _identity_options(head: str, old: Column, new: Column) -> list[Statement]:
    """``SET START WITH`` / ``SET INCREMENT BY`` where they differ: the sequence's recorded start
    (what ``RESTART`` goes back to) and its step; the next value it hands out stays as it is."""
    (old_start, old_step), (start, step) = old.identity_options, new.identity_options
    out = [Statement(f"{head} SET START WITH {start}")] if start != old_start else []
    return out + ([Statement(f"{head} SET INCREMENT BY {step}")] if step != old_step else [])
