"""The engine behind ``schemadiff.runtime``: lock, preflight, ledger, one transaction per tenant.

Everything here talks psycopg directly. The revision's op functions were already turned into
SQL (see ``recorder``); each tenant gets that SQL with its own schema name, inside its own
transaction together with its ledger row.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import psycopg

from schemadiff import db
from schemadiff.diff import diff_schema
from schemadiff.errors import SchemadiffError
from schemadiff.fingerprint import fingerprint
from schemadiff.introspect import introspect, list_tenants
from schemadiff.model import SchemaModel
from schemadiff.ops import NOT_NULL_CHECK_PREFIX
from schemadiff.tenant import PLACEHOLDER, run_tenant

__all__ = ["PLACEHOLDER", "Job", "Options", "Work", "Report", "run", "preflight"]

LOCK_KEY = (0x5D1F, 0x0001)  # pg_advisory_lock(int, int): "schemadiff", run lock
LEDGER_DDL = """CREATE TABLE IF NOT EXISTS public.schemadiff_ledger (
    revision text NOT NULL,
    schema_name text NOT NULL,
    direction text NOT NULL CHECK (direction IN ('upgrade', 'downgrade')),
    from_fingerprint text NOT NULL,
    to_fingerprint text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    complete boolean NOT NULL DEFAULT true,
    PRIMARY KEY (revision, schema_name));
ALTER TABLE public.schemadiff_ledger ADD COLUMN IF NOT EXISTS complete boolean NOT NULL DEFAULT true"""

Reporter = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Options:
    workers: int = 4
    lock_timeout: str = "2s"
    statement_timeout: str = "0"
    lock_wait: float = 30.0  # seconds to wait for another run's lock
    retries: int = 3
    backoff: float = 0.5
    # Each tenant's change and its ledger row commit together, so a tenant whose commit is lost
    # in a server crash is simply back in its starting state without a ledger row, and the rerun
    # redoes it; the synchronous commit of alembic_version at the end flushes every one before.
    synchronous_commit: str = "off"


@dataclass(frozen=True)
class Job:
    """What a run does: per starting state, the statements of each direction."""

    revision: str
    direction: str  # "upgrade" | "downgrade"
    template: str
    pattern: str
    tables: tuple[str, ...]
    target: str
    target_model: SchemaModel | None
    sql: dict[str, tuple[tuple[str, ...], tuple[str, ...]]]  # fingerprint -> (upgrade, downgrade)
    mid: str | None = None  # the target without its online parts: a tenant between phases
    online_indexes: frozenset[str] = frozenset()
    online_constraints: frozenset[str] = frozenset()
    online_not_null: frozenset[tuple[str, str]] = frozenset()  # (table, column) made NOT NULL online
    large_table_rows: int | None = None  # below it a tenant's online statements run inline


@dataclass(frozen=True)
class Work:
    schema: str
    from_fp: str  # the ledger's starting state
    statements: tuple[str, ...]
    post_only: bool = False  # the transaction is done; only the online part remains
    inline: bool = False  # a small table: the online statements run plainly, inside the transaction


@dataclass
class Report:
    direction: str
    revision: str
    applied: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


class RunFailed(SchemadiffError):
    def __init__(self, message: str, report: Report | None = None) -> None:
        self.report = report
        super().__init__(message)


def run(url: str, job: Job, options: Options, reporter: Reporter | None = None) -> Report:
    """Take the lock, preflight every tenant, then change each in its own transaction."""
    started = time.perf_counter()
    report = Report(job.direction, job.revision)
    with db.connect(url, autocommit=True) as coordinator:
        acquire_lock(coordinator, options.lock_wait)
        try:
            states, rows = read_states(coordinator, job)
            check_privileges(coordinator, job, list(states))
            coordinator.execute(LEDGER_DDL)
            work = preflight(coordinator, job, report, states, rows)
            _execute_all(url, job, work, options, report, reporter)
        finally:
            coordinator.execute("SELECT pg_advisory_unlock(%s, %s)", LOCK_KEY)
    report.seconds = time.perf_counter() - started
    if report.failed:
        shown = "; ".join(f"{s}: {e}" for s, e in list(report.failed.items())[:5])
        more = f" (and {len(report.failed) - 5} more)" if len(report.failed) > 5 else ""
        raise RunFailed(f"{job.direction} of {job.revision} failed for {len(report.failed)} schema(s): "
                        f"{shown}{more}; the others are done; fix and run again to finish", report)
    return report


def acquire_lock(conn: psycopg.Connection, wait: float) -> None:
    deadline = time.monotonic() + wait
    while True:
        row = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", LOCK_KEY).fetchone()
        if row and row[0]:
            return
        if time.monotonic() >= deadline:
            raise RunFailed(f"another schemadiff run holds the migration lock ({lock_holder(conn)}); "
                            f"waited {wait:g}s; run again when it has finished")
        time.sleep(0.2)


def lock_holder(conn: psycopg.Connection) -> str:
    row = conn.execute(
        "SELECT a.pid, a.application_name, a.usename, a.backend_start FROM pg_locks l "
        "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
        "AND l.classid = %s AND l.objid = %s LIMIT 1", LOCK_KEY).fetchone()
    if row is None:
        return "holder unknown"
    pid, app, user, since = row
    return f"pid {pid}, application '{app}', user {user}, since {since:%Y-%m-%d %H:%M:%S}"


def without_online_parts(model: SchemaModel, job: Job) -> SchemaModel:
    """The model with the revision's online indexes removed and its NOT VALID marks dropped."""
    tables = []
    for table in model.tables:
        indexes = tuple(i for i in table.indexes if i.name not in job.online_indexes)
        constraints = tuple(replace(c, definition=c.definition.removesuffix(" NOT VALID"))
                            if c.name in job.online_constraints else c for c in table.constraints
                            if not (job.online_not_null and c.name.startswith(NOT_NULL_CHECK_PREFIX)))
        columns = tuple(replace(c, nullable=False) if (table.name, c.name) in job.online_not_null else c
                        for c in table.columns)
        tables.append(replace(table, indexes=indexes, constraints=constraints, columns=columns))
    return SchemaModel(tuple(tables))


