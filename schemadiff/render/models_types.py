"""A spec column type → its SQLAlchemy type and the Python type of ``Mapped[...]``. Pure.

The SQLAlchemy types are the ones that render the spec's type on PostgreSQL (``sa.String(50)`` is
``VARCHAR(50)``, ``sa.DateTime(timezone=True)`` is ``TIMESTAMP WITH TIME ZONE``); the Python types
are what psycopg 3 returns for them (``inet`` as ``ipaddress`` objects, ranges as SQLAlchemy's
``Range``, ``json``/``jsonb`` as any JSON value).
"""

from __future__ import annotations

from dataclasses import dataclass

from schemadiff.core.sqltext import ColumnType, parse_type
from schemadiff.render.python_source import Node, call, py_str

# base type → (SQLAlchemy type, Python type), for the types that take no modifier
_PLAIN: dict[str, tuple[str, str]] = {
    "smallint": ("sa.SmallInteger", "int"),
    "int2": ("sa.SmallInteger", "int"),
    "integer": ("sa.Integer", "int"),
    "int": ("sa.Integer", "int"),
    "int4": ("sa.Integer", "int"),
    "bigint": ("sa.BigInteger", "int"),
    "int8": ("sa.BigInteger", "int"),
    "real": ("sa.REAL", "float"),
    "float4": ("sa.REAL", "float"),
    "double precision": ("sa.Double", "float"),
    "float8": ("sa.Double", "float"),
    "money": ("postgresql.MONEY", "str"),
    "boolean": ("sa.Boolean", "bool"),
    "bool": ("sa.Boolean", "bool"),
    "text": ("sa.Text", "str"),
    "citext": ("postgresql.CITEXT", "str"),
    "bytea": ("sa.LargeBinary", "bytes"),
    "uuid": ("sa.Uuid", "uuid.UUID"),
    "date": ("sa.Date", "datetime.date"),
    "interval": ("sa.Interval", "datetime.timedelta"),
    "inet": ("postgresql.INET", "ipaddress.IPv4Address | ipaddress.IPv6Address"),
    "cidr": ("postgresql.CIDR", "ipaddress.IPv4Network | ipaddress.IPv6Network"),
    "macaddr": ("postgresql.MACADDR", "str"),
    "tsvector": ("postgresql.TSVECTOR", "str"),
    "int4range": ("postgresql.INT4RANGE", "postgresql.Range[int]"),
    "int8range": ("postgresql.INT8RANGE", "postgresql.Range[int]"),
    "numrange": ("postgresql.NUMRANGE", "postgresql.Range[decimal.Decimal]"),
    "tsrange": ("postgresql.TSRANGE", "postgresql.Range[datetime.datetime]"),
    "tstzrange": ("postgresql.TSTZRANGE", "postgresql.Range[datetime.datetime]"),
    "daterange": ("postgresql.DATERANGE", "postgresql.Range[datetime.date]"),
    "json": ("postgresql.JSON", "Any"),
    "jsonb": ("postgresql.JSONB", "Any"),
}
_STRINGS = {"varchar": "sa.String", "character varying": "sa.String", "char": "sa.CHAR", "character": "sa.CHAR"}
_TIMES = {  # base → (with time zone, Python type)
    "time": (False, "datetime.time"),
    "time without time zone": (False, "datetime.time"),
    "timetz": (True, "datetime.time"),
    "time with time zone": (True, "datetime.time"),
    "timestamp": (False, "datetime.datetime"),
    "timestamp without time zone": (False, "datetime.datetime"),
    "timestamptz": (True, "datetime.datetime"),
    "timestamp with time zone": (True, "datetime.datetime"),
}
# the import line of each module-level name the types use (besides sqlalchemy as sa)
IMPORTS = {
    "datetime": "import datetime",
    "decimal": "import decimal",
    "ipaddress": "import ipaddress",
    "uuid": "import uuid",
    "Any": "from typing import Any",
    "postgresql": "from sqlalchemy.dialects import postgresql",
}


@dataclass(frozen=True)
class MappedType:
    """What one column's type becomes: the SQLAlchemy type and the Python type it holds."""

    sql: Node
    python: str


def mapped_type(type_text: str, collation: str | None = None, enum: str | None = None) -> MappedType:
    """The type of a spec column (``enum``: the module-level name of its spec enum type)."""
    if enum is not None:
        return MappedType(enum, "str")
    ctype = parse_type(type_text)
    sql, python = _scalar(ctype, collation)
    dimensions = type_text.count("[]")
    if not dimensions:
        return MappedType(sql, python)
    extra = {"dimensions": str(dimensions)} if dimensions > 1 else {}
    return MappedType(call("postgresql.ARRAY", sql, **extra), "list[" * dimensions + python + "]" * dimensions)


def _scalar(ctype: ColumnType, collation: str | None) -> tuple[Node, str]:
    base, mods = ctype.base, [str(m) for m in ctype.modifiers]
    collate = py_str(collation) if collation is not None else None
    if base in _STRINGS:
        return call(_STRINGS[base], *mods, collation=collate), "str"
    if base in ("numeric", "decimal"):
        return call("sa.Numeric", *mods), "decimal.Decimal"
    if base in _TIMES:
        return _time(base, mods), _TIMES[base][1]
    func, python = _PLAIN[base]
    return call(func, collation=collate), python


def _time(base: str, mods: list[str]) -> Node:
    timezone = "True" if _TIMES[base][0] else None
    if mods:  # a precision: only PostgreSQL's own types take it
        return call(f"postgresql.{'TIMESTAMP' if 'stamp' in base else 'TIME'}", timezone=timezone, precision=mods[0])
    return call("sa.DateTime" if "stamp" in base else "sa.Time", timezone=timezone)
