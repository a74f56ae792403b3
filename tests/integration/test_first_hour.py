"""Issue 11, "the first hour": what got in a new user's way, on a real PostgreSQL."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from schemadiff.pg import embedded_server
from schemadiff.spec.schema import load_spec
from schemadiff.workflow import demo

from .helpers import alembic, execute, fingerprints, make_project, query, run_cli, write_revision

HAND_MADE = "ALTER TABLE {}.marketplace_tasks ADD COLUMN hand_made text"
DROPPED = "ALTER TABLE {}.marketplace_tasks DROP COLUMN error_message"


def drifted_after_planning(url: str, spec: Path, server_url: str, project: Path) -> dict[str, str]:
    """Six tenants planned in one state, then three drift in two ways (a column added by hand on two,
    one dropped on a third); the fingerprints: the planned start, and each drifted state."""
    demo.seed_previous_state(url, load_spec(spec), tenants=6, rows=3, ignored=(), hand_fixed=None)
    write_revision(project, spec, url, server_url)
    start = fingerprints(url, spec)["user_1"]
    execute(url, HAND_MADE.format("user_3"), HAND_MADE.format("user_4"), DROPPED.format("user_5"))
    now = fingerprints(url, spec)
    assert now["user_3"] == now["user_4"] != now["user_5"] != start
    return {"start": start, "hand_made": now["user_3"], "dropped": now["user_5"]}


def assert_grouped_with_the_nearest_state_first(text: str, fp: dict[str, str]) -> None:
    lines = text.splitlines()
    first = lines.index(f"  2 schema(s) in state {fp['hand_made']}: user_3, user_4")
    assert lines[first + 1] == (
        f"    nearest known state: {fp['start']}, the starting state of group 1; "
        "to match it: drop column marketplace_tasks.hand_made"
    )
    assert lines[first + 2] == "    to match the spec: 8 change(s) (`schemadiff plan` lists them)"
    second = lines.index(f"  1 schema(s) in state {fp['dropped']}: user_5")
    assert lines[second + 1] == (
        f"    nearest known state: {fp['start']}, the starting state of group 1; "
        "to match it: add column marketplace_tasks.error_message text"
    )
    assert "Traceback" not in text


def nothing_changed(url: str, spec: Path, before: dict[str, str]) -> None:
    assert fingerprints(url, spec) == before
    assert query(url, "SELECT count(*) FROM public.alembic_version")[0][0] == 0


def test_unknown_states_stop_grouped_by_state_under_schemadiff_apply_and_plain_alembic(
    fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path
) -> None:
    project = make_project(tmp_path)
    fp = drifted_after_planning(fresh_db, spec_path, server_url, project)
    before = fingerprints(fresh_db, spec_path)
    applied = run_cli(
        "apply", "--spec", spec_path, "--database-url", fresh_db, "--config", project / "alembic.ini", "--yes"
    )
    assert applied.exit_code == 1
    said = applied.stdout + applied.stderr
    assert re.search(
        r"^error: 3 schema\(s\) in 2 state\(s\) that revision \w+ does not know; nothing was changed:$", said, re.M
    )
    assert_grouped_with_the_nearest_state_first(said, fp)
    assert said.strip().splitlines()[-1].startswith("To go on: plan a revision that knows these states")
    assert "REFUSED" not in said and "deletes_data" not in said  # the plan of states it will not run is not checked
    nothing_changed(fresh_db, spec_path, before)

    plain = alembic(project, fresh_db, "upgrade", "head")
    assert plain.returncode != 0
    assert_grouped_with_the_nearest_state_first(plain.stderr, fp)
    [failed] = [line for line in plain.stdout.splitlines() if line.startswith("FAILED:")]
    assert re.fullmatch(
        r"FAILED: 3 schema\(s\) in 2 state\(s\) that revision \w+ does not know; nothing was changed "
        r"\(listed above\)\. To go on: plan a revision that knows these states .*",
        failed,
    )
    assert "Traceback" not in plain.stdout + plain.stderr
    nothing_changed(fresh_db, spec_path, before)


def test_init_starts_no_server_and_plan_m_stops_the_one_it_started_for_its_proof(
    fresh_db: str, spec_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    home = tmp_path / ".schemadiff"
    assert run_cli("init").exit_code == 0
    assert not home.exists()  # no server, not even a data directory
    demo.seed_previous_state(fresh_db, load_spec(spec_path), tenants=2, rows=1, ignored=(), hand_fixed=None)
    planned = run_cli("plan", "--spec", spec_path, "--database-url", fresh_db, "-m", "first")  # no --dev-url
    assert planned.exit_code == 2, planned.stderr
    assert "validated 1 group(s) with migra" in planned.stderr  # proved on the embedded server here
    assert (home / "pgdata" / "PG_VERSION").exists()
    assert not (home / "pgdata" / "postmaster.pid").exists() and embedded_server.running_url(home) is None

    running = embedded_server.server_url(home)  # a server already running stays running
    try:
        other = make_project(tmp_path / "other")
        again = run_cli(
            "plan", "--spec", spec_path, "--database-url", fresh_db, "--config", other / "alembic.ini", "-m", "second"
        )
        assert again.exit_code == 2, again.stderr
        assert embedded_server.running_url(home) == running
    finally:
        embedded_server.stop(home)


def server_log_problems(home: Path) -> list[str]:
    text = embedded_server.log_file(home).read_text()
    return [line for line in text.splitlines() if re.search(r"\b(ERROR|FATAL|PANIC):", line)]


def test_the_demo_and_a_plain_cycle_leave_no_error_in_the_server_log(
    spec_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The original requirement's check: no errors in PostgreSQL's logs. The demo's whole cycle on a
    server of its own (a fresh data directory), then plan -m, apply, rollback and plain Alembic."""
    monkeypatch.chdir(tmp_path)
    for name in ("SCHEMADIFF_DATABASE_URL", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / ".schemadiff"
    try:
        shown = run_cli("demo", "--spec", spec_path)
        assert shown.exit_code == 0, shown.stdout + shown.stderr
        assert ":@" not in shown.stdout + shown.stderr and "postgres@" in shown.stdout  # no empty password shown
        assert "/?" not in shown.stderr  # no progress bar of an unknown total
        assert server_log_problems(home) == []

        url = embedded_server.running_url(home, database=demo.DEMO_DATABASE)
        assert url is not None
        project = make_project(tmp_path / "plain")
        ini = project / "alembic.ini"
        assert (
            run_cli("plan", "--spec", spec_path, "--database-url", url, "--config", ini, "-m", "again").exit_code == 2
        )
        assert run_cli("apply", "--spec", spec_path, "--database-url", url, "--config", ini, "--yes").exit_code == 0
        assert run_cli("rollback", "--database-url", url, "--config", ini, "--yes").exit_code == 0
        assert alembic(project, url, "upgrade", "head").returncode == 0
        assert alembic(project, url, "downgrade", "-1").returncode == 0
        assert server_log_problems(home) == []
    finally:
        embedded_server.stop(home)


def test_no_url_is_shown_with_an_empty_password(fresh_db: str, spec_path: Path, tmp_path: Path) -> None:
    """The embedded server's URLs have an empty password (``postgres:@``): shown as ``postgres@``,
    and a real password as ``:***@``, in every output that names a database."""
    demo.seed_previous_state(fresh_db, load_spec(spec_path), tenants=2, rows=1, ignored=(), hand_fixed=None)
    project = make_project(tmp_path)
    ini = project / "alembic.ini"
    empty = fresh_db if ":@" in fresh_db else re.sub(r"://([^:@/]*)@", r"://\1:@", fresh_db, count=1)
    secret = re.sub(r"://[^@/]*@", "://postgres:s3cret@", empty, count=1)
    outputs = []
    for url in (empty, secret):
        for args in (
            ["plan", "--spec", spec_path, "--database-url", url],
            ["status", "--spec", spec_path, "--database-url", url, "--config", ini],
            ["apply", "--spec", spec_path, "--database-url", url, "--config", ini],  # no terminal: refused, names it
            ["plan", "--spec", spec_path, "--database-url", url.replace("/sdtest", "/nosuch_sdtest")],
        ):
            result = run_cli(*args)
            outputs.append(result.stdout + result.stderr)
    text = "\n".join(outputs)
    assert ":@" not in text and "s3cret" not in text
    assert "postgres@" in text and "postgres:***@" in text
