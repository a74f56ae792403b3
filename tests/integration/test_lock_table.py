"""Many tenants on a server with a small lock table: one transaction per tenant succeeds where one
transaction for all of them runs out of shared memory. Runs on its own embedded server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from schemadiff.pg import embedded_server as embedded
from schemadiff.spec.schema import load_spec
from schemadiff.spec.to_model import create_statements
from schemadiff.workflow import demo

from .helpers import alembic, fingerprints, make_project, query, write_revision

TENANTS = 2000


pytestmark = pytest.mark.skipif(
    bool(os.environ.get("SCHEMADIFF_TEST_DATABASE_URL")),
    reason="needs its own embedded server with a small lock table; runs in the embedded pass",
)


@pytest.fixture(scope="module")
def small_lock_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("smalllocks")
    url = embedded.configure_and_restart(home, {"max_locks_per_transaction": "10", "max_connections": "20"})
    yield url
    embedded.stop(home)


def seed_many(url: str, spec: Path) -> None:
    previous = demo.previous_table(load_spec(spec))
    with psycopg.connect(url, autocommit=True) as conn:
        for start in range(0, TENANTS + 1, 20):
            statements = []
            for i in range(start, min(start + 20, TENANTS + 1)):
                schema = "public" if i == 0 else f"user_{i}"
                if i:
                    statements.append(f"CREATE SCHEMA {schema}")
                statements += create_statements(schema, previous)
            for statement in statements:  # autocommit: each its own transaction
                conn.execute(statement)


def test_small_lock_table(small_lock_server: str, spec_path: Path, tmp_path: Path) -> None:
    assert query(small_lock_server, "SHOW max_locks_per_transaction")[0][0] == "10"
    seed_many(small_lock_server, spec_path)
    start = fingerprints(small_lock_server, spec_path)
    project = make_project(tmp_path)
    path = write_revision(project, spec_path, small_lock_server, small_lock_server)

    from schemadiff.runtime import record
    from schemadiff.workflow.prove import load_revision

    statements = record(load_revision(path.read_text()).GROUPS[0].upgrade, 2).online
    with psycopg.connect(small_lock_server) as conn:
        with pytest.raises(psycopg.errors.OutOfMemory, match="out of shared memory"):
            for i in range(1, TENANTS + 1):
                conn.execute(f"SET LOCAL search_path = user_{i}")
                for statement in statements:
                    conn.execute(statement.sql)
        conn.rollback()
    assert fingerprints(small_lock_server, spec_path) == start  # the giant transaction left nothing

    up = alembic(project, small_lock_server, "-x", "workers=4", "upgrade", "head", timeout=900)
    assert up.returncode == 0, up.stderr
    assert len(set(fingerprints(small_lock_server, spec_path).values())) == 1
    down = alembic(project, small_lock_server, "-x", "workers=4", "downgrade", "-1", timeout=900)
    assert down.returncode == 0, down.stderr
    assert fingerprints(small_lock_server, spec_path) == start
