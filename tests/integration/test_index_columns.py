"""Issue 10: index key columns as PostgreSQL has them (DESC, NULLS, operator class, collation) and
INCLUDE columns, created, replaced and rolled back on a real PostgreSQL, proved by migra."""

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
  tasks:
    columns:
      id: {type: integer, primary_key: true}
      job_id: {type: integer}
      created_at: {type: timestamptz}
      title: {type: text}
      status: {type: text}
    indexes:
      idx_tasks_job_recent:
        columns:
          - job_id
          - {name: created_at, order: desc, nulls: last}
          - {name: title, opclass: text_pattern_ops, collation: "C"}
        include: [status]
"""
TABLE = (
    "CREATE TABLE {s}.tasks (id integer PRIMARY KEY, job_id integer, created_at timestamptz, title text, status text)"
)
WANTED = (
    "CREATE INDEX idx_tasks_job_recent ON {s}.tasks (job_id, created_at DESC NULLS LAST, "
    'title COLLATE "C" text_pattern_ops) INCLUDE (status)'
)
STATES = {
    "public": (TABLE,),  # lacks the index
    "user_1": (TABLE,),
    "user_2": (TABLE, WANTED),  # has it
    "user_3": (TABLE, "CREATE INDEX idx_tasks_job_recent ON {s}.tasks (job_id, created_at)"),  # has it differently
}


def indexdef(url: str, schema: str) -> str:
    return query(url, "SELECT pg_get_indexdef(%s::regclass)", (f"{schema}.idx_tasks_job_recent",))[0][0].replace(
        f"{schema}.", ""
    )


def test_index_columns_round_trip(
    fresh_db: str, server_url: str, tmp_path: Path, new_database: Callable[..., str]
) -> None:
    spec = tmp_path / "schema.yaml"
    spec.write_text(SPEC)
    for schema, statements in STATES.items():
        execute(fresh_db, f"CREATE SCHEMA IF NOT EXISTS {schema}", *(s.format(s=schema) for s in statements))
        execute(fresh_db, f"INSERT INTO {schema}.tasks VALUES (1, 2, now(), 'a', 'new'), (2, 2, NULL, 'b', 'old')")
    start = fingerprints(fresh_db, spec)
    wanted = indexdef(fresh_db, "user_2")
    assert wanted == (
        "CREATE INDEX idx_tasks_job_recent ON tasks USING btree (job_id, created_at DESC NULLS LAST, "
        'title COLLATE "C" text_pattern_ops) INCLUDE (status)'
    )
    before = snapshot(new_database, fresh_db)
    project = make_project(tmp_path / "project")
    text = write_revision(project, spec, fresh_db, server_url, "index columns").read_text()  # proved with migra
    assert "replace index idx_tasks_job_recent on tasks" in text
    up = alembic(project, fresh_db, "upgrade", "head")
    assert up.returncode == 0, up.stderr
    assert {schema: indexdef(fresh_db, schema) for schema in STATES} == dict.fromkeys(STATES, wanted)
    assert len(set(fingerprints(fresh_db, spec).values())) == 1
    assert run_cli("plan", "--spec", spec, "--database-url", fresh_db).exit_code == 0
    down = alembic(project, fresh_db, "downgrade", "-1")
    assert down.returncode == 0, down.stderr
    assert fingerprints(fresh_db, spec) == start
    assert migra_whole(before, fresh_db) == []
