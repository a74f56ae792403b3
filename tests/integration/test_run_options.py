"""A run's settings reach the runtime as one Options record: in Alembic's ``Config.attributes`` when
schemadiff runs Alembic in-process (with the URL, the progress callback and the reports, and
without touching the environment), from ``-x key=value`` and ``SCHEMADIFF_*`` under plain Alembic.

Each tenant's transaction of the probed revision writes the settings it runs under into
``public.seen_settings``, so the tests read what PostgreSQL was told, not what was meant."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from schemadiff.core.options import Options
from schemadiff.spec.schema import load_spec
from schemadiff.workflow import apply, demo
from schemadiff.workflow.alembic_env import alembic_config

from .helpers import alembic, execute, make_project, query, run_cli, write_revision

NOWHERE = "postgresql://nobody@127.0.0.1:1/x"  # nothing listens on port 1: using it would fail
TENANTS = 4
SCHEMAS = ["public"] + [f"user_{i}" for i in range(1, TENANTS + 1)]
PROBE = (
    "INSERT INTO public.seen_settings SELECT current_schema(), pg_backend_pid(), "
    "current_setting('lock_timeout'), current_setting('statement_timeout'), current_setting('synchronous_commit')"
)
HANDED_URL = """    handed = config.attributes.get("schemadiff.database_url")
    if handed:
        return str(handed)
"""


def probed_project(url: str, spec: Path, dev_url: str, tmp_path: Path) -> tuple[Path, str]:
    """Seeded tenants and a project whose revision records, in each tenant's transaction, the
    settings it runs under; the project and the revision id."""
    demo.seed_previous_state(url, load_spec(spec), tenants=TENANTS, rows=1)
    project = make_project(tmp_path)
    path = write_revision(project, spec, url, dev_url, "orchestration", "--no-validate")
    text, groups = re.subn(
        r'(def upgrade_group_\d+\(\) -> None:\n    """[^\n]*"""\n)',
        lambda m: f"{m[1]}    op.execute(runtime.verbatim({PROBE!r}))\n",
        path.read_text(),
    )
    assert groups >= 1
    path.write_text(text)
    execute(
        url,
        "CREATE TABLE public.seen_settings (schema_name text, pid int, lock_timeout text, "
        "statement_timeout text, synchronous_commit text)",
    )
    return project, text.split("revision = '")[1].split("'")[0]


def seen(url: str) -> list[tuple[str, int, str, str, str]]:
    return [tuple(r) for r in query(url, "SELECT * FROM public.seen_settings ORDER BY schema_name")]  # type: ignore[misc]


def test_an_apply_hands_its_options_to_the_runtime_in_config_attributes_not_the_environment(
    fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, revision = probed_project(fresh_db, spec_path, server_url, tmp_path)
    monkeypatch.setenv("SCHEMADIFF_DATABASE_URL", NOWHERE)  # the URL reaches env.py in the attributes
    monkeypatch.setenv("SCHEMADIFF_LOCK_TIMEOUT", "9s")  # the record is the whole truth: not read
    monkeypatch.setenv("SCHEMADIFF_WORKERS", "3")
    cfg = alembic_config(project / "alembic.ini")
    options = Options(workers=1, lock_timeout="1500ms", statement_timeout="7s", synchronous_commit="local")
    before = dict(os.environ)
    during: list[dict[str, str]] = []

    def reporter(schema: str, done: int, total: int) -> None:
        during.append(dict(os.environ))

    outcome = apply.upgrade(cfg, fresh_db, load_spec(spec_path), options, reporter)

    rows = seen(fresh_db)
    assert [r[0] for r in rows] == SCHEMAS
    assert {r[2:] for r in rows} == {("1500ms", "7s", "local")}
    assert len({r[1] for r in rows if r[0] != "public"}) == 1  # one worker connection for the tenants
    assert outcome.converged and [r.revision for r in outcome.reports] == [revision]
    assert sorted(outcome.reports[0].applied) == SCHEMAS
    assert len(during) == len(SCHEMAS) and all(env == before for env in during)  # never changed, not even briefly
    assert dict(os.environ) == before
    assert not [key for key in cfg.attributes if key.startswith("schemadiff.")]  # nothing left for a later run


def test_an_env_py_written_before_still_gets_the_url_schemadiff_resolved(
    fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Projects keep the env.py an older ``schemadiff init`` wrote: it reads SCHEMADIFF_DATABASE_URL
    only, so for it schemadiff sets the variable while Alembic runs, and puts it back."""
    project, _ = probed_project(fresh_db, spec_path, server_url, tmp_path)
    env_py = project / "migrations" / "env.py"
    assert HANDED_URL in env_py.read_text()
    env_py.write_text(env_py.read_text().replace(HANDED_URL, ""))
    monkeypatch.setenv("SCHEMADIFF_DATABASE_URL", NOWHERE)
    common = ("--database-url", fresh_db, "--config", project / "alembic.ini", "--yes")
    applied = run_cli("apply", "--spec", spec_path, *common, "--workers", "1", "--lock-timeout", "1500ms")
    assert applied.exit_code == 0, applied.stderr
    assert "5 applied, 0 skipped, 0 failed" in applied.stdout
    assert {r[2:] for r in seen(fresh_db)} == {("1500ms", "0", "off")}
    assert os.environ["SCHEMADIFF_DATABASE_URL"] == NOWHERE
    back = run_cli("rollback", *common)
    assert back.exit_code == 0, back.stderr
    assert os.environ["SCHEMADIFF_DATABASE_URL"] == NOWHERE


