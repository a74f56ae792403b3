"""Multi-column UNIQUE constraints (``uniques``) on a real PostgreSQL: tenants that lack the
constraint, have it, or have it differently (nullable distinct, deferrable) are planned, proved with
migra, upgraded with ``alembic upgrade head``, converge, and roll back to where they started."""

from __future__ import annotations

from pathlib import Path

from .helpers import alembic, execute, fingerprints, make_project, query, run_cli, write_revision

SPEC = """version: 1
tenants:
  template: public
  pattern: '^user_[0-9]+$'
tables:
  slots:
    columns:
      id: {type: integer, primary_key: true}
      job_id: {type: integer}
      step: {type: integer}
    uniques:
      uq_slots_job_step: {columns: [job_id, step], nulls_not_distinct: true}
"""


def definitions(url: str) -> dict[str, list[str]]:
    rows = query(
        url,
        "SELECT connamespace::regnamespace::text, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conname = 'uq_slots_job_step' ORDER BY 1",
    )
    out: dict[str, list[str]] = {}
    for schema, definition in rows:
        out.setdefault(schema, []).append(definition)
    return out


def test_uniques_round_trip_from_three_starting_states(fresh_db: str, server_url: str, tmp_path: Path) -> None:
    for schema in ("public", "user_1", "user_2"):
        execute(
            fresh_db,
            f"CREATE SCHEMA IF NOT EXISTS {schema}",
            f"CREATE TABLE {schema}.slots (id integer PRIMARY KEY, job_id integer, step integer)",
            f"INSERT INTO {schema}.slots VALUES (1, 1, 1), (2, 1, 2), (3, NULL, 1)",
        )
    execute(
        fresh_db,
        "ALTER TABLE user_1.slots ADD CONSTRAINT uq_slots_job_step UNIQUE NULLS NOT DISTINCT (job_id, step)",
        "ALTER TABLE user_2.slots ADD CONSTRAINT uq_slots_job_step UNIQUE (job_id, step) DEFERRABLE",
    )
    spec = tmp_path / "schema.yaml"
    spec.write_text(SPEC)
    start, start_defs = fingerprints(fresh_db, spec), definitions(fresh_db)
    project = make_project(tmp_path / "project")
    write_revision(project, spec, fresh_db, server_url, "unique job steps")  # proved by migra
    up = alembic(project, fresh_db, "upgrade", "head")
    assert up.returncode == 0, up.stdout + up.stderr
    wanted = ["UNIQUE NULLS NOT DISTINCT (job_id, step)"]
    assert definitions(fresh_db) == {"public": wanted, "user_1": wanted, "user_2": wanted}
    again = run_cli("plan", "--spec", spec, "--database-url", fresh_db, "--dev-url", server_url)
    assert again.exit_code == 0, again.stdout + again.stderr
    down = alembic(project, fresh_db, "downgrade", "-1")
    assert down.returncode == 0, down.stdout + down.stderr
    assert definitions(fresh_db) == start_defs
    assert fingerprints(fresh_db, spec) == start
