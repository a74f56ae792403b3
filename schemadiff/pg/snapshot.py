"""One query over many schemas split between two connections that read the same snapshot.

The digest query over every tenant (``pg.digests``) runs for seconds at 100,000 tenants on one
PostgreSQL backend, so on one core. Half the schemas go to a second connection, which imports the
first one's snapshot (``pg_export_snapshot``, ``SET TRANSACTION SNAPSHOT``): both halves read the
catalog exactly as one query in the caller's transaction would, so what the caller reads after
(the tenants introspected in full) belongs to the same state as every digest.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql

from schemadiff.errors import DatabaseError
from schemadiff.pg.connection import Message, connect_like, pipelined

Rows = list[tuple[Any, ...]]


def export_snapshot(conn: psycopg.Connection) -> str | None:
    """The snapshot of ``conn``'s transaction, for other connections to import; it stays valid
    while that transaction is open. Not in a subtransaction (PostgreSQL refuses). None when the
    role may not export it (a managed service can revoke that function from PUBLIC)."""
    # asked first: a call in a CASE that is not taken is still refused (privileges are checked
    # before the query runs)
    allowed = conn.execute(
        "SELECT pg_catalog.has_function_privilege('pg_catalog.pg_export_snapshot()', 'EXECUTE')"
    ).fetchone()
    if not allowed or not allowed[0]:
        return None
    row = conn.execute("SELECT pg_catalog.pg_export_snapshot()").fetchone()
    return str(row[0]) if row else None


@contextmanager
def reading(
    conn: psycopg.Connection, snapshot: str, settings: Mapping[str, str] | None = None
) -> Iterator[psycopg.Connection]:
    """``conn`` (idle) in a REPEATABLE READ, READ ONLY transaction that reads ``snapshot``, without
    JIT (see ``digests.without_jit``) and with ``settings`` (name: value), ended at the end."""
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        conn.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
        conn.execute("SET LOCAL jit = off")
        for name, value in (settings or {}).items():
            conn.execute("SELECT pg_catalog.set_config(%s, %s, true)", (name, value))
        yield conn


def _run(conn: psycopg.Connection, query: str, params: tuple[Any, ...], settings: Mapping[str, str]) -> Rows:
    """The rows of ``query`` on ``conn``, with ``settings`` for that query only: their values are
    read first, then each is set for the transaction (``set_config(…, true)``), the query runs and
    each is put back as it was, these three in one round trip."""
    if not settings:
        [rows] = pipelined(conn, [Message(query, params)])
        return rows
    names = list(settings)
    [before] = pipelined(
        conn, [Message("SELECT pg_catalog.current_setting(n) FROM pg_catalog.unnest($1::text[]) n", (names,))]
    )
    change = (
        "SELECT pg_catalog.set_config(n, v, true) "
        "FROM ROWS FROM (pg_catalog.unnest($1::text[]), pg_catalog.unnest($2::text[])) AS s (n, v)"
    )
    _, rows, _ = pipelined(
        conn,
        [
            Message(change, (names, [settings[n] for n in names])),
            Message(query, params),
            Message(change, (names, [str(row[0]) for row in before])),
        ],
    )
    return rows


def split_query(
    conn: psycopg.Connection,
    query: str,
    schemas: list[str],
    tables: list[str],
    parts: int = 2,
    settings: Mapping[str, str] | None = None,
) -> Rows:
    """The rows of ``query`` ($1 schemas, $2 tables) run on ``schemas`` in ``parts`` slices, each
    but the first on a connection of its own, all reading the snapshot of ``conn``'s transaction
    (which must be open, and not a subtransaction), concatenated; each run with the planner
    ``settings`` (name: value; on ``conn`` for that query only). For a query whose rows each
    depend on one schema only. Where the snapshot cannot be exported, or a connection not opened
    (the server's connection limit reached), ``conn`` runs that slice too."""
    size = -(-len(schemas) // parts)
    slices = [schemas[i : i + size] for i in range(0, len(schemas), size)] or [schemas]
    snapshot = export_snapshot(conn) if len(slices) > 1 else None
    fixed = dict(settings or {})
    if snapshot is None:
        return _run(conn, query, (schemas, tables), fixed)

    def elsewhere(part: list[str]) -> Rows | None:
        try:
            other = connect_like(conn)
        except DatabaseError:
            return None
        with other, reading(other, snapshot, fixed) as tx:
            [rows] = pipelined(tx, [Message(query, (part, tables))])
            return rows

    with ThreadPoolExecutor(len(slices) - 1, thread_name_prefix="schemadiff-digest") as pool:
        others = [pool.submit(elsewhere, part) for part in slices[1:]]
        rows = _run(conn, query, (slices[0], tables), fixed)
        for part, future in zip(slices[1:], others, strict=True):
            found = future.result()
            if found is None:
                found = _run(conn, query, (part, tables), fixed)
            rows += found
    return rows
