"""`schemadiff tenant create` and the library call, on a real PostgreSQL (issue 11): a new tenant
created at the spec's state and recorded at the head revision in one transaction, which `status`,
`plan`, migra and a later downgrade treat exactly like the tenants the revision migrated; every
refusal leaves nothing behind."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
import sqlalchemy
from sqlalchemy.orm import Session

from schemadiff.pg import connection
from schemadiff.runtime.workers import LOCK_KEY
from schemadiff.spec.schema import load_spec
from schemadiff.workflow import demo
from schemadiff.workflow.new_tenant import TenantRefused, create_tenant, prepare_tenants

from .helpers import alembic, execute, fingerprints, make_project, query, run_cli, write_revision
from .test_example_marketplace_fk import EXAMPLE, enum_schemas, keyed_schemas
from .test_example_marketplace_fk import seed as seed_fk

TENANTS = 6


def at_head(url: str, spec: Path, server_url: str, tmp: Path) -> Path:
    """The demo's tenants (user_1 … user_6, user_5 hand-fixed) planned, written and applied; the
    project's alembic.ini."""
    demo.seed_previous_state(url, load_spec(spec), tenants=TENANTS, rows=5, ignored=(), hand_fixed="user_5")
    project = make_project(tmp)
    write_revision(project, spec, url, server_url, "add task orchestration columns", "--no-validate")
    ini = project / "alembic.ini"
    applied = run_cli("apply", "--spec", spec, "--database-url", url, "--config", ini, "--yes")
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    return ini


def schema_exists(url: str, name: str) -> bool:
    return bool(query(url, "SELECT count(*) FROM pg_namespace WHERE nspname = %s", (name,))[0][0])


def ledger(url: str, schema: str) -> list[tuple[object, ...]]:
    return query(
        url,
        "SELECT revision, direction, from_fingerprint, to_fingerprint, complete FROM public.schemadiff_ledger "
        "WHERE schema_name = %s ORDER BY revision",
        (schema,),
    )


def head_of(ini: Path) -> str:
    [path] = (ini.parent / "migrations" / "versions").glob("*.py")
    return path.read_text().split("revision = '")[1].split("'")[0]


def cli_create(name: str, spec: Path, url: str, ini: Path, *extra: str):  # type: ignore[no-untyped-def]
    return run_cli("tenant", "create", name, "--spec", spec, "--database-url", url, "--config", ini, *extra)


def changed_spec(spec: Path, tmp: Path) -> Path:
    """The spec with one more column: the head revision no longer captures it."""
    text = spec.read_text().replace(
        "      side_effects:  {type: jsonb}\n", "      side_effects:  {type: jsonb}\n      priority: {type: integer}\n"
    )
    assert "priority" in text
    path = tmp / "changed.yaml"
    path.write_text(text)
    return path


def test_created_tenant_is_at_the_spec_at_head_and_in_the_others_group(
    fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path
) -> None:
    ini = at_head(fresh_db, spec_path, server_url, tmp_path)
    head = head_of(ini)
    created = cli_create("user_100", spec_path, fresh_db, ini)
    assert created.exit_code == 0, created.stderr
    assert created.stdout.startswith(f"created tenant user_100 at revision {head} (state ")

    status = run_cli("status", "--spec", spec_path, "--database-url", fresh_db, "--config", ini)
    assert f"revision {head}, head {head}" in status.stdout
    assert f"at the spec: {TENANTS + 2:>6}" in status.stdout  # public, user_1 … user_6, user_100
    assert "pending:          0" in status.stdout and "unknown:          0" in status.stdout

    plan = run_cli("plan", "--spec", spec_path, "--database-url", fresh_db, "--format", "json")
    assert plan.exit_code == 0, plan.stderr
    assert "user_100" in json.loads(plan.stdout)["unchanged_schemas"]

    states = fingerprints(fresh_db, spec_path)
    assert states["user_100"] == states["public"] == states["user_1"] == states["user_5"]
    template_start = ledger(fresh_db, "public")[0][2]
    assert ledger(fresh_db, "user_100") == [(head, "upgrade", template_start, states["public"], True)]

    # the next change plans the new tenant in the same group as the tenants the revision migrated
    later = run_cli("plan", "--spec", changed_spec(spec_path, tmp_path), "--database-url", fresh_db, "--format", "json")
    assert later.exit_code == 2, later.stderr
    [group] = json.loads(later.stdout)["groups"]
    assert group["schemas"] == ["public"] + [f"user_{i}" for i in range(1, TENANTS + 1)] + ["user_100"]


