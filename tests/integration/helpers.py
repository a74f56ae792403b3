"""Small helpers for integration tests: run the CLI in-process, run SQL on a real database."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from typer.testing import CliRunner

from schemadiff.cli.plan_commands import app


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(*args: str | Path) -> Result:
    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Result(result.exit_code, result.stdout, result.stderr)


def execute(url: str, *statements: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def query(url: str, statement: str, params: Any = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(statement, params).fetchall()


def alembic(project: Path, url: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the real `alembic` command line in ``project`` against ``url``."""
    env = {**os.environ, "SCHEMADIFF_DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(project / "alembic.ini"), *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


ONE_PATIENT_WORKER = ("-x", "workers=1", "-x", "lock_timeout=60s")  # tenants in order, waiting out locks


@contextmanager
def table_locked(url: str, schema: str) -> Iterator[None]:
    """Another session holds ACCESS EXCLUSIVE on ``schema``.marketplace_tasks until the block ends."""
    blocker = psycopg.connect(url)
    try:
        blocker.execute(f"LOCK TABLE {schema}.marketplace_tasks IN ACCESS EXCLUSIVE MODE")
        yield
    finally:
        blocker.close()


def alembic_popen(project: Path, url: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "SCHEMADIFF_DATABASE_URL": url}
    return subprocess.Popen(
        [sys.executable, "-m", "alembic", "-c", str(project / "alembic.ini"), *args],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def make_project(tmp: Path) -> Path:
    from schemadiff.workflow.alembic_env import init_environment

    init_environment(tmp)
    return tmp


def write_revision(
    project: Path, spec: Path, url: str, dev_url: str, message: str = "add task orchestration columns", *extra: str
) -> Path:
    result = run_cli(
        "plan",
        "--spec",
        spec,
        "--database-url",
        url,
        "--config",
        project / "alembic.ini",
        "--dev-url",
        dev_url,
        "-m",
        message,
        *extra,
    )
    assert result.exit_code == 2, result.stdout + result.stderr
    written = re.search(r"^wrote (.+\.py)$", result.stderr, re.MULTILINE)  # two revisions may share a minute
    assert written, result.stderr
    return Path(written.group(1))


def fingerprints(url: str, spec: Path) -> dict[str, str]:
    from schemadiff.core.fingerprint import fingerprint
    from schemadiff.pg import connection as db_mod
    from schemadiff.spec.schema import load_spec
    from schemadiff.workflow.planning import read_tenants

    with db_mod.connect(url) as conn:
        _schemas, tenants = read_tenants(conn, load_spec(spec))
    return {s: fingerprint(m) for s, m in tenants.models.items()}


def rows_digest(url: str, schemas: list[str]) -> dict[str, str]:
    cols = "id, job_id, status, payload, error_message, retry_count, created_at"
    out = {}
    with psycopg.connect(url) as conn:
        for schema in schemas:
            row = conn.execute(
                f"SELECT md5(coalesce(string_agg(({cols})::text, ',' ORDER BY id), '')) "
                f'FROM "{schema}".marketplace_tasks'
            ).fetchone()
            out[schema] = row[0] if row else ""
    return out


def ledger_rows(url: str) -> tuple[int, int]:
    """(rows, schemas) of the ledger; (0, 0) before a run created it (asked first: a query of a
    missing table would write an ERROR line into the server's log at every poll)."""
    if not query(url, "SELECT to_regclass('public.schemadiff_ledger') IS NOT NULL")[0][0]:
        return (0, 0)
    row = query(url, "SELECT count(*), count(DISTINCT schema_name) FROM public.schemadiff_ledger")[0]
    return (int(row[0]), int(row[1]))


def wait_until(condition, timeout: float = 60, proc=None) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"process ended early: {proc.communicate()}")
        time.sleep(0.05)
    raise AssertionError("timed out waiting")
