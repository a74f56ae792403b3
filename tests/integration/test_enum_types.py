"""Enum types on a real PostgreSQL: created in every tenant, values added in their own transaction,
rebuilt when values go or move, and a varchar + CHECK column converted to the enum and back; each
revision proved with migra, applied with ``alembic upgrade head``, converged, and rolled back."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemadiff.spec.schema import load_spec
from schemadiff.workflow.planning import make_plan

from .helpers import alembic, execute, fingerprints, make_project, query, run_cli, write_revision

LABELS = "[validate, map, upload_image, create, save]"
HEAD = """version: 1
tenants:
  template: public
  pattern: '^user_[0-9]+$'
enums:
  task_step: {labels}
tables:
  tasks:
    columns:
      id: {{type: integer, primary_key: true}}
{step}    indexes:
      ix_tasks_step_type: {{columns: [step_type]}}
"""
AS_ENUM = "      step_type: {type: task_step, nullable: false, default: validate}\n"
AS_CHECK = "      step_type: {type: varchar(50), nullable: false, default: validate, enum: " + LABELS + "}\n"
CHECKED_TABLE = (
    "CREATE TABLE {s}.tasks (id integer PRIMARY KEY, step_type varchar(50) NOT NULL DEFAULT 'validate', "
    "CONSTRAINT ck_tasks_step_type CHECK (step_type IN ('validate', 'map', 'upload_image', 'create', 'save')))"
)
ENUM_TABLE = "CREATE TABLE {s}.tasks (id integer PRIMARY KEY, step_type {s}.task_step NOT NULL DEFAULT 'validate')"
INDEX = "CREATE INDEX ix_tasks_step_type ON {s}.tasks (step_type)"
ROWS = "INSERT INTO {s}.tasks VALUES (1, 'validate'), (2, 'upload_image'), (3, 'save')"


def spec_file(tmp_path: Path, step: str, labels: str = LABELS) -> Path:
    path = tmp_path / "schema.yaml"
    path.write_text(HEAD.format(labels=labels, step=step))
    return path


def seed(url: str, schema: str, *statements: str) -> None:
    execute(url, f"CREATE SCHEMA IF NOT EXISTS {schema}", *(s.format(s=schema) for s in statements))


def column_type(url: str, schema: str) -> str:
    """The column's type as format_type prints it, without the tenant's own schema."""
    return str(
        query(
            url,
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = %s::regclass "
            "AND attname = 'step_type'",
            (f"{schema}.tasks",),
        )[0][0]
    ).removeprefix(f"{schema}.")


def labels(url: str, schema: str) -> list[str]:
    rows = query(
        url,
        "SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid JOIN pg_namespace n "
        "ON n.oid = t.typnamespace WHERE n.nspname = %s AND t.typname = 'task_step' ORDER BY e.enumsortorder",
        (schema,),
    )
    return [r[0] for r in rows]


def steps(url: str, schema: str) -> list[tuple[object, ...]]:
    return query(url, f"SELECT id, step_type::text FROM {schema}.tasks ORDER BY id")


def plan_exit(spec: Path, url: str, dev_url: str) -> int:
    return run_cli("plan", "--spec", spec, "--database-url", url, "--dev-url", dev_url).exit_code


def round_trip(project: Path, url: str, spec: Path, dev_url: str, message: str) -> str:
    """Write (proved with migra), upgrade; the spec then plans no change; the revision text."""
    text = write_revision(project, spec, url, dev_url, message).read_text()
    up = alembic(project, url, "upgrade", "head")
    assert up.returncode == 0, up.stderr
    assert plan_exit(spec, url, dev_url) == 0
    return text


def test_a_checked_varchar_becomes_the_enum_in_four_starting_states_and_back(
    fresh_db: str, server_url: str, tmp_path: Path
) -> None:
    """public and user_1 lack the type; user_2 has it as the spec says; user_3 lacks a value that
    one of its rows holds (added in its own transaction, then used by the conversion); user_4 has
    the values in another order plus one more (rebuilt). Every value survives both ways."""
    seed(fresh_db, "public", CHECKED_TABLE, INDEX, ROWS)
    seed(fresh_db, "user_1", CHECKED_TABLE, INDEX, ROWS)
    seed(
        fresh_db,
        "user_2",
        "CREATE TYPE {s}.task_step AS ENUM " + LABELS.replace("[", "('").replace("]", "')").replace(", ", "', '"),
        CHECKED_TABLE,
        INDEX,
        ROWS,
    )
    seed(
        fresh_db,
        "user_3",
        "CREATE TYPE {s}.task_step AS ENUM ('validate', 'map', 'create', 'save')",
        CHECKED_TABLE,
        INDEX,
        ROWS,
    )
    seed(
        fresh_db,
        "user_4",
        "CREATE TYPE {s}.task_step AS ENUM ('save', 'validate', 'map', 'upload_image', 'create', 'obsolete')",
        CHECKED_TABLE,
        INDEX,
        ROWS,
    )
    spec = spec_file(tmp_path, AS_ENUM)
    before = fingerprints(fresh_db, spec)
    assert len(set(before.values())) == 4
    project = make_project(tmp_path / "project")
    text = round_trip(project, fresh_db, spec, server_url, "step type as an enum")
    assert "with runtime.own_transaction():" in text
    assert "ADD VALUE IF NOT EXISTS 'upload_image' AFTER 'map'" in text
    assert "RENAME TO task_step_sdold" in text
    for schema in ("public", "user_1", "user_2", "user_3", "user_4"):
        assert column_type(fresh_db, schema) == "task_step"
        assert labels(fresh_db, schema) == ["validate", "map", "upload_image", "create", "save"]
        assert steps(fresh_db, schema) == [(1, "validate"), (2, "upload_image"), (3, "save")]
    execute(fresh_db, "INSERT INTO user_1.tasks (id) VALUES (4)")  # the default is the enum's value
    assert steps(fresh_db, "user_1")[-1] == (4, "validate")
    execute(fresh_db, "DELETE FROM user_1.tasks WHERE id = 4")
    down = alembic(project, fresh_db, "downgrade", "-1")
    assert down.returncode == 0, down.stderr
    assert fingerprints(fresh_db, spec) == before
    for schema in ("public", "user_1", "user_2", "user_3", "user_4"):
        assert column_type(fresh_db, schema) == "character varying(50)"
        assert steps(fresh_db, schema) == [(1, "validate"), (2, "upload_image"), (3, "save")]
    assert labels(fresh_db, "public") == []
    assert labels(fresh_db, "user_3") == ["validate", "map", "create", "save"]
    assert labels(fresh_db, "user_4") == ["save", "validate", "map", "upload_image", "create", "obsolete"]


def test_the_enum_column_goes_back_to_a_checked_varchar(fresh_db: str, server_url: str, tmp_path: Path) -> None:
    for schema in ("public", "user_1"):
        seed(
            fresh_db,
            schema,
            "CREATE TYPE {s}.task_step AS ENUM ('validate', 'map', 'upload_image', 'create', 'save')",
            ENUM_TABLE,
            INDEX,
            ROWS,
        )
    spec = spec_file(tmp_path, AS_CHECK)
    before = fingerprints(fresh_db, spec)
    loaded = load_spec(spec)
    plan, _ = make_plan(loaded, fresh_db, server_url, lint=False)
    [group] = plan.groups
    alter = next(op for op in group.ops if op.kind == "alter_column")
    assert "deletes_data" not in alter.hazards and "rewrites_table" in alter.hazards
    project = make_project(tmp_path / "project")
    round_trip(project, fresh_db, spec, server_url, "step type as a checked varchar")
    for schema in ("public", "user_1"):
        assert column_type(fresh_db, schema) == "character varying(50)"
        assert steps(fresh_db, schema) == [(1, "validate"), (2, "upload_image"), (3, "save")]
    down = alembic(project, fresh_db, "downgrade", "-1")
    assert down.returncode == 0, down.stderr
    assert fingerprints(fresh_db, spec) == before
    assert column_type(fresh_db, "user_1") == "task_step"


def test_removing_and_reordering_values_rebuilds_the_type_under_its_columns(
    fresh_db: str, server_url: str, tmp_path: Path
) -> None:
    """The live type has an extra value and another order; the column using it is converted to the
    rebuilt type (its index and default kept); the downgrade rebuilds the old type."""
    for schema in ("public", "user_1"):
        seed(
            fresh_db,
            schema,
            "CREATE TYPE {s}.task_step AS ENUM ('save', 'validate', 'map', 'upload_image', 'create', 'obsolete')",
            ENUM_TABLE,
            INDEX,
            ROWS,
        )
    spec = spec_file(tmp_path, AS_ENUM)
    before = fingerprints(fresh_db, spec)
    plan, _ = make_plan(load_spec(spec), fresh_db, server_url, lint=False)
    [op] = plan.groups[0].ops
    assert op.kind == "alter_enum"
    assert op.hazards == ("access_exclusive", "fails_on_existing_rows", "rewrites_table")
    project = make_project(tmp_path / "project")
    round_trip(project, fresh_db, spec, server_url, "rebuild task_step")
    for schema in ("public", "user_1"):
        assert labels(fresh_db, schema) == ["validate", "map", "upload_image", "create", "save"]
        assert steps(fresh_db, schema) == [(1, "validate"), (2, "upload_image"), (3, "save")]
    assert query(fresh_db, "SELECT min(step_type)::text FROM user_1.tasks") == [("validate",)]  # the new order
    down = alembic(project, fresh_db, "downgrade", "-1")
    assert down.returncode == 0, down.stderr
    assert fingerprints(fresh_db, spec) == before
    assert query(fresh_db, "SELECT min(step_type)::text FROM user_1.tasks") == [("save",)]


def test_a_row_holding_a_removed_value_fails_its_tenant_alone(fresh_db: str, server_url: str, tmp_path: Path) -> None:
    for schema in ("public", "user_1"):
        seed(
            fresh_db,
            schema,
            "CREATE TYPE {s}.task_step AS ENUM ('validate', 'map', 'upload_image', 'create', 'save', 'obsolete')",
            ENUM_TABLE,
            INDEX,
            ROWS,
        )
    project = make_project(tmp_path / "project")
    spec = spec_file(tmp_path, AS_ENUM)
    write_revision(project, spec, fresh_db, server_url, "drop obsolete")
    execute(fresh_db, "INSERT INTO user_1.tasks VALUES (7, 'obsolete'), (8, 'obsolete')")
    up = alembic(project, fresh_db, "upgrade", "head")
    assert up.returncode != 0
    assert 'user_1: invalid input value for enum task_step: "obsolete"' in (up.stdout + up.stderr)
    assert labels(fresh_db, "user_1")[-1] == "obsolete"
    assert labels(fresh_db, "public") == ["validate", "map", "upload_image", "create", "save"]


@pytest.mark.parametrize("labels_text", ["[validate, validate]", "[]"])
def test_bad_enum_values_are_located_spec_errors(tmp_path: Path, labels_text: str) -> None:
    spec = spec_file(tmp_path, AS_ENUM, labels_text)
    result = run_cli("plan", "--spec", spec, "--database-url", "postgresql://nowhere.invalid/x")
    assert result.exit_code == 1
    assert f"{spec}:6:" in result.stdout + result.stderr
