"""Issue 8 §6.1: the migra proof rebuilds each group's start exactly as the tenants hold it."""

from __future__ import annotations

from pathlib import Path

from schemadiff.pg import connection
from schemadiff.pg.introspect import introspect
from schemadiff.spec.schema import load_spec
from schemadiff.spec.to_model import create_statements, table_model

from .helpers import execute, fingerprints, make_project, query, write_revision

NEXT = "      side_effects:  {type: jsonb}\n      note:          {type: text}\n"


def seed_at_spec(url: str, spec: Path, schemas: list[str]) -> None:
    """Tenants already at the spec, the step_type CHECK created from the spec's own text."""
    table = table_model("marketplace_tasks", load_spec(spec).spec.tables["marketplace_tasks"])
    for schema in schemas:
        if schema != "public":
            execute(url, f"CREATE SCHEMA {schema}")
        execute(url, *create_statements(schema, table))
        execute(url, f"INSERT INTO {schema}.marketplace_tasks (job_id, step_type) VALUES (1, 'map'), (2, 'save')")


def next_spec(spec: Path, tmp: Path) -> Path:
    text = spec.read_text()
    assert "      side_effects:  {type: jsonb}\n" in text
    path = tmp / "schema.yaml"
    path.write_text(text.replace("      side_effects:  {type: jsonb}\n", NEXT))
    return path


def test_the_next_revision_of_a_table_with_an_enum_check_validates(
    fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path
) -> None:
    seed_at_spec(fresh_db, spec_path, ["public", "user_1", "user_2"])
    spec = next_spec(spec_path, tmp_path)
    project = make_project(tmp_path / "project")
    text = write_revision(project, spec, fresh_db, server_url, "add note").read_text()
    assert "sa.Column('note'" in text and "constraint" not in text.split("TARGET_MODEL")[0]


def test_a_check_is_recreated_from_its_stored_text_to_the_same_stored_text(fresh_db: str) -> None:
    from schemadiff.workflow.prove import build

    execute(
        fresh_db,
        "CREATE SCHEMA tenant",
        "CREATE TABLE tenant.t (id int, s varchar(20), c char(3), "
        "CONSTRAINT s_in CHECK (s IN ('a', 'b')), "
        "CONSTRAINT s_not_in CHECK (s NOT IN ('x', 'y') AND c IN ('abc', 'xyz')), "
        "CONSTRAINT s_any CHECK (s = ANY (ARRAY['a', 'b']::varchar[])), "
        "CONSTRAINT plain CHECK (id > 0 AND s <> ''))",
    )
    with connection.connect(fresh_db) as conn:
        stored = introspect(conn, ["tenant"], ["t"]).models["tenant"]
    copy = connection.database_url(fresh_db, query(fresh_db, "SELECT current_database()")[0][0])
    execute(copy, "DROP SCHEMA tenant CASCADE")
    build(copy, stored)
    with connection.connect(copy) as conn:
        rebuilt = introspect(conn, ["tenant"], ["t"]).models["tenant"]
    assert [c.definition for c in rebuilt.tables[0].constraints] == [c.definition for c in stored.tables[0].constraints]


def convalidated(url: str, schema: str) -> bool:
    return bool(
        query(
            url,
            "SELECT convalidated FROM pg_constraint WHERE conname = 'ck_marketplace_tasks_step_type' "
            "AND connamespace = %s::regnamespace",
            (schema,),
        )[0][0]
    )


def test_a_not_valid_check_is_its_own_group_validated_and_restored(
    fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path
) -> None:
    from .helpers import alembic

    seed_at_spec(fresh_db, spec_path, ["public", "user_1", "user_2"])
    check = table_model("marketplace_tasks", load_spec(spec_path).spec.tables["marketplace_tasks"]).constraint(
        "ck_marketplace_tasks_step_type"
    )
    assert check is not None and check.source is not None
    execute(
        fresh_db,
        "ALTER TABLE user_2.marketplace_tasks DROP CONSTRAINT ck_marketplace_tasks_step_type",
        f"ALTER TABLE user_2.marketplace_tasks ADD CONSTRAINT ck_marketplace_tasks_step_type {check.source} NOT VALID",
    )
    start = fingerprints(fresh_db, spec_path)
    assert start["public"] == start["user_1"] != start["user_2"] and not convalidated(fresh_db, "user_2")
    project = make_project(tmp_path)
    text = write_revision(project, spec_path, fresh_db, server_url, "validate step type").read_text()
    group = text.split("def upgrade_group_1")[1].split("def upgrade() ")[0]
    assert "VALIDATE CONSTRAINT ck_marketplace_tasks_step_type" in group and "ADD CONSTRAINT" in group, group
    assert alembic(project, fresh_db, "upgrade", "head").returncode == 0
    assert convalidated(fresh_db, "user_2") and len(set(fingerprints(fresh_db, spec_path).values())) == 1
    down = alembic(project, fresh_db, "downgrade", "-1")
    assert down.returncode == 0, down.stderr
    assert fingerprints(fresh_db, spec_path) == start and not convalidated(fresh_db, "user_2")