def test_plain_alembic_reads_x_arguments_then_the_environment_into_the_same_record(
    fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project, _ = probed_project(fresh_db, spec_path, server_url, tmp_path)
    monkeypatch.setenv("SCHEMADIFF_LOCK_TIMEOUT", "9s")  # -x comes first
    monkeypatch.setenv("SCHEMADIFF_STATEMENT_TIMEOUT", "7s")
    up = alembic(project, fresh_db, "-x", "workers=2", "-x", "lock_timeout=1500ms", "upgrade", "head")
    assert up.returncode == 0, up.stderr
    assert "schemadiff: upgrade" in up.stderr and "5 schema(s) changed" in up.stderr
    rows = seen(fresh_db)
    assert [r[0] for r in rows] == SCHEMAS
    assert {r[2:] for r in rows} == {("1500ms", "7s", "off")}
    assert len({r[1] for r in rows if r[0] != "public"}) <= 2


@pytest.mark.parametrize(
    "x,environ,expected",
    [
        (("-x", "workers=abc"), {}, "bad schemadiff option: workers='abc' is not an integer from 1 to 64"),
        ((), {"SCHEMADIFF_LOCK_WAIT": "soon"}, "bad schemadiff option: lock_wait='soon' is not a number of seconds"),
    ],
)
def test_plain_alembic_with_a_bad_option_fails_with_one_line_before_any_change(
    x: tuple[str, ...],
    environ: dict[str, str],
    expected: str,
    fresh_db: str,
    spec_path: Path,
    server_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    project, _ = probed_project(fresh_db, spec_path, server_url, tmp_path)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    up = alembic(project, fresh_db, *x, "upgrade", "head")
    assert up.returncode != 0
    [said] = (up.stdout + up.stderr).strip().splitlines()  # one line, no traceback
    assert said.startswith(f"FAILED: {expected}"), said  # Alembic's own form for a command's error
    assert seen(fresh_db) == []
    assert query(fresh_db, "SELECT to_regclass('public.schemadiff_ledger') IS NULL")[0][0] is True


def test_apply_hands_the_allowed_hazards_to_the_runtime(
    fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path
) -> None:
    """``apply --allow deletes_data`` for a column that holds data: the policy lets it through, and
    so does the runtime's own check of the data it would delete (before, the runtime never heard of
    --allow and refused, asking for the very flag that was given)."""
    demo.seed_previous_state(fresh_db, load_spec(spec_path), tenants=2, rows=1)
    schemas = ["public", "user_1", "user_2"]
    execute(fresh_db, *[f"ALTER TABLE {s}.marketplace_tasks ADD COLUMN legacy_note text" for s in schemas])
    execute(fresh_db, "UPDATE user_2.marketplace_tasks SET legacy_note = 'written by hand'")
    project = make_project(tmp_path)
    write_revision(project, spec_path, fresh_db, server_url, "drop the legacy note", "--allow", "deletes_data")
    common = ("--spec", spec_path, "--database-url", fresh_db, "--config", project / "alembic.ini", "--yes")
    refused = run_cli("apply", *common)
    assert refused.exit_code == 1 and "re-run with --allow deletes_data" in refused.stderr
    applied = run_cli("apply", *common, "--allow", "deletes_data")
    assert applied.exit_code == 0, applied.stderr
    assert (
        query(fresh_db, "SELECT count(*) FROM information_schema.columns WHERE column_name = 'legacy_note'")[0][0] == 0
    )
