"""The state digest (sql/state_digest.sql) on a real PostgreSQL: the preflight reads one tenant per
digest in full, and the runtime commits a tenant whose digest was proved, so two tenants with the
same digest must have the same fingerprint. And the pipeline that carries a tenant's statements."""

from __future__ import annotations

import psycopg
import pytest

from schemadiff.core.fingerprint import fingerprint
from schemadiff.pg import connection
from schemadiff.pg.connection import Message, pipelined
from schemadiff.pg.introspect import introspect
from schemadiff.runtime.execute import read_states
from schemadiff.runtime.job import Job
from schemadiff.runtime.tenant_phases import state_digest

from .helpers import execute


def job() -> Job:
    return Job("rev1", "upgrade", "public", "^user_[0-9]+$", ("t",), "", None, {})


def digests(url: str, *schemas: str) -> list[str]:
    with connection.connect(url, autocommit=True) as conn:
        rows = pipelined(conn, [Message(state_digest(conn.info.server_version), (s, ["t"])) for s in schemas])
    return [r[0][0] for r in rows]


def fingerprints(url: str, *schemas: str) -> list[str]:
    with connection.connect(url, autocommit=True) as conn:
        models = introspect(conn, list(schemas), ["t"]).models
    return [fingerprint(models[s]) for s in schemas]


def preflight_fingerprints(url: str) -> dict[str, str]:
    with connection.connect(url, autocommit=True) as conn:
        states, _rows = read_states(conn, job())
    return {schema: state.fingerprint for schema, state in states.items()}


def test_equal_states_share_a_digest_and_the_preflight_reads_them_as_one(fresh_db: str) -> None:
    for schema in ("public", "user_1", "user_22"):  # names of other lengths: the same digest
        execute(
            fresh_db,
            f"CREATE SCHEMA IF NOT EXISTS {schema}",
            f"SET search_path = {schema}",
            "CREATE TABLE t (id int PRIMARY KEY, a text DEFAULT 'x' CHECK (a <> ''), b int)",
            "CREATE INDEX t_b ON t (b) WHERE b > 0",
            "COMMENT ON COLUMN t.a IS 'note'",
        )
    assert len(set(digests(fresh_db, "public", "user_1", "user_22"))) == 1
    expected = fingerprints(fresh_db, "public", "user_1", "user_22")
    assert preflight_fingerprints(fresh_db) == dict(zip(("public", "user_1", "user_22"), expected, strict=True))


def test_columns_in_another_order_under_an_index_are_another_digest(fresh_db: str) -> None:
    """Index keys are attribute numbers: with two columns swapped, the index on the first column
    covers another column, so the digest must see the column numbers."""
    execute(
        fresh_db,
        "CREATE SCHEMA user_1",
        "CREATE TABLE user_1.t (a int, b int)",
        "CREATE INDEX t_x ON user_1.t (a)",
        "CREATE SCHEMA user_2",
        "CREATE TABLE user_2.t (b int, a int)",
        "CREATE INDEX t_x ON user_2.t (b)",
    )
    assert len(set(fingerprints(fresh_db, "user_1", "user_2"))) == 2
    assert len(set(digests(fresh_db, "user_1", "user_2"))) == 2
    preflight = preflight_fingerprints(fresh_db)
    assert preflight["user_1"] != preflight["user_2"]


def test_a_foreign_key_to_other_columns_of_the_same_numbers_is_another_digest(fresh_db: str) -> None:
    """The referenced column numbers are the other table's: the first column of p is x in one
    tenant and y in the other. (Foreign keys are not managed yet, so the fingerprints agree; the
    digest must not, for the day they are.)"""
    for schema, columns, target in (
        ("user_1", "x int UNIQUE, y int UNIQUE", "x"),
        ("user_2", "y int UNIQUE, x int UNIQUE", "y"),
    ):
        execute(
            fresh_db,
            f"CREATE SCHEMA {schema}",
            f"CREATE TABLE {schema}.p ({columns})",
            f"CREATE TABLE {schema}.t (a int CONSTRAINT t_a_fkey REFERENCES {schema}.p ({target}))",
        )
    assert len(set(digests(fresh_db, "user_1", "user_2"))) == 2


