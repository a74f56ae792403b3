"""One tenant's run: its before-phase statements, then one transaction (its change, a check that it
reached the promised state, its ledger row), then its after-commit statements, each retried on
lock timeouts.

Every statement goes to the server on its own, over the extended protocol (the server itself
refuses a second statement in a message); the tenant's schema, the timeouts and the ledger row
go as bound parameters. The statements are pipelined (connection.pipelined: one write, one read).
Once an earlier tenant proved which catalog digest the promised state has, a tenant is one round
trip and one implicit transaction: the settings, its statements and a ledger row that only that
digest lets through, committed by the server at the pipeline's end unless something failed.
Otherwise BEGIN, the settings, the statements, the guards and the catalog reads of the check leave
in one round trip; the ledger row and COMMIT in a second one, sent only when the check passed.

A tenant whose revision has no after-commit part is exactly one transaction. With one, the
ledger row commits with the transaction marked incomplete and is completed after the last build
(and a last check); a rerun finds such a tenant (at the target, or between phases) and finishes
only what is left: an INVALID index left by a killed build is dropped concurrently and rebuilt.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus

from schemadiff.core.diff import diff_schema
from schemadiff.core.fingerprint import fingerprint
from schemadiff.core.model import SchemaModel, model_from_dict
from schemadiff.core.sqltext import quote_ident
from schemadiff.core.statements import AFTER, BEFORE, INSIDE, Statement
from schemadiff.errors import first_line
from schemadiff.pg import connection
from schemadiff.pg.connection import Message
from schemadiff.pg.digests import state_digest
from schemadiff.pg.introspect import introspect
from schemadiff.runtime.job import Job, Options, Work

RETRYABLE = (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure)
# every statement below takes PostgreSQL's own $n placeholders: they go through connection.pipelined
SETTINGS = (
    "SELECT pg_catalog.set_config('lock_timeout', $1, $5), "
    "pg_catalog.set_config('statement_timeout', $2, $5), "
    "pg_catalog.set_config('synchronous_commit', $3, $5), "
    "pg_catalog.set_config('standard_conforming_strings', 'on', $5), "
    "pg_catalog.set_config('search_path', $4, $5)"
)
# a fixed search_path from here on: a prepared plan is re-planned whenever it changes
FIXED_SEARCH_PATH = "SELECT pg_catalog.set_config('search_path', 'pg_catalog', true)"
_ON_CONFLICT = (
    " ON CONFLICT (revision, schema_name) DO UPDATE SET direction = excluded.direction, "
    "from_fingerprint = excluded.from_fingerprint, to_fingerprint = excluded.to_fingerprint, "
    "complete = excluded.complete, applied_at = now()"
)
LEDGER_UPSERT = (
    "INSERT INTO public.schemadiff_ledger (revision, schema_name, direction, from_fingerprint, "
    "to_fingerprint, complete) VALUES ($1, $2, $3, $4, $5, $6)" + _ON_CONFLICT
)


@functools.cache
def ledger_if_known(server_version: int) -> str:
    """The ledger row of a tenant whose state digest is one already proved to be the promised state;
    any other digest leaves to_fingerprint NULL, which the ledger's NOT NULL refuses, so nothing
    commits. $1 the schema, $2 the managed tables, then revision, direction, from_fingerprint, the
    proved digests, to_fingerprint, complete."""
    return (
        "INSERT INTO public.schemadiff_ledger (revision, schema_name, direction, from_fingerprint, "
        "to_fingerprint, complete) SELECT $3, $1, $4, $5, CASE WHEN d.digest = ANY($6) THEN $7 END, $8 "
        f"FROM ({state_digest(server_version)}) AS d (digest)" + _ON_CONFLICT
    )


class TenantFailed(Exception):
    """The tenant was rolled back; the message says why."""


class KnownStates:
    """Catalog digests already proved to read as an expected state, shared by a run's workers: a
    tenant whose digest is known needs no fingerprinting; the first of each kind is read in full.

    Kept per starting digest (``start``, what preflight read): a tenant takes the one-round-trip
    path only after one that started alike was proved. A tenant that started otherwise (columns in
    another order, say) ends with another digest, and trying the shortcut would only make the
    ledger refuse it, an ERROR line in the server's log, before the full check."""

    def __init__(self) -> None:
        self._known: dict[tuple[str, bool, str], set[str]] = {}
        self._lock = threading.Lock()

    def digests(self, expected: str, between: bool, start: str = "") -> list[str]:
        with self._lock:
            return sorted(self._known.get((expected, between, start), ()))

    def add(self, expected: str, between: bool, digest: str, start: str = "") -> None:
        with self._lock:
            self._known.setdefault((expected, between, start), set()).add(digest)


