"""Issue 3 acceptance: the revision written by `plan -m`, run by plain Alembic, on a real PostgreSQL."""

from __future__ import annotations

import re
import signal
from collections.abc import Callable
from pathlib import Path

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
    rows_digest,
    run_cli,
    table_locked,
    wait_until,
    write_revision,
)

TENANTS = 50
NEW_COLUMNS = {
    "step_type": ("character varying", 50, "NO", "'validate'::character varying"),
    "step_order": ("integer", None, "NO", "1"),
    "is_idempotent": ("boolean", None, "NO", "true"),
    "side_effects": ("jsonb", None, "YES", None),
}


def seed(url: str, spec: Path, tenants: int = TENANTS, hand_fixed: str | None = None) -> list[str]:
    demo.seed_previous_state(url, load_spec(spec), tenants=tenants, rows=6, ignored=("User_9",), hand_fixed=hand_fixed)
    return ["public"] + [f"user_{i}" for i in range(1, tenants + 1)]


def migra_whole(a: str, b: str) -> list[str]:
    """migra over two whole databases, minus the bookkeeping tables a run adds."""
    from migra import Migration
    from sqlalchemy.pool import NullPool
    from sqlbag import S

    # sqlbag keeps every engine it makes, pooled: NullPool closes each connection with its session
    with S(a, poolclass=NullPool) as sa_, S(b, poolclass=NullPool) as sb:
        m = Migration(sa_, sb)
        m.set_safety(False)
        m.add_all_changes()
        statements = [s for s in str(m.sql).split(";\n\n") if s.strip()]
    return [s for s in statements if "schemadiff_ledger" not in s and "alembic_version" not in s]


def snapshot(new_database: Callable[..., str], url: str) -> str:
    """A copy of ``url``'s database, dropped when the test ends (``new_database`` fixture)."""
    name = query(url, "SELECT current_database()")[0][0]
    return new_database(template=name)


def new_columns(url: str, schema: str) -> dict[str, tuple[object, ...]]:
    rows = query(
        url,
        "SELECT column_name, data_type, character_maximum_length, is_nullable, column_default "
        "FROM information_schema.columns WHERE table_schema = %s AND table_name = 'marketplace_tasks' "
        "AND column_name = ANY(%s)",
        (schema, list(NEW_COLUMNS)),
    )
    return {r[0]: tuple(r[1:]) for r in rows}


def index_columns(url: str, schema: str) -> list[str]:
    rows = query(
        url,
        "SELECT a.attname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN unnest(i.indkey) WITH ORDINALITY k(attnum, ord) ON true "
        "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
        "WHERE n.nspname = %s AND c.relname = 'idx_marketplace_tasks_job_order' ORDER BY k.ord",
        (schema,),
    )
    return [r[0] for r in rows]


def test_the_original_change_end_to_end(
    fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path, new_database: Callable[..., str]
) -> None:
    schemas = seed(fresh_db, spec_path)
    before_rows = rows_digest(fresh_db, schemas)
    before = snapshot(new_database, fresh_db)
    project = make_project(tmp_path)
    path = write_revision(
        project,
        spec_path,
        fresh_db,
        server_url,
        "add task orchestration columns",
        "--why",
        "Enables granular task tracking with 1-commit-per-task architecture",
    )
    assert path.name.endswith("_add_task_orchestration_columns.py")
    text = path.read_text()
    assert "Enables granular task tracking" in text and load_spec(spec_path).sha256 in text
    assert "op.add_column('marketplace_tasks'" in text

    up = alembic(project, fresh_db, "upgrade", "head")
    assert up.returncode == 0, up.stderr
    revision = text.split("revision = '")[1].split("'")[0]
    assert f"schemadiff: upgrade {revision}: {len(schemas)} schema(s) changed, 0 already done, in " in up.stderr
    current = alembic(project, fresh_db, "current")
    assert f"{revision} (head)" in current.stdout
    for schema in schemas:
        assert new_columns(fresh_db, schema) == NEW_COLUMNS, schema
        assert index_columns(fresh_db, schema) == ["job_id", "step_order"], schema
    assert query(fresh_db, "SELECT count(*) FROM public.schemadiff_ledger")[0][0] == len(schemas)
    assert rows_digest(fresh_db, schemas) == before_rows

    down = alembic(project, fresh_db, "downgrade", "-1")
    assert down.returncode == 0, down.stderr
    assert migra_whole(before, fresh_db) == []
    assert rows_digest(fresh_db, schemas) == before_rows

    again = alembic(project, fresh_db, "upgrade", "head")
    assert again.returncode == 0, again.stderr
    assert run_cli("plan", "--spec", spec_path, "--database-url", fresh_db).exit_code == 0
    assert rows_digest(fresh_db, schemas) == before_rows


def test_two_groups_each_go_back_to_their_own_start(
    fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path
) -> None:
    seed(fresh_db, spec_path, tenants=10, hand_fixed="user_7")
    start = fingerprints(fresh_db, spec_path)
    assert len(set(start.values())) == 2
    project = make_project(tmp_path)
    text = write_revision(project, spec_path, fresh_db, server_url).read_text()
    assert "def upgrade_group_2() -> None:" in text
    group2 = text.split("def upgrade_group_2")[1].split("def downgrade_group_2")[0]
    assert "'step_order'" not in group2.split("create_index")[0]  # user_7 already has the column
    assert alembic(project, fresh_db, "upgrade", "head").returncode == 0
    assert len(set(fingerprints(fresh_db, spec_path).values())) == 1
    assert alembic(project, fresh_db, "downgrade", "-1").returncode == 0
    assert fingerprints(fresh_db, spec_path) == start
    assert (
        query(
            fresh_db,
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'user_7' "
            "AND column_name = 'step_order'",
        )[0][0]
        == 1
    )


