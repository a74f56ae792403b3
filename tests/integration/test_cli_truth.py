"""The command line tells the truth: exit codes (0 done / nothing to do, 1 error or refusal, 2 only
"plan found changes"), option values checked before anything runs, "nothing to do" said without
asking, passwords never shown, and no test database left behind."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from schemadiff.cli.run_commands import pg_duration
from schemadiff.pg import embedded_server as embedded
from schemadiff.spec.schema import load_spec
from schemadiff.workflow import demo
from tests.databases import SESSION_PREFIX, leftover_databases

from .helpers import alembic, execute, make_project, query, run_cli, write_revision

NOWHERE = "postgresql://nobody@127.0.0.1:1/x"  # nothing listens on port 1: connecting would fail differently
ROOT = Path(__file__).resolve().parents[2]


def flat(text: str) -> str:
    """Click's error text without rich's box and line wrapping."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


USAGE_ERRORS: list[tuple[str, ...]] = [
    *[(command, "--bogus") for command in ("plan", "apply", "rollback", "status", "validate", "init", "demo", "check")],
    *[
        (command, "--spec") for command in ("plan", "apply", "status", "validate", "check")
    ],  # an option without its value
    ("rollback", "--config"),
    ("plan", "--format", "banana"),
    ("check", "--format", "markdown"),
    ("status", "--format", "sql"),
    ("apply", "--workers", "abc"),
    ("apply", "--workers", "0"),
    ("apply", "--workers", "65"),
    ("rollback", "--workers", "abc"),
    ("rollback", "--workers", "0"),
    ("rollback", "--steps", "0"),
    ("apply", "--lock-wait", "-1"),
    ("rollback", "--lock-wait", "soon"),
    ("nosuch",),
    ("db", "--bogus"),
    ("db", "url", "--bogus"),
    ("db", "nosuch"),
]


@pytest.mark.parametrize("args", USAGE_ERRORS, ids=" ".join)
def test_a_usage_error_exits_1_not_2(args: tuple[str, ...], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedded, "server_url", _no_server)
    url = ("--database-url", NOWHERE) if args[0] in ("apply", "rollback", "plan", "status") else ()
    result = run_cli(args[0], *url, *args[1:])
    assert result.exit_code == 1, result.stdout + result.stderr
    assert "Error" in result.stderr and "cannot connect" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("db", "--help"),
        *[
            (c, "--help")
            for c in ("plan", "apply", "rollback", "status", "validate", "init", "demo", "spec-schema", "check")
        ],
    ],
    ids=" ".join,
)
def test_help_exits_0(args: tuple[str, ...]) -> None:
    result = run_cli(*args)
    assert result.exit_code == 0 and "Usage:" in result.stdout


def test_the_installed_entry_point_maps_usage_errors_too() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "schemadiff.cli", "apply", "--workers", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    assert "Invalid value for '--workers'" in flat(done.stderr)


def _no_server(*_args: object, **_kwargs: object) -> str:
    raise AssertionError("the embedded server was started")


@pytest.mark.parametrize(
    "option,value",
    [
        ("--lock-timeout", "banana"),
        ("--statement-timeout", "5 parsecs"),
        ("--lock-timeout", "-1s"),
        ("--lock-timeout", "1.5s"),
        ("--statement-timeout", "25d"),
    ],
)
@pytest.mark.parametrize("command", ["apply", "rollback"])
def test_a_bad_duration_fails_at_once_without_connecting(
    command: str, option: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedded, "server_url", _no_server)
    result = run_cli(command, "--database-url", NOWHERE, option, value, "--yes")
    assert result.exit_code == 1
    shown = flat(result.stderr)
    assert (
        f"Invalid value for '{option}': '{value}' is not a PostgreSQL duration; use an integer with an "
        "optional unit us, ms, s, min, h or d" in shown
    )
    assert "cannot connect" not in shown


