"""Issue 10: a managed table dropped on purpose (``drop: true``): refused as deletes_data unless
allowed, dropped where it exists, and recreated by the downgrade as structure only."""

from __future__ import annotations

from pathlib import Path

from .helpers import alembic, execute, fingerprints, make_project, query, run_cli, write_revision

SPEC = """version: 1
tenants:
  template: public
  pattern: '^user_[0-9]+$'
tables:
  tasks:
    columns:
      id: {type: integer, primary_key: true}
  old_jobs: {drop: true}
"""
STATES = {
    "public": "id integer PRIMARY KEY, name text",  # has it: dropped
    "user_1": "id integer PRIMARY KEY, name text",
    "user_2": None,  # lacks it: nothing to do
    "user_3": "id bigint, note varchar(5)",  # has it differently: dropped too
}


def test_drop_true_round_trip(fresh_db: str, server_url: str, tmp_path: Path) -> None:
    spec = tmp_path / "schema.yaml"
    spec.write_text(SPEC)
    for schema, columns in STATES.items():
        execute(
            fresh_db, f"CREATE SCHEMA IF NOT EXISTS {schema}", f"CREATE TABLE {schema}.tasks (id integer PRIMARY KEY)"
        )
        if columns:
            execute(
                fresh_db,
                f"CREATE TABLE {schema}.old_jobs ({columns})",
                f"INSERT INTO {schema}.old_jobs (id) VALUES (1)",
            )
    start = fingerprints(fresh_db, spec)
    refused = run_cli("plan", "--spec", spec, "--database-url", fresh_db)
    assert refused.exit_code == 1
    assert "drop table old_jobs (its rows are lost: reversing it recreates the structure only)" in refused.stdout
    assert "plan refused: old_jobs (deletes_data) on 2 schema(s): public, user_1" in refused.stdout + refused.stderr
    project = make_project(tmp_path / "project")
    text = write_revision(project, spec, fresh_db, server_url, "drop old jobs", "--allow", "deletes_data").read_text()
    assert "op.drop_table('old_jobs')" in text and "runtime.Loss('old_jobs')" in text

    assert alembic(project, fresh_db, "upgrade", "head").returncode != 0  # the runtime refuses too
    up = alembic(project, fresh_db, "-x", "allow=deletes_data", "upgrade", "head")
    assert up.returncode == 0, up.stderr
    assert query(fresh_db, "SELECT count(*) FROM pg_tables WHERE tablename = 'old_jobs'")[0][0] == 0
    assert len(set(fingerprints(fresh_db, spec).values())) == 1
    assert run_cli("plan", "--spec", spec, "--database-url", fresh_db).exit_code == 0

    down = alembic(project, fresh_db, "downgrade", "-1")
    assert down.returncode == 0, down.stderr
    assert fingerprints(fresh_db, spec) == start  # the structure is back, each schema's own
    assert query(fresh_db, "SELECT count(*) FROM user_1.old_jobs")[0][0] == 0  # its rows are not


def test_a_dropped_table_takes_no_other_key(tmp_path: Path) -> None:
    spec = tmp_path / "schema.yaml"
    spec.write_text(SPEC.replace("{drop: true}", "{drop: true, columns: {id: {type: integer}}}"))
    result = run_cli("validate", "--spec", spec)
    assert result.exit_code == 1
    assert (
        "schema.yaml:9:13: tables.old_jobs: a table with drop: true takes no other key" in result.stdout + result.stderr
    )