PREFLIGHT_CHUNK = 2500  # schemas introspected per round of catalog queries, in one snapshot


def read_states(conn: psycopg.Connection, job: Job) -> tuple[dict[str, tuple[str, SchemaModel]], dict[str, int]]:
    """Every tenant's (fingerprint, model), and the row estimate of its largest managed table.

    One REPEATABLE READ snapshot, read in chunks of schemas; equal models are kept once, so
    memory grows with the number of distinct states, not with the number of tenants.
    """
    interned: dict[SchemaModel, tuple[str, SchemaModel]] = {}
    states: dict[str, tuple[str, SchemaModel]] = {}
    rows: dict[str, int] = {}
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        schemas = list_tenants(conn, job.template, job.pattern)
        for start in range(0, len(schemas), PREFLIGHT_CHUNK):
            tenants = introspect(conn, schemas[start:start + PREFLIGHT_CHUNK], list(job.tables))
            for schema, model in tenants.models.items():
                if model not in interned:
                    interned[model] = (fingerprint(model), model)
                states[schema] = interned[model]
            for (schema, _table), stats in tenants.stats.items():
                rows[schema] = max(rows.get(schema, 0), stats.rows)
    return states, rows


PRIVILEGES_SQL = """
SELECT n.nspname, c.relname, pg_catalog.pg_get_userbyid(c.relowner)
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY(%(schemas)s) AND c.relname = ANY(%(tables)s) AND c.relkind IN ('r', 'p')
  AND NOT pg_catalog.pg_has_role(current_user, c.relowner, 'USAGE')
ORDER BY 1, 2"""


def check_privileges(conn: psycopg.Connection, job: Job, schemas: list[str]) -> None:
    """Before any DDL anywhere: the role must own (or be a member of the owner of) every managed
    table, may create in every tenant schema, and may write the ledger."""
    problems = [f"{s}.{t}: ALTER TABLE needs ownership; the owner is {owner}"
                for s, t, owner in conn.execute(PRIVILEGES_SQL, {"schemas": schemas, "tables": list(job.tables)})]
    problems += [f"{s}: CREATE on the schema is needed for new indexes and tables"
                 for (s,) in conn.execute("SELECT unnest(%s::text[]) EXCEPT SELECT nspname FROM pg_namespace "
                                          "WHERE has_schema_privilege(oid, 'CREATE')", (schemas,))]
    exists, allowed = conn.execute(
        "SELECT to_regclass('public.schemadiff_ledger') IS NOT NULL, "
        "CASE WHEN to_regclass('public.schemadiff_ledger') IS NULL THEN has_schema_privilege('public', 'CREATE') "
        "ELSE has_table_privilege('public.schemadiff_ledger', 'SELECT, INSERT, UPDATE') END").fetchone() or (False, False)
    if not allowed:
        what = "INSERT and UPDATE on public.schemadiff_ledger" if exists else "CREATE on schema public"
        problems.append(f"the ledger: {what} is needed")
    if problems:
        user = conn.execute("SELECT current_user").fetchone()
        shown = "; ".join(sorted(problems)[:10]) + (f"; … and {len(problems) - 10} more" if len(problems) > 10 else "")
        raise RunFailed(f"role {user[0] if user else '?'} lacks privileges for {len(problems)} object(s); "
                        f"nothing was changed: {shown}")


