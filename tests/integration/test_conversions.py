"""Issue 10: type conversions the spec spells out (``using`` / ``down_using``) applied and rolled
back on a real PostgreSQL; a change PostgreSQL cannot cast implicitly without them is a plan-time
error at the column that suggests ``using``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .helpers import alembic, execute, fingerprints, make_project, query, run_cli, write_revision
from .test_revision_e2e import migra_whole, snapshot

HEAD = """version: 1
tenants:
  template: public
  pattern: '^user_[0-9]+$'
tables:
  t:
    columns:
      id: {type: integer, primary_key: true}
"""
SPEC = HEAD + (
    "      status: {type: integer, using: \"nullif(trim(status), '')::integer\"}\n"
    '      score: {type: text, down_using: "score::integer"}\n'
)
STATES = {
    "public": "status varchar(20), score integer",  # both converted
    "user_1": "status varchar(20), score integer",
    "user_2": "status integer, score text",  # already converted
    "user_3": "status text, score text",  # status differently typed; score done
    "user_4": "score integer",  # status missing: added
}
ROWS = {"public": "(1, ' 7 ', 3), (2, '', 4)", "user_1": "(1, '12', 5)", "user_3": "(1, '40', '41')"}


def seed(url: str) -> None:
    for schema, columns in STATES.items():
        execute(
            url, f"CREATE SCHEMA IF NOT EXISTS {schema}", f"CREATE TABLE {schema}.t (id integer PRIMARY KEY, {columns})"
        )
        if schema in ROWS:
            execute(url, f"INSERT INTO {schema}.t (id, status, score) VALUES {ROWS[schema]}")


def test_using_and_down_using_round_trip(
    fresh_db: str, server_url: str, tmp_path: Path, new_database: Callable[..., str]
) -> None:
    spec = tmp_path / "schema.yaml"
    spec.write_text(SPEC)
    seed(fresh_db)
    start = fingerprints(fresh_db, spec)
    before = snapshot(new_database, fresh_db)
    project = make_project(tmp_path / "project")
    text = write_revision(project, spec, fresh_db, server_url, "convert", "--allow", "deletes_data").read_text()
    assert "ALTER TABLE t ALTER COLUMN status TYPE integer USING nullif(trim(status), '')::integer" in text
    assert "ALTER TABLE t ALTER COLUMN score TYPE integer USING score::integer" in text  # the downgrade's
    assert "type character varying(20) → integer using nullif(trim(status), '')::integer" in text

    up = alembic(project, fresh_db, "-x", "allow=deletes_data", "upgrade", "head")  # proved with migra first
    assert up.returncode == 0, up.stderr
    assert query(fresh_db, "SELECT id, status, score FROM public.t ORDER BY id") == [(1, 7, "3"), (2, None, "4")]
    assert query(fresh_db, "SELECT id, status, score FROM user_3.t ORDER BY id") == [(1, 40, "41")]
    assert len(set(fingerprints(fresh_db, spec).values())) == 1
    assert run_cli("plan", "--spec", spec, "--database-url", fresh_db).exit_code == 0

    down = alembic(project, fresh_db, "-x", "allow=deletes_data", "downgrade", "-1")
    assert down.returncode == 0, down.stderr
    assert fingerprints(fresh_db, spec) == start
    assert migra_whole(before, fresh_db) == []
    assert query(fresh_db, "SELECT id, status, score FROM user_1.t ORDER BY id") == [(1, "12", 5)]
    assert query(fresh_db, "SELECT id, status, score FROM public.t ORDER BY id") == [(1, "7", 3), (2, None, 4)]


def test_a_change_without_an_implicit_cast_needs_using(fresh_db: str, server_url: str, tmp_path: Path) -> None:
    spec = tmp_path / "schema.yaml"
    spec.write_text(HEAD + "      status: {type: integer}\n      score: {type: text}\n")
    seed(fresh_db)
    result = run_cli("plan", "--spec", spec, "--database-url", fresh_db, "--dev-url", server_url)
    assert result.exit_code == 1
    lines = [line for line in (result.stdout + result.stderr).splitlines() if "implicit cast" in line]
    assert len(lines) == 3, lines  # status from varchar(20) and from text; score's downgrade
    assert any(
        "schema.yaml:9:15: tables.t.columns.status: PostgreSQL has no implicit cast from character varying(20) to "
        'integer; say how to convert with using: (one SQL expression, e.g. using: "status::integer")' in line
        for line in lines
    ), lines
    assert any(
        "tables.t.columns.score: PostgreSQL has no implicit cast from text to integer for the downgrade; "
        "say how to convert with down_using:" in line
        for line in lines
    ), lines
