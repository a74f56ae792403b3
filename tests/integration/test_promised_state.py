"""Issue 8 end to end on a real PostgreSQL: an edited revision is caught by the check before each
tenant's COMMIT in both directions (and says what differs), a rollback that would narrow a
widened column fails the tenants whose values do not fit even with ``deletes_data`` allowed, a
drop of an index the spec does not declare carries its hazard, and no connection of schemadiff's
sends two statements in one message."""

from __future__ import annotations

import json
import re
from pathlib import Path

import psycopg
import pytest

from schemadiff.pg import connection
from schemadiff.spec.schema import load_spec
from schemadiff.workflow import demo

from .helpers import alembic, execute, fingerprints, make_project, query, run_cli, write_revision


def _seeded(url: str, spec: Path, tenants: int = 2) -> None:
    demo.seed_previous_state(url, load_spec(spec), tenants=tenants, rows=3, ignored=(), hand_fixed=None)


def _edit(path: Path, function: str, drop_line_with: str) -> None:
    """Remove from ``function`` of the revision file the one line holding ``drop_line_with``, as a
    hand edit after review would."""
    text = path.read_text()
    body = re.search(rf"^def {function}\(\).*?(?=^def |\Z)", text, re.MULTILINE | re.DOTALL)
    assert body is not None, function
    lines = body.group(0).splitlines(keepends=True)
    kept = [line for line in lines if drop_line_with not in line]
    assert len(kept) == len(lines) - 1, f"{drop_line_with} is not one line of {function}"
    path.write_text(text.replace(body.group(0), "".join(kept)))


def _ledger(url: str, direction: str) -> list[tuple[str]]:
    return query(url, "SELECT schema_name FROM public.schemadiff_ledger WHERE direction = %s ORDER BY 1", (direction,))


def test_an_edited_upgrade_is_rolled_back_in_every_tenant_and_says_what_is_missing(
    fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path
) -> None:
    _seeded(fresh_db, spec_path)
    before = fingerprints(fresh_db, spec_path)
    project = make_project(tmp_path / "p")
    revision = write_revision(project, spec_path, fresh_db, server_url)
    _edit(revision, "upgrade_group_1", "'ix_marketplace_tasks_step_type'")
    ran = alembic(project, fresh_db, "upgrade", "head")
    out = ran.stdout + ran.stderr
    assert ran.returncode != 0, out
    assert "it still needs: create index ix_marketplace_tasks_step_type" in out
    assert "was the revision edited?" in out
    assert "Traceback" not in out
    assert fingerprints(fresh_db, spec_path) == before  # every tenant rolled back
    assert _ledger(fresh_db, "upgrade") == []


def test_an_edited_downgrade_is_rolled_back_and_says_what_is_missing(
    fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path
) -> None:
    _seeded(fresh_db, spec_path)
    project = make_project(tmp_path / "p")
    revision = write_revision(project, spec_path, fresh_db, server_url)
    applied = alembic(project, fresh_db, "upgrade", "head")
    assert applied.returncode == 0, applied.stderr
    at_target = fingerprints(fresh_db, spec_path)
    upgraded = _ledger(fresh_db, "upgrade")
    _edit(revision, "downgrade_group_1", "op.drop_column('marketplace_tasks', 'side_effects')")
    ran = alembic(project, fresh_db, "downgrade", "-1")
    out = ran.stdout + ran.stderr
    assert ran.returncode != 0, out
    # the tenant keeps the column the edited downgrade no longer drops: the start does not have it
    assert "it still needs: drop column marketplace_tasks.side_effects" in out
    assert fingerprints(fresh_db, spec_path) == at_target
    assert _ledger(fresh_db, "upgrade") == upgraded and _ledger(fresh_db, "downgrade") == []


WIDENED = """\
version: 1
tenants: {template: public, pattern: '^user_[0-9]+$'}
tables:
  t:
    columns:
      id: {type: integer, primary_key: true}
      a: {type: varchar(100)}
"""


