"""The engine behind ``schemadiff.runtime``: preflight and ledger (``rollout`` runs them; the run's
lock and worker connections are in ``workers``).

Everything here talks psycopg directly, one statement per message, values as bound parameters.
The revision's op functions were already turned into statements (see ``recorder``); each tenant
runs them in its own transaction together with its ledger row (see ``tenant``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import psycopg
from psycopg import sql

from schemadiff.core.fingerprint import fingerprint
from schemadiff.core.model import SchemaModel
from schemadiff.core.sqltext import quote_ident
from schemadiff.pg import connection
from schemadiff.pg.connection import Message
from schemadiff.pg.digests import many_digests, read_by_digest, state_digests, without_jit
from schemadiff.pg.introspect import list_tenants
from schemadiff.runtime.job import DONE, UNKNOWN, Job, LedgerRow, Loss, Options, Report, TenantState, Verdict, Work
from schemadiff.runtime.unknown_states import unknown_states
from schemadiff.runtime.workers import RunFailed, Workers

__all__ = ["Job", "Options", "Report", "Work", "preflight"]

LEDGER_DDL = """CREATE TABLE IF NOT EXISTS public.schemadiff_ledger (
    revision text NOT NULL,
    schema_name text NOT NULL,
    direction text NOT NULL CHECK (direction IN ('upgrade', 'downgrade')),
    from_fingerprint text NOT NULL,
    to_fingerprint text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    complete boolean NOT NULL DEFAULT true,
    PRIMARY KEY (revision, schema_name));
"""
LEDGER_COMPLETE = "ALTER TABLE public.schemadiff_ledger ADD COLUMN IF NOT EXISTS complete boolean NOT NULL DEFAULT true"

Reporter = Callable[[str, int, int], None]


def read_states(conn: psycopg.Connection, job: Job) -> tuple[dict[str, TenantState], dict[str, int]]:
    """Every tenant's (fingerprint, model), and the row estimate of its largest managed table.

    One REPEATABLE READ snapshot: the catalog rows of every tenant are digested on the server, and
    only one tenant of each digest is introspected (``pg.digests``), so the work in Python and the
    memory grow with the number of distinct states, not with the number of tenants (equal digests,
    equal models).
    """
    digests: dict[str, str] = {}
    rows: dict[str, int] = {}
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        without_jit(conn)
        schemas = list_tenants(conn, job.template, job.pattern)
        # one query for every tenant: in chunks, each would join its few tenants against whole catalogs
        found = many_digests(conn, state_digests(conn.info.server_version), schemas, list(job.tables))
        for schema, digest, estimate in found:
            digests[schema], rows[schema] = digest, estimate
        models = read_by_digest(conn, schemas, digests, list(job.tables), job.template, job.enums)
    fingerprints: dict[int, str] = {}  # equal models share one object: hashed once
    states: dict[tuple[int, str], TenantState] = {}
    out: dict[str, TenantState] = {}
    for schema in schemas:
        model, digest = models[schema], digests.get(schema, "")
        state = states.get((id(model), digest))
        if state is None:
            if id(model) not in fingerprints:
                fingerprints[id(model)] = fingerprint(model)
            state = states[(id(model), digest)] = TenantState(fingerprints[id(model)], model, digest)
        out[schema] = state
    return out, rows


PRIVILEGES_SQL = """
SELECT n.nspname, c.relname, pg_catalog.pg_get_userbyid(c.relowner)
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY(%(schemas)s) AND c.relname = ANY(%(tables)s) AND c.relkind IN ('r', 'p')
  AND NOT pg_catalog.pg_has_role(current_user, c.relowner, 'USAGE')