def read_ledger(conn: psycopg.Connection, revision: str) -> dict[str, tuple[str, str, bool]]:
    rows = conn.execute("SELECT schema_name, direction, from_fingerprint, complete FROM public.schemadiff_ledger "
                        "WHERE revision = %s", (revision,)).fetchall()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def preflight(conn: psycopg.Connection, job: Job, report: Report,
              states: dict[str, tuple[str, SchemaModel]], rows: dict[str, int]) -> list[Work]:
    """Classify every tenant (``read_states``) before any change; unknown states stop the run here."""
    ledger = read_ledger(conn, job.revision)
    mids: dict[SchemaModel, bool] = {}
    template_from = ledger.get(job.template, ("", "", True))[1]
    work: list[Work] = []
    unknown: list[str] = []
    for schema, (fp, model) in states.items():
        if job.mid is not None and model not in mids:
            mids[model] = fingerprint(without_online_parts(model, job)) == job.mid
        state = State(fp, mids.get(model, False), ledger.get(schema), template_from)
        verdict = (classify_upgrade if job.direction == "upgrade" else classify_downgrade)(job, schema, state)
        if verdict is None:
            unknown.append(schema)
        elif isinstance(verdict, Work):
            small = job.large_table_rows is not None and rows.get(schema, 0) < job.large_table_rows
            work.append(replace(verdict, inline=True) if small and not verdict.post_only else verdict)
        else:
            report.skipped.append(schema)
    if unknown:
        raise RunFailed(_unknown_message(job, unknown, states))
    return work


@dataclass(frozen=True)
class State:
    fp: str
    mid: bool  # equal to the target but for the revision's online parts
    ledger: tuple[str, str, bool] | None  # (direction, from fingerprint, complete)
    template_from: str = ""  # the template's starting state, from its ledger row


def classify_upgrade(job: Job, schema: str, st: State) -> Work | str | None:
    direction, from_fp, complete = st.ledger or ("", "", True)
    if st.fp == job.target and direction == "upgrade":
        return "skip" if complete else Work(schema, from_fp, job.sql[from_fp][0], post_only=True)
    if st.fp == job.target:
        return Work(schema, job.target, ())  # record that it needed nothing
    if st.fp in job.sql:
        return Work(schema, st.fp, job.sql[st.fp][0])
    if st.mid and direction == "upgrade" and from_fp in job.sql:  # stopped between phases: finish
        return Work(schema, from_fp, job.sql[from_fp][0], post_only=True)
    return None


def classify_downgrade(job: Job, schema: str, st: State) -> Work | str | None:
    direction, from_fp, _complete = st.ledger or ("", "", True)
    at_target = st.fp == job.target or st.mid
    if direction == "downgrade":
        return "skip" if st.fp == from_fp else None
    if direction == "upgrade":
        if from_fp == job.target and at_target:
            return Work(schema, from_fp, ())
        return Work(schema, from_fp, job.sql[from_fp][1]) if at_target and from_fp in job.sql else None
    if not at_target:  # never upgraded by this revision
        return "skip" if st.fp in job.sql else None
    # at the target with no ledger row: created from the template after the upgrade; undo it alike
    if st.template_from == job.target:
        return "skip"
    return Work(schema, st.template_from, job.sql[st.template_from][1]) if st.template_from in job.sql else None


def _unknown_message(job: Job, unknown: list[str], states: dict[str, tuple[str, SchemaModel]]) -> str:
    lines = [f"{len(unknown)} schema(s) are in a state revision {job.revision} does not know; "
             "nothing was changed. Run `schemadiff plan` again to cover them:"]
    for schema in unknown[:10]:
        fp, model = states[schema]
        needs = ""
        if job.target_model is not None:
            ops = diff_schema(model, job.target_model)
            needs = "; to reach the spec it needs: " + "; ".join(op.describe() for op in ops[:12])
        lines.append(f"  {schema} (state {fp}){needs}")
    if len(unknown) > 10:
        lines.append(f"  … and {len(unknown) - 10} more")
    return "\n".join(lines)


def _execute_all(url: str, job: Job, work: list[Work], options: Options, report: Report,
                 reporter: Reporter | None) -> None:
    total, done, lock = len(work), [0], threading.Lock()
    local = threading.local()
    connections: list[psycopg.Connection] = []

    def one(item: Work) -> None:
        conn = getattr(local, "conn", None)
        if conn is None or conn.closed or conn.broken:
            conn = local.conn = db.connect(url, autocommit=True)
            with lock:
                connections.append(conn)
        error = run_tenant(conn, job, item, options)
        with lock:
            (report.failed.__setitem__(item.schema, error) if error else report.applied.append(item.schema))
            done[0] += 1
            if reporter:
                reporter(item.schema, done[0], total)

    try:
        first = [w for w in work if w.schema == job.template]
        for item in first:  # the template first, on its own
            one(item)
        rest = [w for w in work if w.schema != job.template]
        with ThreadPoolExecutor(max_workers=max(1, options.workers)) as pool:
            list(pool.map(one, rest))
    finally:
        for conn in connections:
            conn.close()