def test_rolling_back_a_widening_never_cuts_values_even_when_deletes_data_is_allowed(
    fresh_db: str, server_url: str, tmp_path: Path
) -> None:
    spec = tmp_path / "schema.yaml"
    spec.write_text(WIDENED)
    for schema in ("public", "user_1", "user_2"):
        execute(
            fresh_db,
            f"CREATE SCHEMA IF NOT EXISTS {schema}",
            f"CREATE TABLE {schema}.t (id integer PRIMARY KEY, a varchar(20))",
            f"INSERT INTO {schema}.t VALUES (1, 'short')",
        )
    project = make_project(tmp_path / "p")
    write_revision(project, spec, fresh_db, server_url, "widen t.a")
    config = project / "alembic.ini"
    up = run_cli("apply", "--spec", spec, "--database-url", fresh_db, "--config", config, "--yes")
    assert up.exit_code == 0, up.stdout + up.stderr
    execute(fresh_db, "INSERT INTO user_1.t VALUES (2, repeat('x', 60)), (3, repeat('y', 90))")  # written since
    shown = run_cli("rollback", "--database-url", fresh_db, "--config", config, "--dry-run", "--format", "json")
    assert shown.exit_code == 0, shown.stdout + shown.stderr
    assert "fails_on_existing_rows" in json.loads(shown.stdout)["hazards"]
    down = run_cli("rollback", "--database-url", fresh_db, "--config", config, "--yes", "--allow", "deletes_data")
    assert down.exit_code != 0
    assert "2 row(s) of t.a do not fit character varying(20)" in down.stdout + down.stderr
    assert query(fresh_db, "SELECT id, length(a) FROM user_1.t ORDER BY id") == [(1, 5), (2, 60), (3, 90)]
    assert query(
        fresh_db,
        "SELECT table_schema, character_maximum_length FROM information_schema.columns "
        "WHERE table_name = 't' AND column_name = 'a' ORDER BY 1",
    ) == [("public", 20), ("user_1", 100), ("user_2", 20)]  # the others went back; user_1 kept every value


def test_dropping_an_index_the_spec_does_not_declare_carries_its_hazard(fresh_db: str, tmp_path: Path) -> None:
    spec = tmp_path / "schema.yaml"
    spec.write_text(WIDENED.replace("varchar(100)", "varchar(20)"))
    for schema in ("public", "user_1"):
        execute(
            fresh_db,
            f"CREATE SCHEMA IF NOT EXISTS {schema}",
            f"CREATE TABLE {schema}.t (id integer PRIMARY KEY, a varchar(20))",
            f"CREATE INDEX t_a_by_hand ON {schema}.t (a)",
        )
    plan = run_cli("plan", "--spec", spec, "--database-url", fresh_db, "--format", "json")
    assert plan.exit_code == 2, plan.stdout + plan.stderr
    data = json.loads(plan.stdout)
    [finding] = data["hazard_findings"]
    assert (finding["hazard"], finding["name"], finding["refused"]) == ("drops_index", "t_a_by_hand", False)
    assert finding["schemas"] == ["public", "user_1"]


@pytest.mark.parametrize("script", ["SELECT 1; SELECT 2", "SELECT 1; DROP TABLE public.victim"])
def test_a_schemadiff_connection_refuses_two_statements_in_one_message(fresh_db: str, script: str) -> None:
    execute(fresh_db, "CREATE TABLE public.victim (id int)")
    with connection.connect(fresh_db, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.SyntaxError, match="multiple commands"):
            conn.execute(script)
        assert conn.execute("SELECT 42").fetchone() == (42,)
    assert query(fresh_db, "SELECT count(*) FROM public.victim") == [(0,)]


def test_plan_reads_the_catalog_in_a_read_only_snapshot_even_for_a_role_that_may_write(
    fresh_db: str, spec_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The role here is a superuser whose transactions are writable by default: the read-only
    snapshot is schemadiff's own doing, asked inside the transaction that reads every tenant."""
    from schemadiff.workflow import planning

    _seeded(fresh_db, spec_path)
    seen: list[tuple[str, str]] = []
    original = planning.list_tenants

    def observed(conn: psycopg.Connection, template: str, pattern: str) -> list[str]:
        found = original(conn, template, pattern)
        [(read_only,)] = conn.execute("SHOW transaction_read_only").fetchall()
        [(isolation,)] = conn.execute("SHOW transaction_isolation").fetchall()
        seen.append((read_only, isolation))
        return found

    monkeypatch.setattr(planning, "list_tenants", observed)
    assert query(fresh_db, "SHOW default_transaction_read_only") == [("off",)]
    with connection.connect(fresh_db) as conn:  # as make_plan opens it
        schemas, tenants = planning.read_tenants(conn, load_spec(spec_path))
    assert seen == [("on", "repeatable read")]
    assert len(schemas) == 3 and set(tenants.models) == set(schemas)
