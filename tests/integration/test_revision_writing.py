"""Writing revisions: dry runs, chaining onto hand-written revisions, the versions directory of the
spec, `init`, validation failures shown with migra's SQL, and tenants created after an upgrade."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from schemadiff.spec.schema import load_spec
from schemadiff.workflow import demo

from .helpers import (
    alembic,
    execute,
    fingerprints,
    make_project,
    query,
    run_cli,
    write_revision,
)

HAND_WRITTEN = '''"""a hand-written revision"""
from alembic import op

revision = "a1b2c3d4e5f6"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE TABLE public.audit_log (id bigint PRIMARY KEY)")


def downgrade() -> None:
    op.execute("DROP TABLE public.audit_log")
'''


def seed(url: str, spec: Path, tenants: int = 3) -> None:
    demo.seed_previous_state(url, load_spec(spec), tenants=tenants, rows=2, ignored=(), hand_fixed=None)


def test_dry_run_writes_nothing(fresh_db: str, spec_path: Path, tmp_path: Path) -> None:
    seed(fresh_db, spec_path)
    project = make_project(tmp_path)
    result = run_cli(
        "plan",
        "--spec",
        spec_path,
        "--database-url",
        fresh_db,
        "--config",
        project / "alembic.ini",
        "-m",
        "nothing",
        "--dry-run",
    )
    assert result.exit_code == 2
    assert list((project / "migrations" / "versions").glob("*.py")) == []


def test_revision_chains_onto_a_hand_written_head(
    fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path
) -> None:
    seed(fresh_db, spec_path)
    project = make_project(tmp_path)
    (project / "migrations" / "versions" / "a1b2c3d4e5f6_audit.py").write_text(HAND_WRITTEN)
    assert alembic(project, fresh_db, "upgrade", "head").returncode == 0  # plan -m refuses a database behind it
    write_revision(project, spec_path, fresh_db, server_url, "after the audit log")
    [path] = (project / "migrations" / "versions").glob("*_after_the_audit_log.py")
    text = path.read_text()
    assert "down_revision = 'a1b2c3d4e5f6'" in text and "Revises: a1b2c3d4e5f6" in text
    assert alembic(project, fresh_db, "upgrade", "head").returncode == 0
    assert query(fresh_db, "SELECT to_regclass('public.audit_log') IS NOT NULL")[0][0] is True
    assert run_cli("plan", "--spec", spec_path, "--database-url", fresh_db).exit_code == 0
    assert alembic(project, fresh_db, "downgrade", "base").returncode == 0


def test_migrations_directory_from_the_spec(fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path) -> None:
    seed(fresh_db, spec_path)
    project = make_project(tmp_path / "p")
    elsewhere = tmp_path / "revisions"
    spec = tmp_path / "schema.yaml"
    spec.write_text(spec_path.read_text() + f"migrations:\n  directory: '{elsewhere}'\n")
    result = run_cli(
        "plan",
        "--spec",
        spec,
        "--database-url",
        fresh_db,
        "--config",
        project / "alembic.ini",
        "--dev-url",
        server_url,
        "-m",
        "into the spec's directory",
    )
    assert result.exit_code == 2, result.stderr
    assert [p.name.endswith("_into_the_spec_s_directory.py") for p in elsewhere.glob("*.py")] == [True]
    assert list((project / "migrations" / "versions").glob("*.py")) == []


def test_init_command_creates_the_environment_once(tmp_path: Path) -> None:
    first = run_cli("init", "--dir", tmp_path)
    assert first.exit_code == 0
    for name in ("alembic.ini", "migrations/env.py", "migrations/script.py.mako"):
        assert f"created {tmp_path / name}" in first.stdout
    assert (tmp_path / "migrations" / "versions").is_dir()
    again = run_cli("init", "--dir", tmp_path)
    assert again.stdout.strip() == "nothing to do: the Alembic environment exists"
    heads = subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(tmp_path / "alembic.ini"), "heads"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert heads.returncode == 0, heads.stderr


def test_init_keeps_the_embedded_server_out_of_git(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("__pycache__/")  # no newline at the end
    assert run_cli("init", "--dir", tmp_path).exit_code == 0
    assert (tmp_path / ".gitignore").read_text().splitlines() == ["__pycache__/", ".schemadiff/"]
    fresh = tmp_path / "fresh"
    assert run_cli("init", "--dir", fresh).exit_code == 0
    assert (fresh / ".gitignore").read_text() == ".schemadiff/\n"
    (fresh / "alembic.ini").unlink()  # init runs again, the line is not added twice
    assert run_cli("init", "--dir", fresh).exit_code == 0
    assert (fresh / ".gitignore").read_text() == ".schemadiff/\n"


def test_version_prints_the_package_version() -> None:
    from schemadiff import __version__

    result = run_cli("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"schemadiff {__version__}"


def test_a_tenant_created_from_the_template_after_the_upgrade_is_downgraded_like_it(
    fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path
) -> None:
    seed(fresh_db, spec_path)
    start = fingerprints(fresh_db, spec_path)
    project = make_project(tmp_path)
    write_revision(project, spec_path, fresh_db, server_url)
    assert alembic(project, fresh_db, "upgrade", "head").returncode == 0
    from schemadiff.spec.to_model import create_statements, table_model

    table = table_model("marketplace_tasks", load_spec(spec_path).spec.tables["marketplace_tasks"])  # a new customer
    execute(fresh_db, "CREATE SCHEMA user_99", *create_statements("user_99", table))  # created at the spec
    assert run_cli("plan", "--spec", spec_path, "--database-url", fresh_db).exit_code == 0  # at the target
    down = alembic(project, fresh_db, "downgrade", "-1")
    assert down.returncode == 0, down.stderr
    after = fingerprints(fresh_db, spec_path)
    assert after["user_99"] == start["public"]
    assert {k: v for k, v in after.items() if k != "user_99"} == start


def test_a_revision_that_does_not_prove_out_is_not_written(fresh_db: str, spec_path: Path, server_url: str) -> None:
    from datetime import datetime

    from schemadiff.render.revision_file import RevisionInfo, render_revision
    from schemadiff.workflow.planning import make_plan
    from schemadiff.workflow.prove import validate

    seed(fresh_db, spec_path)
    plan, _ = make_plan(load_spec(spec_path), fresh_db)
    text = render_revision(plan, RevisionInfo("x", None, "m", None, datetime(2026, 1, 1)))
    broken = "\n".join(line for line in text.splitlines() if "'side_effects'" not in line or "add_column" not in line)
    assert broken != text
    [finding] = validate(plan, broken, server_url)
    assert finding.fatal and finding.stage == "upgrade"
    assert 'alter table "tenant"."marketplace_tasks" add column "side_effects" jsonb' in finding.message
    assert validate(plan, text, server_url) == []


def test_a_same_named_table_planted_on_the_search_path_is_never_touched(
    fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path
) -> None:
    seed(fresh_db, spec_path)
    name = query(fresh_db, "SELECT current_database()")[0][0]
    execute(
        fresh_db,
        "CREATE SCHEMA planted",
        "CREATE TABLE planted.marketplace_tasks (id int, job_id int)",
        f'ALTER DATABASE "{name}" SET search_path = planted, public',
    )
    project = make_project(tmp_path)
    write_revision(project, spec_path, fresh_db, server_url)
    assert alembic(project, fresh_db, "upgrade", "head").returncode == 0
    assert alembic(project, fresh_db, "downgrade", "-1").returncode == 0
    assert alembic(project, fresh_db, "upgrade", "head").returncode == 0
    planted = query(
        fresh_db,
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'planted' ORDER BY ordinal_position",
    )
    assert planted == [("id",), ("job_id",)]
    assert query(fresh_db, "SELECT count(*) FROM pg_indexes WHERE schemaname = 'planted'")[0][0] == 0


def test_apply_never_lets_deletes_data_through_on_yes_alone(
    fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path
) -> None:
    seed(fresh_db, spec_path)
    execute(
        fresh_db,
        *[
            f"ALTER TABLE {s}.marketplace_tasks ADD COLUMN legacy_note text"
            for s in ("public", "user_1", "user_2", "user_3")
        ],
    )
    project = make_project(tmp_path)
    write_revision(project, spec_path, fresh_db, server_url, "drop the legacy note", "--allow", "deletes_data")
    ini = project / "alembic.ini"
    refused = run_cli("apply", "--spec", spec_path, "--database-url", fresh_db, "--config", ini, "--yes")
    assert refused.exit_code == 1
    assert "re-run with --allow deletes_data" in refused.stderr
    assert (
        query(fresh_db, "SELECT count(*) FROM information_schema.columns WHERE column_name = 'legacy_note'")[0][0] == 4
    )
    allowed = run_cli(
        "apply", "--spec", spec_path, "--database-url", fresh_db, "--config", ini, "--yes", "--allow", "deletes_data"
    )
    assert allowed.exit_code == 0, allowed.stderr
    assert (
        query(fresh_db, "SELECT count(*) FROM information_schema.columns WHERE column_name = 'legacy_note'")[0][0] == 0
    )
