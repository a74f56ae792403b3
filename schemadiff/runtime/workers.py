"""The run's lock and its worker connections.

A run holds LOCK_KEY (one run at a time) and every connection of the run, coordinator and workers,
holds WORKERS_KEY shared while it lives, so a second run cannot start beside the first one's
workers even when the first one's coordinator is gone.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import psycopg

from schemadiff.errors import SchemadiffError
from schemadiff.pg import connection
from schemadiff.runtime.job import Report

T = TypeVar("T")
R = TypeVar("R")

LOCK_KEY = (0x5D1F, 0x0001)  # pg_advisory_lock(int, int): "schemadiff", run lock
# held shared by the coordinator and every worker connection of a run, so a second run cannot start
# while any connection of the first still works, even when the first one's coordinator is gone
WORKERS_KEY = (0x5D1F, 0x0002)


class RunFailed(SchemadiffError):
    def __init__(self, message: str, report: Report | None = None) -> None:
        self.report = report
        super().__init__(message)


def acquire_lock(conn: psycopg.Connection, wait: float) -> None:
    """The run lock, and proof that no connection of an earlier run still works: its workers hold
    WORKERS_KEY shared until they end, so taking it exclusively here (and letting it go) fails
    while any of them lives. Then this run's coordinator holds it shared too."""
    deadline = time.monotonic() + wait
    for key in (LOCK_KEY, WORKERS_KEY):
        while not _try(conn, "SELECT pg_try_advisory_lock(%s, %s)", key):
            if time.monotonic() >= deadline:
                if key == WORKERS_KEY:
                    conn.execute("SELECT pg_advisory_unlock(%s, %s)", LOCK_KEY)
                raise RunFailed(
                    f"another schemadiff run holds the migration lock ({lock_holder(conn, key)}); "
                    f"waited {wait:g}s; run again when it has finished"
                )
            time.sleep(0.2)
    conn.execute("SELECT pg_advisory_unlock(%s, %s)", WORKERS_KEY)
    conn.execute("SELECT pg_advisory_lock_shared(%s, %s)", WORKERS_KEY)


def _try(conn: psycopg.Connection, query: str, key: tuple[int, int]) -> bool:
    row = conn.execute(query, key).fetchone()
    return bool(row and row[0])


def join_run(conn: psycopg.Connection) -> None:
    """A worker connection joins the run: it holds WORKERS_KEY shared while it lives."""
    if not _try(conn, "SELECT pg_try_advisory_lock_shared(%s, %s)", WORKERS_KEY):
        raise RunFailed("the run lock was lost (another run started?); stopping this run's workers")


def lock_holder(conn: psycopg.Connection, key: tuple[int, int] = LOCK_KEY) -> str:
    row = conn.execute(
        "SELECT a.pid, a.application_name, a.usename, a.backend_start FROM pg_locks l "
        "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
        "AND l.classid = %s AND l.objid = %s AND a.pid <> pg_backend_pid() LIMIT 1",
        key,
    ).fetchone()
    if row is None:
        return "holder unknown"
    pid, app, user, since = row
    return f"pid {pid}, application '{app}', user {user}, since {since:%Y-%m-%d %H:%M:%S}"


# A backend keeps what it learned about every relation it touched (catalog caches, relation cache,
# references to shared statistics entries) until it ends, and some of its work grows with that: each
# relation dropped anywhere (a downgrade's DROP INDEX) makes every backend sweep all its statistics
# references. A worker connection that served this many tenants is replaced by a fresh one.
TENANTS_PER_CONNECTION = 500


class Workers:
    """The run's worker connections, one per thread of a pool of ``size`` threads, opened on first
    use; each joins the run (holds WORKERS_KEY shared), is replaced when it broke, and after
    TENANTS_PER_CONNECTION tenants."""

    def __init__(self, url: str, size: int) -> None:
        self.url = url
        self._pool = ThreadPoolExecutor(max_workers=max(1, size))
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[psycopg.Connection] = []

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown()
        for conn in self._connections:
            conn.close()

    def connection(self, tenants: int = 1) -> psycopg.Connection:
        """This thread's connection, to serve ``tenants`` more tenants."""
        local = self._local
        old: psycopg.Connection | None = getattr(local, "conn", None)
        if old is None or old.closed or old.broken or local.served >= TENANTS_PER_CONNECTION:
            conn = connection.connect(self.url, autocommit=True)
            with self._lock:
                self._connections = [c for c in self._connections if not c.closed] + [conn]
            join_run(conn)  # before the old one leaves, so the hold on WORKERS_KEY never lapses
            if old is not None:
                old.close()
            local.conn, local.served = conn, 0
        local.served += tenants
        return local.conn  # type: ignore[no-any-return]

    def map(
        self, fn: Callable[[psycopg.Connection, T], R], items: list[T], tenants: Callable[[T], int] = lambda item: 1
    ) -> list[R]:
        """``fn(connection, item)`` for every item, on the pool's threads; the results in order.
        ``tenants``: how many tenants an item is."""
        return list(self._pool.map(lambda item: fn(self.connection(tenants(item)), item), items))
