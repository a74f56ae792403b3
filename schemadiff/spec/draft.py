"""A spec being written from a live database (``schemadiff inspect``): plain data. Pure.

``spec.from_live`` fills it from the live model, ``render.spec_yaml`` writes it as YAML. Every key
holds what the spec file will say, in the spec's own vocabulary; what the spec cannot say is a
:class:`Note`, written as a YAML comment, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# the order of a column's keys in the written spec (the README's example order)
COLUMN_KEYS = (
    "type",
    "primary_key",
    "nullable",
    "default",
    "default_sql",
    "identity",
    "generated",
    "collation",
    "unique",
    "enum",
    "references",
    "comment",
)
SECTIONS = ("indexes", "checks", "uniques", "foreign_keys", "exclusions")


@dataclass(frozen=True)
class Note:
    """A YAML comment: something of the live table the spec does not hold as it is.

    ``changes`` is True when a plan against the inspected schema will differ there (an object
    left out or written in the nearest form the spec has), False for what schemadiff never
    manages and so leaves as it is (a trigger, a policy)."""

    text: str
    changes: bool = False


@dataclass(frozen=True)
class LiveExtra:
    """Something of a live table outside the model (a trigger, a policy, storage parameters …),
    read from the catalog: ``kind`` and ``name`` say what, ``detail`` how it is defined."""

    table: str
    kind: str
    name: str | None
    detail: str | None


@dataclass
class TableDraft:
    name: str
    comment: str | None = None
    columns: dict[str, dict[str, Any]] = field(default_factory=dict)
    primary_key: list[str] | None = None
    sections: dict[str, dict[str, Any]] = field(default_factory=lambda: {s: {} for s in SECTIONS})
    notes: list[Note] = field(default_factory=list)

    def note(self, text: str, changes: bool = False) -> None:
        self.notes.append(Note(text, changes))


@dataclass
class SpecDraft:
    template: str
    pattern: str
    source: str  # the schema it was read from
    enums: dict[str, list[str]] = field(default_factory=dict)
    tables: list[TableDraft] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)  # about the whole schema (tables left out …)

    @property
    def all_notes(self) -> list[Note]:
        return self.notes + [n for t in self.tables for n in t.notes]
