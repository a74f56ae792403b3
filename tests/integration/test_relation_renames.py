"""Issue 10: tables and indexes declared ``renamed_from`` are renamed (never dropped and created) on
a real PostgreSQL, proved by migra, and renamed back by the downgrade; a tenant holding both the old
and the new name is its own group, whose plan says so and drops the old table (deletes_data, refused
unless allowed)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .helpers import alembic, execute, fingerprints, make_project, query, run_cli, write_revision
from .test_revision_e2e import migra_whole, snapshot

SPEC = """version: 1
tenants:
  template: public
  pattern: '^user_[0-9]+$'
tables:
  jobs:
    renamed_from: jobs_old
    columns:
      id: {type: integer, primary_key: true}
      name: {type: text, unique: true}
    indexes:
      idx_jobs_name_lower: {expressions: [lower(name)], renamed_from: idx_jobs_old_name}
"""

OLD = (
    "CREATE TABLE {s}.jobs_old (id integer PRIMARY KEY, name text UNIQUE)",
    "CREATE INDEX idx_jobs_old_name ON {s}.jobs_old (lower(name))",
    "INSERT INTO {s}.jobs_old VALUES (1, 'first'), (2, 'second')",
)
NEW = (
    "CREATE TABLE {s}.jobs (id integer, name text, CONSTRAINT jobs_pkey PRIMARY KEY (id),"
    " CONSTRAINT jobs_name_key UNIQUE (name))",
    "INSERT INTO {s}.jobs VALUES (7, 'seven')",
)
STATES = {
    "public": OLD,  # the old names: renamed
    "user_1": OLD,
    "user_2": (*NEW, "CREATE INDEX idx_jobs_name_lower ON {s}.jobs (lower(name))"),  # already renamed
    "user_3": (*OLD, *NEW),  # both names: its own group, the old table dropped when allowed
    "user_4": (*OLD[:1], "CREATE INDEX idx_jobs_old_name ON {s}.jobs_old (name)", OLD[2]),  # index differs
    "user_5": (),  # neither: created
}


def seed(url: str) -> None:
    for schema, statements in STATES.items():
        execute(url, f"CREATE SCHEMA IF NOT EXISTS {schema}", *(s.format(s=schema) for s in statements))


def relations(url: str, schema: str) -> list[str]:
    return [
        r[0]
        for r in query(
            url,
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'i') AND c.relname LIKE '%%jobs%%' ORDER BY 1",
            (schema,),
        )
    ]


def test_table_and_index_renames_round_trip(
    fresh_db: str, server_url: str, tmp_path: Path, new_database: Callable[..., str]
) -> None:
    spec = tmp_path / "schema.yaml"
    spec.write_text(SPEC)
    seed(fresh_db)
    start = fingerprints(fresh_db, spec)
    assert start["user_3"] not in (start["public"], start["user_2"])  # both names: a state of its own
    before = snapshot(new_database, fresh_db)
    oids = {s: query(fresh_db, f"SELECT '{s}.jobs_old'::regclass::oid")[0][0] for s in ("public", "user_1")}

    shown = run_cli("plan", "--spec", spec, "--database-url", fresh_db, "--dev-url", server_url)
    assert shown.exit_code == 1, shown.stdout + shown.stderr  # refused until deletes_data is allowed
    assert "plan refused: jobs_old (deletes_data) on 1 schema(s): user_3" in shown.stdout + shown.stderr
    assert "rename table jobs_old to jobs" in shown.stdout
    assert "rename constraint jobs_old_pkey on jobs to jobs_pkey" in shown.stdout
    assert "rename constraint jobs_old_name_key on jobs to jobs_name_key" in shown.stdout
    assert "rename index idx_jobs_old_name on jobs to idx_jobs_name_lower" in shown.stdout
    assert shown.stdout.count(". drop table ") == 1 and ". drop table jobs_old" in shown.stdout  # user_3 only
    assert "REFUSED (allow with --allow deletes_data): deletes_data — drop table jobs_old" in shown.stdout
    assert "table jobs_old is not renamed to jobs: both exist" in shown.stdout
    assert "user_3" in shown.stdout.split("Not done")[1]

    project = make_project(tmp_path / "project")
    text = write_revision(project, spec, fresh_db, server_url, "rename jobs", "--allow", "deletes_data").read_text()
    assert "op.rename_table('jobs_old', 'jobs')" in text and "op.rename_table('jobs', 'jobs_old')" in text
    assert "ALTER INDEX idx_jobs_old_name RENAME TO idx_jobs_name_lower" in text
    assert "table jobs_old is not renamed to jobs: both exist" in text

    up = alembic(project, fresh_db, "-x", "allow=deletes_data", "upgrade", "head")  # proved with migra first
    assert up.returncode == 0, up.stderr
    for schema in ("public", "user_1"):  # the same table, rows and all, under its new names
        assert query(fresh_db, f"SELECT '{schema}.jobs'::regclass::oid")[0][0] == oids[schema]
        assert query(fresh_db, f"SELECT id, name FROM {schema}.jobs ORDER BY id") == [(1, "first"), (2, "second")]
        assert relations(fresh_db, schema) == ["idx_jobs_name_lower", "jobs", "jobs_name_key", "jobs_pkey"]
    assert relations(fresh_db, "user_3") == ["idx_jobs_name_lower", "jobs", "jobs_name_key", "jobs_pkey"]
    assert query(fresh_db, "SELECT id, name FROM user_3.jobs") == [(7, "seven")]  # its own jobs untouched
    assert len(set(fingerprints(fresh_db, spec).values())) == 1
    again = run_cli("plan", "--spec", spec, "--database-url", fresh_db, "--dev-url", server_url)
    assert again.exit_code == 0, again.stdout

    down = alembic(project, fresh_db, "-x", "allow=deletes_data", "downgrade", "-1")
    assert down.returncode == 0, down.stderr
    assert fingerprints(fresh_db, spec) == start
    assert migra_whole(before, fresh_db) == []  # user_3's jobs_old is back as structure (its rows are not)
    assert query(fresh_db, "SELECT id, name FROM user_1.jobs_old ORDER BY id") == [(1, "first"), (2, "second")]
