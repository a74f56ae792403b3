"""Foreign keys on a real PostgreSQL: tenant-local and shared (``schema: public``) keys planned,
proved with migra, applied with ``alembic upgrade head`` and rolled back, for tenants that lack the
key, have it, have it differently or carry one the spec does not declare; NOT VALID then VALIDATE
on large tables; a tenant whose rows break a key fails alone with their count."""

from __future__ import annotations

from pathlib import Path

from .helpers import alembic, execute, fingerprints, make_project, query, run_cli, write_revision

SPEC = """version: 1
tenants:
  template: public
  pattern: '^user_[0-9]+$'
policy:
  large_table_rows: {large}
tables:
  tasks:
    columns:
      id: {{type: integer, primary_key: true}}
      job_id: {{type: integer, references: jobs.id}}
      country: {{type: text}}
    foreign_keys:
      fk_tasks_country:
        columns: [country]
        references: {{schema: public, table: countries, columns: [code]}}
        on_delete: set null
        deferrable: true
        initially_deferred: true
  jobs:
    columns:
      id: {{type: integer, primary_key: true}}
      title: {{type: text}}
"""

TENANTS = ("public", "user_1", "user_2", "user_3")


def seed(url: str) -> None:
    """public and user_1 lack the keys (user_1 lacks jobs too), user_2 has both, user_3 has the
    local key with another ON DELETE and a key the spec does not declare."""
    execute(
        url,
        "CREATE TABLE public.countries (code text PRIMARY KEY)",
        "INSERT INTO public.countries VALUES ('fr'), ('de')",
    )
    for schema in TENANTS:
        execute(
            url,
            f"CREATE SCHEMA IF NOT EXISTS {schema}",
            f"CREATE TABLE {schema}.tasks (id integer PRIMARY KEY, job_id integer, country text)",
        )
        if schema != "user_1":
            execute(
                url,
                f"CREATE TABLE {schema}.jobs (id integer PRIMARY KEY, title text)",
                f"INSERT INTO {schema}.jobs SELECT g, 'job ' || g FROM generate_series(1, 3) g",
            )
        rows = "(1, NULL, 'fr'), (2, NULL, NULL)" if schema == "user_1" else "(1, 1, 'fr'), (2, 3, NULL)"
        execute(url, f"INSERT INTO {schema}.tasks VALUES {rows}")
    execute(
        url,
        "ALTER TABLE user_2.tasks ADD CONSTRAINT tasks_job_id_fkey FOREIGN KEY (job_id) REFERENCES user_2.jobs (id)",
        "ALTER TABLE user_2.tasks ADD CONSTRAINT fk_tasks_country FOREIGN KEY (country) "
        "REFERENCES public.countries (code) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED",
        "ALTER TABLE user_3.tasks ADD CONSTRAINT tasks_job_id_fkey FOREIGN KEY (job_id) "
        "REFERENCES user_3.jobs (id) ON DELETE CASCADE",
        "ALTER TABLE user_3.tasks ADD CONSTRAINT fk_drift FOREIGN KEY (job_id) REFERENCES user_3.jobs (id)",
    )


def keys(url: str) -> list[tuple[str, str, str, bool]]:
    """(schema, name, definition as the tenant's search_path prints it, validated) of every key."""
    out = []
    for schema in TENANTS:
        rows = query(
            url,
            "SELECT conname, convalidated FROM pg_constraint WHERE contype = 'f' "
            "AND connamespace = %s::regnamespace ORDER BY conname",
            (schema,),
        )
        out += [(schema, name, _definition(url, schema, name), valid) for name, valid in rows]
    return out


def _definition(url: str, schema: str, name: str) -> str:
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute(f"SET search_path = {schema}")
        row = conn.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = %s AND connamespace = %s::regnamespace",
            (name, schema),
        ).fetchone()
        assert row is not None
        return str(row[0])


def write_spec(tmp_path: Path, large: int = 100_000) -> Path:
    spec = tmp_path / "schema.yaml"
    spec.write_text(SPEC.format(large=large))
    return spec


def test_foreign_keys_round_trip_from_four_starting_states(fresh_db: str, server_url: str, tmp_path: Path) -> None:
    seed(fresh_db)
    spec = write_spec(tmp_path)
    start_keys, start = keys(fresh_db), fingerprints(fresh_db, spec)
    shown = run_cli("plan", "--spec", spec, "--database-url", fresh_db, "--dev-url", server_url)
    assert shown.exit_code == 2, shown.stdout + shown.stderr
    assert "drop constraint fk_drift on tasks" in shown.stdout  # undeclared: drift, dropped
    assert "add foreign key constraint tasks_job_id_fkey on tasks" in shown.stdout
    assert "create table jobs" in shown.stdout  # user_1: the referenced table first
    project = make_project(tmp_path / "project")
    revision = write_revision(project, spec, fresh_db, server_url, "foreign keys").read_text()  # proved by migra
    assert "REFERENCES public.countries (code)" in revision and "REFERENCES jobs (id)" in revision
    up = alembic(project, fresh_db, "upgrade", "head")
    assert up.returncode == 0, up.stdout + up.stderr
    local = "FOREIGN KEY (job_id) REFERENCES jobs(id)"
    shared = "FOREIGN KEY (country) REFERENCES countries(code) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED"
    for schema in TENANTS:
        got = [(name, definition) for s, name, definition, _valid in keys(fresh_db) if s == schema]
        shared_here = shared if schema == "public" else shared.replace("countries(", "public.countries(")
        assert got == [("fk_tasks_country", shared_here), ("tasks_job_id_fkey", local)], schema
    again = run_cli("plan", "--spec", spec, "--database-url", fresh_db, "--dev-url", server_url)
    assert again.exit_code == 0, again.stdout + again.stderr
    assert len(set(fingerprints(fresh_db, spec).values())) == 1  # the template reads like every tenant
    down = alembic(project, fresh_db, "downgrade", "-1")
    assert down.returncode == 0, down.stdout + down.stderr
    assert keys(fresh_db) == start_keys
    assert fingerprints(fresh_db, spec) == start


def test_large_tables_get_not_valid_then_validate_and_a_tenant_whose_rows_break_a_key_fails_alone(
    fresh_db: str, server_url: str, tmp_path: Path
) -> None:
    seed(fresh_db)
    execute(fresh_db, "INSERT INTO public.tasks VALUES (3, 7, 'fr'), (4, 8, 'de')", "ANALYZE")  # no job 7 or 8
    spec = write_spec(tmp_path, large=1)  # every seeded table counts as large
    project = make_project(tmp_path / "project")
    revision = write_revision(
        project, spec, fresh_db, server_url, "foreign keys online", "--allow", "deletes_data"
    ).read_text()
    assert "NOT VALID" in revision and "runtime.after_commit(validates='tasks_job_id_fkey')" in revision
    assert "runtime.expect_none(" in revision
    up = alembic(project, fresh_db, "upgrade", "head")
    assert up.returncode != 0
    failure = (
        "2 row(s) of tasks have a (job_id) that jobs does not hold (foreign key tasks_job_id_fkey); nothing was changed"
    )
    assert failure in up.stdout + up.stderr
    found = keys(fresh_db)
    assert [k for k in found if k[0] == "public"] == []  # rolled back alone
    for schema in ("user_1", "user_2", "user_3"):
        assert [(name, valid) for s, name, _d, valid in found if s == schema] == [
            ("fk_tasks_country", True),
            ("tasks_job_id_fkey", True),
        ], schema
