"""A live table → the spec a person would write for it (``schemadiff inspect``). Pure.

The inverse of ``spec.to_model``: each column, key, index, check and comment of the live model
(read by the one catalog pass) becomes the spec's key for it, in the spec's shortest form (a
``varchar(20)`` type, a literal ``default: pending``, ``primary_key: true`` on the column, an
``enum:`` list for a ``ck_<table>_<column>`` CHECK written as the spec writes one), so that the
spec normalizes back to the very same model and a plan against the inspected schema is empty.
What the spec cannot hold is a :class:`~schemadiff.spec.draft.Note`: a YAML comment saying what
it is and whether a plan will differ there. Constraints and indexes: ``spec.live_keys``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from schemadiff.core.model import Column, Table
from schemadiff.core.serial_ops import serial_sequence
from schemadiff.core.sqltext import parse_type, quote_ident
from schemadiff.spec.draft import COLUMN_KEYS, LiveExtra, Note, TableDraft
from schemadiff.spec.fragments import check_expression, check_type_name
from schemadiff.spec.live_keys import LiveContext, add_constraints, add_indexes
from schemadiff.spec.printed_sql import unwrap

# format_type's spelling → the spec's shorter one (the README's ``varchar(20)``, ``timestamptz``)
_SPELLINGS = (
    (re.compile(r"character varying(\(\d+\))?"), r"varchar\1"),
    (re.compile(r"character(\(\d+\))?"), r"char\1"),
    (re.compile(r"timestamp(\(\d+\))? with time zone"), r"timestamptz\1"),
    (re.compile(r"timestamp(\(\d+\))? without time zone"), r"timestamp\1"),
    (re.compile(r"time(\(\d+\))? with time zone"), r"timetz\1"),
    (re.compile(r"time(\(\d+\))? without time zone"), r"time\1"),
)
_INTEGER = re.compile(r"(-?\d+)|'(-?\d+)'::(?:smallint|integer|bigint)")
_DECIMAL = re.compile(r"-?\d+\.\d+")
_STRING = re.compile(r"'((?:[^']|'')*)'::(.+)")
_TYPMOD = re.compile(r"\(\d+(?:,\d+)?\)")


def spec_type(live: str, enums: Iterable[str] = ()) -> str | None:
    """The spec's ``type`` for a type as ``format_type`` prints it (schema stripped), or None when
    the spec has no such type (a domain, a type of another schema, ``interval day`` …)."""
    base, arrays = live, ""
    while base.endswith("[]"):
        base, arrays = base[:-2], arrays + "[]"
    named = {quote_ident(e): e for e in enums}
    if base in named:
        return named[base] if not arrays else None  # an array of a spec enum type is no spec type
    for pattern, spelling in _SPELLINGS:
        if pattern.fullmatch(base):
            base = pattern.sub(spelling, base)
            break
    text = base + arrays
    try:
        check_type_name(text)
        parse_type(text)
    except ValueError:
        return None
    return text


def default_keys(live_default: str, type_: str, live_type: str, enum: bool = False) -> dict[str, Any]:
    """``{"default": value}`` where the spec's literal renders to the same default, else
    ``{"default_sql": text}`` (PostgreSQL's own text, which normalizes to itself); {} when the
    text is no spec fragment (then a note says so)."""
    literal = _literal(live_default, type_, live_type, enum)
    if literal is not _NONE:
        return {"default": literal}
    try:
        check_expression(live_default)
    except ValueError:
        return {}
    return {"default_sql": live_default}


_NONE = object()


def _literal(text: str, type_: str, live_type: str, enum: bool) -> Any:
    string = _STRING.fullmatch(text)
    cast_ok = string is not None and string.group(2) == _cast_name(live_type)
    if enum:
        return string.group(1).replace("''", "'") if string and cast_ok else _NONE
    ctype = parse_type(type_)
    if ctype.array:
        return _NONE
    if ctype.category in ("int", "number") and (m := _INTEGER.fullmatch(text)):
        return int(m.group(1) or m.group(2))
    if ctype.category == "number" and _DECIMAL.fullmatch(text) and repr(float(text)) == text:
        return float(text)
    if ctype.category == "bool" and text in ("true", "false"):
        return text == "true"
    if ctype.category in ("text", "string") and string and cast_ok:
        return string.group(1).replace("''", "'")
    if ctype.category == "json" and string and string.group(1) in ("{}", "[]"):
        return json.loads(string.group(1))
    return _NONE


def _cast_name(live_type: str) -> str:
    """How PostgreSQL names a column's type in the cast of a literal default: no modifiers."""
    base = _TYPMOD.sub("", live_type)
    return "bpchar" if base == "character" else base


@dataclass
class TableInput:
    """One live table and what the catalog says of it beyond the model."""

    table: Table
    extras: tuple[LiveExtra, ...] = ()


def draft_table(live: TableInput, ctx: LiveContext) -> TableDraft:
    """The spec of one live table: columns, keys, checks, indexes, comments, and notes."""
    table = live.table
    draft = TableDraft(table.name, comment=table.comment)
    for col in table.columns:
        keys = column_keys(col, ctx, draft)
        if keys is not None:
            draft.columns[col.name] = keys
    add_constraints(draft, table, ctx)
    add_indexes(draft, table)
    draft.sections = {s: dict(sorted(entries.items())) for s, entries in draft.sections.items()}
    pk = set(draft.primary_key or [c for c, keys in draft.columns.items() if keys.get("primary_key")])
    for name, keys in draft.columns.items():
        if name in pk:
            keys.pop("nullable", None)  # a primary key's columns are NOT NULL anyway
        draft.columns[name] = {k: keys[k] for k in COLUMN_KEYS if k in keys}
    draft.notes += [extra_note(e) for e in live.extras]
    return draft


def column_keys(col: Column, ctx: LiveContext, draft: TableDraft) -> dict[str, Any] | None:
    """A column's spec keys (constraints come later), or None with a note when the spec has no
    type for it."""
    type_ = spec_type(col.type, ctx.enums)
    if type_ is None:
        draft.note(f"column {col.name} ({col.type}) left out: the spec has no such type; the plan would drop it", True)
        return None
    keys: dict[str, Any] = {"type": type_}
    if not col.nullable:
        keys["nullable"] = False
    sequence = serial_sequence(col)
    if sequence is not None:
        keys["identity"] = True
        draft.note(
            f"column {col.name} is serial (sequence {sequence}): the spec has no serial, so it is written "
            "as identity: true and the plan converts it to an identity continuing after its rows",
            True,
        )
    elif col.default is not None:
        found = default_keys(col.default, type_, col.type, type_ in ctx.enums)
        if not found:
            draft.note(f"column {col.name}: default {col.default} is no spec expression; left out", True)
        keys.update(found)
    keys.update(_identity(col))
    if col.generated is not None:
        keys["generated"] = unwrap(col.generated)
    if col.collation is not None:
        keys["collation"] = col.collation
    if col.comment is not None:
        keys["comment"] = col.comment
    return keys


def _identity(col: Column) -> dict[str, Any]:
    if not col.identity:
        return {}
    kind = "always" if col.identity == "a" else "by_default"
    if col.identity_start is None and col.identity_increment is None:
        return {"identity": "always" if kind == "always" else True}
    options: dict[str, Any] = {"kind": kind}
    if col.identity_start is not None:
        options["start"] = col.identity_start
    if col.identity_increment is not None:
        options["increment"] = col.identity_increment
    return {"identity": options}


_LEFT_ALONE = "not managed by schemadiff, left as it is"


def extra_note(extra: LiveExtra) -> Note:
    """A note for something of the table outside the model; only a virtual generated column
    changes anything (the spec's are STORED, so a table created from it differs)."""
    name = f" {extra.name}" if extra.name else ""
    detail = f": {extra.detail}" if extra.detail else ""
    if extra.kind == "virtual generated column":
        return Note(
            f"column{name} is a VIRTUAL generated column; the spec writes STORED ones, so a table created "
            "from this spec stores it (a plan does not tell them apart)"
        )
    return Note(f"{extra.kind}{name} ({_LEFT_ALONE}){detail}")
