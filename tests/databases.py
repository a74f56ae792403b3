"""The databases the tests create: every name starts with this session's prefix, every one is
dropped by whoever made it, and the session fails if one is left behind on the server."""

from __future__ import annotations

import secrets

from schemadiff.pg import connection

SESSION_PREFIX = f"sdtest_{secrets.token_hex(3)}_"  # sdtest_<session>_…: other sessions' names never match


def new_name(suffix: str | None = None) -> str:
    return SESSION_PREFIX + (suffix or secrets.token_hex(4))


def create_database(server_url: str, name: str, template: str | None = None) -> str:
    """Create ``name`` (a copy of ``template`` when given) on the server; its URL."""
    copy = f' TEMPLATE "{template}"' if template else ""
    with connection.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{copy}')
    return connection.database_url(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    with connection.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def leftover_databases(server_url: str, prefix: str = SESSION_PREFIX) -> list[str]:
    """The databases on the server whose names start with ``prefix`` (this session's, by default)."""
    with connection.connect(server_url) as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE starts_with(datname, %s) ORDER BY 1", (prefix,)
        ).fetchall()
    return [r[0] for r in rows]
