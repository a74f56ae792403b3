"""The run's worker connections on a real PostgreSQL: replaced after a number of tenants (a backend's
caches grow with every relation it touches), without the run's hold on WORKERS_KEY lapsing."""

from __future__ import annotations

import psycopg
import pytest

from schemadiff.runtime import workers as runner
from schemadiff.runtime.workers import WORKERS_KEY, Workers

from .helpers import query


def holders(url: str) -> set[int]:
    return {
        r[0]
        for r in query(
            url,
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND classid = %s AND objid = %s AND mode = 'ShareLock'",
            WORKERS_KEY,
        )
    }


def test_a_worker_connection_is_replaced_after_its_tenants_and_always_holds_the_run(
    fresh_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "TENANTS_PER_CONNECTION", 3)

    def tenant(conn: psycopg.Connection, item: int) -> tuple[int, bool]:
        return conn.info.backend_pid, conn.info.backend_pid in holders(fresh_db)

    with Workers(fresh_db, 1) as workers:
        seen = workers.map(tenant, list(range(7)))
        batches = workers.map(tenant, [[1, 2], [3, 4]], len)  # a batch counts as its tenants
    pids = [pid for pid, _ in seen]
    assert all(held for _, held in seen + batches)
    assert pids[0] == pids[2] != pids[3] == pids[5] != pids[6]
    assert batches[0][0] == pids[6] != batches[1][0]
    assert holders(fresh_db) == set()  # every connection closed at the end
