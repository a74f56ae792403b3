"""SQL text helpers: identifier quoting, literals and the column types the spec accepts. Pure."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from pglast.keywords import (
    COL_NAME_KEYWORDS,
    RESERVED_KEYWORDS,
    TYPE_FUNC_NAME_KEYWORDS,
)

from schemadiff.text import did_you_mean

_PLAIN_IDENT = re.compile(r"[a-z_][a-z0-9_$]*")
# PostgreSQL's own keyword list: every keyword but the unreserved ones needs quotes somewhere.
_QUOTED_KEYWORDS = frozenset(RESERVED_KEYWORDS | TYPE_FUNC_NAME_KEYWORDS | COL_NAME_KEYWORDS)

# base type name -> (category, how many modifiers it takes at most)
_TYPES: dict[str, tuple[str, int]] = {
    "smallint": ("int", 0),
    "integer": ("int", 0),
    "bigint": ("int", 0),
    "int": ("int", 0),
    "int2": ("int", 0),
    "int4": ("int", 0),
    "int8": ("int", 0),
    "numeric": ("number", 2),
    "decimal": ("number", 2),
    "real": ("number", 0),
    "double precision": ("number", 0),
    "float4": ("number", 0),
    "float8": ("number", 0),
    "boolean": ("bool", 0),
    "bool": ("bool", 0),
    "text": ("text", 0),
    "varchar": ("text", 1),
    "character varying": ("text", 1),
    "char": ("text", 1),
    "character": ("text", 1),
    "citext": ("text", 0),
    "bytea": ("string", 0),
    "uuid": ("string", 0),
    "date": ("string", 0),
    "time": ("string", 1),
    "timetz": ("string", 1),
    "timestamp": ("string", 1),
    "timestamptz": ("string", 1),
    "timestamp with time zone": ("string", 1),
    "timestamp without time zone": ("string", 1),
    "time with time zone": ("string", 1),
    "time without time zone": ("string", 1),
    "interval": ("string", 0),
    "inet": ("string", 0),
    "cidr": ("string", 0),
    "macaddr": ("string", 0),
    "tsvector": ("string", 0),
    "int4range": ("string", 0),  # the built-in range types: a literal default is a quoted '[a,b)'
    "int8range": ("string", 0),
    "numrange": ("string", 0),
    "tsrange": ("string", 0),
    "tstzrange": ("string", 0),
    "daterange": ("string", 0),
    "money": ("number", 0),
    "json": ("json", 0),
    "jsonb": ("json", 0),
}
_TYPE_RE = re.compile(r"^([a-z][a-z0-9 ]*?)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?((?:\[\])*)$")


def quote_ident(name: str) -> str:
    """Quote like PostgreSQL's quote_ident: unless the name is a plain lower-case identifier that is
    not a keyword, or only an unreserved one (``concurrently``, ``order``, ``user`` get quotes)."""
    if _PLAIN_IDENT.fullmatch(name) and name not in _QUOTED_KEYWORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


def qualify(schema: str | None, name: str) -> str:
    """``schema.name``, or just ``name`` when ``schema`` is None (resolved by the search_path)."""
    return quote_ident(name) if schema is None else f"{quote_ident(schema)}.{quote_ident(name)}"


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class ColumnType:
    """A parsed spec type such as ``varchar(50)`` or ``integer[]``."""

    base: str
    category: str
    modifiers: tuple[int, ...]
    array: bool

    @property
    def sql(self) -> str:
        mods = f"({', '.join(map(str, self.modifiers))})" if self.modifiers else ""
        return f"{self.base}{mods}{'[]' if self.array else ''}"


def parse_type(text: str) -> ColumnType:
    """Parse a spec type; ValueError names the closest known type when it is unknown."""
    norm = " ".join(text.strip().lower().split())
    match = _TYPE_RE.match(norm)
    base = match.group(1) if match else norm
    if not match or base not in _TYPES:
        hint = did_you_mean(base, _TYPES)
        raise ValueError(f"unknown column type '{text}'{hint}")
    category, max_mods = _TYPES[base]
    mods = tuple(int(g) for g in match.groups()[1:3] if g is not None)
    if len(mods) > max_mods:
        raise ValueError(f"type '{base}' takes at most {max_mods} modifier(s), got '{text}'")
    return ColumnType(base, category, mods, bool(match.group(4)))


def render_default(value: Any, ctype: ColumnType) -> str:
    """A spec ``default`` as an SQL literal of the column's type; ValueError when it does not fit."""
    if ctype.array:
        raise ValueError("a literal default on an array column is not supported; use default_sql")
    check = _DEFAULT_CHECKS[ctype.category]
    return check(value, ctype)


def _int_default(value: Any, ctype: ColumnType) -> str:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"default {value!r} is not an integer for type {ctype.sql}")
    bits = _INT_BITS[ctype.base]
    if not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):  # PostgreSQL would only fail at the first insert
        raise ValueError(f"default {value} is out of range for type {ctype.sql}")
    return str(value)


_INT_BITS = {"smallint": 16, "int2": 16, "integer": 32, "int": 32, "int4": 32, "bigint": 64, "int8": 64}


def _number_default(value: Any, ctype: ColumnType) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"default {value!r} is not a number for type {ctype.sql}")
    if isinstance(value, float) and not math.isfinite(value):  # bare inf / nan would be column references
        return quote_literal("NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity")
    return repr(value)


def _bool_default(value: Any, ctype: ColumnType) -> str:
    if not isinstance(value, bool):
        raise ValueError(f"default {value!r} is not true or false for type {ctype.sql}")
    return "true" if value else "false"


def _text_default(value: Any, ctype: ColumnType) -> str:
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise ValueError(f"default {value!r} is not text for type {ctype.sql}")
    text = str(value)
    if ctype.modifiers and len(text) > ctype.modifiers[0]:
        raise ValueError(f"default {text!r} is longer than {ctype.sql} allows")
    return quote_literal(text)


def _string_default(value: Any, ctype: ColumnType) -> str:
    if not isinstance(value, str):
        raise ValueError(f"default {value!r} must be a quoted string for type {ctype.sql}")
    return quote_literal(value)


def _json_default(value: Any, ctype: ColumnType) -> str:
    return f"{quote_literal(json.dumps(value, sort_keys=True))}::{ctype.base}"


_DEFAULT_CHECKS = {
    "int": _int_default,
    "number": _number_default,
    "bool": _bool_default,
    "text": _text_default,
    "string": _string_default,
    "json": _json_default,
}


def identifier_problem(name: str) -> str | None:
    """Why a name cannot be a PostgreSQL identifier as written, or None."""
    if not name:
        return "identifier must not be empty"
    if "\x00" in name:
        return "identifier must not contain a NUL byte"
    if len(name.encode("utf-8")) > 63:
        return f"identifier '{name[:20]}…' is {len(name.encode('utf-8'))} bytes; PostgreSQL allows 63"
    return None
