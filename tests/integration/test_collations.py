"""Issue 10: a column collation (``collation: "C"``) reached from the default collation, kept where
a tenant has it, changed from another collation; the index using the column is rebuilt (its
filenode changes) and the values stay; proved by migra, applied with ``alembic upgrade head``,
converged, and rolled back on a real PostgreSQL."""

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
  items:
    columns:
      id: {type: integer, primary_key: true}
      code: {type: text, collation: "C"}
    indexes:
      idx_items_code: {columns: [code]}
"""
TABLE = "CREATE TABLE {s}.items (id integer PRIMARY KEY, code text{collate})"
INDEX = "CREATE INDEX idx_items_code ON {s}.items (code)"
STATES = {"public": "", "user_1": "", "user_2": ' COLLATE "C"', "user_3": ' COLLATE "POSIX"'}


def collation(url: str, schema: str) -> str:
    sql = (
        "SELECT c.collname FROM pg_attribute a JOIN pg_collation c ON c.oid = a.attcollation "
        "WHERE a.attrelid = %s::regclass AND a.attname = 'code'"
    )
    return str(query(url, sql, (f"{schema}.items",))[0][0])


def index_node(url: str, schema: str) -> int:
    return int(query(url, "SELECT pg_relation_filenode(%s::regclass)", (f"{schema}.idx_items_code",))[0][0])


def test_column_collation_round_trip(
    fresh_db: str, server_url: str, tmp_path: Path, new_database: Callable[..., str]
) -> None:
    spec = tmp_path / "schema.yaml"
    spec.write_text(SPEC)
    for schema, collate in STATES.items():
        execute(
            fresh_db,
            f"CREATE SCHEMA IF NOT EXISTS {schema}",
            TABLE.format(s=schema, collate=collate),
            INDEX.format(s=schema),
            f"INSERT INTO {schema}.items VALUES (1, 'b'), (2, 'B'), (3, 'a')",
        )
    start = fingerprints(fresh_db, spec)
    assert len(set(start.values())) == 3
    nodes = {schema: index_node(fresh_db, schema) for schema in STATES}
    before = snapshot(new_database, fresh_db)
    project = make_project(tmp_path / "project")
    text = write_revision(project, spec, fresh_db, server_url, "codes in C").read_text()  # proved with migra
    assert "alter column items.code: collation default → C, rebuilding idx_items_code" in text
    assert "collation POSIX → C, rebuilding idx_items_code [access_exclusive, blocks_writes]" in text
    up = alembic(project, fresh_db, "upgrade", "head")
    assert up.returncode == 0, up.stderr
    assert {schema: collation(fresh_db, schema) for schema in STATES} == dict.fromkeys(STATES, "C")
    rebuilt = {schema for schema in STATES if index_node(fresh_db, schema) != nodes[schema]}
    assert rebuilt == {"public", "user_1", "user_3"}  # user_2 already had it: untouched
    assert query(fresh_db, "SELECT code FROM user_1.items ORDER BY code") == [("B",), ("a",), ("b",)]
    assert len(set(fingerprints(fresh_db, spec).values())) == 1
    assert run_cli("plan", "--spec", spec, "--database-url", fresh_db).exit_code == 0
    down = alembic(project, fresh_db, "downgrade", "-1")
    assert down.returncode == 0, down.stderr
    assert fingerprints(fresh_db, spec) == start
    assert [collation(fresh_db, s) for s in STATES] == ["default", "default", "C", "POSIX"]
    assert migra_whole(before, fresh_db) == []
