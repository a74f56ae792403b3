"""What one schema holds, for writing a spec from it (``schemadiff inspect``).

The model of its tables comes from the one catalog pass (``pg.introspect``); these queries add
what inspect needs around it: the schema's tables and enum types, the objects the spec does not
cover, which tables the tenants have, and what the catalog holds about a table beyond the model
(triggers, policies …), each to be written as a YAML comment.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from psycopg.rows import dict_row

from schemadiff.core.model import natural_key
from schemadiff.pg.introspect import SQL_DIR
from schemadiff.spec.draft import LiveExtra


def _sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text()


@dataclass
class Inventory:
    """One schema's tables (name → why it cannot be planned, or None), enum types, and the
    other objects the spec does not cover (kind, name)."""

    tables: dict[str, str | None] = field(default_factory=dict)
    enums: list[str] = field(default_factory=list)
    others: list[tuple[str, str]] = field(default_factory=list)


def read_inventory(conn: psycopg.Connection, schema: str) -> Inventory:
    inventory = Inventory()
    rows = conn.execute(_sql("inventory"), {"schema": schema}).fetchall()
    for kind, name, detail in sorted(rows, key=lambda r: (r[0], natural_key(r[1]))):  # whatever the collation
        if kind == "table":
            inventory.tables[name] = detail
        elif kind == "enum type":
            inventory.enums.append(name)
        else:
            inventory.others.append((kind, name))
    return inventory


def tables_present(conn: psycopg.Connection, schemas: list[str], tables: list[str]) -> set[str]:
    """Which of ``tables`` exist in at least one of ``schemas``."""
    if not schemas or not tables:
        return set()
    rows = conn.execute(_sql("tables_present"), {"schemas": schemas, "tables": tables}).fetchall()
    return {r[0] for r in rows}


def table_extras(conn: psycopg.Connection, schema: str, tables: list[str]) -> dict[str, list[LiveExtra]]:
    """{table: what the catalog holds about it beyond the model}, read with the session's
    ``search_path`` empty, so every name a definition prints is schema-qualified."""
    out: dict[str, list[LiveExtra]] = {t: [] for t in tables}
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_sql("table_extras"), {"schema": schema, "tables": tables}).fetchall()
        for row in sorted(rows, key=lambda r: (r["kind"], natural_key(r["name"] or ""), r["detail"] or "")):
            out[row["table"]].append(LiveExtra(row["table"], row["kind"], row["name"], row["detail"]))
    return out
