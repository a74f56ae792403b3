"""The models ``schemadiff models`` writes, on a real PostgreSQL: ``Base.metadata.create_all`` into a
fresh schema chosen with ``schema_translate_map={None: "user_42"}`` (and into the template), then
``plan`` against the spec finds nothing to do there — for the marketplace example, for
examples/marketplace_fk.yaml (jobs, a tenant-local foreign key, an enum type) and for a spec with
every object the format can declare (its foreign key to a shared ``public`` table stays pinned to
``public``). A tenant made by the models and then changed by hand is a group of its own, so the plan
is not blind. The application's side: a row added through a tenant's session lands in that tenant."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from schemadiff.pg import connection

from .helpers import execute, query, run_cli

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_YAML = ROOT / "schema.yaml"
FK_EXAMPLE = ROOT / "examples" / "marketplace_fk.yaml"
EVERY_OBJECT = ROOT / "tests" / "specs" / "every_object.yaml"

# what an application does: import the models, create_all in each schema it is given; with a row
# argument, add a marketplace task through user_42's session
CREATE_ALL = """
import json, sys
import sqlalchemy as sa
from sqlalchemy.orm import Session
sys.path.insert(0, sys.argv[1])
import models
engine = sa.create_engine(sys.argv[2])
try:
    for schema in sys.argv[4:]:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        with engine.execution_options(schema_translate_map={None: schema}).begin() as conn:
            models.Base.metadata.create_all(conn)
    if sys.argv[3] == "row":
        with Session(engine.execution_options(schema_translate_map={None: "user_42"})) as session:
            task = models.MarketplaceTasks(job_id=7)
            session.add(task)
            session.commit()
            print(json.dumps({"id": task.id, "status": task.status, "created": str(type(task.created_at))}))
finally:
    engine.dispose()
"""


def write_models(spec: Path, directory: Path) -> Path:
    directory.mkdir()
    result = run_cli("models", "--spec", spec, "--out", directory / "models.py")
    assert result.exit_code == 0, result.stdout + result.stderr
    return directory


def create_all(models_dir: Path, url: str, *schemas: str, row: bool = False) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", CREATE_ALL, str(models_dir), connection.to_sqlalchemy(url), "row" * row, *schemas],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def plan_json(spec: Path, url: str, server_url: str) -> tuple[int, dict[str, object]]:
    result = run_cli("plan", "--spec", spec, "--database-url", url, "--dev-url", server_url, "--format", "json")
    assert result.exit_code in (0, 2), result.stdout + result.stderr
    return result.exit_code, json.loads(result.stdout)


def test_marketplace_models_create_a_tenant_at_the_spec_and_write_into_it(
    fresh_db: str, server_url: str, tmp_path: Path
) -> None:
    models_dir = write_models(SCHEMA_YAML, tmp_path / "app")
    out = create_all(models_dir, fresh_db, "public", "user_42", row=True)
    code, plan = plan_json(SCHEMA_YAML, fresh_db, server_url)
    assert (code, plan["unchanged_schemas"], plan["groups"]) == (0, ["public", "user_42"], [])
    # the session of user_42 wrote into user_42 alone, and read the server's defaults back
    assert json.loads(out) == {"id": 1, "status": "pending", "created": "<class 'datetime.datetime'>"}
    assert query(fresh_db, "SELECT job_id, step_type FROM user_42.marketplace_tasks") == [(7, "validate")]
    assert query(fresh_db, "SELECT count(*) FROM public.marketplace_tasks") == [(0,)]


def test_models_with_jobs_a_foreign_key_and_an_enum_type_round_trip(
    fresh_db: str, server_url: str, tmp_path: Path
) -> None:
    models_dir = write_models(FK_EXAMPLE, tmp_path / "app")
    create_all(models_dir, fresh_db, "public", "user_42")
    code, plan = plan_json(FK_EXAMPLE, fresh_db, server_url)
    assert (code, plan["unchanged_schemas"], plan["groups"]) == (0, ["public", "user_42"], [])
    types = "SELECT typnamespace::regnamespace::text FROM pg_type WHERE typname = 'task_step' ORDER BY 1"
    assert query(fresh_db, types) == [("public",), ("user_42",)]  # each tenant its own type
    key = (
        "SELECT confrelid::regclass::text FROM pg_constraint WHERE conname = 'marketplace_tasks_job_id_fkey' "
        "AND connamespace = 'user_42'::regnamespace"
    )
    assert query(fresh_db, key) == [("user_42.jobs",)]  # the tenant's own jobs, not the template's


def test_models_of_every_object_round_trip_and_keep_shared_references_in_public(
    fresh_db: str, server_url: str, tmp_path: Path
) -> None:
    execute(fresh_db, "CREATE TABLE public.countries (code char(2) PRIMARY KEY)")  # shared by every tenant
    models_dir = write_models(EVERY_OBJECT, tmp_path / "app")
    create_all(models_dir, fresh_db, "public", "user_42", "user_43")
    execute(fresh_db, "ALTER TABLE user_43.bookings DROP CONSTRAINT ex_bookings_room_overlap")
    code, plan = plan_json(EVERY_OBJECT, fresh_db, server_url)
    assert code == 2
    assert plan["unchanged_schemas"] == ["public", "user_42"]
    [group] = plan["groups"]
    assert isinstance(group, dict) and group["schemas"] == ["user_43"]  # the one changed by hand
    assert [op["name"] for op in group["ops"]] == ["ex_bookings_room_overlap"]
    shared = (
        "SELECT confrelid::regclass::text FROM pg_constraint WHERE conname = 'bookings_country_fkey' "
        "AND connamespace = 'user_42'::regnamespace"
    )
    assert query(fresh_db, shared) == [("countries",)]  # public's (on the search_path), not user_42's
    assert query(fresh_db, "SELECT to_regclass('user_42.countries')") == [(None,)]
