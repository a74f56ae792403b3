"""Issue 10: UNLOGGED and partitioned tables (and partitions) are never planned as if they were plain
tables: a live UNLOGGED table the spec does not declare so is drift, set LOGGED; a live partitioned
table whose spec says nothing of partitions, or a partition whose parent the spec does not manage,
stops the plan with a message naming it and the schemas that hold it."""

from __future__ import annotations

from pathlib import Path

from .helpers import execute, run_cli

SPEC = """version: 1
tenants:
  template: public
  pattern: '^user_[0-9]+$'
tables:
  events:
    columns:
      id: {type: integer}
      at: {type: date}
"""


def seeded(url: str, tmp_path: Path, *create: str) -> Path:
    spec = tmp_path / "schema.yaml"
    spec.write_text(SPEC)
    execute(url, "CREATE TABLE public.events (id integer, at date)", "CREATE SCHEMA user_1", "CREATE SCHEMA user_2")
    execute(url, *create)
    return spec


def test_an_unlogged_table_the_spec_does_not_declare_so_is_set_logged(fresh_db: str, tmp_path: Path) -> None:
    spec = seeded(fresh_db, tmp_path, "CREATE UNLOGGED TABLE user_2.events (id integer, at date)")
    result = run_cli("plan", "--spec", spec, "--database-url", fresh_db)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert "set table events LOGGED (rewritten into the WAL)   [access_exclusive, rewrites_table]" in result.stdout
    assert "ALTER TABLE user_2.events SET LOGGED;" in result.stdout
    assert "2 group(s) with changes; 1 schema(s) already at the spec" in result.stdout  # user_1 lacks it


def test_a_partitioned_table_the_spec_declares_plain_is_refused(fresh_db: str, tmp_path: Path) -> None:
    spec = seeded(fresh_db, tmp_path, "CREATE TABLE user_2.events (id integer, at date) PARTITION BY RANGE (at)")
    result = run_cli("plan", "--spec", spec, "--database-url", fresh_db)
    assert result.exit_code == 1
    assert (
        "plan refused: events is partitioned by RANGE (at), the spec declares it unpartitioned "
        "(in 1 schema(s): user_2). PostgreSQL cannot change a table's partition key in place"
    ) in result.stderr
    assert "create table" not in result.stdout and "drop" not in result.stdout


def test_a_partition_of_a_table_the_spec_does_not_manage_is_refused(fresh_db: str, tmp_path: Path) -> None:
    spec = seeded(
        fresh_db,
        tmp_path,
        "CREATE TABLE user_2.parent (id integer, at date) PARTITION BY RANGE (at)",
        "CREATE TABLE user_2.events PARTITION OF user_2.parent FOR VALUES FROM ('2020-01-01') TO ('2030-01-01')",
    )
    result = run_cli("plan", "--spec", spec, "--database-url", fresh_db)
    assert result.exit_code == 1
    assert "events is a partition of parent in 1 schema(s): user_2" in result.stderr
    assert "create table" not in result.stdout and "drop" not in result.stdout
