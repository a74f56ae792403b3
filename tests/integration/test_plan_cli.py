"""`schemadiff plan` / `validate` / `demo` end to end on a real PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

from schemadiff.spec.schema import load_spec
from schemadiff.spec.to_model import create_statements, table_model
from schemadiff.workflow import demo

from .helpers import execute, query, run_cli


def seed_demo(url: str, spec: Path, tenants: int = 24) -> None:
    demo.seed_previous_state(url, load_spec(spec), tenants=tenants, rows=5)


def all_schemas(url: str) -> set[str]:
    return {r[0] for r in query(url, "SELECT nspname FROM pg_namespace")}


def test_demo_database_plans_as_exactly_two_groups(fresh_db: str, spec_path: Path) -> None:
    seed_demo(fresh_db, spec_path)
    before = all_schemas(fresh_db)
    result = run_cli("plan", "--spec", spec_path, "--database-url", fresh_db, "--format", "json")
    assert result.exit_code == 2, result.stderr
    data = json.loads(result.stdout)
    assert data["changes"] is True and data["tenant_count"] == 25
    assert [len(g["schemas"]) for g in data["groups"]] == [24, 1]
    assert data["groups"][0]["schemas"][:3] == ["public", "user_1", "user_2"]
    assert data["groups"][1]["schemas"] == ["user_7"]
    listed = {s for g in data["groups"] for s in g["schemas"]}
    assert "User_9" not in listed and "user_5_archive" not in listed
    kinds = [op["kind"] for op in data["groups"][1]["ops"]]
    assert "add_column" in kinds and all(op["name"] != "step_order" for op in data["groups"][1]["ops"])
    assert all_schemas(fresh_db) == before  # the scratch schema was rolled back
    assert not any(op["table"] == "jobs" for g in data["groups"] for op in g["ops"])


def test_plan_text_names_groups_and_sql(fresh_db: str, spec_path: Path) -> None:
    seed_demo(fresh_db, spec_path, tenants=3)
    result = run_cli("plan", "--spec", spec_path, "--database-url", fresh_db)
    assert result.exit_code == 2
    assert "Group 1 of 1: 4 schema(s) in state" in result.stdout
    assert "public, user_1, user_2, user_3" in result.stdout
    assert "ALTER TABLE public.marketplace_tasks ADD COLUMN step_type character varying(50) NOT NULL" in result.stdout
    assert "CREATE INDEX idx_marketplace_tasks_job_order ON user_7" not in result.stdout  # only 3 tenants


def test_no_change_plan_exits_zero(fresh_db: str, spec_path: Path) -> None:
    table = table_model("marketplace_tasks", load_spec(spec_path).spec.tables["marketplace_tasks"])
    statements = [s for schema in ("public", "user_1") for s in create_statements(schema, table)]
    execute(fresh_db, "CREATE SCHEMA user_1", *statements)
    result = run_cli("plan", "--spec", spec_path, "--database-url", fresh_db)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "Every schema is at the spec; nothing to do." in result.stdout


def test_sql_format_is_runnable_and_converges(fresh_db: str, spec_path: Path) -> None:
    seed_demo(fresh_db, spec_path, tenants=8)
    rows_before = query(fresh_db, "SELECT id, job_id, status FROM user_3.marketplace_tasks ORDER BY id")
    script = run_cli("plan", "--spec", spec_path, "--database-url", fresh_db, "--format", "sql")
    assert script.exit_code == 2
    assert script.stdout.count("BEGIN;") == 9
    assert "SET LOCAL search_path = user_7;" in script.stdout
    execute(fresh_db, script.stdout)
    again = run_cli("plan", "--spec", spec_path, "--database-url", fresh_db)
    assert again.exit_code == 0, again.stdout
    assert query(fresh_db, "SELECT id, job_id, status FROM user_3.marketplace_tasks ORDER BY id") == rows_before


def test_destructive_change_is_refused_unless_allowed(fresh_db: str, spec_path: Path) -> None:
    seed_demo(fresh_db, spec_path, tenants=2)
    execute(fresh_db, "ALTER TABLE user_2.marketplace_tasks ADD COLUMN note text")
    refused = run_cli("plan", "--spec", spec_path, "--database-url", fresh_db)
    assert refused.exit_code == 1
    assert refused.stderr.strip().splitlines()[-1] == (
        "error: plan refused: marketplace_tasks.note (deletes_data) on 1 schema(s): user_2; "
        "re-run with --allow deletes_data if that is intended"
    )
    assert (
        "REFUSED (allow with --allow deletes_data): deletes_data — drop column marketplace_tasks.note" in refused.stdout
    )
    allowed = run_cli("plan", "--spec", spec_path, "--database-url", fresh_db, "--allow", "deletes_data")
    assert allowed.exit_code == 2
    assert "drop column marketplace_tasks.note" in allowed.stdout


def test_unmanaged_tables_and_schemas_are_not_reported(fresh_db: str, spec_path: Path) -> None:
    seed_demo(fresh_db, spec_path, tenants=2)
    execute(
        fresh_db,
        "CREATE SCHEMA billing",
        "CREATE TABLE billing.marketplace_tasks (x int)",
        "CREATE TABLE user_1.audit (id int)",
    )
    result = run_cli("plan", "--spec", spec_path, "--database-url", fresh_db, "--format", "json")
    text = result.stdout
    assert "billing" not in text and "audit" not in text and '"jobs"' not in text


def test_like_clone_with_public_sequence_is_its_own_group(fresh_db: str, spec_path: Path) -> None:
    execute(
        fresh_db,
        "CREATE TABLE public.marketplace_tasks (id bigserial PRIMARY KEY, job_id integer NOT NULL)",
        "INSERT INTO public.marketplace_tasks (job_id) SELECT g FROM generate_series(1, 3) g",
        "CREATE SCHEMA user_1",
        "CREATE SCHEMA user_2",
        "CREATE TABLE user_1.marketplace_tasks (LIKE public.marketplace_tasks INCLUDING ALL)",
        "CREATE TABLE user_2.marketplace_tasks (id bigserial PRIMARY KEY, job_id integer NOT NULL)",
    )
    result = run_cli("plan", "--spec", spec_path, "--database-url", fresh_db, "--format", "json")
    assert result.exit_code == 2, result.stderr
    groups = [g["schemas"] for g in json.loads(result.stdout)["groups"]]
    assert ["user_1"] in groups
    assert sorted(s for g in groups for s in g) == ["public", "user_1", "user_2"]


def test_read_only_role_normalizes_in_the_dev_database(fresh_db: str, spec_path: Path, server_url: str) -> None:
    seed_demo(fresh_db, spec_path, tenants=2)
    name = query(fresh_db, "SELECT current_database()")[0][0]
    execute(
        fresh_db,
        "DROP ROLE IF EXISTS sd_reader",
        "CREATE ROLE sd_reader LOGIN",
        f'REVOKE CREATE ON DATABASE "{name}" FROM PUBLIC',
        "GRANT USAGE ON SCHEMA public, user_1, user_2 TO sd_reader",
    )
    reader = fresh_db.replace("postgresql://postgres:@", "postgresql://sd_reader:@").replace(
        "postgresql://postgres@", "postgresql://sd_reader@"
    )
    assert "sd_reader" in reader
    try:
        result = run_cli(
            "plan", "--spec", spec_path, "--database-url", reader, "--dev-url", server_url, "--format", "json"
        )
        assert result.exit_code == 2, result.stderr
        assert "normalizing the spec in the dev database" in result.stderr
        assert [len(g["schemas"]) for g in json.loads(result.stdout)["groups"]] == [3]
    finally:
        execute(fresh_db, "DROP OWNED BY sd_reader")
        execute(server_url, "DROP ROLE IF EXISTS sd_reader")


def test_bad_spec_touches_no_database(tmp_path: Path) -> None:
    bad = tmp_path / "schema.yaml"
    bad.write_text("version: 1\ntenants: {pattern: x}\ntables:\n  t:\n    columns:\n      a: {type: integr}\n")
    result = run_cli("plan", "--spec", bad, "--database-url", "postgresql://nobody:secret@127.0.0.1:1/none")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f"{bad}:6:17: tables.t.columns.a.type: unknown column type 'integr'; did you mean 'integer'?"
    )
    assert "connect" not in result.stderr


def test_connection_failure_is_one_line_and_hides_the_password(spec_path: Path) -> None:
    url = "postgresql://app:p%40ss%3Aw%2Frd%25@127.0.0.1:1/prod"
    result = run_cli("plan", "--spec", spec_path, "--database-url", url)
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("error: cannot connect to postgresql://app:***@127.0.0.1:1/prod")
    for secret in ("p@ss:w/rd%", "p%40ss%3Aw%2Frd%25", "p@ss"):
        assert secret not in result.stdout + result.stderr


def test_validate_and_spec_schema_commands(spec_path: Path) -> None:
    ok = run_cli("validate", "--spec", spec_path)
    assert ok.exit_code == 0 and "valid (1 table(s): marketplace_tasks)" in ok.stdout
    schema = run_cli("spec-schema")
    assert json.loads(schema.stdout)["title"] == "schemadiff spec (schema.yaml)"


def test_spec_sql_rejected_by_postgresql_points_at_the_table(fresh_db: str, tmp_path: Path) -> None:
    spec = tmp_path / "schema.yaml"
    spec.write_text(
        "version: 1\ntenants: {pattern: '^user_[0-9]+$'}\ntables:\n  t:\n"
        "    columns:\n      a: {type: integer, default_sql: nwo()}\n"
    )
    execute(fresh_db, "CREATE SCHEMA user_1")
    result = run_cli("plan", "--spec", spec, "--database-url", fresh_db)
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"error: {spec}:5:5: tables.t: PostgreSQL rejects table 't': function nwo() does not exist"
    )


def test_a_pattern_that_matches_nothing_is_one_clear_line(fresh_db: str, tmp_path: Path) -> None:
    spec = tmp_path / "schema.yaml"
    spec.write_text(
        "version: 1\ntenants: {pattern: '^customer_[0-9]+$'}\ntables:\n  t:\n    columns:\n      a: {type: integer}\n"
    )
    result = run_cli("plan", "--spec", spec, "--database-url", fresh_db)
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"error: {spec}:2:20: tenants.pattern: '^customer_[0-9]+$' matches no schema in the database; fix the "
        "pattern (it must match whole names) or point --database-url at the right database"
    ]


def test_a_pattern_matching_system_schemas_is_a_spec_error(tmp_path: Path) -> None:
    spec = tmp_path / "schema.yaml"
    spec.write_text(
        "version: 1\ntenants: {pattern: '^(pg_.*|user_[0-9]+)$'}\ntables:\n  t:\n"
        "    columns:\n      a: {type: integer}\n"
    )
    result = run_cli("validate", "--spec", spec)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f"{spec}:2:20: tenants.pattern: pattern matches the system schema pg_catalog; system schemas are "
        "never tenants: narrow the pattern"
    )
