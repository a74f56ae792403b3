"""Issue 10: UNLOGGED and partitioned tables (and partitions) are never planned as if they were
plain tables: the plan stops with a message naming them and the schemas that hold them."""

from __future__ import annotations

from pathlib import Path

import pytest

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


@pytest.mark.parametrize(
    "create,what",
    [
        ("CREATE UNLOGGED TABLE user_2.events (id integer, at date)", "UNLOGGED"),
        ("CREATE TABLE user_2.events (id integer, at date) PARTITION BY RANGE (at)", "partitioned"),
        (
            "CREATE TABLE user_2.parent (id integer, at date) PARTITION BY RANGE (at);"
            "CREATE TABLE user_2.events PARTITION OF user_2.parent FOR VALUES FROM ('2020-01-01') TO ('2030-01-01')",
            "a partition",
        ),
    ],
    ids=["unlogged", "partitioned", "partition"],
)
def test_unlogged_and_partitioned_tables_are_refused(fresh_db: str, tmp_path: Path, create: str, what: str) -> None:
    spec = tmp_path / "schema.yaml"
    spec.write_text(SPEC)
    execute(
        fresh_db, "CREATE TABLE public.events (id integer, at date)", "CREATE SCHEMA user_1", "CREATE SCHEMA user_2"
    )
    execute(fresh_db, *create.split(";"))
    result = run_cli("plan", "--spec", spec, "--database-url", fresh_db)
    assert result.exit_code == 1
    assert f"events is {what} in 1 schema(s): user_2" in result.stdout + result.stderr
    assert "create table" not in result.stdout and "drop" not in result.stdout