def test_a_tenant_created_again_is_identical_per_migra(
    fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path, new_database: Callable[..., str]
) -> None:
    """user_3 dropped in a copy of the database and created by `tenant create`: migra finds no
    difference to the user_3 the revision migrated, and its earlier ledger rows are replaced."""
    from migra import Migration
    from sqlalchemy.pool import NullPool
    from sqlbag import S

    ini = at_head(fresh_db, spec_path, server_url, tmp_path)
    copy = new_database(template=query(fresh_db, "SELECT current_database()")[0][0])
    execute(copy, "DROP SCHEMA user_3 CASCADE")
    created = create_tenant(copy, "user_3", spec_path, ini)
    assert created.schema == "user_3" and created.revision == head_of(ini)
    execute(fresh_db, "DROP TABLE user_3.jobs")  # the demo's table the spec does not name: not created
    # sqlbag keeps every engine it makes, pooled: NullPool closes each connection with its session
    with S(fresh_db, poolclass=NullPool) as migrated, S(copy, poolclass=NullPool) as recreated:
        migration = Migration(migrated, recreated, schema="user_3")
        migration.set_safety(False)
        migration.add_all_changes()
        assert str(migration.sql).strip() == ""
    # migra looks at the objects; the rows of the identity sequence start afresh in the new tenant
    assert ledger(copy, "user_3") == ledger(fresh_db, "user_3")
    assert query(copy, "SELECT count(*) FROM user_3.marketplace_tasks")[0][0] == 0


def test_downgrade_takes_a_created_tenant_back_like_the_template(
    fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path
) -> None:
    ini = at_head(fresh_db, spec_path, server_url, tmp_path)
    blueprint = prepare_tenants(spec_path, ini)
    blueprint.create(fresh_db, "user_100")
    execute(fresh_db, "INSERT INTO user_100.marketplace_tasks (job_id) VALUES (1)")  # a row the downgrade keeps
    down = alembic(ini.parent, fresh_db, "downgrade", "-1")
    assert down.returncode == 0, down.stderr
    before = fingerprints(fresh_db, spec_path)
    assert before["user_100"] == before["public"] == before["user_1"]  # the template's start
    assert before["user_5"] != before["public"]  # the hand-fixed tenant went back to its own start
    assert query(fresh_db, "SELECT count(*) FROM user_100.marketplace_tasks")[0][0] == 1

    refused = cli_create("user_101", spec_path, fresh_db, ini)  # the database is behind the head now
    assert refused.exit_code == 1
    assert f"the database is at revision (none), not at head {head_of(ini)}: pending {head_of(ini)} (" in refused.stderr
    assert not schema_exists(fresh_db, "user_101")

    up = alembic(ini.parent, fresh_db, "upgrade", "head")
    assert up.returncode == 0, up.stderr
    after = fingerprints(fresh_db, spec_path)
    assert len(set(after.values())) == 1 and after["user_100"] != before["user_100"]


def test_refusals_leave_nothing_behind(fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path) -> None:
    ini = at_head(fresh_db, spec_path, server_url, tmp_path)
    nowhere = "postgresql://nobody@127.0.0.1:1/nothing"  # a name refused before any connection
    for name, says in (
        ("customer_1", "tenant pattern '^user_[0-9]+$' (" + str(spec_path) + ":5:12: tenants.pattern); choose"),
        ("user_1x", "does not match the tenant pattern"),
        ("public", "is the template schema"),
        ("user_" + "1" * 60, "is 65 bytes; PostgreSQL allows 63"),
    ):
        result = cli_create(name, spec_path, nowhere, ini)
        assert result.exit_code == 1, name
        assert says in result.stderr and result.stderr.count("\n") == 1, result.stderr

    taken = cli_create("user_2", spec_path, fresh_db, ini)
    assert (taken.exit_code, taken.stderr) == (1, "error: schema 'user_2' already exists; nothing was created\n")

    changed = cli_create("user_100", changed_spec(spec_path, tmp_path), fresh_db, ini)
    assert changed.exit_code == 1
    assert "differs from the target" in changed.stderr and "add column marketplace_tasks.priority" in changed.stderr
    assert "schemadiff plan -m" in changed.stderr

    with psycopg.connect(fresh_db) as run:  # a schemadiff run in progress holds its lock
        run.execute("SELECT pg_advisory_lock(%s, %s)", LOCK_KEY)
        busy = cli_create("user_100", spec_path, fresh_db, ini)
        with psycopg.connect(fresh_db) as app, pytest.raises(TenantRefused, match="holds the migration lock"):
            prepare_tenants(spec_path, ini).create(app, "user_100")  # in the application's transaction
    assert busy.exit_code == 1 and "a schemadiff run holds the migration lock" in busy.stderr

    execute(fresh_db, "DELETE FROM public.schemadiff_ledger WHERE schema_name = 'public'")
    stamped = cli_create("user_100", spec_path, fresh_db, ini)
    assert stamped.exit_code == 1 and "the ledger has no row for the template 'public'" in stamped.stderr

    assert not schema_exists(fresh_db, "user_100") and ledger(fresh_db, "user_100") == []


