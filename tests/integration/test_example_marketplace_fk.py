"""examples/marketplace_fk.yaml on a real PostgreSQL: the marketplace example with a ``jobs`` table
that ``marketplace_tasks.job_id`` references and ``step_type`` of the enum type ``task_step``.
Tenants start in the previous state with their jobs (the demo's), without jobs (and without tasks),
already holding the key, or with schema.yaml's ``step_type`` (a varchar with a CHECK, converted to
the enum); the revision is proved with migra, applied with ``alembic upgrade head``, converges, and
rolls back to the start."""

from __future__ import annotations

from pathlib import Path

from schemadiff.core.foreign_keys import without_foreign_keys
from schemadiff.core.ops import AddColumn
from schemadiff.spec.schema import load_spec
from schemadiff.spec.to_model import column_model, create_statements, table_model
from schemadiff.workflow.demo import PREVIOUS_COLUMNS

from .helpers import alembic, execute, fingerprints, make_project, query, run_cli, write_revision

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "marketplace_fk.yaml"
SCHEMA_YAML = EXAMPLE.parents[1] / "schema.yaml"
TENANTS = ("public", "user_1", "user_2", "user_3")


def seed(url: str) -> None:
    spec = load_spec(EXAMPLE).spec
    tasks = spec.tables["marketplace_tasks"]
    columns = {n: c for n, c in tasks.columns.items() if n in PREVIOUS_COLUMNS}
    previous = without_foreign_keys(
        table_model("marketplace_tasks", tasks.model_copy(update={"columns": columns, "indexes": {}}))
    )
    jobs = table_model("jobs", spec.tables["jobs"])
    for schema in TENANTS:
        execute(url, f"CREATE SCHEMA IF NOT EXISTS {schema}", *create_statements(schema, previous))
        if schema == "user_2":  # no jobs table yet, and so no tasks
            continue
        execute(
            url,
            *create_statements(schema, jobs),
            f"INSERT INTO {schema}.jobs SELECT g, 'job ' || g FROM generate_series(1, 5) g",
            f"INSERT INTO {schema}.marketplace_tasks (job_id, status) SELECT 1 + mod(g, 5), 'done' "
            "FROM generate_series(1, 20) g",
        )
    execute(
        url,
        "ALTER TABLE user_3.marketplace_tasks ADD CONSTRAINT marketplace_tasks_job_id_fkey "
        "FOREIGN KEY (job_id) REFERENCES user_3.jobs (id)",
    )
    as_check = column_model("step_type", load_spec(SCHEMA_YAML).spec.tables["marketplace_tasks"].columns["step_type"])
    execute(url, *AddColumn("marketplace_tasks", as_check).sql("user_1"))  # schema.yaml's varchar + CHECK
    execute(url, "UPDATE user_1.marketplace_tasks SET step_type = 'upload_image' WHERE id % 4 = 0")


def step_types(url: str) -> dict[str, str | None]:
    """Each tenant's type of marketplace_tasks.step_type (None: no such column)."""
    rows = query(
        url,
        "SELECT n.nspname, (SELECT format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
        "WHERE a.attrelid = c.oid AND a.attname = 'step_type' AND NOT a.attisdropped) "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = 'marketplace_tasks'",
    )
    return dict(sorted(rows))


def enum_schemas(url: str) -> list[str]:
    rows = query(url, "SELECT typnamespace::regnamespace::text FROM pg_type WHERE typname = 'task_step' ORDER BY 1")
    return [r[0] for r in rows]


def keyed_schemas(url: str) -> list[str]:
    rows = query(
        url,
        "SELECT connamespace::regnamespace::text FROM pg_constraint "
        "WHERE conname = 'marketplace_tasks_job_id_fkey' AND contype = 'f' AND convalidated ORDER BY 1",
    )
    return [r[0] for r in rows]


def test_the_marketplace_fk_example_plans_applies_and_rolls_back(
    fresh_db: str, server_url: str, tmp_path: Path
) -> None:
    seed(fresh_db)
    start = fingerprints(fresh_db, EXAMPLE)
    assert keyed_schemas(fresh_db) == ["user_3"]
    before = step_types(fresh_db)
    assert before == {"public": None, "user_1": "character varying(50)", "user_2": None, "user_3": None}
    assert enum_schemas(fresh_db) == []
    project = make_project(tmp_path / "project")
    revision = write_revision(project, EXAMPLE, fresh_db, server_url, "jobs and their tasks").read_text()
    assert "REFERENCES jobs (id)" in revision
    assert "CREATE TYPE task_step AS ENUM ('validate', 'map', 'upload_image', 'create', 'save')" in revision
    up = alembic(project, fresh_db, "upgrade", "head")
    assert up.returncode == 0, up.stdout + up.stderr
    assert keyed_schemas(fresh_db) == list(TENANTS)
    assert enum_schemas(fresh_db) == list(TENANTS)
    own_type = {"public": "task_step"} | {s: f"{s}.task_step" for s in TENANTS[1:]}  # each tenant's own
    assert step_types(fresh_db) == own_type
    converted = "SELECT step_type::text, count(*) FROM user_1.marketplace_tasks GROUP BY 1 ORDER BY 1"
    assert query(fresh_db, converted) == [("upload_image", 5), ("validate", 15)]
    again = run_cli("plan", "--spec", EXAMPLE, "--database-url", fresh_db, "--dev-url", server_url)
    assert again.exit_code == 0, again.stdout + again.stderr
    down = alembic(project, fresh_db, "downgrade", "-1")
    assert down.returncode == 0, down.stdout + down.stderr
    assert keyed_schemas(fresh_db) == ["user_3"]
    assert step_types(fresh_db) == before
    assert enum_schemas(fresh_db) == []
    assert query(fresh_db, converted) == [("upload_image", 5), ("validate", 15)]
    assert fingerprints(fresh_db, EXAMPLE) == start
    assert query(fresh_db, "SELECT count(*) FROM user_2.marketplace_tasks")[0][0] == 0
    assert query(fresh_db, "SELECT to_regclass('user_2.jobs')")[0][0] is None  # created, and dropped again
