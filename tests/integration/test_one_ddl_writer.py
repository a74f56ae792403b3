"""Issue 9: one DDL writer. The spec's tables are normalized, seeded and created by the same op code
(``CreateTable`` over ``spec.to_model``). An event trigger reports every DDL statement PostgreSQL
actually runs, so the tests compare what the server received, not what a function returns."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from schemadiff.core.ops import AddColumn, CreateTable
from schemadiff.pg import connection
from schemadiff.pg.introspect import introspect
from schemadiff.pg.normalize import normalize_in
from schemadiff.spec.schema import LoadedSpec, load_spec
from schemadiff.spec.to_model import column_model, spec_model
from schemadiff.workflow import demo

from .helpers import execute, query

EVERY_FEATURE = """\
version: 1
tenants: {pattern: '^user_[0-9]+$'}
tables:
  orders:
    comment: "Orders; it's a table with every feature"
    columns:
      id:            {type: bigint, primary_key: true, identity: true}
      order:         {type: integer, nullable: false, default: 1, comment: a keyword as a name}
      Status Code:
        type: varchar(20)
        nullable: false
        default: new
        enum: [new, "it's done"]
        comment: "quoted name, quoted value"
      price:         {type: 'numeric(10, 2)', default: 9.5}
      ratio:         {type: double precision, default: .inf}
      active:        {type: boolean, default: true}
      meta:          {type: jsonb, default: {a: 1, b: [true, null]}}
      tags:          {type: 'text[]', default_sql: "ARRAY['x']::text[]"}
      created_at:    {type: timestamptz, nullable: false, default_sql: now()}
      code:          {type: varchar(10), unique: true}
      note:          {type: text, comment: ""}
    checks:
      positive_order: '"order" > 0 AND price >= 0'
    indexes:
      orders_active_code: {columns: [code], unique: true, where: active}
      orders_lower_note:  {expressions: [lower(note), "coalesce(price, 0)"]}
      orders_meta:        {columns: [meta], using: gin}
      orders_code_hash:   {columns: [code], using: hash}
      orders_mixed:       {columns: [Status Code, order], expressions: ["(meta ->> 'a')"]}
  line_items:
    columns:
      order_id: {type: bigint}
      line:     {type: smallint}
      amount:   {type: 'numeric(12, 2)', nullable: false, default: 0}
    primary_key: [order_id, line]
"""


@pytest.fixture
def every_feature(tmp_path: Path) -> Path:
    path = tmp_path / "schema.yaml"
    path.write_text(EVERY_FEATURE)
    return path


LOGGER = (
    "CREATE SCHEMA ddl_log",
    "CREATE TABLE ddl_log.statements (n serial PRIMARY KEY, query text NOT NULL)",
    "CREATE FUNCTION ddl_log.record() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN "
    "INSERT INTO ddl_log.statements (query) VALUES (pg_catalog.current_query()); "
    "RAISE NOTICE '%', pg_catalog.current_query(); END $$",
    "CREATE EVENT TRIGGER ddl_log ON ddl_command_end EXECUTE FUNCTION ddl_log.record()",
)


@contextmanager
def ddl_notices(url: str) -> Iterator[tuple[psycopg.Connection, list[str]]]:
    """A connection whose DDL statements (as the server received them) land in the list, even
    those of a transaction that is rolled back."""
    execute(url, *LOGGER)
    seen: list[str] = []
    with connection.connect(url) as conn:
        conn.add_notice_handler(lambda d: seen.append(d.message_primary or ""))
        yield conn, seen


def logged(url: str) -> list[str]:
    """The DDL statements committed since the logger was installed, in order."""
    return [r[0] for r in query(url, "SELECT query FROM ddl_log.statements ORDER BY n")]


def created_by_ops(schema: str, loaded: LoadedSpec) -> list[str]:
    return [s for t in spec_model(loaded.spec).tables for s in CreateTable(t.name, t).sql(schema)]


@pytest.mark.parametrize("which", ["repository", "every_feature"])
def test_the_normalizer_runs_exactly_the_statements_of_create_table(
    which: str, fresh_db: str, spec_path: Path, every_feature: Path
) -> None:
    loaded = load_spec(spec_path if which == "repository" else every_feature)
    with ddl_notices(fresh_db) as (conn, seen):
        normalized = normalize_in(conn, loaded)
    create_schema, *ran = seen
    scratch = create_schema.removeprefix("CREATE SCHEMA ")
    assert scratch.startswith("schemadiff_scratch_") and create_schema == f"CREATE SCHEMA {scratch}"
    assert ran == created_by_ops(scratch, loaded)
    assert [t.name for t in normalized.tables] == list(loaded.spec.tables)
    assert logged(fresh_db) == []  # the scratch schema was rolled back, its log rows with it


def test_a_table_created_from_the_normalized_model_reads_back_as_it(fresh_db: str, every_feature: Path) -> None:
    """What a migration creates for a missing table (CreateTable of the target) is the target."""
    loaded = load_spec(every_feature)
    with connection.connect(fresh_db) as conn:
        target = normalize_in(conn, loaded)
    execute(fresh_db, "CREATE SCHEMA user_1", *[s for t in target.tables for s in CreateTable(t.name, t).sql("user_1")])
    with connection.connect(fresh_db) as conn:
        created = introspect(conn, ["user_1"], list(loaded.spec.tables)).models["user_1"]
    assert created == target


def test_the_demo_seeds_its_previous_state_and_its_drift_with_the_ops(fresh_db: str, spec_path: Path) -> None:
    loaded = load_spec(spec_path)
    execute(fresh_db, *LOGGER)
    demo.seed_previous_state(fresh_db, loaded, tenants=2, rows=1, ignored=(), hand_fixed="user_2")
    ran = logged(fresh_db)
    previous = demo.previous_table(loaded)
    step_order = column_model("step_order", loaded.spec.tables["marketplace_tasks"].columns["step_order"])
    expected = [CreateTable("marketplace_tasks", previous).sql(s) for s in ("public", "user_1", "user_2")]
    expected.append(AddColumn("marketplace_tasks", step_order).sql("user_2"))
    for run in expected:
        assert any(ran[i : i + len(run)] == run for i in range(len(ran))), (run, ran)
    assert [c.name for c in previous.columns] == list(demo.PREVIOUS_COLUMNS)
