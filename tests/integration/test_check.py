"""`schemadiff check` (the CI gate) and `status` exit codes, on a real PostgreSQL: a spec no revision
captures, an edited revision, tenants pending or unknown, and a read-only role."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from schemadiff.pg import connection

from .helpers import execute, make_project, run_cli, write_revision
from .test_revision_e2e import seed

NEW_COLUMN_SPEC = "      step_order:    {type: integer, nullable: false, default: 1}\n"


@pytest.fixture
def no_configured_database(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in connection.URL_ENV_VARS:
        monkeypatch.delenv(var, raising=False)


@pytest.mark.usefixtures("no_configured_database")
def test_check_without_a_database(fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path) -> None:
    seed(fresh_db, spec_path, tenants=3)
    project = make_project(tmp_path)
    check = ("check", "--spec", spec_path, "--config", project / "alembic.ini", "--dev-url", server_url)
    nothing = run_cli(*check)
    assert nothing.exit_code == 2, nothing.stdout + nothing.stderr
    assert "no revision captures the spec (target state" in nothing.stdout

    path = write_revision(project, spec_path, fresh_db, server_url)
    written = path.read_text()
    passed = run_cli(*check)
    assert passed.exit_code == 0, passed.stdout + passed.stderr
    assert "checksums: 1 verified" in passed.stdout and passed.stdout.endswith("check passed\n")
    assert "\ndatabase " not in passed.stdout  # none was read

    path.write_text(written.replace("server_default=runtime.verbatim('1')", "server_default=runtime.verbatim('2')"))
    edited = run_cli(*check)
    assert edited.exit_code == 2
    [line] = [line for line in edited.stdout.splitlines() if line.startswith("problem:")]
    assert line.startswith(f"problem: {path}: revision ") and "was edited after it was written" in line
    as_json = json.loads(run_cli(*check, "--format", "json").stdout)
    assert [(p["kind"], p["path"]) for p in as_json["problems"]] == [("revision_edited", str(path))]
    assert as_json["revisions"][0]["checksum"] == "edited" and as_json["exit_code"] == 2

    path.write_text(written)
    subprocess.run([sys.executable, "-m", "ruff", "format", "--isolated", str(path)], check=True, capture_output=True)
    assert path.read_text() != written  # formatted: other quotes, other line breaks
    assert run_cli(*check).exit_code == 0, "formatting a revision is no edit"

    changed = tmp_path / "schema.yaml"
    changed.write_text(spec_path.read_text().replace(NEW_COLUMN_SPEC, NEW_COLUMN_SPEC + "      note: {type: text}\n"))
    moved = run_cli("check", "--spec", changed, "--config", project / "alembic.ini", "--dev-url", server_url)
    assert moved.exit_code == 2
    assert f"problem: {changed}: the spec changed but no revision captures it" in moved.stdout


def test_check_and_status_with_a_database(fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path) -> None:
    seed(fresh_db, spec_path, tenants=4, hand_fixed="user_3")
    project = make_project(tmp_path)
    write_revision(project, spec_path, fresh_db, server_url)
    db = ("--spec", spec_path, "--database-url", fresh_db, "--config", project / "alembic.ini")

    status = run_cli("status", *db)
    assert status.exit_code == 3, status.stdout + status.stderr  # pending
    data = json.loads(run_cli("status", *db, "--format", "json").stdout)
    assert (data["verdict"], data["exit_code"], data["revision"]) == ("pending", 3, None)
    assert data["counts"] == {"at_spec": 0, "pending": 5, "unknown": 0}
    assert [g["schemas"] for g in data["groups"]] == [["public", "user_1", "user_2", "user_4"], ["user_3"]]
    assert all(g["via"] == [data["head"]] for g in data["groups"])

    check = run_cli("check", *db)
    assert check.exit_code == 2
    problems = [line for line in check.stdout.splitlines() if line.startswith("problem:")]
    assert len(problems) == 2 and all("pending: revision(s)" in p for p in problems)  # one line per group
    assert "(user_3): pending" in problems[1]
    allowed = run_cli("check", *db, "--allow-pending")
    assert allowed.exit_code == 0, allowed.stdout

    assert run_cli("apply", *db, "--yes").exit_code == 0
    assert run_cli("status", *db).exit_code == 0
    assert run_cli("check", *db).exit_code == 0

    execute(fresh_db, "ALTER TABLE user_2.marketplace_tasks ADD COLUMN hand_made text")
    assert run_cli("status", *db).exit_code == 4  # unknown
    drifted = run_cli("check", *db, "--allow-pending", "--format", "json")
    assert drifted.exit_code == 2
    result = json.loads(drifted.stdout)
    [problem] = result["problems"]
    assert (
        problem["kind"] == "tenants_unknown" and "(user_2): unknown: the database is at the head" in problem["message"]
    )
    assert [g["state"] for g in result["database"]["groups"]] == ["at_spec", "unknown"]


@dataclass(frozen=True)
class Role:
    name: str
    password: str
    url: str  # of the test's database


@contextmanager
def read_only_role(server_url: str, database_url: str) -> Iterator[Role]:
    """A LOGIN role with a password, nothing granted, whose transactions are read-only
    (``default_transaction_read_only``); dropped at the end."""
    name, password = f"sdtest_ro_{secrets.token_hex(4)}", f"pw-{secrets.token_hex(8)}"
    execute(server_url, f"CREATE ROLE {name} LOGIN PASSWORD '{password}'")
    execute(server_url, f"ALTER ROLE {name} SET default_transaction_read_only = on")
    head, _user, _password, rest = connection.split_userinfo(database_url)
    try:
        yield Role(name, password, f"{head}{name}:{password}@{rest}")
    finally:
        execute(database_url, f"DROP OWNED BY {name}")
        execute(server_url, f"DROP ROLE {name}")


def test_a_read_only_role_is_enough_for_plan_check_and_status(
    fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path
) -> None:
    seed(fresh_db, spec_path, tenants=3)
    project = make_project(tmp_path)
    write_revision(project, spec_path, fresh_db, server_url)
    with read_only_role(server_url, fresh_db) as role:
        plan = run_cli(
            "plan", "--spec", spec_path, "--database-url", role.url, "--dev-url", server_url, "-f", "markdown"
        )
        assert plan.exit_code == 2, plan.stderr
        assert "## schemadiff plan" in plan.stdout and "normalizing the spec in the dev database" in plan.stderr
        db = (
            "--spec",
            spec_path,
            "--database-url",
            role.url,
            "--config",
            project / "alembic.ini",
            "--dev-url",
            server_url,
        )
        check = run_cli("check", *db, "--allow-pending")
        assert check.exit_code == 0, check.stdout + check.stderr
        assert (
            run_cli(
                "apply", "--spec", spec_path, "--database-url", fresh_db, "--config", project / "alembic.ini", "--yes"
            ).exit_code
            == 0
        )
        refused = run_cli("status", *db)
        assert refused.exit_code == 1 and "permission denied for table alembic_version" in refused.stderr
        execute(fresh_db, f"GRANT SELECT ON public.alembic_version TO {role.name}")
        status = run_cli("status", *db)
        assert status.exit_code == 0, status.stdout + status.stderr
        assert run_cli("check", *db).exit_code == 0
        for result in (plan, check, refused, status):
            assert role.password not in result.stdout + result.stderr
