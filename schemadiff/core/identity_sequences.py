"""The names of identity sequences, and the op renaming one. Pure.

PostgreSQL names the sequence of an identity column ``<table>_<column>_seq`` (``makeObjectName``:
cut to fit 63 bytes) when it creates it, and never renames it afterwards: ``ALTER TABLE … RENAME
TO`` and ``RENAME COLUMN`` leave ``<old>_<column>_seq`` behind, so such a tenant is no longer what
the spec builds fresh. The model keeps a sequence's name only where it is not the derived one
(``Column.identity_sequence``): tenants built fresh read as they always did (their fingerprints
unchanged), and one whose sequence kept an old name reads as different, planned as
:class:`RenameSequence`. A table or column rename says which name its sequences then have
(:func:`moved`), so the plan renames them in the same revision.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from schemadiff.core.model import Column
from schemadiff.core.ops import Op
from schemadiff.core.sqltext import qualify, quote_ident

MAX_NAME_BYTES = 63  # NAMEDATALEN - 1


def object_name(name1: str, name2: str, label: str) -> str:
    """``name1_name2_label`` as PostgreSQL's ``makeObjectName`` makes it: the longer of the two names
    is cut a byte at a time (never within a character) until the whole fits in 63 bytes."""
    first, second = name1.encode("utf-8"), name2.encode("utf-8")
    room = MAX_NAME_BYTES - len(label.encode("utf-8")) - 2
    n1, n2 = len(first), len(second)
    while n1 + n2 > room:
        if n1 > n2:
            n1 -= 1
        else:
            n2 -= 1
    return f"{_clip(first, n1)}_{_clip(second, n2)}_{label}"


def _clip(raw: bytes, size: int) -> str:
    return raw[:size].decode("utf-8", "ignore")


def derived_sequence(table: str, column: str) -> str:
    """The name PostgreSQL gives a new identity column's sequence."""
    return object_name(table, column, "seq")


def sequence_of(table: str, column: Column) -> str:
    """The name the identity ``column`` of ``table`` has as the model reads it."""
    return column.identity_sequence or derived_sequence(table, column.name)


def moved(column: Column, old_table: str, new_table: str, old_name: str | None = None) -> Column:
    """``column`` (called ``old_name`` before, of ``old_table`` before) once its table or itself is
    renamed: its identity sequence keeps the name it had."""
    if not column.identity:
        return column
    kept = column.identity_sequence or derived_sequence(old_table, old_name or column.name)
    return replace(column, identity_sequence=None if kept == derived_sequence(new_table, column.name) else kept)


@dataclass(frozen=True)
class RenameSequence(Op):
    """``ALTER SEQUENCE … RENAME TO``: an identity sequence's name, the column's identity untouched."""

    kind: ClassVar[str] = "rename_sequence"
    table: str
    column: str
    old: str
    new: str

    @property
    def name(self) -> str:
        return self.column

    def sql(self, schema: str | None) -> list[str]:
        return [f"ALTER SEQUENCE {qualify(schema, self.old)} RENAME TO {quote_ident(self.new)}"]

    def reverse(self) -> Op:
        return RenameSequence(self.table, self.column, self.new, self.old)

    def describe(self) -> str:
        return f"rename sequence {self.old} of {self.table}.{self.column} to {self.new}"


def sequence_renames(table: str, live: Column, wanted: Column) -> list[Op]:
    """The rename taking the live identity column's sequence to the name the target has."""
    if not (live.identity and wanted.identity):
        return []  # an identity dropped takes its sequence with it; a new one gets the derived name
    old, new = sequence_of(table, live), sequence_of(table, wanted)
    return [RenameSequence(table, wanted.name, old, new)] if old != new else []