def settings(options: Options, schema: str, local: bool) -> Message:
    return Message(
        SETTINGS,
        (options.lock_timeout, options.statement_timeout, options.synchronous_commit, quote_ident(schema), local),
    )


def sql_for(job: Job, schema: str, statement: Statement) -> str:
    """The statement's text for this tenant: format-2 text is the same for every tenant (the
    search_path names it); a format-1 revision's placeholder schema is replaced."""
    if job.placeholder is None:
        return statement.sql
    return statement.sql.replace(job.placeholder, quote_ident(schema))


def run_tenant(
    conn: psycopg.Connection, job: Job, item: Work, options: Options, known: KnownStates | None = None
) -> str | None:
    """Run one tenant; the error text, or None when it is done."""
    after = item.phase(AFTER)
    states = known if known is not None else KnownStates()
    try:
        if not item.post_only:
            _online(conn, job, item, options, item.phase(BEFORE))
            _retrying(options, lambda: _transaction(conn, job, item, options, not after, states))
        if after or item.post_only:
            _online(conn, job, item, options, after)
            _complete(conn, job, item)
    except psycopg.Error as exc:
        return first_line(exc)
    except (_GaveUp, TenantFailed) as exc:
        return str(exc)
    return None


def _transaction(
    conn: psycopg.Connection, job: Job, item: Work, options: Options, complete: bool, known: KnownStates
) -> None:
    """The tenant's transaction, checked before its COMMIT. When earlier tenants proved what the
    promised state's catalog digest is, one round trip does it all (the ledger row itself refuses
    any other digest); otherwise, or when that refusal comes, the checked path decides."""
    expected = expected_state(job, item, complete)
    digests = known.digests(expected, not complete, item.digest) if expected is not None else []
    if digests and not any(s.guard for s in item.phase(INSIDE)):
        try:
            return _run_in_one_round_trip(conn, job, item, options, complete, digests)
        except psycopg.errors.NotNullViolation as exc:
            _rollback(conn)
            if exc.diag.column_name != "to_fingerprint" or exc.diag.table_name != "schemadiff_ledger":
                raise
    _checked(conn, job, item, options, complete, expected, known)


def _inside(job: Job, item: Work, options: Options) -> list[Message]:
    """The settings, the inside statements, then the fixed search_path of the catalog reads."""
    return [
        settings(options, item.schema, local=True),
        *(Message(sql_for(job, item.schema, statement)) for statement in item.phase(INSIDE)),
        Message(FIXED_SEARCH_PATH),
    ]


def _run_in_one_round_trip(
    conn: psycopg.Connection, job: Job, item: Work, options: Options, complete: bool, digests: list[str]
) -> None:
    """One implicit transaction (no BEGIN): the server commits it at the pipeline's Sync only when
    every statement, the ledger row last, succeeded; on any error it rolls it back whole."""
    ledger = Message(
        ledger_if_known(conn.info.server_version),
        (
            item.schema,
            list(job.tables),
            job.revision,
            job.direction,
            item.from_fp,
            digests,
            to_fingerprint(job, item),
            complete,
        ),
        prepared="schemadiff_ledger_if_known",
    )
    connection.pipelined(conn, [*_inside(job, item, options), ledger])


def _checked(
    conn: psycopg.Connection,
    job: Job,
    item: Work,
    options: Options,
    complete: bool,
    expected: str | None,
    known: KnownStates,
) -> None:
    """The inside statements, guards and the state digest in one round trip; the state check (a
    full read only for a digest not seen before); then the ledger row and COMMIT in a second round
    trip, or ROLLBACK. Any error leaves nothing behind and the connection idle."""
    inside = item.phase(INSIDE)
    try:
        digest = Message(
            state_digest(conn.info.server_version), (item.schema, list(job.tables)), prepared="schemadiff_state_digest"
        )

        def guards(rows: list[list[tuple[Any, ...]]]) -> None:
            for statement, found in zip(inside, rows[2:], strict=False):
                if statement.guard and found and found[0][0]:
                    raise TenantFailed(f"{found[0][0]} {statement.guard}; nothing was changed")

        # a guard's count says more than the error of the statement it guards: checked first
        rows = connection.pipelined(conn, [Message("BEGIN"), *_inside(job, item, options), digest], before_error=guards)
        guards(rows)
        if expected is not None:
            check_state(conn, job, item.schema, expected, between_phases=not complete)
            known.add(expected, not complete, str(rows[-1][0][0] if rows[-1] else ""), item.digest)
        connection.pipelined(
            conn,
            [
                Message(
                    LEDGER_UPSERT,
                    (job.revision, item.schema, job.direction, item.from_fp, to_fingerprint(job, item), complete),
                ),
                Message("COMMIT"),
            ],
        )
    except BaseException:
        _rollback(conn)
        raise


