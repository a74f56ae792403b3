"""Shared fixtures. Integration tests get a real PostgreSQL: SCHEMADIFF_TEST_DATABASE_URL, or an
embedded server started once per session in a temporary directory."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.databases import (
    LeakedConnections,
    create_database,
    drop_database,
    drop_databases,
    leftover_databases,
    new_name,
)

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "schema.yaml"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "integration" in item.path.parts:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Admin URL of the test server (database ``postgres``). At the end of the session, fails if a
    database this session created (``tests.databases.SESSION_PREFIX``…) is still on the server."""
    from schemadiff.pg import connection
    from schemadiff.pg import embedded_server as embedded

    configured = os.environ.get("SCHEMADIFF_TEST_DATABASE_URL")
    home = None if configured else tmp_path_factory.mktemp("pg")
    url = connection.to_libpq(configured) if configured else embedded.server_url(home)
    yield url
    left = leftover_databases(url)
    for name in left:
        with contextlib.suppress(LeakedConnections):  # dropped all the same; the assertion names them
            drop_database(url, name)
    if home is not None:
        embedded.stop(home)
    assert left == [], f"tests left these databases behind (now dropped): {', '.join(left)}"


@pytest.fixture
def new_database(server_url: str) -> Iterator[Callable[..., str]]:
    """``new_database(suffix=None, template=None)``: create a database for this test (a copy of
    ``template`` when given); its URL. Every one is dropped when the test ends, without FORCE: one
    still connected fails the test (``tests.databases``)."""
    made: list[str] = []

    def make(suffix: str | None = None, template: str | None = None) -> str:
        name = new_name(suffix)
        made.append(name)
        return create_database(server_url, name, template)

    yield make
    drop_databases(server_url, list(reversed(made)))  # a database with connections still open fails the test


@pytest.fixture
def fresh_db(new_database: Callable[..., str]) -> str:
    """A new empty database on the test server, dropped afterwards."""
    return new_database()


@pytest.fixture
def spec_path() -> Path:
    return SPEC