ORDER BY 1, 2"""


def check_privileges(conn: psycopg.Connection, job: Job, schemas: list[str]) -> None:
    """Before any DDL anywhere: the role must own (or be a member of the owner of) every managed
    table, may create in every tenant schema, and may write the ledger."""
    problems = [
        f"{s}.{t}: ALTER TABLE needs ownership; the owner is {owner}"
        for s, t, owner in conn.execute(PRIVILEGES_SQL, {"schemas": schemas, "tables": list(job.tables)})
    ]
    problems += [
        f"{s}: CREATE on the schema is needed for new indexes and tables"
        for (s,) in conn.execute(
            "SELECT unnest(%s::text[]) EXCEPT SELECT nspname FROM pg_namespace "
            "WHERE has_schema_privilege(oid, 'CREATE')",
            (schemas,),
        )
    ]
    exists, allowed = conn.execute(
        "SELECT to_regclass('public.schemadiff_ledger') IS NOT NULL, "
        "CASE WHEN to_regclass('public.schemadiff_ledger') IS NULL THEN has_schema_privilege('public', 'CREATE') "
        "ELSE has_table_privilege('public.schemadiff_ledger', 'SELECT, INSERT, UPDATE') END"
    ).fetchone() or (False, False)
    if not allowed:
        what = "INSERT and UPDATE on public.schemadiff_ledger" if exists else "CREATE on schema public"
        problems.append(f"the ledger: {what} is needed")
    if problems:
        user = conn.execute("SELECT current_user").fetchone()
        shown = "; ".join(sorted(problems)[:10]) + (f"; … and {len(problems) - 10} more" if len(problems) > 10 else "")
        raise RunFailed(
            f"role {user[0] if user else '?'} lacks privileges for {len(problems)} object(s); "
            f"nothing was changed: {shown}"
        )


def read_ledger(conn: psycopg.Connection, revision: str) -> dict[str, LedgerRow]:
    rows = conn.execute(
        "SELECT schema_name, direction, from_fingerprint, complete FROM public.schemadiff_ledger WHERE revision = %s",
        (revision,),
    ).fetchall()
    return {r[0]: LedgerRow(r[1], r[2], r[3]) for r in rows}


def preflight(
    conn: psycopg.Connection,
    job: Job,
    report: Report,
    states: dict[str, TenantState],
    rows: dict[str, int],
    options: Options | None = None,
    workers: Workers | None = None,
    chosen: set[str] | None = None,
) -> list[Work]:
    """Classify every tenant (``read_states``) before any change; unknown states stop the run here,
    and so does a downgrade that would delete data unless ``deletes_data`` is allowed (its data
    checked on the run's ``workers`` when given). ``chosen``: the tenants this run takes (a staged
    rollout's selection); the others are only counted in the report (``outside``, and
    ``outside_unknown`` for an unknown state, which stops only the run that takes them)."""
    options = options or Options()
    ledger = read_ledger(conn, job.revision)
    mids: dict[SchemaModel, bool] = {}
    template = ledger.get(job.template)
    template_from = template.from_fp if template else options.assume_from
    work: list[Work] = []
    unknown: list[str] = []
    report.tenants = len(states)
    for schema, (fp, model, digest) in states.items():
        if job.mid is not None and model not in mids:
            mids[model] = fingerprint(job.without_online_parts(model)) == job.mid
        state = State(fp, mids.get(model, False), ledger.get(schema), template_from, options.assume_from)
        verdict = (classify_upgrade if job.direction == "upgrade" else classify_downgrade)(job, schema, state)
        outside = chosen is not None and schema not in chosen
        if verdict is UNKNOWN:
            (report.outside_unknown if outside else unknown).append(schema)
        elif isinstance(verdict, Work):
            if outside:
                report.outside.append(schema)
                continue
            small = job.large_table_rows is not None and rows.get(schema, 0) < job.large_table_rows
            verdict = replace(verdict, digest=digest)
            work.append(_inline(job, verdict) if small and not verdict.post_only else verdict)
        elif not outside:
            report.skipped.append(schema)
    if unknown:
        raise unknown_states(job, unknown, states, ledger)
    if "deletes_data" not in options.allow:
        refuse_data_loss(conn, job, work, workers)
    return work


def _inline(job: Job, item: Work) -> Work:
    if not item.statements:
        return item
    return replace(item, statements=job.way(item.from_fp).forms.inline)  # small tables: plainly, inside


@dataclass(frozen=True)
class State:
    fp: str
    mid: bool  # equal to the target but for the revision's online parts
    ledger: LedgerRow | None
    template_from: str = ""  # the template's starting state, from its ledger row
    assume_from: str = ""  # -x assume_from: the start of tenants at the target without a ledger row


def _work(job: Job, schema: str, from_fp: str, post_only: bool = False) -> Work:
    way = job.way(from_fp)
    return Work(schema, from_fp, way.forms.online, post_only=post_only, deletes=way.deletes)


def classify_upgrade(job: Job, schema: str, st: State) -> Work | Verdict:
    row = st.ledger or LedgerRow("", "", True)
    if st.fp == job.target and row.direction == "upgrade":
        return DONE if row.complete else _work(job, schema, row.from_fp, post_only=True)
    if st.fp == job.target:
        return Work(schema, job.target, ())  # record that it needed nothing
    if st.fp in job.groups:
        return _work(job, schema, st.fp)
    if st.mid and row.direction == "upgrade" and row.from_fp in job.groups:  # stopped between phases: finish
        return _work(job, schema, row.from_fp, post_only=True)
    return UNKNOWN


def classify_downgrade(job: Job, schema: str, st: State) -> Work | Verdict:
    row = st.ledger or LedgerRow("", "", True)
    at_target = st.fp == job.target or st.mid
    if row.direction == "downgrade":
        return DONE if st.fp == row.from_fp else UNKNOWN
    if row.direction == "upgrade":
        if row.from_fp == job.target and at_target:
            return Work(schema, row.from_fp, ())
        return _work(job, schema, row.from_fp) if at_target and row.from_fp in job.groups else UNKNOWN
    if not at_target:  # never upgraded by this revision
        return DONE if st.fp in job.groups else UNKNOWN
    # at the target with no ledger row: created from the template after the upgrade (undo it alike),
    # or its row was lost: -x assume_from names the state it started from
    start = st.assume_from or st.template_from
    if start == job.target:
        return DONE
    return _work(job, schema, start) if start in job.groups else UNKNOWN


DATA_CHECKS_PER_TRANSACTION = 25
DATA_CHECK_BATCH = 100  # tenants a worker checks in one round trip


def data_losses(conn: psycopg.Connection, work: list[Work]) -> dict[str, list[str]]:
    """What each run would delete → the tenants where it holds values (a dropped column with a value
    other than NULL or its default, a dropped table with a row). Read only: one query per tenant
    and table, pipelined in batches of transactions of DATA_CHECKS_PER_TRANSACTION (a pipeline
    without them would be one implicit transaction holding every table's lock at once)."""
    checks = [
        (item.schema, table, tuple(loss for loss in item.deletes if loss.table == table))
        for item in work
        for table in dict.fromkeys(loss.table for loss in item.deletes)
    ]
    losing: dict[str, list[str]] = {}
    selects: dict[tuple[Loss, ...], str] = {}  # the query but its FROM, rendered once per kind of check
    for start in range(0, len(checks), 500):
        batch = checks[start : start + 500]
        messages: list[Message] = []
        at: list[int] = []  # the message of each check's query
        for n, (schema, table, losses) in enumerate(batch):  # under the tenant's search_path
            if n % DATA_CHECKS_PER_TRANSACTION == 0:
                messages.append(Message("BEGIN READ ONLY"))
            messages.append(Message("SELECT pg_catalog.set_config('search_path', $1, true)", (quote_ident(schema),)))
            at.append(len(messages))
            if losses not in selects:
                selects[losses] = _holds_data(losses).as_string(conn)
            messages.append(Message(selects[losses] + sql.Identifier(schema, table).as_string(conn)))
            if n % DATA_CHECKS_PER_TRANSACTION == DATA_CHECKS_PER_TRANSACTION - 1 or n == len(batch) - 1:
                messages.append(Message("COMMIT"))
        rows = connection.pipelined(conn, messages)
        for (schema, _table, losses), index in zip(batch, at, strict=True):
            for loss, holds in zip(losses, rows[index][0] if rows[index] else (), strict=False):
                if holds:
                    losing.setdefault(str(loss), []).append(schema)
    return losing


def refuse_data_loss(conn: psycopg.Connection, job: Job, work: list[Work], workers: Workers | None = None) -> None:
    """Before any change: refuse when a tenant's run would delete values (see ``data_losses``),
    read on ``conn``, or in batches on the run's ``workers`` when given."""
    if workers is None:
        losing = data_losses(conn, work)
    else:
        losing = {}
        batches = [work[start : start + DATA_CHECK_BATCH] for start in range(0, len(work), DATA_CHECK_BATCH)]
        for found in workers.map(data_losses, batches, len):  # in order: the schemas named stay in order
            for what, schemas in found.items():
                losing.setdefault(what, []).extend(schemas)
    if losing:
        shown = "; ".join(
            f"{what} in {len(s)} schema(s) ({', '.join(s[:5])}{' …' if len(s) > 5 else ''})"
            for what, s in losing.items()
        )
        raise RunFailed(
            f"{job.direction} of {job.revision} would delete data: {shown}; nothing was changed. "
            "Re-run with --allow deletes_data (plain Alembic: -x allow=deletes_data) if that is intended"
        )


def _holds_data(losses: tuple[Loss, ...]) -> sql.Composed:
    """One scan of a table (the query up to its FROM, the table follows): per loss, whether it holds
    a value the loss would delete. The default is the reviewed revision's, as PostgreSQL printed it."""
    found: list[sql.Composable] = []
    for loss in losses:
        if loss.column is None:
            found.append(sql.SQL("count(*) > 0"))
            continue
        column = sql.Identifier(loss.column)
        condition = sql.SQL("{} IS NOT NULL").format(column)
        if loss.default:
            condition = sql.SQL("{} AND {} IS DISTINCT FROM ({})").format(condition, column, sql.SQL(loss.default))
        found.append(sql.SQL("coalesce(bool_or({}), false)").format(condition))
    return sql.SQL("SELECT {} FROM ").format(sql.SQL(", ").join(found))
