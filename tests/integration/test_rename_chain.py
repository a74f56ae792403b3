"""Issue 8 §6.3: chained renames applied on a real PostgreSQL keep every value in the right column."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import alembic, execute, make_project, query, write_revision

SPEC = """version: 1
tenants:
  template: public
  pattern: '^user_[0-9]+$'
tables:
  people:
    columns:
      id: {{type: integer, primary_key: true}}
{columns}"""
V2 = "      name_v2: {type: text, renamed_from: name_v1}\n"
V3 = "      name_v3: {type: text, renamed_from: name_v2}\n"


def values(url: str, schema: str, columns: str) -> list[tuple[object, ...]]:
    return query(url, f"SELECT id, {columns} FROM {schema}.people ORDER BY id")


@pytest.mark.parametrize("columns", [V2 + V3, V3 + V2], ids=["v2 first", "v3 first"])
def test_chained_renames_keep_every_value(fresh_db: str, server_url: str, tmp_path: Path, columns: str) -> None:
    spec = tmp_path / "schema.yaml"
    spec.write_text(SPEC.format(columns=columns))
    for schema in ("public", "user_1"):
        execute(
            fresh_db,
            f"CREATE SCHEMA IF NOT EXISTS {schema}",
            f"CREATE TABLE {schema}.people (id integer PRIMARY KEY, name_v1 text, name_v2 text)",
            f"INSERT INTO {schema}.people VALUES (1, 'first', 'second'), (2, 'uno', 'dos')",
        )
    project = make_project(tmp_path / "project")
    text = write_revision(project, spec, fresh_db, server_url, "rename names").read_text()  # proved with migra
    assert text.index("'name_v2', new_column_name='name_v3'") < text.index("'name_v1', new_column_name='name_v2'")
    up = alembic(project, fresh_db, "upgrade", "head")
    assert up.returncode == 0, up.stderr
    for schema in ("public", "user_1"):
        assert values(fresh_db, schema, "name_v2, name_v3") == [(1, "first", "second"), (2, "uno", "dos")]
    down = alembic(project, fresh_db, "downgrade", "-1")
    assert down.returncode == 0, down.stderr
    for schema in ("public", "user_1"):
        assert values(fresh_db, schema, "name_v1, name_v2") == [(1, "first", "second"), (2, "uno", "dos")]
