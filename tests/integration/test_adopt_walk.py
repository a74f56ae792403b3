"""The README's "Adopt it in an afternoon" walk, run as written: the shell block after the
``<!-- adopt-walk -->`` marker, line by line in one shell, in an empty directory holding only the
example's schema.yaml, against the test server (SCHEMADIFF_DATABASE_URL, SCHEMADIFF_DEV_URL)."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.conftest import ROOT, SPEC
from tests.integration.helpers import query, run_cli

MARKER = "<!-- adopt-walk -->"


def walk_commands(readme: Path = ROOT / "README.md") -> list[str]:
    """The command lines of the shell block right after the marker (comment-only lines left out)."""
    text = readme.read_text()
    assert text.count(MARKER) == 1, f"README.md must hold {MARKER} once"
    block = re.match(r"\s*```sh\n(.*?)\n```", text.split(MARKER, 1)[1], re.DOTALL)
    assert block, f"a ```sh block must follow {MARKER}"
    return [line for line in block.group(1).splitlines() if line.strip() and not line.lstrip().startswith("#")]


def expected_exit(command: str) -> int:
    """``plan`` exits 2 when it found (and wrote) changes; every other step succeeds."""
    return 2 if shlex.split(command, comments=True)[:2] == ["schemadiff", "plan"] else 0


def run_walk(workdir: Path, env: dict[str, str], commands: list[str]) -> tuple[list[int], str]:
    """Every command in one bash (``cd`` carries over); each one's exit code, and everything printed."""
    codes = workdir / "exit-codes"
    script = ["set -u"]
    for i, command in enumerate(commands):
        script += [f"echo '::step {i}: '{shlex.quote(command)}", command, f'echo "$?" >> {shlex.quote(str(codes))}']
    done = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout
    return [int(c) for c in codes.read_text().split()], done.stdout


def schemadiff_on_path(bin_dir: Path) -> str:
    """A ``schemadiff`` command running this Python's schemadiff (the code under test), first on PATH."""
    bin_dir.mkdir()
    shim = bin_dir / "schemadiff"
    shim.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m schemadiff.cli "$@"\n')
    shim.chmod(0o755)
    return f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"


def test_the_readme_names_the_walk_in_order() -> None:
    commands = [shlex.split(c, comments=True) for c in walk_commands()]
    steps = [c[1] for c in commands if c[:1] == ["schemadiff"]]
    order = ["db", "inspect", "models", "plan", "check", "apply", "status", "db"]
    positions = [steps.index(step) for step in order[:-1]] + [len(steps) - 1]
    assert positions == sorted(positions) and steps[-1] == "db", steps
    assert any(c[:1] == ["echo"] and ">>" in c and "schema.yaml" in c for c in commands), "the edit step is shown"


def test_the_readme_walk_runs_as_written(tmp_path: Path, new_database: Callable[..., str], server_url: str) -> None:
    url = new_database("adopt")
    workdir = tmp_path / "clone"
    workdir.mkdir()
    (workdir / "schema.yaml").write_text(SPEC.read_text())  # the clone's example: all `db seed` reads
    env = {
        **os.environ,
        "PATH": schemadiff_on_path(tmp_path / "bin"),
        "SCHEMADIFF_DATABASE_URL": url,
        "SCHEMADIFF_DEV_URL": server_url,
        "COLUMNS": "120",
    }
    env.pop("DATABASE_URL", None)
    commands = walk_commands()
    codes, output = run_walk(workdir, env, commands)

    assert len(codes) == len(commands), output
    for command, code in zip(commands, codes, strict=True):
        assert code == expected_exit(command), f"{command!r} exited {code}:\n{output}"
    adopt = next(p for p in workdir.iterdir() if p.is_dir())  # the walk's own directory
    assert not list(workdir.rglob("pgdata")), "every command used the configured server, none started one"
    assert "step_order" in (adopt / "schema.yaml").read_text()
    assert "step_order: Mapped[int]" in (adopt / "models.py").read_text()
    assert ".schemadiff/" in (adopt / ".gitignore").read_text()
    [revision] = list((adopt / "migrations" / "versions").glob("*.py"))

    status = run_cli("status", "--spec", adopt / "schema.yaml", "--config", adopt / "alembic.ini",
                     "--database-url", url, "--format", "json")  # fmt: skip
    assert status.exit_code == 0, status.stdout + status.stderr
    report = json.loads(status.stdout)
    assert report["at_head"] and report["revision"] == report["head"], report
    assert f"revision = '{report['head']}'" in revision.read_text()
    tenants = [r[0] for r in query(url, "SELECT nspname FROM pg_namespace WHERE nspname ~ '^user_[0-9]+$'")]
    assert len(tenants) >= 3 and "user_7" in tenants
    assert report["verdict"] == "at_spec" and report["counts"] == {
        "at_spec": 1 + len(tenants),
        "pending": 0,
        "unknown": 0,
    }
    with_column = query(
        url,
        "SELECT table_schema FROM information_schema.columns "
        "WHERE table_name = 'marketplace_tasks' AND column_name = 'step_order'",
    )
    assert sorted(r[0] for r in with_column) == sorted(["public", *tenants])


def test_db_seed_fills_only_a_database_without_what_it_creates(fresh_db: str, tmp_path: Path) -> None:
    seeded = run_cli("db", "seed", "--spec", SPEC, "--database-url", fresh_db, "--tenants", "2")
    assert seeded.exit_code == 0, seeded.stdout + seeded.stderr
    assert "public and user_1..user_2" in seeded.stderr
    before = query(fresh_db, "SELECT count(*) FROM user_2.marketplace_tasks")
    again = run_cli("db", "seed", "--spec", SPEC, "--database-url", fresh_db, "--tenants", "2")
    assert again.exit_code == 1
    [line] = again.stderr.splitlines()
    assert line.startswith("error: ") and "already has schema " in line and " …; db seed fills only" in line, line
    assert query(fresh_db, "SELECT count(*) FROM user_2.marketplace_tasks") == before
    other = tmp_path / "other.yaml"
    other.write_text(
        "version: 1\ntenants: {pattern: '^t[0-9]+$'}\ntables:\n  a:\n    columns:\n      id: {type: integer}\n"
    )
    refused = run_cli("db", "seed", "--spec", other, "--database-url", "postgresql://nobody@127.0.0.1:1/none")
    assert refused.exit_code == 1
    assert refused.stderr.splitlines() == [
        f"error: {other} is not the marketplace example (it has no table marketplace_tasks); "
        "seed with --spec pointing at the repository's schema.yaml"
    ]
