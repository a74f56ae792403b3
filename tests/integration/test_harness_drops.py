"""The test harness drops its databases without FORCE and fails the test that left a connection open.

The second test leaves a connection open on purpose: its forced drop writes one FATAL line into the
test server's log, the only one the integration tests should leave there."""

from __future__ import annotations

import psycopg
import pytest

from tests.databases import LeakedConnections, create_database, drop_database, leftover_databases, new_name


def test_a_closed_database_is_dropped_plainly(server_url: str) -> None:
    name = new_name("closed")
    url = create_database(server_url, name)
    with psycopg.connect(url) as conn:
        conn.execute("SELECT 1")
    drop_database(server_url, name)
    assert name not in leftover_databases(server_url)


def test_a_connection_left_open_fails_and_the_database_is_dropped_anyway(server_url: str) -> None:
    name = new_name("leak")
    url = create_database(server_url, name)
    leaked = psycopg.connect(url, application_name="leaky_test")
    try:
        with pytest.raises(LeakedConnections, match=rf"{name} still had 1 open connection\(s\).*leaky_test"):
            drop_database(server_url, name)
        assert name not in leftover_databases(server_url)
        assert leaked.closed or leaked.broken or _terminated(leaked)
    finally:
        leaked.close()


def _terminated(conn: psycopg.Connection) -> bool:
    try:
        conn.execute("SELECT 1")
    except psycopg.OperationalError:
        return True
    return False
