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


CARRY_SPEC = """version: 1
tenants:
  template: public
  pattern: '^user_[0-9]+$'
tables:
  jobs:
    renamed_from: jobs_old
    columns:
      id: {type: integer, identity: true, primary_key: true}
      name: {type: text, nullable: false, unique: true}
      parent: {type: integer, references: jobs.id}
      during: {type: tsrange}
    checks:
      jobs_name_check: "name <> ''"
    exclusions:
      jobs_during_excl: {elements: [{column: during, operator: "&&"}]}
    indexes:
      jobs_lower_idx: {expressions: [lower(name)]}
  tasks:
    columns:
      id: {type: integer, primary_key: true}
      job_id: {type: integer, references: jobs.id}
"""
JOBS = (  # every dependent name left to PostgreSQL
    "CREATE TABLE {s}.{t} (id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name text NOT NULL UNIQUE "
    "CHECK (name <> ''), parent integer REFERENCES {s}.{t}(id), during tsrange, EXCLUDE USING gist (during WITH &&))",
    "CREATE INDEX ON {s}.{t} (lower(name))",
    "CREATE TABLE {s}.tasks (id integer PRIMARY KEY, job_id integer REFERENCES {s}.{t}(id))",
    "INSERT INTO {s}.{t} (name) VALUES ('first'), ('second')",
    "INSERT INTO {s}.tasks VALUES (1, 2)",
)
CARRY_STATES = {
    "public": "jobs_old",  # not renamed yet
    "user_1": "jobs_old",
    "user_2": "jobs_old",  # then renamed by hand, the table alone
    "user_3": "jobs",  # built as the spec builds it
}


def names(url: str, schema: str) -> list[str]:
    """The schema's relations and constraints, by kind and name (PostgreSQL 18's NOT NULL ones aside, and
    the bookkeeping of a run in the template)."""
    return [
        f"{kind} {name}"
        for kind, name in query(
            url,
            "SELECT c.relkind::text, c.relname::text FROM pg_class c WHERE c.relnamespace = %s::regnamespace "
            "UNION ALL SELECT con.contype::text, con.conname::text FROM pg_constraint con "
            "WHERE con.connamespace = %s::regnamespace AND con.contype <> 'n' ORDER BY 1, 2",
            (schema, schema),
        )
        if not name.startswith(("schemadiff_", "alembic_version"))
    ]


def test_a_rename_carries_the_names_postgresql_derived_from_the_table(
    fresh_db: str, server_url: str, tmp_path: Path, new_database: Callable[..., str]
) -> None:
    spec = tmp_path / "schema.yaml"
    spec.write_text(CARRY_SPEC)
    for schema, table in CARRY_STATES.items():
        execute(fresh_db, f"CREATE SCHEMA IF NOT EXISTS {schema}", *(s.format(s=schema, t=table) for s in JOBS))
    execute(fresh_db, "ALTER TABLE user_2.jobs_old RENAME TO jobs")
    fresh = names(fresh_db, "user_3")
    assert "S jobs_id_seq" in fresh and "i jobs_lower_idx" in fresh and "f jobs_parent_fkey" in fresh
    old = names(fresh_db, "user_1")
    start = fingerprints(fresh_db, spec)
    assert len(set(start.values())) == 3 and start["public"] == start["user_1"]
    before = snapshot(new_database, fresh_db)

    shown = run_cli("plan", "--spec", spec, "--database-url", fresh_db, "--dev-url", server_url)
    assert shown.exit_code == 2, shown.stdout + shown.stderr
    assert shown.stdout.count(". rename table jobs_old to jobs") == 1  # user_2's table has its name
    for line in (
        "rename constraint jobs_old_parent_fkey on jobs to jobs_parent_fkey",
        "rename constraint jobs_old_during_excl on jobs to jobs_during_excl",
        "rename constraint jobs_old_name_check on jobs to jobs_name_check",
        "rename index jobs_old_lower_idx on jobs to jobs_lower_idx",
        "rename sequence jobs_old_id_seq of jobs.id to jobs_id_seq",
    ):
        assert shown.stdout.count(f". {line}") == 2, line  # both groups: to rename, and renamed by hand
    assert "drop" not in shown.stdout and "tasks_job_id_fkey" not in shown.stdout  # kept: it follows the table

    project = make_project(tmp_path / "project")
    write_revision(project, spec, fresh_db, server_url, "rename jobs")  # each group proved with migra
    up = alembic(project, fresh_db, "upgrade", "head")
    assert up.returncode == 0, up.stderr
    for schema in CARRY_STATES:  # as if built fresh from the spec, rows kept
        assert names(fresh_db, schema) == fresh, schema
        assert query(fresh_db, f"SELECT count(*) FROM {schema}.jobs")[0][0] == 2
    assert query(fresh_db, "INSERT INTO public.jobs (name) VALUES ('third') RETURNING id")[0][0] == 3
    assert len(set(fingerprints(fresh_db, spec).values())) == 1
    again = run_cli("plan", "--spec", spec, "--database-url", fresh_db, "--dev-url", server_url)
    assert again.exit_code == 0, again.stdout

    execute(fresh_db, "DELETE FROM public.jobs WHERE id = 3")
    down = alembic(project, fresh_db, "downgrade", "-1")
    assert down.returncode == 0, down.stderr
    assert names(fresh_db, "user_1") == old and names(fresh_db, "user_3") == fresh
    assert fingerprints(fresh_db, spec) == start
    assert migra_whole(before, fresh_db) == []