def test_a_failure_mid_way_rolls_back_everything(
    fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path
) -> None:
    """Another session locks the ledger: the schema and its tables are created, then the ledger row
    times out; nothing remains, and the caller's own transaction is still usable."""
    ini = at_head(fresh_db, spec_path, server_url, tmp_path)
    blueprint = prepare_tenants(spec_path, ini, lock_timeout="200ms")
    with psycopg.connect(fresh_db) as blocker:
        blocker.execute("LOCK TABLE public.schemadiff_ledger IN EXCLUSIVE MODE")
        result = cli_create("user_100", spec_path, fresh_db, ini, "--lock-timeout", "200ms")
        assert result.exit_code == 1 and "lock timeout" in result.stderr, result.stderr
        with psycopg.connect(fresh_db) as app:
            app.execute("CREATE TABLE public.signups (name text)")
            with pytest.raises(TenantRefused, match="lock timeout"):
                blueprint.create(app, "user_101")
            app.execute("INSERT INTO public.signups VALUES ('user_101')")  # the transaction goes on
            app.commit()
    for name in ("user_100", "user_101"):
        assert not schema_exists(fresh_db, name) and ledger(fresh_db, name) == []
    assert query(fresh_db, "SELECT name FROM public.signups") == [("user_101",)]


def test_inside_the_applications_transaction(fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path) -> None:
    """On the caller's connection the tenant is created in its transaction and committed (or rolled
    back) with it; the caller's search_path and lock_timeout are as they were."""
    ini = at_head(fresh_db, spec_path, server_url, tmp_path)
    blueprint = prepare_tenants(spec_path, ini)
    with psycopg.connect(fresh_db) as app:
        app.execute("SET search_path = public")
        app.execute("SET lock_timeout = '7s'")
        blueprint.create(app, "user_100")
        assert app.execute("SELECT current_setting('search_path'), current_setting('lock_timeout')").fetchone() == (
            "public",
            "7s",
        )
        app.execute("INSERT INTO user_100.marketplace_tasks (job_id) VALUES (42)")
        assert not schema_exists(fresh_db, "user_100")  # not committed: another session cannot see it
        app.rollback()
    assert not schema_exists(fresh_db, "user_100") and ledger(fresh_db, "user_100") == []

    with psycopg.connect(fresh_db) as app:
        blueprint.create(app, "user_100")
        app.execute("INSERT INTO user_100.marketplace_tasks (job_id) VALUES (42)")
        app.commit()
    assert query(fresh_db, "SELECT job_id FROM user_100.marketplace_tasks") == [(42,)]
    assert fingerprints(fresh_db, spec_path)["user_100"] == fingerprints(fresh_db, spec_path)["public"]

    with psycopg.connect(fresh_db, autocommit=True) as app:  # autocommit: committed by the call
        blueprint.create(app, "user_101")
    assert schema_exists(fresh_db, "user_101") and len(ledger(fresh_db, "user_101")) == 1

    engine = sqlalchemy.create_engine(connection.to_sqlalchemy(fresh_db))  # the README's SQLAlchemy form
    try:
        with Session(engine) as session:
            blueprint.create(session.connection().connection.driver_connection, "user_102")
            assert not schema_exists(fresh_db, "user_102")
            session.commit()
    finally:
        engine.dispose()
    assert schema_exists(fresh_db, "user_102") and len(ledger(fresh_db, "user_102")) == 1


def test_enum_types_keys_and_sequences_are_the_tenants_own(fresh_db: str, server_url: str, tmp_path: Path) -> None:
    """examples/marketplace_fk.yaml: the new tenant holds its own enum type, its key references its
    own jobs table, its identity draws from its own sequence; the downgrade takes it back too."""
    seed_fk(fresh_db)
    project = make_project(tmp_path)
    write_revision(project, EXAMPLE, fresh_db, server_url, "jobs and task_step", "--no-validate")
    ini = project / "alembic.ini"
    assert run_cli("apply", "--spec", EXAMPLE, "--database-url", fresh_db, "--config", ini, "--yes").exit_code == 0

    created = cli_create("user_9", EXAMPLE, fresh_db, ini)
    assert created.exit_code == 0, created.stderr
    assert "user_9" in enum_schemas(fresh_db) and "user_9" in keyed_schemas(fresh_db)
    assert query(
        fresh_db,
        "SELECT confrelid::regclass::text, pg_get_serial_sequence('user_9.marketplace_tasks', 'id'), "
        "(SELECT atttypid::regtype::text FROM pg_attribute WHERE attrelid = 'user_9.marketplace_tasks'::regclass "
        "AND attname = 'step_type') FROM pg_constraint WHERE conname = 'marketplace_tasks_job_id_fkey' "
        "AND connamespace = 'user_9'::regnamespace",
    ) == [("user_9.jobs", "user_9.marketplace_tasks_id_seq", "user_9.task_step")]
    states = fingerprints(fresh_db, EXAMPLE)
    assert states["user_9"] == states["user_3"] == states["public"]

    down = alembic(project, fresh_db, "downgrade", "-1")
    assert down.returncode == 0, down.stderr
    back = fingerprints(fresh_db, EXAMPLE)
    assert back["user_9"] == back["public"] != states["public"]
