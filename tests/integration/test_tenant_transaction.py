"""One tenant's transaction on a real PostgreSQL: pipelined, one statement per message, checked
against the promised state before its COMMIT."""

from __future__ import annotations

import psycopg

from schemadiff.core.fingerprint import fingerprint
from schemadiff.core.statements import Statement
from schemadiff.pg import connection
from schemadiff.pg.introspect import introspect
from schemadiff.runtime.execute import LEDGER_COMPLETE, LEDGER_DDL
from schemadiff.runtime.job import Direction, GroupSQL, Job, Options, Work
from schemadiff.runtime.recorder import Forms
from schemadiff.runtime.tenant_phases import run_tenant

from .helpers import execute, query


def state_of(url: str, *create: str) -> str:
    """The fingerprint of table t built by ``create`` in a throwaway schema."""
    with connection.connect(url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA probe")
        conn.execute("SET search_path = probe")
        for statement in create:
            conn.execute(statement)
        fp = fingerprint(introspect(conn, ["probe"], ["t"]).models["probe"])
        conn.execute("DROP SCHEMA probe CASCADE")
    return fp


def job(up: tuple[str, ...], target: str) -> Job:
    statements = tuple(Statement(s) for s in up)
    group = GroupSQL(Direction(Forms(statements, statements)), Direction(Forms((), ())))
    return Job("rev1", "upgrade", "public", "^user_[0-9]+$", ("t",), target, None, {"START": group})


def work(j: Job) -> Work:
    return Work("user_1", "START", j.groups["START"].upgrade.forms.online)


def setup(url: str) -> None:
    execute(
        url,
        LEDGER_DDL,
        LEDGER_COMPLETE,
        "CREATE SCHEMA user_1",
        "CREATE TABLE user_1.t (a int)",
        "INSERT INTO user_1.t VALUES (1)",
    )


def columns(url: str) -> list[str]:
    return [
        r[0]
        for r in query(
            url,
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'user_1' AND table_name = 't' ORDER BY ordinal_position",
        )
    ]


def connect(url: str) -> psycopg.Connection:
    return connection.connect(url, autocommit=True)


def test_a_trailing_line_comment_does_not_swallow_the_next_statement(fresh_db: str) -> None:
    setup(fresh_db)
    target = state_of(fresh_db, "CREATE TABLE t (a int, b int, c int)")
    j = job(
        ("ALTER TABLE t ADD COLUMN b int -- a note from the revision", "ALTER TABLE t ADD COLUMN c int -- another"),
        target,
    )
    with connect(fresh_db) as conn:
        assert run_tenant(conn, j, work(j), Options()) is None
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert columns(fresh_db) == ["a", "b", "c"]
    assert query(fresh_db, "SELECT schema_name, complete FROM public.schemadiff_ledger") == [("user_1", True)]


def test_a_failing_statement_rolls_back_the_whole_tenant_and_leaves_the_connection_usable(fresh_db: str) -> None:
    setup(fresh_db)
    target = state_of(fresh_db, "CREATE TABLE t (a int, b int, c int)")
    up = (
        "ALTER TABLE t ADD COLUMN b int",
        "ALTER TABLE t ADD CONSTRAINT positive CHECK (a < 0)",  # row 1 violates it
        "ALTER TABLE t ADD COLUMN c int",
    )
    with connect(fresh_db) as conn:
        error = run_tenant(conn, job(up, target), work(job(up, target)), Options())
        assert error is not None and "positive" in error
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert conn.execute("SELECT 42").fetchone() == (42,)
        fixed = job((up[0], up[2]), target)
        assert run_tenant(conn, fixed, work(fixed), Options()) is None
    assert columns(fresh_db) == ["a", "b", "c"]
    assert query(fresh_db, "SELECT count(*) FROM public.schemadiff_ledger") == [(1,)]


def test_a_failing_commit_is_reported_and_leaves_nothing(fresh_db: str) -> None:
    setup(fresh_db)
    execute(fresh_db, "CREATE TABLE user_1.parent (id int PRIMARY KEY)")
    up = (
        "ALTER TABLE t ADD COLUMN p int",
        "ALTER TABLE t ADD CONSTRAINT t_p_fkey FOREIGN KEY (p) REFERENCES parent DEFERRABLE INITIALLY DEFERRED",
        "INSERT INTO t (a, p) VALUES (2, 8)",
    )  # checked only at COMMIT
    target = state_of(
        fresh_db,
        "CREATE TABLE parent (id int PRIMARY KEY)",
        "CREATE TABLE t (a int, p int CONSTRAINT t_p_fkey REFERENCES parent DEFERRABLE INITIALLY DEFERRED)",
    )
    with connect(fresh_db) as conn:
        error = run_tenant(conn, job(up, target), work(job(up, target)), Options())
        assert error is not None and "foreign key" in error
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert columns(fresh_db) == ["a"]
    assert query(fresh_db, "SELECT count(*) FROM public.schemadiff_ledger") == [(0,)]


def test_a_tenant_that_does_not_reach_the_promised_state_is_rolled_back_and_not_recorded(fresh_db: str) -> None:
    setup(fresh_db)
    promised = state_of(fresh_db, "CREATE TABLE t (a int, b int)")
    edited = job(("ALTER TABLE t ADD COLUMN b text",), promised)  # a hand-edited revision: text, not int
    with connect(fresh_db) as conn:
        error = run_tenant(conn, edited, work(edited), Options())
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert error is not None and "not the state" in error and promised in error
    assert columns(fresh_db) == ["a"]
    assert query(fresh_db, "SELECT count(*) FROM public.schemadiff_ledger") == [(0,)]


def test_a_narrowing_that_would_cut_values_fails_the_tenant_with_the_count(fresh_db: str) -> None:
    from schemadiff.core.alter_column import AlterColumn
    from schemadiff.core.model import Column

    execute(
        fresh_db,
        LEDGER_DDL,
        LEDGER_COMPLETE,
        "CREATE SCHEMA user_1",
        "CREATE TABLE user_1.t (a varchar(100))",
        "INSERT INTO user_1.t VALUES ('short'), (repeat('x', 30)), (repeat('y', 40)), (NULL)",
    )
    op = AlterColumn("t", Column("a", "character varying(100)"), Column("a", "character varying(20)"))
    statements = tuple(op.statements(None))
    group = GroupSQL(Direction(Forms(statements, statements)), Direction(Forms((), ())))
    target = state_of(fresh_db, "CREATE TABLE t (a varchar(20))")
    j = Job("rev1", "upgrade", "public", "^user_[0-9]+$", ("t",), target, None, {"START": group})
    with connect(fresh_db) as conn:
        error = run_tenant(conn, j, work(j), Options())
    assert error is not None and error.startswith("2 row(s) of t.a do not fit character varying(20)")
    assert query(fresh_db, "SELECT max(length(a)) FROM user_1.t") == [(40,)]
    assert query(fresh_db, "SELECT count(*) FROM public.schemadiff_ledger") == [(0,)]


def test_a_tenant_name_cannot_inject_sql_into_the_ledger(fresh_db: str) -> None:
    """With standard_conforming_strings off a backslash escapes a quote inside a literal: the
    tenant's name must still reach the ledger as data, not as SQL."""
    hostile = "t_\\',$$upgrade$$,$$a$$,$$b$$,true);DROP TABLE public.v;--"
    quoted = psycopg.sql.Identifier(hostile).as_string(None)
    execute(
        fresh_db,
        LEDGER_DDL,
        LEDGER_COMPLETE,
        "CREATE TABLE public.v (x int)",
        f"CREATE SCHEMA {quoted}",
        f"CREATE TABLE {quoted}.t (a int)",
    )
    target = state_of(fresh_db, "CREATE TABLE t (a int, b int)")
    j = job(("ALTER TABLE t ADD COLUMN b int",), target)
    with connect(fresh_db) as conn:
        conn.execute("SET standard_conforming_strings = off")
        assert run_tenant(conn, j, Work(hostile, "START", j.groups["START"].upgrade.forms.online), Options()) is None
    assert query(fresh_db, "SELECT to_regclass('public.v') IS NOT NULL") == [(True,)]
    assert query(fresh_db, "SELECT schema_name, direction, from_fingerprint FROM public.schemadiff_ledger") == [
        (hostile, "upgrade", "START")
    ]


def test_a_known_state_commits_in_one_round_trip_and_any_other_is_still_refused(fresh_db: str) -> None:
    """After one tenant proved the promised state, the next commit in one round trip: the ledger row
    itself refuses a tenant whose catalog digest is not a proved one, and the full check decides."""
    from schemadiff.runtime.tenant_phases import KnownStates

    setup(fresh_db)
    execute(
        fresh_db,
        "CREATE SCHEMA user_2",
        "CREATE TABLE user_2.t (a int)",
        "CREATE SCHEMA user_3",
        "CREATE TABLE user_3.t (a int)",
    )
    target = state_of(fresh_db, "CREATE TABLE t (a int, b int)")
    right, edited = job(("ALTER TABLE t ADD COLUMN b int",), target), job(("ALTER TABLE t ADD COLUMN b text",), target)
    known = KnownStates()
    with connect(fresh_db) as conn:
        assert run_tenant(conn, right, work(right), Options(), known) is None  # proved in full
        assert len(known.digests(target, False)) == 1
        second = Work("user_2", "START", right.groups["START"].upgrade.forms.online)
        assert run_tenant(conn, right, second, Options(), known) is None  # the one-round-trip path
        third = Work("user_3", "START", edited.groups["START"].upgrade.forms.online)
        error = run_tenant(conn, edited, third, Options(), known)
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert error is not None and "not the state" in error
    assert query(fresh_db, "SELECT schema_name FROM public.schemadiff_ledger ORDER BY 1") == [("user_1",), ("user_2",)]
    assert query(fresh_db, "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'user_3'") == [(1,)]
