"""A spec draft → ``schema.yaml`` text in the README's style. Pure.

One flow mapping per column, index or key (``id: {type: bigint, primary_key: true}``), the values
of a section aligned; an entry too long for one line becomes a block mapping. A scalar is written
plain when YAML reads it back as the same string (so ``on``, ``0``, ``2020-01-01`` or ``=`` are
quoted), else single-quoted, else double-quoted with escapes. Notes are YAML comments above the
table (or atop the file) they are about.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

import yaml

from schemadiff.spec.draft import SECTIONS, Note, SpecDraft, TableDraft

WIDTH = 100
_NON_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_BREAKS = "\n\r\x85\u2028\u2029"  # what YAML takes for a line break (folded inside quotes)


JSON_SCHEMA = "schemadiff.schema.json"  # what `schemadiff spec-schema` prints, as the README names it


def render_spec_yaml(draft: SpecDraft, json_schema: bool = True) -> str:
    """``json_schema``: start with the modeline that points editors at ./schemadiff.schema.json
    (only where that file is beside the spec: a modeline to a missing file is an editor error)."""
    lines = [f"# yaml-language-server: $schema=./{JSON_SCHEMA}"] if json_schema else []
    lines.append(
        f"# Written by `schemadiff inspect` from schema {draft.source}. Comments mark what the spec cannot hold."
    )
    lines += comment_lines(draft.notes, "")
    lines += ["version: 1", "tenants:", f"  template: {scalar(draft.template)}", f"  pattern: {quoted(draft.pattern)}"]
    if draft.enums:
        lines.append("enums:")
        lines += _aligned("  ", list(draft.enums.items()))
    lines.append("tables:")
    for table in draft.tables:
        lines += table_lines(table)
    return "\n".join(lines) + "\n"


def table_lines(table: TableDraft) -> list[str]:
    lines = [f"  {key(table.name)}:"]
    lines += comment_lines(table.notes, "    ")
    if table.comment is not None:
        lines.append(f"    comment: {scalar(table.comment)}")
    lines.append("    columns:")
    lines += _aligned("      ", list(table.columns.items()))
    if table.primary_key is not None:
        lines.append(f"    primary_key: {flow(table.primary_key)}")
    for section in SECTIONS:
        entries = table.sections.get(section) or {}
        if entries:
            lines.append(f"    {section}:")
            lines += _aligned("      ", list(entries.items()))
    return lines


def _aligned(indent: str, entries: list[tuple[str, Any]]) -> list[str]:
    """``name: value`` lines with the values of one-line entries in one column; an entry whose
    line would pass WIDTH is a block mapping (its keys one per line) when it is a mapping."""
    width = max((len(key(name)) for name, _value in entries), default=0) + 1
    lines = []
    for name, value in entries:
        line = f"{indent}{(key(name) + ':').ljust(width)} {flow(value)}"
        if len(line) > WIDTH and isinstance(value, dict) and value:
            lines.append(f"{indent}{key(name)}:")
            lines += [f"{indent}  {key(k)}: {flow(v)}" for k, v in value.items()]
        else:
            lines.append(line)
    return lines


def flow(value: Any) -> str:
    """``value`` in YAML flow style: ``{a: 1, b: [x, y]}``."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key(k)}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    return scalar(value)


def scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    return text if _plain(text) else quoted(text)


def key(name: str) -> str:
    return name if _plain(name) else quoted(name)


def _plain(text: str) -> bool:
    """Whether YAML reads ``text`` written plain back as the same string, in a flow mapping and
    in a block one (as a key and as a value)."""
    if (
        not text
        or text != text.strip()
        or _NON_PRINTABLE.search(text)
        or any(c in _BREAKS for c in text)
        or "#" in text
    ):
        return False
    try:
        return (
            yaml.safe_load(f"k: {{v: {text}}}") == {"k": {"v": text}}
            and yaml.safe_load(f"{text}: v") == {text: "v"}
            and yaml.safe_load(f"k: {text}") == {"k": text}
        )
    except yaml.YAMLError:
        return False


def quoted(text: str) -> str:
    """``'text'`` when it holds no quote and only printable characters, else ``"text"`` escaped."""
    if "'" not in text and not any(c in _BREAKS for c in text) and not _NON_PRINTABLE.search(text):
        return f"'{text}'"
    return '"' + "".join(_escape(c) for c in text) + '"'


def _escape(char: str) -> str:
    if char in '"\\':
        return "\\" + char
    if char == "\n":
        return "\\n"
    if char == "\t":
        return "\\t"
    if _NON_PRINTABLE.match(char) or char in _BREAKS:
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
    return char


def comment_lines(notes: list[Note], indent: str) -> list[str]:
    """Each note as ``# …`` lines within WIDTH, any character YAML would refuse escaped."""
    lines = []
    for note in notes:
        text = "".join(_escape(c) if c in _BREAKS or c == "\t" or _NON_PRINTABLE.match(c) else c for c in note.text)
        lines += textwrap.wrap(
            text,
            width=WIDTH,
            initial_indent=f"{indent}# ",
            subsequent_indent=f"{indent}#   ",
            break_long_words=False,
            break_on_hyphens=False,
        )
    return lines