def _rollback(conn: psycopg.Connection) -> None:
    if not conn.closed and not conn.broken and conn.info.transaction_status != TransactionStatus.IDLE:
        conn.execute("ROLLBACK")


def to_fingerprint(job: Job, item: Work) -> str:
    return job.target if job.direction == "upgrade" else item.from_fp


def expected_state(job: Job, item: Work, complete: bool) -> str | None:
    """The fingerprint the tenant must have before its COMMIT, or None when it cannot be known yet
    (a downgrade with an after-commit part: checked once that part is done)."""
    if complete:
        return to_fingerprint(job, item)
    return job.mid if job.direction == "upgrade" else None


def check_state(conn: psycopg.Connection, job: Job, schema: str, expected: str, between_phases: bool) -> None:
    """Raise TenantFailed unless the tenant now reads as ``expected`` (in the open transaction)."""
    model = read_model(conn, job, schema)
    got = fingerprint(job.without_online_parts(model) if between_phases else model)
    if got == expected:
        return
    promised = promised_model(job, expected)
    ops = diff_schema(model, promised) if promised is not None and not between_phases else []
    differs = "; it still needs: " + "; ".join(op.describe() for op in ops[:8]) if ops else ""
    raise TenantFailed(
        f"after the change {schema} is in state {got}, not the state {expected} the revision "
        f"promises{differs}; rolled back, nothing was recorded (was the revision edited?)"
    )


def promised_model(job: Job, expected: str) -> SchemaModel | None:
    """The model of the state ``expected``: the target's, or a group's start as the revision
    carries it (revisions written before they carried it: None)."""
    if expected == job.target:
        return job.target_model
    text = job.start_models.get(expected)
    return model_from_dict(json.loads(text)) if text else None


def read_model(conn: psycopg.Connection, job: Job, schema: str) -> SchemaModel:
    return introspect(conn, [schema], list(job.tables), job.template, job.enums).models[schema]


def _complete(conn: psycopg.Connection, job: Job, item: Work) -> None:
    """After the after-commit part: check the final state, then mark the ledger row complete."""
    with conn.transaction():
        check_state(conn, job, item.schema, to_fingerprint(job, item), between_phases=False)
        conn.execute(
            "UPDATE public.schemadiff_ledger SET complete = true WHERE revision = %s AND schema_name = %s",
            (job.revision, item.schema),
        )


def _online(
    conn: psycopg.Connection, job: Job, item: Work, options: Options, statements: tuple[Statement, ...]
) -> None:
    """Statements that must run outside a transaction block, each on its own (autocommit)."""
    if not statements:
        return
    connection.pipelined(conn, [settings(options, item.schema, local=False)])
    try:
        for statement in statements:
            text = sql_for(job, item.schema, statement)
            if statement.phase == AFTER and statement.index is not None:
                _build_index(conn, item.schema, statement.index, text, options)
            elif statement.validates and not constraint_exists(conn, item.schema, statement.validates):
                continue  # a rerun after the temporary check of an online SET NOT NULL was dropped
            else:
                _retrying(options, lambda s=text: conn.execute(s))  # type: ignore[misc]
    finally:
        conn.execute("RESET lock_timeout")
        conn.execute("RESET statement_timeout")
        conn.execute("RESET search_path")


def _build_index(conn: psycopg.Connection, schema: str, name: str, statement: str, options: Options) -> None:
    """CREATE INDEX CONCURRENTLY, idempotently: skip a valid index, rebuild an INVALID one, and
    never leave an INVALID index behind when the build fails."""
    drop = sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}.{}").format(sql.Identifier(schema), sql.Identifier(name))

    def attempt() -> None:  # a build that timed out leaves an INVALID index: drop it before trying again
        valid = index_validity(conn, schema, name)
        if valid:
            return
        if valid is False:
            conn.execute(drop)
        conn.execute(statement)

    try:
        _retrying(options, attempt)
    except (psycopg.Error, _GaveUp):
        if index_validity(conn, schema, name) is False:
            conn.execute(drop)
        raise


def constraint_exists(conn: psycopg.Connection, schema: str, name: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM pg_catalog.pg_constraint c JOIN pg_catalog.pg_namespace n "
        "ON n.oid = c.connamespace WHERE n.nspname = %s AND c.conname = %s",
        (schema, name),
    ).fetchone()
    return row is not None


def index_validity(conn: psycopg.Connection, schema: str, name: str) -> bool | None:
    row = conn.execute(
        "SELECT i.indisvalid FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid "
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s",
        (schema, name),
    ).fetchone()
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
            time.sleep(options.backoff * 2**attempt)
