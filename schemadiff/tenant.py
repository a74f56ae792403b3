"""One tenant's run: its online drops, then one transaction (its change and its ledger row), then
its online builds and validations, each retried on lock timeouts.

A tenant whose revision has no online part is exactly one transaction. With an online part, the
ledger row commits with the transaction marked incomplete and is completed after the last build;
a rerun finds such a tenant (at the target, or between phases) and finishes only what is left:
an INVALID index left by a killed build is dropped concurrently and rebuilt.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import psycopg
from psycopg.pq import TransactionStatus

from schemadiff.errors import first_line
from schemadiff.online import concurrent_index_name, split_phases, validated_constraint
from schemadiff.ops import AFTER_MARK
from schemadiff.sqltext import quote_ident, quote_literal

if TYPE_CHECKING:
    from schemadiff.runner import Job, Options, Work

PLACEHOLDER = "sdtenant__placeholder"
RETRYABLE = (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected,
             psycopg.errors.SerializationFailure)


def tenant_script(job: Job, item: Work, options: Options, statements: tuple[str, ...], complete: bool) -> str:
    """The tenant's transactional statements and its ledger row, to run inside one transaction."""
    schema = quote_ident(item.schema)
    to_fp = job.target if job.direction == "upgrade" else item.from_fp
    head = [f"SET LOCAL lock_timeout = {quote_literal(options.lock_timeout)}",
            f"SET LOCAL statement_timeout = {quote_literal(options.statement_timeout)}",
            f"SET LOCAL synchronous_commit = {quote_literal(options.synchronous_commit)}",
            f"SET LOCAL search_path = {schema}"]
    body = [s.replace(PLACEHOLDER, schema) for s in statements]
    ledger = ("INSERT INTO public.schemadiff_ledger (revision, schema_name, direction, from_fingerprint, "
              f"to_fingerprint, complete) VALUES ({quote_literal(job.revision)}, {quote_literal(item.schema)}, "
              f"{quote_literal(job.direction)}, {quote_literal(item.from_fp)}, {quote_literal(to_fp)}, "
              f"{'true' if complete else 'false'}) "
              "ON CONFLICT (revision, schema_name) DO UPDATE SET direction = excluded.direction, "
              "from_fingerprint = excluded.from_fingerprint, to_fingerprint = excluded.to_fingerprint, "
              "complete = excluded.complete, applied_at = now()")
    return "\n;\n".join(head + body + [ledger])  # a newline first: a trailing -- comment ends there


def run_tenant(conn: psycopg.Connection, job: Job, item: Work, options: Options) -> str | None:
    """Run one tenant; the error text, or None when it is done."""
    before, inside, after = split_phases(item.statements)
    if item.inline:
        before, inside, after = (), inline_statements(item.statements), ()
    try:
        if not item.post_only:
            _online(conn, item, options, before)
            _retrying(options, lambda: _transaction(conn, tenant_script(job, item, options, inside, not after)))
        if after or item.post_only:
            _online(conn, item, options, after)
            conn.execute("UPDATE public.schemadiff_ledger SET complete = true WHERE revision = %s AND schema_name = %s",
                         (job.revision, item.schema))
    except psycopg.Error as exc:
        return first_line(exc)
    except _GaveUp as exc:
        return str(exc)
    return None


_CONCURRENTLY = re.compile(r"\b(CREATE (?:UNIQUE )?INDEX|DROP INDEX) CONCURRENTLY\b", re.IGNORECASE)


def inline_statements(statements: tuple[str, ...]) -> tuple[str, ...]:
    """The online form made plain, in its original order, for one transaction on a small table."""
    return tuple(_CONCURRENTLY.sub(r"\1", s.removeprefix(AFTER_MARK)) for s in statements)


def _transaction(conn: psycopg.Connection, script: str) -> None:
    """``script`` in one transaction, sent as one message: BEGIN, the statements and COMMIT in a
    single round trip (three round trips per tenant cost as much as the DDL on busy cores). A
    failing statement skips the rest of the message, so COMMIT never runs after an error; the
    aborted transaction is rolled back here."""
    try:
        conn.execute(f"BEGIN;\n{script}\n;\nCOMMIT")
    except psycopg.Error:
        if not conn.closed and not conn.broken and conn.info.transaction_status == TransactionStatus.INERROR:
            conn.execute("ROLLBACK")
        raise


def _online(conn: psycopg.Connection, item: Work, options: Options, statements: tuple[str, ...]) -> None:
    """Statements that must run outside a transaction block, each on its own (autocommit)."""
    if not statements:
        return
    schema = quote_ident(item.schema)
    conn.execute(f"SET lock_timeout = {quote_literal(options.lock_timeout)}")
    conn.execute(f"SET statement_timeout = {quote_literal(options.statement_timeout)}")
    conn.execute(f"SET search_path = {schema}")
    try:
        for raw in statements:
            statement = raw.replace(PLACEHOLDER, schema)
            if statement.lstrip().upper().startswith("CREATE") and " CONCURRENTLY " in statement.upper():
                _build_index(conn, item.schema, statement, options)
            elif (name := validated_constraint(statement)) and not constraint_exists(conn, item.schema, name):
                continue  # a rerun after the temporary check of an online SET NOT NULL was dropped
            else:
                _retrying(options, lambda s=statement: conn.execute(s))  # type: ignore[misc]
    finally:
        conn.execute("RESET lock_timeout; RESET statement_timeout; RESET search_path")


def _build_index(conn: psycopg.Connection, schema: str, statement: str, options: Options) -> None:
    """CREATE INDEX CONCURRENTLY, idempotently: skip a valid index, rebuild an INVALID one, and
    never leave an INVALID index behind when the build fails."""
    name = concurrent_index_name(statement) or ""
    drop = f"DROP INDEX CONCURRENTLY IF EXISTS {quote_ident(schema)}.{quote_ident(name)}"
    valid = index_validity(conn, schema, name)
    if valid:
        return
    if valid is False:
        _retrying(options, lambda: conn.execute(drop))
    try:
        _retrying(options, lambda: conn.execute(statement))
    except (psycopg.Error, _GaveUp):
        if index_validity(conn, schema, name) is False:
            conn.execute(drop)
        raise


def constraint_exists(conn: psycopg.Connection, schema: str, name: str) -> bool:
    row = conn.execute("SELECT 1 FROM pg_catalog.pg_constraint c JOIN pg_catalog.pg_namespace n "
                       "ON n.oid = c.connamespace WHERE n.nspname = %s AND c.conname = %s", (schema, name)).fetchone()
    return row is not None


def index_validity(conn: psycopg.Connection, schema: str, name: str) -> bool | None:
    row = conn.execute(
        "SELECT i.indisvalid FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid "
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s",
        (schema, name)).fetchone()
    return None if row is None else bool(row[0])


class _GaveUp(Exception):
    pass


def _retrying(options: Options, action: Callable[[], object]) -> None:
    """Run ``action``; on a lock timeout or deadlock, wait with backoff and run it again."""
    for attempt in range(options.retries + 1):
        try:
            action()
            return
        except RETRYABLE as exc:
            if attempt == options.retries:
                raise _GaveUp(f"{first_line(exc)} (after {options.retries + 1} attempts)") from None
            time.sleep(options.backoff * 2 ** attempt)