def test_nulls_not_distinct_is_in_the_digest(fresh_db: str) -> None:
    with psycopg.connect(fresh_db) as conn:
        if conn.info.server_version < 150000:
            pytest.skip("NULLS NOT DISTINCT needs PostgreSQL 15")
    execute(
        fresh_db,
        "CREATE SCHEMA user_1",
        "CREATE TABLE user_1.t (a int)",
        "CREATE UNIQUE INDEX t_a ON user_1.t (a)",
        "CREATE SCHEMA user_2",
        "CREATE TABLE user_2.t (a int)",
        "CREATE UNIQUE INDEX t_a ON user_2.t (a) NULLS NOT DISTINCT",
    )
    assert len(set(fingerprints(fresh_db, "user_1", "user_2"))) == 2
    assert len(set(digests(fresh_db, "user_1", "user_2"))) == 2
    preflight = preflight_fingerprints(fresh_db)
    assert preflight["user_1"] != preflight["user_2"]


def test_a_schema_without_the_managed_table_reads_as_empty(fresh_db: str) -> None:
    execute(fresh_db, "CREATE SCHEMA user_1", "CREATE TABLE user_1.t (a int)", "CREATE SCHEMA user_2")
    with connection.connect(fresh_db, autocommit=True) as conn:
        states, rows = read_states(conn, job())
    assert states["user_2"][1].tables == () and states["user_1"][1].tables != ()
    assert "user_2" not in rows


def test_pipelined_statements_are_one_implicit_transaction_and_the_connection_stays_usable(fresh_db: str) -> None:
    execute(fresh_db, "CREATE TABLE t (a int PRIMARY KEY)")
    with connection.connect(fresh_db, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.UniqueViolation):
            pipelined(conn, [Message("INSERT INTO t VALUES ($1)", (1,)), Message("INSERT INTO t VALUES ($1)", (1,))])
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert conn.execute("SELECT count(*) FROM t").fetchone() == (0,)  # the first insert was rolled back with it
        assert pipelined(conn, [Message("INSERT INTO t VALUES ($1)", (2,)), Message("SELECT $1::text", ("a;b",))]) == [
            [],
            [("a;b",)],
        ]
        with pytest.raises(psycopg.errors.SyntaxError):  # the server refuses two statements in one message
            pipelined(conn, [Message("SELECT 1; SELECT 2")])


def test_a_prepared_statement_outlives_psycopg_deallocating_its_own(fresh_db: str) -> None:
    """psycopg sends DEALLOCATE ALL after a DROP, ALTER or ROLLBACK while it holds prepared
    statements of its own; a statement pipelined() prepared must still run afterwards, and one
    whose Prepare succeeded in a pipeline that failed later is not prepared twice."""
    execute(fresh_db, "CREATE TABLE t (a int PRIMARY KEY)")
    with connection.connect(fresh_db, autocommit=True) as conn:
        count = Message("SELECT count(*) FROM t WHERE a > $1", (0,), prepared="count_t")
        with pytest.raises(psycopg.errors.UniqueViolation):  # prepared, then a later statement fails
            pipelined(conn, [count, Message("INSERT INTO t VALUES (1)"), Message("INSERT INTO t VALUES (1)")])
        assert pipelined(conn, [count]) == [[(0,)]]
        for _ in range(6):  # psycopg prepares a query it saw five times...
            conn.execute("SELECT 1 WHERE %s", (True,))
        conn.execute("DROP TABLE IF EXISTS nothing")  # ...and deallocates everything after a DROP
        conn.execute("SELECT 1 WHERE %s", (True,))
        assert pipelined(conn, [count]) == [[(0,)]]
        assert conn.execute("SELECT count(*) FROM pg_prepared_statements WHERE name = 'count_t'").fetchone() == (1,)


def test_enum_types_of_the_schema_are_digested_with_their_labels_in_order(fresh_db: str) -> None:
    """The enum facts are found through the schema's dependency rows (an index scan, not a scan of
    pg_type per tenant): a type with other labels, or the same labels in another order, or no type,
    is another digest; the same type in two schemas is the same digest."""
    for schema, labels in (
        ("user_1", "'a', 'b'"),
        ("user_2", "'a', 'b'"),
        ("user_3", "'b', 'a'"),
        ("user_4", "'a', 'b', 'c'"),
        ("user_5", None),
    ):
        statements = [f"CREATE SCHEMA {schema}", f"CREATE TABLE {schema}.t (id int)"]
        if labels:
            statements.insert(1, f"CREATE TYPE {schema}.mood AS ENUM ({labels})")
        execute(fresh_db, *statements)
    d1, d2, d3, d4, d5 = digests(fresh_db, "user_1", "user_2", "user_3", "user_4", "user_5")
    assert d1 == d2
    assert len({d1, d3, d4, d5}) == 4
