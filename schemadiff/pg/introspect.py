"""One catalog pass over every tenant schema → {schema: SchemaModel}.

A fixed number of queries (schemas, tables, columns, constraints, indexes) reads all tenants
together, whatever their count. The session runs with an empty ``search_path`` so every name
PostgreSQL prints is schema-qualified; each schema's own qualifier is then stripped, so a
default that points at *another* schema's sequence stays visible as a real difference.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from schemadiff.core.constraintdef import creatable
from schemadiff.core.identity_sequences import derived_sequence
from schemadiff.core.model import (
    Column,
    Constraint,
    EnumType,
    Index,
    LiveSchemas,
    Partition,
    SchemaModel,
    Table,
    TableStats,
    natural_key,
)
from schemadiff.errors import SchemadiffError
from schemadiff.text import few

SQL_DIR = Path(__file__).parent / "sql"
_SYSTEM = re.compile(r"^(pg_.*|information_schema)$")


def _sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text()


def select_tenants(all_schemas: Iterable[str], template: str, pattern: str) -> list[str]:
    """The template first, then every schema whose whole name matches, in natural order."""
    rx = re.compile(pattern)
    schemas = set(all_schemas)
    tenants = sorted(
        (s for s in schemas if s != template and not _SYSTEM.match(s) and rx.fullmatch(s)), key=natural_key
    )
    return ([template] if template in schemas else []) + tenants


def list_schemas(conn: psycopg.Connection) -> list[str]:
    """Every schema that could be a tenant (not the system schemas)."""
    return [r[0] for r in conn.execute(_sql("schemas")).fetchall()]


def list_tenants(conn: psycopg.Connection, template: str, pattern: str) -> list[str]:
    return select_tenants(list_schemas(conn), template, pattern)


def introspect(
    conn: psycopg.Connection,
    schemas: list[str],
    tables: list[str],
    template: str | None = None,
    enums: Iterable[str] = (),
) -> LiveSchemas:
    """Read the named tables (and enum types) of every schema in one pass; missing ones are simply absent.

    A foreign key into the tenant's own schema reads unqualified (tenant-local), one into another
    schema qualified (shared). In the ``template`` schema the two coincide for a shared table there
    (``schema: public`` seen from ``public``): its keys to tables the spec does not manage read
    qualified, as from every tenant, and its keys to managed tables read tenant-local."""
    enum_names = list(enums)
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute("SET LOCAL search_path = ''")
        table_rows = cur.execute(_sql("tables"), {"schemas": schemas, "tables": tables}).fetchall()
        refuse_unplannable(table_rows)
        oids = [r["oid"] for r in table_rows if not r["is_partition"]]  # a partition is its parent's
        columns = _by_oid(cur.execute(_sql("columns"), {"oids": oids}).fetchall())
        constraints = _by_oid(cur.execute(_sql("constraints"), {"oids": oids}).fetchall())
        indexes = _by_oid(cur.execute(_sql("indexes"), {"oids": oids}).fetchall())
        enum_types = _enum_types(cur, schemas, enum_names) if enum_names else {}
    built: dict[str, list[Table]] = defaultdict(list)
    result = LiveSchemas()
    partitions = _partitions(table_rows)
    for row in table_rows:
        result.stats[(row["schema"], row["name"])] = TableStats(rows=int(row["rows"]))
        if row["is_partition"]:  # a partition the spec names: part of its parent's model
            continue
        strip = _stripper(row["schema_q"])
        shared = set(tables) if row["schema"] == template else None
        table = _table(row, columns, constraints, indexes, strip, shared)
        parts = partitions.get((row["schema"], row["name"]))
        built[row["schema"]].append(replace(table, partitions=parts) if parts else table)
    order = {name: i for i, name in enumerate(tables)}
    for schema in schemas:
        found = sorted(built.get(schema, []), key=lambda t: order[t.name])
        result.models[schema] = SchemaModel(tables=tuple(found), enums=enum_types.get(schema, ()))
    return result


def _enum_types(cur: psycopg.Cursor[Any], schemas: list[str], names: list[str]) -> dict[str, tuple[EnumType, ...]]:
    """{schema: its enum types among ``names``, in the order of ``names``}."""
    order = {name: i for i, name in enumerate(names)}
    found: dict[str, list[EnumType]] = defaultdict(list)
    for row in cur.execute(_sql("enums"), {"schemas": schemas, "enums": names}).fetchall():
        found[row["schema"]].append(EnumType(row["name"], tuple(row["labels"])))
    return {schema: tuple(sorted(types, key=lambda e: order[e.name])) for schema, types in found.items()}


def _partitions(table_rows: list[dict[str, Any]]) -> dict[tuple[str, str], tuple[Partition, ...]]:
    """{(schema, parent): the partitions read (the names the spec gives partitions), by name}."""
    found: dict[tuple[str, str], list[Partition]] = defaultdict(list)
    for row in table_rows:
        if row["is_partition"]:
            strip = _stripper(row["schema_q"])
            found[(row["schema"], row["parent"])].append(Partition(row["name"], strip(row["bound"])))
    return {key: tuple(sorted(parts, key=lambda p: p.name)) for key, parts in found.items()}


def refuse_unplannable(table_rows: list[dict[str, Any]]) -> None:
    """A partition whose parent the spec does not manage is never planned as if it were a table of
    its own (nor as a partition, its parent unknown): a SchemadiffError naming it, before any plan."""
    managed = {(row["schema"], row["name"]) for row in table_rows if not row["is_partition"]}
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for row in table_rows:
        if row["is_partition"] and (row["schema"], row["parent"]) not in managed:
            parent = row["parent"] or "a table of another schema"
            found[(row["name"], parent)].append(row["schema"])
    if found:
        lines = [
            f"{name} is a partition of {parent} in {len(s)} schema(s): {few(s)}"
            for (name, parent), s in sorted(found.items())
        ]
        raise SchemadiffError(
            "schemadiff plans a partition only with its partitioned table: "
            + "; ".join(lines)
            + ". Add the partitioned table to the spec and name the partition under its partitions, "
            "or leave the partition out of the spec"
        )


def _by_oid(rows: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        out[row["oid"]].append(row)
    return out


def _stripper(schema_q: str) -> Any:
    needle = schema_q + "."
    compiled: list[re.Pattern[str]] = []  # compiled on first use: most texts never name the schema

    def strip(text: str | None) -> str | None:
        if text is None or needle not in text:
            return text
        if not compiled:
            compiled.append(re.compile(r'(?<![\w$"])' + re.escape(schema_q) + r"\."))
        return compiled[0].sub("", text)

    return strip


def _table(
    row: dict[str, Any],
    columns: dict[int, list[dict[str, Any]]],
    constraints: dict[int, list[dict[str, Any]]],
    indexes: dict[int, list[dict[str, Any]]],
    strip: Any,
    managed: set[str] | None = None,
) -> Table:
    oid = row["oid"]
    prefix_tail = f" ON {row['schema_q']}.{row['name_q']} "
    return Table(
        name=row["name"],
        columns=tuple(_column(c, strip, row["name"]) for c in columns.get(oid, [])),
        constraints=tuple(
            _constraint(c, _keep if _shared_in_template(c, row["schema"], managed) else strip)
            for c in constraints.get(oid, [])
        ),
        indexes=tuple(_index(i, prefix_tail, strip) for i in indexes.get(oid, [])),
        comment=row["comment"],
        unlogged=row["unlogged"],
        partition_by=strip(row["partition_by"]),
    )


def _shared_in_template(row: dict[str, Any], schema: str, managed: set[str] | None) -> bool:
    """A foreign key of the template to a table of its own that the spec does not manage."""
    return managed is not None and row["ref_schema"] == schema and row["ref_table"] not in managed


def _keep(text: str | None) -> str | None:
    return text


def _constraint(row: dict[str, Any], strip: Any) -> Constraint:
    definition = strip(row["definition"])
    return Constraint(row["name"], row["kind"], definition, source=creatable(definition), uses=tuple(row["uses"]))


def _column(row: dict[str, Any], strip: Any, table: str) -> Column:
    generated = row["default"] if row["generated"] else None  # the expression of a generated column
    sequence = row["identity_sequence"]
    return Column(
        name=row["name"],
        type=strip(row["type"]),
        nullable=not row["not_null"],
        default=None if generated is not None else strip(row["default"]),
        identity=row["identity"] or "",
        comment=row["comment"],
        generated=strip(generated),
        collation=row["collation"],
        identity_start=_unless_one(row["identity_start"]),
        identity_increment=_unless_one(row["identity_increment"]),
        identity_sequence=None if sequence is None or sequence == derived_sequence(table, row["name"]) else sequence,
    )


def _unless_one(value: int | None) -> int | None:
    """A sequence option as the model keeps it: None for PostgreSQL's default 1 (or no sequence)."""
    return None if value is None or value == 1 else int(value)


def _index(row: dict[str, Any], prefix_tail: str, strip: Any) -> Index:
    definition: str = row["definition"]
    at = definition.find(prefix_tail)
    if at < 0:
        only = prefix_tail.replace(" ON ", " ON ONLY ", 1)
        at, prefix_tail = definition.find(only), only
    tail = definition[at + len(prefix_tail) :] if at >= 0 else definition
    return Index(
        name=row["name"], unique=row["is_unique"], tail=strip(tail) or "", valid=row["valid"], uses=tuple(row["uses"])
    )
