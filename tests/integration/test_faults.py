"""Issue 4 fault injection on a real PostgreSQL: every case ends with nothing lost and a rerun that converges."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from pathlib import Path

import psycopg
import pytest

from schemadiff.spec.schema import load_spec
from schemadiff.workflow import demo

from .helpers import (
    ONE_PATIENT_WORKER,
    alembic,
    alembic_popen,
    execute,
    fingerprints,
    ledger_rows,
    make_project,
    query,
    run_cli,
    table_locked,
    wait_until,
    write_revision,
)

SPEC_TAIL_LARGE = "policy:\n  large_table_rows: 1000\n"


def variant(spec_path: Path, tmp: Path, extra_indexes: str = "", tail: str = "", table_keys: str = "") -> Path:
    """schema.yaml with extra indexes and keys under marketplace_tasks and extra top-level keys."""
    text = spec_path.read_text()
    if extra_indexes:
        text = text.replace("    indexes:\n", "    indexes:\n" + extra_indexes, 1)
    if table_keys:
        text = text.replace("    indexes:\n", table_keys + "    indexes:\n", 1)
    path = tmp / "schema.yaml"
    path.write_text(text + tail)
    return path


def seed(url: str, spec: Path, tenants: int, rows: int = 5, big: dict[str, int] | None = None) -> list[str]:
    demo.seed_previous_state(url, load_spec(spec), tenants=tenants, rows=rows, ignored=(), hand_fixed=None)
    for schema, count in (big or {}).items():
        execute(
            url,
            f"INSERT INTO {schema}.marketplace_tasks (job_id, status) "
            f"SELECT 1 + mod(g, 50), 'pending' FROM generate_series(1, {count}) g",
            f"ANALYZE {schema}.marketplace_tasks",
        )
    return ["public"] + [f"user_{i}" for i in range(1, tenants + 1)]


def invalid_indexes(url: str) -> list[tuple[str, str]]:
    return [
        tuple(r)
        for r in query(
            url,
            "SELECT n.nspname, c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT i.indisvalid",
        )
    ]


def schemadiff_backends(url: str, where: str = "true") -> list[int]:
    return [
        r[0]
        for r in query(
            url,
            # this test's database only: the server may be shared with other runs
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'schemadiff' "
            f"AND datname = current_database() AND pid <> pg_backend_pid() AND {where}",
        )
    ]


def converged(url: str, spec: Path) -> bool:
    return run_cli("plan", "--spec", spec, "--database-url", url).exit_code == 0


def test_1_lock_timeout_is_retried_reported_and_finished_later(
    fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path
) -> None:
    seed(fresh_db, spec_path, tenants=6)
    project = make_project(tmp_path)
    write_revision(project, spec_path, fresh_db, server_url)
    ini = project / "alembic.ini"
    with table_locked(fresh_db, "user_3"):
        started = time.monotonic()
        result = run_cli(
            "apply",
            "--spec",
            spec_path,
            "--database-url",
            fresh_db,
            "--config",
            ini,
            "--yes",
            "--lock-timeout",
            "100ms",
        )
        took = time.monotonic() - started
    assert result.exit_code == 1
    assert "user_3: canceling statement due to lock timeout (after 4 attempts)" in result.stderr
    assert "6 applied, 0 skipped, 1 failed" in result.stdout
    assert took >= 0.5 + 1.0 + 2.0  # the backoff between the four attempts
    states = fingerprints(fresh_db, spec_path)
    assert len({states[s] for s in states if s != "user_3"}) == 1 and states["user_3"] != states["user_1"]
    assert (
        query(
            fresh_db,
            "SELECT to_regclass('public.alembic_version') IS NULL OR NOT EXISTS (SELECT 1 FROM public.alembic_version)",
        )[0][0]
        is True
    )
    rerun = run_cli("apply", "--spec", spec_path, "--database-url", fresh_db, "--config", ini, "--yes")
    assert rerun.exit_code == 0, rerun.stderr
    assert "1 applied, 6 skipped, 0 failed" in rerun.stdout


def test_2_a_terminated_worker_rolls_its_tenant_back(
    fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path
) -> None:
    seed(fresh_db, spec_path, tenants=8)
    start = fingerprints(fresh_db, spec_path)
    project = make_project(tmp_path)
    write_revision(project, spec_path, fresh_db, server_url)
    with table_locked(fresh_db, "user_4"):
        proc = alembic_popen(project, fresh_db, *ONE_PATIENT_WORKER, "upgrade", "head")
        wait_until(lambda: bool(schemadiff_backends(fresh_db, "wait_event_type = 'Lock'")), proc=proc)
        [pid] = schemadiff_backends(fresh_db, "wait_event_type = 'Lock'")
        execute(fresh_db, f"SELECT pg_terminate_backend({pid})")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode != 0
    # the worker's pipelined transaction sees the terminated backend as a closed connection
    assert (
        "user_4: terminating connection due to administrator command" in out  # alembic's FAILED line
        or "user_4: consuming input failed: server closed the connection unexpectedly" in out
    ), err
    states = fingerprints(fresh_db, spec_path)
    assert states["user_4"] == start["user_4"]  # rolled back whole
    assert len({v for k, v in states.items() if k != "user_4"}) == 1  # the others went on
    assert alembic(project, fresh_db, "upgrade", "head").returncode == 0
    assert converged(fresh_db, spec_path)


@pytest.mark.parametrize("seed_value", [1, 2, 3])
def test_3_sigkill_at_random_points_including_a_concurrent_build(
    fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path, seed_value: int
) -> None:
    rng = random.Random(seed_value)
    spec = variant(spec_path, tmp_path, tail=SPEC_TAIL_LARGE)
    tenants = 12
    big = {f"user_{i}": 1500 for i in rng.sample(range(1, tenants + 1), 4)}  # their indexes build CONCURRENTLY
    schemas = seed(fresh_db, spec, tenants=tenants, big=big)
    project = make_project(tmp_path / "p")
    text = write_revision(project, spec, fresh_db, server_url).read_text()
    assert "with runtime.after_commit(index='idx_marketplace_tasks_job_order') as online:" in text
    assert "postgresql_concurrently=online" in text
    workers = rng.choice([1, 2, 4])
    snapshot = psycopg.connect(fresh_db)  # an open snapshot makes every CONCURRENTLY build wait
    snapshot.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
    snapshot.execute("SELECT 1")  # a snapshot, no lock on any managed table
    proc = alembic_popen(project, fresh_db, "-x", f"workers={workers}", "upgrade", "head")
    try:
        if seed_value == 1:  # inside a concurrent index build
            wait_until(
                lambda: bool(schemadiff_backends(fresh_db, "query ILIKE 'CREATE INDEX CONCURRENTLY%'")), proc=proc
            )
        else:
            cut = rng.randint(1, tenants - 2)
            wait_until(lambda: ledger_rows(fresh_db)[0] >= cut, proc=proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        for pid in schemadiff_backends(fresh_db):  # the server notices the dead client at once
            execute(fresh_db, f"SELECT pg_terminate_backend({pid})")
    finally:
        snapshot.close()
    assert ledger_rows(fresh_db)[0] < len(schemas)
    rerun = alembic(project, fresh_db, "upgrade", "head")
    assert rerun.returncode == 0, rerun.stderr
    assert converged(fresh_db, spec)
    assert invalid_indexes(fresh_db) == []
    assert ledger_rows(fresh_db) == (len(schemas), len(schemas))
    assert query(fresh_db, "SELECT bool_and(complete) FROM public.schemadiff_ledger")[0][0] is True
    down = alembic(project, fresh_db, "downgrade", "-1")
    assert down.returncode == 0, down.stderr
    assert invalid_indexes(fresh_db) == []


@pytest.mark.parametrize("online", [False, True], ids=["in-transaction", "concurrently"])
def test_4_unique_index_over_duplicates_fails_that_tenant_alone(
    fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path, online: bool
) -> None:
    unique = "      ux_marketplace_tasks_payload: {columns: [payload], unique: true}\n"
    spec = variant(spec_path, tmp_path, unique, SPEC_TAIL_LARGE if online else "")
    seed(fresh_db, spec, tenants=5, big={"user_2": 1200, "user_3": 1200} if online else None)
    execute(fresh_db, "INSERT INTO user_3.marketplace_tasks (job_id, status, payload) VALUES (9, 'x', '{\"n\": 1}')")
    start = fingerprints(fresh_db, spec)
    project = make_project(tmp_path / "p")
    write_revision(
        project, spec, fresh_db, server_url, "add unique payload", "--allow", "fails_on_existing_rows", "--no-validate"
    )
    result = run_cli("apply", "--spec", spec, "--database-url", fresh_db, "--config", project / "alembic.ini", "--yes")
    assert result.exit_code == 1
    assert 'user_3: could not create unique index "ux_marketplace_tasks_payload"' in result.stderr
    assert "5 applied, 0 skipped, 1 failed" in result.stdout
    assert invalid_indexes(fresh_db) == []  # nothing half-built remains
    states = fingerprints(fresh_db, spec)
    if not online:
        assert states["user_3"] == start["user_3"]  # the whole tenant rolled back
    assert len({v for k, v in states.items() if k != "user_3"}) == 1
    execute(fresh_db, "DELETE FROM user_3.marketplace_tasks WHERE job_id = 9")
    rerun = run_cli("apply", "--spec", spec, "--database-url", fresh_db, "--config", project / "alembic.ini", "--yes")
    assert rerun.exit_code == 0, rerun.stderr


def test_5_statement_timeout_cancels_a_long_validation(
    fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path
) -> None:
    slow_check = "    checks:\n      ck_marketplace_tasks_digest: \"md5(repeat(status::text, 2000)) <> ''\"\n"
    spec = variant(spec_path, tmp_path, table_keys=slow_check)
    seed(fresh_db, spec_path, tenants=3, big={"user_2": 300_000})  # the previous state has no such check
    project = make_project(tmp_path / "p")
    text = write_revision(project, spec, fresh_db, server_url, "orchestration", "--no-validate").read_text()
    assert "VALIDATE CONSTRAINT ck_marketplace_tasks_digest" in text  # validated on its own on the large table
    ini = project / "alembic.ini"
    result = run_cli(
        "apply", "--spec", spec, "--database-url", fresh_db, "--config", ini, "--yes", "--statement-timeout", "1500ms"
    )  # the validation on user_2 takes several seconds
    shown = result.stdout + result.stderr
    assert result.exit_code == 1, shown
    assert "user_2: canceling statement due to statement timeout" in result.stderr, shown
    assert "3 applied, 0 skipped, 1 failed" in result.stdout, shown
    definition = query(
        fresh_db,
        "SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c JOIN pg_namespace n "
        "ON n.oid = c.connamespace WHERE n.nspname = 'user_2' AND conname = 'ck_marketplace_tasks_digest'",
    )
    assert definition[0][0].endswith("NOT VALID")  # the validation was rolled back; the rows are untouched
    assert invalid_indexes(fresh_db) == []
    rerun = run_cli("apply", "--spec", spec, "--database-url", fresh_db, "--config", ini, "--yes")
    assert rerun.exit_code == 0, rerun.stderr
    assert "1 applied, 3 skipped, 0 failed" in rerun.stdout


def test_6_two_applies_while_a_concurrent_build_runs(
    fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path
) -> None:
    spec = variant(spec_path, tmp_path, tail=SPEC_TAIL_LARGE)
    schemas = seed(fresh_db, spec, tenants=6, big={"user_3": 1500})
    project = make_project(tmp_path / "p")
    write_revision(project, spec, fresh_db, server_url)
    snapshot = psycopg.connect(fresh_db)
    snapshot.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
    snapshot.execute("SELECT 1")  # a snapshot, no lock on any managed table
    first = alembic_popen(project, fresh_db, "-x", "workers=2", "upgrade", "head")
    try:
        wait_until(lambda: bool(schemadiff_backends(fresh_db, "query ILIKE 'CREATE INDEX CONCURRENTLY%'")), proc=first)
        second = alembic(project, fresh_db, "-x", "lock_wait=1", "upgrade", "head")
    finally:
        snapshot.close()
    assert second.returncode != 0 and "another schemadiff run holds the migration lock" in (
        second.stdout + second.stderr
    )
    _out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert ledger_rows(fresh_db) == (len(schemas), len(schemas))
    assert converged(fresh_db, spec) and invalid_indexes(fresh_db) == []


def test_7_a_role_that_does_not_own_a_table_is_stopped_before_any_ddl(
    fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path
) -> None:
    schemas = seed(fresh_db, spec_path, tenants=4)
    start = fingerprints(fresh_db, spec_path)
    project = make_project(tmp_path)
    write_revision(project, spec_path, fresh_db, server_url)
    role = f"sd_app_{os.getpid()}"
    statements = [f"CREATE ROLE {role} LOGIN", f"GRANT CREATE, USAGE ON SCHEMA {', '.join(schemas)} TO {role}"]
    statements += [f"ALTER TABLE {s}.marketplace_tasks OWNER TO {role}" for s in schemas if s != "user_2"]
    execute(fresh_db, *statements)
    app_url = fresh_db.replace("postgres:@", f"{role}:@").replace("postgres@", f"{role}@")
    try:
        result = alembic(project, app_url, "upgrade", "head")
        assert result.returncode != 0
        assert f"role {role} lacks privileges" in (result.stdout + result.stderr) and "nothing was changed" in (
            result.stdout + result.stderr
        )
        assert "user_2.marketplace_tasks: ALTER TABLE needs ownership; the owner is postgres" in (
            result.stdout + result.stderr
        )
        assert fingerprints(fresh_db, spec_path) == start
    finally:
        execute(fresh_db, f"REASSIGN OWNED BY {role} TO postgres", f"DROP OWNED BY {role}")
        execute(server_url, f"DROP ROLE IF EXISTS {role}")


def test_8_a_million_rows_under_constant_writes(
    fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path
) -> None:
    seed(fresh_db, spec_path, tenants=2, big={"user_1": 1_000_000})
    project = make_project(tmp_path)
    text = write_revision(project, spec_path, fresh_db, server_url, "orchestration", "--no-validate").read_text()
    assert "postgresql_concurrently=online" in text and "NOT VALID" in text  # chosen online for user_1
    stop = threading.Event()
    gaps: list[float] = []

    def writer() -> None:
        with psycopg.connect(fresh_db, autocommit=True) as conn:
            last = time.monotonic()
            while not stop.is_set():
                conn.execute("INSERT INTO user_1.marketplace_tasks (job_id, status) VALUES (7, 'pending')")
                now = time.monotonic()
                gaps.append(now - last)
                last = now

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        time.sleep(0.5)
        result = alembic(project, fresh_db, "upgrade", "head")
        time.sleep(0.5)
    finally:
        stop.set()
        thread.join(30)
    assert result.returncode == 0, result.stderr
    assert converged(fresh_db, spec_path)
    longest = max(gaps)
    print(f"longest write stall during the upgrade: {longest * 1000:.0f} ms over {len(gaps)} writes")
    assert longest < 2.0  # the default lock_timeout bounds any wait the change can impose


def test_online_not_null_on_a_large_table_resumes_between_phases(
    fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path
) -> None:
    text = spec_path.read_text().replace(
        "error_message: {type: text}", "error_message: {type: text, nullable: false, default: ''}"
    )
    spec = tmp_path / "schema.yaml"
    spec.write_text(text)
    schemas = seed(fresh_db, spec_path, tenants=3, big={"user_1": 150_000})
    execute(
        fresh_db,
        *[f"UPDATE {s}.marketplace_tasks SET error_message = '' WHERE error_message IS NULL" for s in schemas],
        "ANALYZE",
    )
    project = make_project(tmp_path / "p")
    revision = write_revision(project, spec, fresh_db, server_url, "error message required").read_text()
    assert "CHECK (error_message IS NOT NULL) NOT VALID" in revision
    assert (
        "    with runtime.after_commit(not_null=('marketplace_tasks', 'error_message')) as online:\n"
        "        op.execute(runtime.verbatim('ALTER TABLE marketplace_tasks ALTER COLUMN error_message SET NOT NULL'))"
        in revision
    )
    execute(fresh_db, "UPDATE user_1.marketplace_tasks SET error_message = NULL WHERE id = 7")  # the scan will object
    first = run_cli(
        "apply",
        "--spec",
        spec,
        "--database-url",
        fresh_db,
        "--config",
        project / "alembic.ini",
        "--yes",
        "--allow",
        "fails_on_existing_rows",
    )
    assert first.exit_code == 1
    assert (
        'user_1: check constraint "sd_nn_marketplace_tasks_error_message" of relation "marketplace_tasks" '
        "is violated by some row" in first.stderr
    )
    nullable = query(
        fresh_db,
        "SELECT is_nullable FROM information_schema.columns WHERE table_schema = 'user_1' "
        "AND table_name = 'marketplace_tasks' AND column_name = 'error_message'",
    )
    assert nullable == [("YES",)]  # between phases: the transactional part is in, the scan is not
    assert query(fresh_db, "SELECT complete FROM public.schemadiff_ledger WHERE schema_name = 'user_1'") == [(False,)]
    execute(fresh_db, "UPDATE user_1.marketplace_tasks SET error_message = '' WHERE error_message IS NULL")
    rerun = run_cli("apply", "--spec", spec, "--database-url", fresh_db, "--config", project / "alembic.ini", "--yes")
    assert rerun.exit_code == 0, rerun.stderr
    assert query(fresh_db, "SELECT count(*) FROM pg_constraint WHERE conname LIKE 'sd_nn_%'") == [(0,)]
    assert query(fresh_db, "SELECT bool_and(complete), count(*) FROM public.schemadiff_ledger") == [
        (True, len(schemas))
    ]
    down = alembic(project, fresh_db, "downgrade", "-1")
    assert down.returncode == 0, down.stderr