def test_interrupted_run_resumes_without_half_changed_tenants(
    fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path
) -> None:
    schemas = seed(fresh_db, spec_path, tenants=60)
    start = fingerprints(fresh_db, spec_path)
    project = make_project(tmp_path)
    write_revision(project, spec_path, fresh_db, server_url)
    with table_locked(fresh_db, "user_40"):
        proc = alembic_popen(project, fresh_db, *ONE_PATIENT_WORKER, "upgrade", "head")
        wait_until(lambda: ledger_rows(fresh_db)[0] >= 30, proc=proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    target = set(fingerprints(fresh_db, spec_path).values()) - set(start.values())
    states = fingerprints(fresh_db, spec_path)
    assert all(states[s] in (start[s], *target) for s in schemas)  # never half-changed
    done_before = ledger_rows(fresh_db)[0]
    assert 30 <= done_before < len(schemas)
    rerun = alembic(project, fresh_db, "upgrade", "head")
    assert rerun.returncode == 0, rerun.stderr
    summary = re.search(r"(\d+) schema\(s\) changed, (\d+) already done", rerun.stderr)
    assert summary and (int(summary[1]), int(summary[2])) == (len(schemas) - done_before, done_before)
    assert len(set(fingerprints(fresh_db, spec_path).values())) == 1
    assert query(fresh_db, "SELECT count(*), count(DISTINCT schema_name) FROM public.schemadiff_ledger")[0] == (
        len(schemas),
        len(schemas),
    )


def test_two_runs_at_once_the_second_fails_cleanly(
    fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path
) -> None:
    schemas = seed(fresh_db, spec_path, tenants=20)
    project = make_project(tmp_path)
    write_revision(project, spec_path, fresh_db, server_url)
    with table_locked(fresh_db, "user_10"):
        first = alembic_popen(project, fresh_db, *ONE_PATIENT_WORKER, "upgrade", "head")
        wait_until(lambda: ledger_rows(fresh_db)[0] >= 5, proc=first)
        second = alembic(project, fresh_db, "-x", "lock_wait=1", "upgrade", "head")
    assert second.returncode != 0
    assert "FAILED: another schemadiff run holds the migration lock (pid" in second.stdout
    assert "application 'schemadiff'" in second.stdout
    _out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert query(fresh_db, "SELECT count(*) FROM public.schemadiff_ledger")[0][0] == len(schemas)


def test_unknown_state_stops_before_any_change(fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path) -> None:
    seed(fresh_db, spec_path, tenants=6)
    project = make_project(tmp_path)
    write_revision(project, spec_path, fresh_db, server_url)
    execute(fresh_db, "ALTER TABLE user_3.marketplace_tasks ADD COLUMN hand_made text")
    start = fingerprints(fresh_db, spec_path)
    result = alembic(project, fresh_db, "upgrade", "head")
    assert result.returncode != 0
    assert "1 schema(s) in state" in result.stderr and ": user_3\n" in result.stderr
    assert "nothing was changed" in result.stdout  # alembic's FAILED line
    assert "to match it: drop column marketplace_tasks.hand_made" in result.stderr
    assert fingerprints(fresh_db, spec_path) == start
    assert (
        query(
            fresh_db,
            "SELECT to_regclass('public.alembic_version') IS NULL OR NOT EXISTS (SELECT 1 FROM public.alembic_version)",
        )[0][0]
        is True
    )


def test_apply_status_rollback_commands(fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path) -> None:
    seed(fresh_db, spec_path, tenants=5)
    project = make_project(tmp_path)
    write_revision(project, spec_path, fresh_db, server_url)
    ini = project / "alembic.ini"
    refused = run_cli("apply", "--spec", spec_path, "--database-url", fresh_db, "--config", ini)
    assert refused.exit_code == 1 and "re-run with --yes" in refused.stderr
    assert run_cli("plan", "--spec", spec_path, "--database-url", fresh_db).exit_code == 2
    applied = run_cli("apply", "--spec", spec_path, "--database-url", fresh_db, "--config", ini, "--yes")
    assert applied.exit_code == 0, applied.stderr
    assert "6 applied, 0 skipped, 0 failed" in applied.stdout and "every schema matches the spec" in applied.stdout
    status = run_cli("status", "--spec", spec_path, "--database-url", fresh_db, "--config", ini)
    assert re.search(r"at the spec:\s+6 ", status.stdout) and re.search(r"pending:\s+0 ", status.stdout)
    back = run_cli("rollback", "--database-url", fresh_db, "--config", ini, "--yes")
    assert back.exit_code == 0, back.stderr
    status = run_cli("status", "--spec", spec_path, "--database-url", fresh_db, "--config", ini)
    assert "revision (none)" in status.stdout and re.search(r"pending:\s+6 ", status.stdout)
