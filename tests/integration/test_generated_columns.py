"""Issue 10: a STORED generated column added where a tenant lacks it, kept where it has it, and
dropped and added again (with the index and check using it) where its expression differs; proved
by migra, applied with ``alembic upgrade head``, converged, and rolled back on a real PostgreSQL."""

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
      price: {type: numeric}
      quantity: {type: integer}
      total: {type: numeric, generated: "price * quantity"}
    indexes:
      idx_items_total: {columns: [total]}
    checks:
      ck_items_total: "total >= 0"
"""
LACKS = "CREATE TABLE {s}.items (id integer PRIMARY KEY, price numeric, quantity integer)"
HAS = (
    "CREATE TABLE {s}.items (id integer PRIMARY KEY, price numeric, quantity integer, "
    "total numeric GENERATED ALWAYS AS ({expression}) STORED CONSTRAINT ck_items_total CHECK (total >= 0))"
)
INDEX = "CREATE INDEX idx_items_total ON {s}.items (total)"
STATES = {
    "public": (LACKS,),
    "user_1": (LACKS,),
    "user_2": (HAS.format(s="{s}", expression="price * quantity"), INDEX),  # has it
    "user_3": (HAS.format(s="{s}", expression="price * 2"), INDEX),  # has it with another expression
}


def totals(url: str, schema: str) -> list[tuple[object, ...]]:
    return query(url, f"SELECT id, total::text FROM {schema}.items ORDER BY id")


def dependents(url: str, schema: str) -> list[str]:
    sql = (
        "SELECT relname FROM pg_class WHERE oid = %s::regclass "
        "UNION ALL SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'c'"
    )
    return [r[0] for r in query(url, sql, (f"{schema}.idx_items_total", f"{schema}.items"))]


def test_generated_column_round_trip(
    fresh_db: str, server_url: str, tmp_path: Path, new_database: Callable[..., str]
) -> None:
    spec = tmp_path / "schema.yaml"
    spec.write_text(SPEC)
    for schema, statements in STATES.items():
        execute(fresh_db, f"CREATE SCHEMA IF NOT EXISTS {schema}", *(s.format(s=schema) for s in statements))
        execute(fresh_db, f"INSERT INTO {schema}.items (id, price, quantity) VALUES (1, 2.5, 4), (2, 10, 3)")
    start = fingerprints(fresh_db, spec)
    assert len(set(start.values())) == 3
    assert totals(fresh_db, "user_3") == [(1, "5.0"), (2, "20")]
    before = snapshot(new_database, fresh_db)
    project = make_project(tmp_path / "project")
    text = write_revision(project, spec, fresh_db, server_url, "item totals").read_text()  # proved with migra
    assert "GENERATED ALWAYS AS ((price * (quantity)::numeric)) STORED [rewrites_table, access_exclusive]" in text
    assert "replace generated column items.total" in text and "nothing is lost" in text
    up = alembic(project, fresh_db, "upgrade", "head")
    assert up.returncode == 0, up.stderr
    for schema in STATES:
        assert totals(fresh_db, schema) == [(1, "10.0"), (2, "30")]
        assert dependents(fresh_db, schema) == ["idx_items_total", "ck_items_total"]
    assert len(set(fingerprints(fresh_db, spec).values())) == 1
    assert run_cli("plan", "--spec", spec, "--database-url", fresh_db).exit_code == 0
    down = alembic(project, fresh_db, "downgrade", "-1")
    assert down.returncode == 0, down.stderr
    assert fingerprints(fresh_db, spec) == start
    assert totals(fresh_db, "user_3") == [(1, "5.0"), (2, "20")]
    assert dependents(fresh_db, "user_3") == ["idx_items_total", "ck_items_total"]
    assert migra_whole(before, fresh_db) == []
