"""The databases the tests create: every name starts with this session's prefix, every one is
dropped by whoever made it, and the session fails if one is left behind on the server.

Dropping is plain ``DROP DATABASE``, never ``WITH (FORCE)`` first. FORCE terminates the sessions
still connected, and each one becomes a ``FATAL: terminating connection due to administrator
command`` line in the server's log: the very line schemadiff promises never to cause. A plain drop
waits (PostgreSQL gives closing sessions about five seconds) and fails only when a connection is
really still open. That is a leak in the test or in the code it runs, so the harness then finds
who is connected, drops the database ``WITH (FORCE)`` anyway (so the next tests and the session's
leftover check stay clean) and fails the test that leaked, naming the sessions. Silently forcing
would hide a real bug (a pool, a worker, a cursor schemadiff never closed); failing without dropping
would let one leak cascade into every later test.
"""

from __future__ import annotations

import secrets

import psycopg
from psycopg import sql

from schemadiff.pg import connection

SESSION_PREFIX = f"sdtest_{secrets.token_hex(3)}_"  # sdtest_<session>_…: other sessions' names never match


class LeakedConnections(AssertionError):
    """A test's database still had open connections when the test was done with it."""


def new_name(suffix: str | None = None) -> str:
    return SESSION_PREFIX + (suffix or secrets.token_hex(4))


def create_database(server_url: str, name: str, template: str | None = None) -> str:
    """Create ``name`` (a copy of ``template`` when given) on the server; its URL."""
    statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        statement = sql.SQL("{} TEMPLATE {}").format(statement, sql.Identifier(template))
    with connection.connect(server_url, autocommit=True) as conn:
        conn.execute(statement)
    return connection.database_url(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    """Drop ``name``; raises ``LeakedConnections`` (after dropping it by force) when sessions were
    still connected to it (see the module's docstring)."""
    with connection.connect(server_url, autocommit=True) as conn:
        try:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
            return
        except psycopg.errors.ObjectInUse:
            sessions = _sessions(conn, name)
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    raise LeakedConnections(
        f"database {name} still had {len(sessions)} open connection(s) when its test was done with it "
        f"({'; '.join(sessions) or 'gone by the time they were listed'}); close what the test opens. "
        "It was dropped WITH (FORCE), which writes a FATAL line per session into the server's log"
    )


def drop_databases(server_url: str, names: list[str]) -> None:
    """Drop every one of ``names`` (each attempted), then raise the first leak found, if any."""
    leaks: list[LeakedConnections] = []
    for name in names:
        try:
            drop_database(server_url, name)
        except LeakedConnections as leak:
            leaks.append(leak)
    if leaks:
        raise leaks[0]


def _sessions(conn: psycopg.Connection, name: str) -> list[str]:
    """Who is connected to ``name``: application, state and the start of the last query."""
    rows = conn.execute(
        "SELECT coalesce(nullif(application_name, ''), '?'), coalesce(state, '?'), left(query, 80) "
        "FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid() ORDER BY backend_start",
        (name,),
    ).fetchall()
    return [f"{app} {state}: {query}" for app, state, query in rows]


def leftover_databases(server_url: str, prefix: str = SESSION_PREFIX) -> list[str]:
    """The databases on the server whose names start with ``prefix`` (this session's, by default)."""
    with connection.connect(server_url) as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE starts_with(datname, %s) ORDER BY 1", (prefix,)
        ).fetchall()
    return [r[0] for r in rows]
