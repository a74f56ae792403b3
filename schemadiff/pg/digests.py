"""Tenants grouped by a digest of their raw catalog rows (sql/state_digest.sql), read in full once
per distinct digest.

Introspection deparses (``pg_get_expr``, ``pg_get_indexdef``, ``format_type``): at 100,000 tenants
that is most of a plan's time, although almost every tenant is in the same state. The digest reads
the same catalog rows raw, without deparsing; two schemas with the same digest have the same model
(see the SQL file), so one schema of each digest is introspected and the others share its model
(the same object). The template is always read on its own: introspection reads it differently
(a foreign key of the template to a table of its own that the spec does not manage keeps its
qualifier), which its raw rows do not show.

Rows whose raw form carries a per-tenant OID (a ``serial`` column's default holds its sequence's
OID in the expression tree, a column of a tenant's own enum type its type's OID) make every such
tenant a digest of its own: correct, only as slow as reading every tenant in full.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any

import psycopg

from schemadiff.core.model import LiveSchemas, SchemaModel, TableStats
from schemadiff.pg.introspect import SQL_DIR, introspect
from schemadiff.pg.snapshot import split_query

READ_CHUNK = 2500  # schemas introspected per query
# schemas from which the digests are computed on two connections (about 0.3 s of server time at
# 5,000 schemas, 6 s at 100,000; opening the second connection costs some 10-30 ms)
PARALLEL_FROM = 5000

# planner settings for the digest over many schemas, for that query only: without hash joins the
# planner merges the catalogs' indexes in order instead of hashing whole catalogs (pg_attribute, the
# defaults) into tables that spill to disk at the default work_mem; the same digests, 1.3 s of the
# server's CPU instead of 1.9 s at 20,000 tenants (README, "100,000 tenants on one server")
PLANNER = {"enable_hashjoin": "off"}

_FACTS = (SQL_DIR / "state_digest.sql").read_text()
_ROWS = (SQL_DIR / "table_rows.sql").read_text()


_SCHEMAS_REFERRED = (
    "pg_catalog.array_agg((pg_catalog.pg_identify_object(dp.refclassid, dp.refobjid, 0)).schema "
    "ORDER BY dp.refclassid, dp.refobjid) AS schemas FROM pg_catalog.pg_depend dp "
    "WHERE dp.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass AND dp.deptype = 'n'"
)
# one tenant: a lookup per default (a handful); many: one pass over every default's references
# (few rows: most defaults refer to PostgreSQL's own objects only) instead of a lookup per default
_ONE = f"looked up for each:\nLEFT JOIN LATERAL (SELECT {_SCHEMAS_REFERRED} AND dp.objid = ad.oid) adr ON true"
_MANY = f"read for all in one pass:\nLEFT JOIN (SELECT dp.objid, {_SCHEMAS_REFERRED} GROUP BY dp.objid) adr ON adr.objid = ad.oid"


# A schema's digest: its number of facts and two sums of 64-bit hashes of them (two seeds), exact
# (``sum`` of bigint is numeric), as one md5. The sums do not depend on the order of the facts, so
# nothing is sorted, and they count a fact that occurs twice twice: equal digests, equal multisets
# of facts, but for a collision of both sums at once (for two given different states about 2^-128,
# were the two hashes independent and uniform; ``hashtextextended`` is PostgreSQL's hash for text, not
# a cryptographic one: the facts are the team's own DDL, not a hostile input). Measured at 100,000 tenants: 0.7-1 s less server time than the md5 of the
# sorted md5s of the facts it replaces.
DIGEST = (
    "pg_catalog.md5(pg_catalog.concat_ws(' ', pg_catalog.count(*), "
    "coalesce(pg_catalog.sum(pg_catalog.hashtextextended(fact, 0)), 0), "
    "coalesce(pg_catalog.sum(pg_catalog.hashtextextended(fact, 1)), 0)))"
)


@functools.cache
def state_facts(server_version: int, many: bool = False) -> str:
    """sql/state_digest.sql for this server, with the flags its PostgreSQL version has; ``many``:
    shaped for digesting many schemas in one query."""
    index = ["i.indnullsnotdistinct"] if server_version >= 150000 else []
    constraint = ["con.confdelsetcols"] if server_version >= 150000 else []
    constraint += ["con.conenforced", "con.conperiod"] if server_version >= 180000 else []
    return (
        _FACTS.replace("{index_flags}", "".join(f", {c}::text" for c in index))
        .replace("{constraint_flags}", "".join(f", {c}::text" for c in constraint))
        .replace("{default_refs}", _MANY if many else _ONE)
    )


@functools.cache
def state_digest(server_version: int) -> str:
    """The digest of one tenant's managed tables: $1 the schema, $2 the managed tables."""
    return (
        "WITH s AS (SELECT $1::text AS nspname), t AS (SELECT c.oid, c.relname, n.nspname FROM pg_catalog.pg_class c "
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relnamespace = pg_catalog.to_regnamespace(pg_catalog.quote_ident($1)) "
        "AND c.relname = ANY($2) AND c.relkind IN ('r', 'p')), "
        f"facts AS ({state_facts(server_version)}) "
        f"SELECT {DIGEST} FROM facts"
    )


