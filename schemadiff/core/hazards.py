"""Hazard names and the rules that attach them to ops. Pure.

Hazards are data on ops (``op.hazards``), never a regex over SQL. Two kinds of policy apply:
``deletes_data`` is refused wherever it occurs unless allowed by name (every op that deletes
data is also ``irreversible``, which is reported with it);
the lock and scan hazards (``rewrites_table``, ``blocks_writes``, ``access_exclusive``,
``scans_table``) are refused only where they bite — on a tenant whose table holds at least
``policy.large_table_rows`` rows (estimated) — and are warnings elsewhere;
``fails_on_existing_rows`` is a warning: such a tenant fails alone, rolled back, and is reported;
``drops_index`` is a warning: queries that used the index still work, only slower;
``drops_constraint`` is a warning: the database stops enforcing a key, check or exclusion, so rows
it would have rejected can be written (and then make adding it back fail);
``not_crash_safe`` is a warning: the spec asks for an UNLOGGED table, whose rows a crash empties.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from schemadiff.errors import SchemadiffError

DELETES_DATA = "deletes_data"
REWRITES_TABLE = "rewrites_table"
BLOCKS_WRITES = "blocks_writes"
ACCESS_EXCLUSIVE = "access_exclusive"
SCANS_TABLE = "scans_table"
FAILS_ON_EXISTING_ROWS = "fails_on_existing_rows"
IRREVERSIBLE = "irreversible"
DROPS_INDEX = "drops_index"
DROPS_CONSTRAINT = "drops_constraint"
NOT_CRASH_SAFE = "not_crash_safe"

ALL = (
    DELETES_DATA,
    REWRITES_TABLE,
    BLOCKS_WRITES,
    ACCESS_EXCLUSIVE,
    SCANS_TABLE,
    FAILS_ON_EXISTING_ROWS,
    IRREVERSIBLE,
    DROPS_INDEX,
    DROPS_CONSTRAINT,
    NOT_CRASH_SAFE,
)
ALWAYS_REFUSED = (DELETES_DATA,)
REFUSED_ON_LARGE_TABLES = (REWRITES_TABLE, BLOCKS_WRITES, ACCESS_EXCLUSIVE, SCANS_TABLE)

EXPLAIN = {
    DELETES_DATA: "drops a column or table, or narrows a type: data is lost",
    REWRITES_TABLE: "rewrites every row of the table under an ACCESS EXCLUSIVE lock",
    BLOCKS_WRITES: "builds an index or constraint while writes to the table wait",
    ACCESS_EXCLUSIVE: "holds an ACCESS EXCLUSIVE lock (no reads or writes) for longer than a catalog change",
    SCANS_TABLE: "reads the whole table to check a constraint",
    FAILS_ON_EXISTING_ROWS: "fails if existing rows violate it (the tenant then fails alone, rolled back)",
    IRREVERSIBLE: "its downgrade cannot bring the data back",
    DROPS_INDEX: "queries that use the index become slower",
    DROPS_CONSTRAINT: "the database stops enforcing it: rows it would reject can be written",
    NOT_CRASH_SAFE: "the table becomes UNLOGGED: a crash empties it, and standbys never receive its rows",
}

_VOLATILE = re.compile(r"\b(random|clock_timestamp|timeofday|gen_random_uuid|uuid_generate_v[14]|nextval)\s*\(")


@dataclass(frozen=True)
class TypeChange:
    """One rule for ``ALTER COLUMN … TYPE`` from ``old`` to ``new`` (regexes over
    ``format_type`` text, whole match; ``when`` compares their groups).

    ``loses_data``: some value cannot survive (``deletes_data``). ``rewrites``: PostgreSQL
    rewrites the table under ACCESS EXCLUSIVE; ``safe_side`` marks a rule whose rewrite depends on
    the version or a setting, so the table says it rewrites. Each row is measured on PostgreSQL
    15 and 18 (``pg_relation_filenode`` before and after) by tests/integration/test_type_changes.py.
    """

    old: str
    new: str
    loses_data: bool
    rewrites: bool
    when: Callable[[re.Match[str], re.Match[str]], bool] = lambda _o, _n: True
    safe_side: bool = False


def _wider(old: re.Match[str], new: re.Match[str]) -> bool:
    return int(new["n"]) >= int(old["n"])


def _same_scale_wider(old: re.Match[str], new: re.Match[str]) -> bool:
    return new["s"] == old["s"] and int(new["p"]) >= int(old["p"])


def _more_digits_both_sides(old: re.Match[str], new: re.Match[str]) -> bool:
    """At least as many digits before and after the point: every value fits as it is."""
    scale, new_scale = int(old["s"]), int(new["s"])
    return new_scale >= scale and int(new["p"]) - new_scale >= int(old["p"]) - scale


_VC_N, _NUM_PS = r"character varying\((?P<n>\d+)\)", r"numeric\((?P<p>\d+),(?P<s>\d+)\)"

# The first matching row decides; a change no row matches loses data and rewrites the table.
TYPE_CHANGES: tuple[TypeChange, ...] = (
    TypeChange(_VC_N, _VC_N, loses_data=False, rewrites=False, when=_wider),
    TypeChange(_VC_N, r"character varying", loses_data=False, rewrites=False),
    TypeChange(r"character varying(?:\(\d+\))?", r"text", loses_data=False, rewrites=False),
    TypeChange(r"text", r"character varying", loses_data=False, rewrites=False),
    TypeChange(_NUM_PS, _NUM_PS, loses_data=False, rewrites=False, when=_same_scale_wider),
    TypeChange(_NUM_PS, _NUM_PS, loses_data=False, rewrites=True, when=_more_digits_both_sides),
    TypeChange(_NUM_PS, r"numeric", loses_data=False, rewrites=False),
    TypeChange(r"smallint", r"integer|bigint", loses_data=False, rewrites=True),
    TypeChange(r"integer", r"bigint", loses_data=False, rewrites=True),
    # Each value is read as a wall-clock time in the session's TimeZone (which the tenant runs
    # do not pin): instants shift, and times in a DST gap or overlap collapse. Refused as lossy;
    # PostgreSQL 12+ skips the rewrite only when TimeZone is UTC.
    TypeChange(
        r"timestamp without time zone", r"timestamp with time zone", loses_data=True, rewrites=True, safe_side=True
    ),
)
_UNKNOWN = TypeChange("", "", loses_data=True, rewrites=True)


def type_change(old: str, new: str) -> TypeChange | None:
    """The rule for changing a column from ``old`` to ``new``; None when the type is unchanged."""
    if old == new:
        return None
    for rule in TYPE_CHANGES:
        o, n = re.fullmatch(rule.old, old), re.fullmatch(rule.new, new)
        if o and n and rule.when(o, n):
            return rule
    return _UNKNOWN


def is_widening(old: str, new: str) -> bool:
    """Type changes that can never lose data (everything else is treated as narrowing)."""
    rule = type_change(old, new)
    return rule is None or not rule.loses_data


def is_binary_coercible(old: str, new: str) -> bool:
    """Changes PostgreSQL makes without rewriting the table."""
    rule = type_change(old, new)
    return rule is None or not rule.rewrites


def hazard_names(texts: list[str] | None, where: str = "--allow") -> frozenset[str]:
    """Comma-separated hazard names (``deletes_data,rewrites_table``) → the set; an unknown name is a
    SchemadiffError naming where it was written."""
    names = frozenset(h.strip() for text in texts or [] for h in text.split(",") if h.strip())
    unknown = sorted(names - set(ALL))
    if unknown:
        raise SchemadiffError(f"unknown hazard '{unknown[0]}' in {where}; known: {', '.join(ALL)}")
    return names


def is_volatile(expression: str | None) -> bool:
    """A default PostgreSQL must evaluate per row (so ADD COLUMN rewrites the table)."""
    return bool(expression and _VOLATILE.search(expression))
