"""serial → identity and back: the column's sequence continues after the rows. Pure.

A ``serial``/``bigserial`` column has a default ``nextval('<seq>'::regclass)`` and a sequence
OWNED BY it. Dropping the default and adding an identity leaves two sequences owned by the
column, so ``pg_get_serial_sequence`` may name the old one and the identity's new sequence
starts at 1: the next insert fails with a duplicate key. These ops take the old sequence out of
the way first, move the new one past both the rows and the old sequence's last value, and drop
(or, going back, recreate under its old name) the serial sequence.

Names inside string literals (``'seq'::regclass``) are left unqualified: they resolve under
``search_path = <tenant>``, which the runtime sets for every tenant transaction, so a schema
name never lands inside a literal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from schemadiff.core.ddl_clauses import identity_clause
from schemadiff.core.model import Column
from schemadiff.core.ops import Op
from schemadiff.core.sqltext import qualify, quote_ident, quote_literal

_NEXTVAL = re.compile(r"^nextval\('((?:[^']|'')+)'::regclass\)$")
_PLAIN = re.compile(r"^[a-z_][a-z0-9_$]*$")
_QUOTED = re.compile(r'^"((?:[^"]|"")+)"$')
_SEQUENCE_TYPES = ("smallint", "integer", "bigint")


def serial_sequence(col: Column) -> str | None:
    """The sequence of a serial-style default in the column's own schema, else None.

    ``nextval('other.seq'::regclass)`` (a sequence of another schema, as left by
    ``CREATE TABLE … (LIKE … INCLUDING ALL)``) is not the column's own: None.
    """
    m = _NEXTVAL.match(col.default or "")
    if col.identity or m is None:
        return None
    name = m.group(1).replace("''", "'")
    if _PLAIN.match(name):
        return name
    quoted = _QUOTED.match(name)
    return quoted.group(1).replace('""', '"') if quoted else None


def serial_default(sequence: str) -> str:
    """The default PostgreSQL prints for a serial column using ``sequence`` (schema stripped)."""
    return f"nextval({quote_literal(quote_ident(sequence))}::regclass)"


def temporary_name(name: str, suffix: str) -> str:
    """``name`` + ``suffix`` within PostgreSQL's 63 bytes (the name is cut, never the suffix)."""
    cut = name.encode("utf-8")[: 63 - len(suffix.encode("utf-8"))].decode("utf-8", "ignore")
    return cut + suffix


@dataclass(frozen=True)
class _SequenceOp(Op):
    table: str
    column: Column  # the column as an identity (the target of SerialToIdentity)
    sequence: str  # the serial sequence's name, in the tenant's schema

    @property
    def name(self) -> str:
        return self.column.name

    def _head(self, schema: str | None) -> str:
        return f"ALTER TABLE {qualify(schema, self.table)} ALTER COLUMN {quote_ident(self.column.name)}"

    def _move_past_rows(self, schema: str | None, sequence: str, previous: str) -> str:
        """``setval(sequence)`` to after max(column) and after ``previous``'s last value (SQL expressions)."""
        col = quote_ident(self.column.name)
        return (
            f"SELECT pg_catalog.setval({sequence}, greatest(coalesce(max({col}), 0), "
            f"coalesce(pg_catalog.pg_sequence_last_value({previous}), 0)) + 1, false) "
            f"FROM {qualify(schema, self.table)}"
        )

    def _identity_sequence(self) -> str:
        return (
            f"pg_catalog.pg_get_serial_sequence({quote_literal(quote_ident(self.table))}, "
            f"{quote_literal(self.column.name)})"
        )


@dataclass(frozen=True)
class SerialToIdentity(_SequenceOp):
    kind: ClassVar[str] = "serial_to_identity"

    def sql(self, schema: str | None) -> list[str]:
        old = temporary_name(self.sequence, "_sdold")
        seq = qualify(schema, self.sequence)
        return [
            f"{self._head(schema)} DROP DEFAULT",
            f"ALTER SEQUENCE {seq} OWNED BY NONE",
            f"ALTER SEQUENCE {seq} RENAME TO {quote_ident(old)}",
            f"{self._head(schema)} ADD {identity_clause(self.column)}",
            self._move_past_rows(schema, self._identity_sequence(), f"{quote_literal(quote_ident(old))}::regclass"),
            f"DROP SEQUENCE {qualify(schema, old)}",
        ]

    def reverse(self) -> Op:
        return IdentityToSerial(self.table, self.column, self.sequence)

    def describe(self) -> str:
        return (
            f"convert {self.table}.{self.column.name} from serial (sequence {self.sequence}) to identity, "
            "continuing after the existing rows"
        )


@dataclass(frozen=True)
class IdentityToSerial(_SequenceOp):
    kind: ClassVar[str] = "identity_to_serial"

    def sql(self, schema: str | None) -> list[str]:
        new = temporary_name(self.sequence, "_sdnew")
        as_type = f" AS {self.column.type}" if self.column.type in _SEQUENCE_TYPES else ""
        seq = qualify(schema, self.sequence)
        column = f"{qualify(schema, self.table)}.{quote_ident(self.column.name)}"
        return [
            f"CREATE SEQUENCE {qualify(schema, new)}{as_type}",
            self._move_past_rows(
                schema, f"{quote_literal(quote_ident(new))}::regclass", f"{self._identity_sequence()}::regclass"
            ),
            f"{self._head(schema)} DROP IDENTITY",
            f"ALTER SEQUENCE {qualify(schema, new)} RENAME TO {quote_ident(self.sequence)}",
            f"ALTER SEQUENCE {seq} OWNED BY {column}",
            f"{self._head(schema)} SET DEFAULT {serial_default(self.sequence)}",
        ]

    def reverse(self) -> Op:
        return SerialToIdentity(self.table, self.column, self.sequence)

    def describe(self) -> str:
        return (
            f"convert {self.table}.{self.column.name} from identity back to serial (sequence "
            f"{self.sequence}), continuing after the existing rows"
        )
