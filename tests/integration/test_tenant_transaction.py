"""One tenant's transaction, sent as one message (BEGIN … COMMIT), on a real PostgreSQL."""

from __future__ import annotations

import psycopg

from schemadiff.runner import LEDGER_DDL, Job, Options, Work
from schemadiff.tenant import PLACEHOLDER, run_tenant

from .helpers import execute, query


def job(up: tuple[str, ...]) -> Job:
    return Job("rev1", "upgrade", "public", "^user_[0-9]+$", ("t",), "TARGET", None, {"START": (up, ())})


def setup(url: str) -> None:
    execute(url, LEDGER_DDL, "CREATE SCHEMA user_1", "CREATE TABLE user_1.t (a int)", "INSERT INTO user_1.t VALUES (1)")


def columns(url: str) -> list[str]:
    return [r[0] for r in query(url, "SELECT column_name FROM information_schema.columns "
                                     "WHERE table_schema = 'user_1' AND table_name = 't' ORDER BY ordinal_position")]


def test_a_trailing_line_comment_does_not_swallow_the_next_statement(fresh_db: str) -> None:
    setup(fresh_db)
    up = (f"ALTER TABLE {PLACEHOLDER}.t ADD COLUMN b int -- a note from the revision",
          f"ALTER TABLE {PLACEHOLDER}.t ADD COLUMN c int -- another")
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        assert run_tenant(conn, job(up), Work("user_1", "START", up), Options()) is None
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert columns(fresh_db) == ["a", "b", "c"]
    assert query(fresh_db, "SELECT schema_name, complete FROM public.schemadiff_ledger") == [("user_1", True)]


def test_a_failing_statement_rolls_back_the_whole_tenant_and_leaves_the_connection_usable(fresh_db: str) -> None:
    setup(fresh_db)
    up = (f"ALTER TABLE {PLACEHOLDER}.t ADD COLUMN b int",
          f"ALTER TABLE {PLACEHOLDER}.t ADD CONSTRAINT positive CHECK (a < 0)",  # row 1 violates it
          f"ALTER TABLE {PLACEHOLDER}.t ADD COLUMN c int")
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        error = run_tenant(conn, job(up), Work("user_1", "START", up), Options())
        assert error is not None and "positive" in error
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert conn.execute("SELECT 42").fetchone() == (42,)
        fixed = (up[0], up[2])
        assert run_tenant(conn, job(fixed), Work("user_1", "START", fixed), Options()) is None
    assert columns(fresh_db) == ["a", "b", "c"]
    assert query(fresh_db, "SELECT count(*) FROM public.schemadiff_ledger") == [(1,)]


def test_a_failing_commit_is_reported_and_leaves_nothing(fresh_db: str) -> None:
    setup(fresh_db)
    execute(fresh_db, "CREATE TABLE user_1.parent (id int PRIMARY KEY)")
    up = (f"ALTER TABLE {PLACEHOLDER}.t ADD COLUMN p int",
          f"ALTER TABLE {PLACEHOLDER}.t ADD CONSTRAINT t_p_fkey FOREIGN KEY (p) REFERENCES {PLACEHOLDER}.parent "
          "DEFERRABLE INITIALLY DEFERRED",
          f"INSERT INTO {PLACEHOLDER}.t (a, p) VALUES (2, 8)")  # checked only at COMMIT
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        error = run_tenant(conn, job(up), Work("user_1", "START", up), Options())
        assert error is not None and "foreign key" in error
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert columns(fresh_db) == ["a"]
    assert query(fresh_db, "SELECT count(*) FROM public.schemadiff_ledger") == [(0,)]