@pytest.mark.parametrize("value", ["0", "2s", "500ms", "1500us", "5min", "1h", "24d", "3000", "10 s"])
def test_every_accepted_duration_is_one_postgresql_accepts(value: str, server_url: str) -> None:
    assert pg_duration(value) == value
    with psycopg.connect(server_url) as conn:
        conn.execute(
            "SELECT set_config('lock_timeout', %s, true), set_config('statement_timeout', %s, true)", (value, value)
        )


def test_a_plan_with_changes_still_exits_2(fresh_db: str, spec_path: Path) -> None:
    demo.seed_previous_state(fresh_db, load_spec(spec_path), tenants=2, rows=1)
    result = run_cli("plan", "--spec", spec_path, "--database-url", fresh_db)
    assert result.exit_code == 2, result.stderr


def _project_with_revision(fresh_db: str, spec: Path, server_url: str, tmp_path: Path) -> tuple[Path, str]:
    demo.seed_previous_state(fresh_db, load_spec(spec), tenants=2, rows=1)
    project = make_project(tmp_path)
    text = write_revision(project, spec, fresh_db, server_url, "orchestration", "--no-validate").read_text()
    return project / "alembic.ini", text.split("revision = '")[1].split("'")[0]


def test_apply_and_rollback_with_nothing_to_do_exit_0_without_a_terminal(
    fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path
) -> None:
    ini, revision = _project_with_revision(fresh_db, spec_path, server_url, tmp_path)
    common = ("--database-url", fresh_db, "--config", ini)
    never = run_cli("rollback", *common)  # no alembic_version table yet
    assert (never.exit_code, never.stdout) == (0, "nothing to roll back: no revision applied\n"), never.stderr
    refused = run_cli("apply", "--spec", spec_path, *common)  # pending: still asks, and CliRunner has no terminal
    assert refused.exit_code == 1 and "no terminal to confirm on" in refused.stderr
    assert run_cli("apply", "--spec", spec_path, *common, "--yes").exit_code == 0
    idle = run_cli("apply", "--spec", spec_path, *common)
    assert (idle.exit_code, idle.stdout) == (0, f"nothing to do: the database is at head {revision}\n"), idle.stderr
    assert run_cli("rollback", *common, "--yes").exit_code == 0
    assert query(fresh_db, "SELECT count(*) FROM public.alembic_version") == [(0,)]  # the table stays, empty
    again = run_cli("rollback", *common)
    assert (again.exit_code, again.stdout) == (0, "nothing to roll back: no revision applied\n"), again.stderr


def test_apply_at_head_by_plain_alembic_is_nothing_to_do(
    fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path
) -> None:
    ini, revision = _project_with_revision(fresh_db, spec_path, server_url, tmp_path)
    assert alembic(ini.parent, fresh_db, "upgrade", "head").returncode == 0
    idle = run_cli("apply", "--spec", spec_path, "--database-url", fresh_db, "--config", ini)
    assert idle.exit_code == 0 and f"at head {revision}" in idle.stdout


PASSWORD = "Sup3r@s3cret w0rd:xyz/tail9"  # a raw @, a space, a : and a /
FRAGMENTS = ("Sup3r", "s3cret", "w0rd", "xyz", "tail9", "%40")


@pytest.mark.parametrize("password", [PASSWORD, "Sup3r%40s3cret%20w0rd%3Axyz%2Ftail9"])
def test_a_failed_connection_shows_no_fragment_of_the_password(password: str, spec_path: Path) -> None:
    url = f"postgresql://sduser:{password}@127.0.0.1:1/db"
    result = run_cli("plan", "--spec", spec_path, "--database-url", url)
    assert result.exit_code == 1
    out = result.stdout + result.stderr
    assert "cannot connect to postgresql://sduser:***@127.0.0.1:1/db" in out, out
    assert [f for f in FRAGMENTS if f in out] == []


def test_the_leftover_check_sees_a_database_this_session_left(server_url: str) -> None:
    name = f"{SESSION_PREFIX}leak_probe"
    execute(server_url, f'CREATE DATABASE "{name}"')
    try:
        assert name in leftover_databases(server_url)
    finally:
        execute(server_url, f'DROP DATABASE "{name}"')
    assert name not in leftover_databases(server_url)
