"""Shared fixtures. Integration tests get a real PostgreSQL: SCHEMADIFF_TEST_DATABASE_URL, or an
embedded server started once per session in a temporary directory."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "schema.yaml"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "integration" in item.path.parts:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Admin URL of the test server (database ``postgres``)."""
    from schemadiff import db, embedded

    configured = os.environ.get("SCHEMADIFF_TEST_DATABASE_URL")
    if configured:
        yield db.to_libpq(configured)
        return
    home = tmp_path_factory.mktemp("pg")
    url = embedded.server_url(home)
    yield url
    embedded.stop(home)


@pytest.fixture
def fresh_db(server_url: str) -> Iterator[str]:
    """A new empty database on the test server, dropped afterwards."""
    from schemadiff import db

    name = f"sdtest_{secrets.token_hex(4)}"
    with db.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield db.database_url(server_url, name)
    with db.connect(server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def spec_path() -> Path:
    return SPEC