def _facts_of_many(server_version: int, extra: str = "") -> str:
    """The facts of the schemas $1 (their managed tables $2), and ``extra`` columns of t."""
    return (
        "WITH s AS (SELECT pg_catalog.unnest($1::text[]) AS nspname), "
        # from the list to the catalog, one index lookup per schema (OFFSET 0: not flattened into
        # a join that scans every table of that name), whatever the planner's estimates
        f"t AS (SELECT c.oid, c.relname, n.nspname{extra} FROM s "
        "JOIN pg_catalog.pg_namespace n ON n.nspname = s.nspname::pg_catalog.name "
        "CROSS JOIN LATERAL (SELECT c.oid, c.relname, c.reltuples FROM pg_catalog.pg_class c "
        "WHERE c.relnamespace = n.oid AND c.relname = ANY($2::pg_catalog.name[]) AND c.relkind IN ('r', 'p') "
        "OFFSET 0) AS c), "
        f"facts AS ({state_facts(server_version, many=True)}), "
        f"d AS (SELECT nspname, {DIGEST} AS digest FROM facts GROUP BY nspname) "
    )


@functools.cache
def state_digests(server_version: int) -> str:
    """Every tenant's state digest and the row estimate of its largest managed table: $1 the
    schemas, $2 the managed tables. A schema without any managed table or enum type has no row."""
    return _facts_of_many(server_version, ", c.reltuples") + (
        "SELECT d.nspname, d.digest, coalesce(r.rows, 0) FROM d LEFT JOIN (SELECT nspname, "
        "pg_catalog.max(greatest(reltuples, 0))::bigint AS rows FROM t GROUP BY nspname) AS r USING (nspname)"
    )


@functools.cache
def digest_groups(server_version: int) -> str:
    """The schemas $1 grouped by state digest on the server (their managed tables $2): one row per
    distinct digest with its schemas. A schema without any managed table or enum type is in none."""
    return _facts_of_many(server_version) + "SELECT digest, pg_catalog.array_agg(nspname) FROM d GROUP BY digest"


def many_digests(
    conn: psycopg.Connection, query: str, schemas: list[str], tables: list[str], parallel_from: int | None = None
) -> list[tuple[Any, ...]]:
    """The rows of ``query`` (``digest_groups`` or ``state_digests``) over ``schemas``: from
    ``parallel_from`` schemas on (``PARALLEL_FROM`` by default), half of them on a second connection
    in the snapshot of ``conn``'s transaction (``pg.snapshot``); from ``digest_groups`` a digest
    found in both halves comes in two rows."""
    least = PARALLEL_FROM if parallel_from is None else parallel_from
    return split_query(conn, query, schemas, tables, parts=2 if len(schemas) >= least else 1, settings=PLANNER)


def without_jit(conn: psycopg.Connection) -> None:
    """No JIT compilation for the rest of the caller's transaction: the catalog queries over many
    tenants cost enough to cross jit_above_cost, and compiling them (seconds at 100,000 tenants)
    costs more than it saves on queries that run once."""
    conn.execute("SET LOCAL jit = off")


def read_by_digest(
    conn: psycopg.Connection,
    schemas: list[str],
    digest_of: Mapping[str, str],
    tables: list[str],
    template: str | None,
    enums: Iterable[str] = (),
) -> dict[str, SchemaModel]:
    """{schema: model} of ``schemas`` (in their order), introspecting one schema per digest
    (``digest_of``; a schema it lacks has digest ""): the template on its own, the others of a
    digest sharing their representative's model. Inside the caller's transaction."""
    enum_names = list(enums)
    first: dict[tuple[bool, str], str] = {}
    for schema in schemas:
        first.setdefault((schema == template, digest_of.get(schema, "")), schema)
    read = list(first.values())
    models: dict[str, SchemaModel] = {}
    for start in range(0, len(read), READ_CHUNK):
        chunk = read[start : start + READ_CHUNK]
        models.update(introspect(conn, chunk, tables, template, enum_names).models)
    by_key = {key: models[schema] for key, schema in first.items()}
    return {schema: by_key[(schema == template, digest_of.get(schema, ""))] for schema in schemas}


def read_grouped(
    conn: psycopg.Connection,
    schemas: list[str],
    tables: list[str],
    template: str | None = None,
    enums: Iterable[str] = (),
    min_rows: int = 1,
    parallel_from: int | None = None,
) -> LiveSchemas:
    """What ``introspect`` reads (equal models; the statistics of the tables holding at least
    ``min_rows`` rows, all that a plan looks at with that threshold), with one query digesting every
    schema, grouped on the server (``many_digests``: on two connections from ``parallel_from``
    schemas), and introspection only for one schema per distinct digest. Inside the caller's
    transaction, which must not be a subtransaction (one snapshot for both reads when it is
    REPEATABLE READ)."""
    digest_of: dict[str, str] = {}
    without_jit(conn)
    query = digest_groups(conn.info.server_version)
    for digest, members in many_digests(conn, query, schemas, tables, parallel_from):
        for schema in members:
            digest_of[schema] = digest
    result = LiveSchemas(models=read_by_digest(conn, schemas, digest_of, tables, template, enums))
    result.stats.update(table_rows(conn, schemas, tables, min_rows))
    return result


def table_rows(
    conn: psycopg.Connection, schemas: list[str], tables: list[str], min_rows: int = 1
) -> dict[tuple[str, str], TableStats]:
    """{(schema, table): its row estimate} of the managed tables (and named partitions) of
    ``schemas`` holding at least ``min_rows`` rows, as ``introspect`` reads them. Streamed through a
    server-side cursor; equal estimates share one record."""
    wanted = set(schemas)
    shared: dict[int, TableStats] = {}
    out: dict[tuple[str, str], TableStats] = {}
    with conn.cursor(name="schemadiff_table_rows") as cur:
        cur.itersize = 10_000
        cur.execute(_ROWS, {"tables": tables, "min_rows": max(min_rows, 1)})
        for schema, table, rows in cur:
            if schema not in wanted:
                continue
            stats = shared.get(rows)
            if stats is None:
                stats = shared[rows] = TableStats(rows=int(rows))
            out[(schema, table)] = stats
    return out
