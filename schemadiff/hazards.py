"""Hazard names and the rules that attach them to ops. Pure.

Hazards are data on ops (``op.hazards``), never a regex over SQL. Two kinds of policy apply:
``deletes_data`` is refused wherever it occurs unless allowed by name (every op that deletes
data is also ``irreversible``, which is reported with it);
the lock and scan hazards (``rewrites_table``, ``blocks_writes``, ``access_exclusive``,
``scans_table``) are refused only where they bite — on a tenant whose table holds at least
``policy.large_table_rows`` rows (estimated) — and are warnings elsewhere;
``fails_on_existing_rows`` is a warning: such a tenant fails alone, rolled back, and is reported;
``drops_index`` is a warning: queries that used the index still work, only slower.
"""

from __future__ import annotations

import re

DELETES_DATA = "deletes_data"
REWRITES_TABLE = "rewrites_table"
BLOCKS_WRITES = "blocks_writes"
ACCESS_EXCLUSIVE = "access_exclusive"
SCANS_TABLE = "scans_table"
FAILS_ON_EXISTING_ROWS = "fails_on_existing_rows"
IRREVERSIBLE = "irreversible"
DROPS_INDEX = "drops_index"

ALL = (DELETES_DATA, REWRITES_TABLE, BLOCKS_WRITES, ACCESS_EXCLUSIVE, SCANS_TABLE,
       FAILS_ON_EXISTING_ROWS, IRREVERSIBLE, DROPS_INDEX)
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
}

_VARCHAR = re.compile(r"^character varying(?:\((\d+)\))?$")
_WIDER_INTS = {("smallint", "integer"), ("smallint", "bigint"), ("integer", "bigint")}
_VOLATILE = re.compile(r"\b(random|clock_timestamp|timeofday|gen_random_uuid|uuid_generate_v[14]|nextval)\s*\(")


def is_widening(old: str, new: str) -> bool:
    """Type changes that can never lose data (everything else is treated as narrowing)."""
    if (old, new) in _WIDER_INTS or old == new:
        return True
    old_vc, new_vc = _VARCHAR.match(old), _VARCHAR.match(new)
    if old_vc and new == "text":
        return True
    if old_vc and new_vc:
        return new_vc.group(1) is None or (old_vc.group(1) is not None and int(new_vc.group(1)) >= int(old_vc.group(1)))
    return False


def is_binary_coercible(old: str, new: str) -> bool:
    """Changes PostgreSQL makes without rewriting the table (varchar widening, to text)."""
    return bool(_VARCHAR.match(old)) and (new == "text" or bool(_VARCHAR.match(new))) and is_widening(old, new)


def is_volatile(expression: str | None) -> bool:
    """A default PostgreSQL must evaluate per row (so ADD COLUMN rewrites the table)."""
    return bool(expression and _VOLATILE.search(expression))
