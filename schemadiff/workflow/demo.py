"""Seed the demo database: the marketplace example in its *previous* state, with drift."""

from __future__ import annotations

from pathlib import Path

from schemadiff.core.model import Table
from schemadiff.core.ops import AddColumn
from schemadiff.core.sqltext import qualify, quote_ident
from schemadiff.errors import SchemadiffError
from schemadiff.pg import connection
from schemadiff.spec.schema import LoadedSpec
from schemadiff.spec.to_model import column_model, create_statements, table_model

DEMO_DATABASE = "schemadiff_demo"
PREVIOUS_COLUMNS = ("id", "job_id", "status", "payload", "error_message", "retry_count", "created_at")
TENANTS = 24
IGNORED = ("User_9", "user_5_archive")


def previous_table(loaded: LoadedSpec) -> Table:
    """marketplace_tasks before the change: the first seven columns, no indexes, as the spec writes it."""
    table = loaded.spec.tables["marketplace_tasks"]
    columns = {n: c for n, c in table.columns.items() if n in PREVIOUS_COLUMNS}
    return table_model("marketplace_tasks", table.model_copy(update={"columns": columns, "indexes": {}}))


def demo_schemas(tenants: int = TENANTS, ignored: tuple[str, ...] = IGNORED) -> list[str]:
    """The schemas the seed creates (``public`` is the template's and already exists)."""
    return ["public"] + [f"user_{i}" for i in range(1, tenants + 1)] + list(ignored)


def seed_conflicts(
    url: str, loaded: LoadedSpec, tenants: int = TENANTS, ignored: tuple[str, ...] = IGNORED
) -> list[str]:
    """What the seed would create that the database already has: schemas, and the seeded tables in
    ``public``. The seed writes only where nothing is (``db seed`` refuses otherwise)."""
    require_example(loaded)
    schemas = demo_schemas(tenants, ignored)[1:]
    with connection.connect(url) as conn:
        taken = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname = ANY(%s) ORDER BY 1", (schemas,)
        ).fetchall()
        tables = conn.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relname = ANY(%s) ORDER BY 1",
            (["marketplace_tasks", "jobs"],),
        ).fetchall()
    return [f"schema {n}" for (n,) in taken] + [f"table public.{n}" for (n,) in tables]


def require_example(loaded: LoadedSpec) -> None:
    """The seed is the marketplace example's previous state: the spec must be that example."""
    table = loaded.spec.tables.get("marketplace_tasks")
    missing = [c for c in (*PREVIOUS_COLUMNS, "step_order") if table is not None and c not in table.columns]
    if table is None or missing:
        lacks = f"marketplace_tasks lacks {', '.join(missing)}" if missing else "it has no table marketplace_tasks"
        raise SchemadiffError(
            f"{loaded.path} is not the marketplace example ({lacks}); "
            "seed with --spec pointing at the repository's schema.yaml"
        )


def recreate_database(admin_url: str, name: str) -> str:
    with connection.connect(admin_url, autocommit=True) as conn:
        connection.drop_database(conn, name)
        conn.execute(f"CREATE DATABASE {quote_ident(name)}")
    return connection.database_url(admin_url, name)


def seed_previous_state(
    url: str,
    loaded: LoadedSpec,
    tenants: int = TENANTS,
    rows: int = 20,
    ignored: tuple[str, ...] = IGNORED,
    hand_fixed: str | None = "user_7",
) -> None:
    """public + user_1..user_N in the previous state, an unmanaged table everywhere, drift."""
    require_example(loaded)
    previous = previous_table(loaded)
    schemas = demo_schemas(tenants, ignored)
    with connection.connect(url) as conn:
        for schema in schemas:
            if schema != "public":
                conn.execute(f"CREATE SCHEMA {quote_ident(schema)}")
            for statement in create_statements(schema, previous):
                conn.execute(statement)
            _seed_rows(conn, schema, rows)
        if hand_fixed in schemas:  # one tenant already has the spec's step_order, added by hand
            step_order = column_model("step_order", loaded.spec.tables["marketplace_tasks"].columns["step_order"])
            for statement in AddColumn("marketplace_tasks", step_order).sql(hand_fixed):
                conn.execute(statement)
        conn.commit()


def _seed_rows(conn: object, schema: str, rows: int) -> None:
    import psycopg

    assert isinstance(conn, psycopg.Connection)
    tasks, jobs = qualify(schema, "marketplace_tasks"), qualify(schema, "jobs")
    conn.execute(f"CREATE TABLE {jobs} (id integer PRIMARY KEY, title text NOT NULL)")
    conn.execute(f"INSERT INTO {jobs} SELECT g, 'job ' || g FROM generate_series(1, 5) g")
    conn.execute(
        f"INSERT INTO {tasks} (job_id, status, payload, retry_count) "
        "SELECT 1 + mod(g, 5), CASE WHEN mod(g, 3) = 0 THEN 'done' ELSE 'pending' END, "
        "jsonb_build_object('n', g), mod(g, 2) FROM generate_series(1, %s) g",
        (rows,),
    )


def fresh_environment(directory: Path) -> Path:
    """An Alembic environment for the demo with an empty versions directory; its alembic.ini."""
    from schemadiff.workflow.alembic_env import init_environment

    directory.mkdir(parents=True, exist_ok=True)
    init_environment(directory)
    for old in (directory / "migrations" / "versions").glob("*.py"):
        old.unlink()
    return directory / "alembic.ini"
