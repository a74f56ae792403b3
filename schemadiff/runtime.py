"""What generated revisions import. **This API is a compatibility promise**: a revision written
today must keep running after schemadiff changes (``tests/golden/revision_v1.py`` proves it).

A revision declares its tenants, its target state and, per starting state, an upgrade and a
downgrade function made of ordinary ``op.*`` calls that take the schema as a parameter. Its
``upgrade()``/``downgrade()`` hand these to :func:`upgrade`/:func:`downgrade`, which

1. turn each group's functions into SQL once (Alembic's own offline compiler),
2. take a PostgreSQL advisory lock on a connection of their own,
3. fingerprint every tenant in one catalog pass and refuse to start on unknown states,
4. run each tenant in its own transaction with its ledger row, the template first, with
   ``--workers`` connections, retrying lock timeouts,

and raise (so Alembic does not advance ``alembic_version``) when any tenant failed.
Options come from ``-x key=value`` (``workers``, ``lock_timeout``, ``statement_timeout``,
``lock_wait``, ``retries``, ``synchronous_commit``) or the matching ``SCHEMADIFF_*`` environment variables.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from io import StringIO
from typing import Any

from schemadiff import db
from schemadiff.errors import SchemadiffError
from schemadiff.model import SchemaModel, model_from_dict
from schemadiff.fingerprint import fingerprint
from schemadiff.online import online_names, online_not_null
from schemadiff.runner import PLACEHOLDER, Job, Options, Report, Reporter, run, without_online_parts
from schemadiff.sqltext import quote_ident

__all__ = ["Tenants", "Group", "upgrade", "downgrade", "sql", "pg_type", "set_reporter", "last_report"]

_reporter: Reporter | None = None
_last: Report | None = None


@dataclass(frozen=True)
class Tenants:
    """Which schemas a revision runs on: the template plus every full match of ``pattern``."""

    template: str
    pattern: str
    tables: tuple[str, ...]


@dataclass(frozen=True)
class Group:
    """A starting state (by fingerprint) and the functions taking it to the target and back."""

    fingerprint: str
    upgrade: Callable[[str], None]
    downgrade: Callable[[str], None]


def sql(schema: str, text: str) -> str:
    """``text`` with every ``{schema}`` replaced by the quoted schema name."""
    return text.replace("{schema}", quote_ident(schema))


def pg_type(name: str) -> Any:
    """A column type written exactly as PostgreSQL prints it (for types SQLAlchemy lacks)."""
    from sqlalchemy.types import UserDefinedType

    class _PgType(UserDefinedType):  # type: ignore[type-arg]
        cache_ok = True

        def get_col_spec(self, **kw: Any) -> str:
            return name

    return _PgType()


def set_reporter(reporter: Reporter | None) -> None:
    """Receive ``(schema, done, total)`` after each tenant (``schemadiff apply`` draws a bar)."""
    global _reporter
    _reporter = reporter


def last_report() -> Report | None:
    return _last


def upgrade(revision: str, tenants: Tenants, groups: list[Group], target: str, target_model: str = "",
            large_table_rows: int | None = None) -> None:
    """``large_table_rows``: tenants whose managed tables are all smaller run the online statements
    (CONCURRENTLY, NOT VALID + VALIDATE) plainly inside their one transaction."""
    _run("upgrade", revision, tenants, groups, target, target_model, large_table_rows)


def downgrade(revision: str, tenants: Tenants, groups: list[Group], target: str, target_model: str = "",
              large_table_rows: int | None = None) -> None:
    _run("downgrade", revision, tenants, groups, target, target_model, large_table_rows)


def record(fn: Callable[[str], None]) -> tuple[str, ...]:
    """The SQL an op function emits for the placeholder schema, via Alembic's offline mode."""
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    import alembic.op

    statements: list[str] = []
    ctx = MigrationContext.configure(dialect_name="postgresql",
                                     opts={"as_sql": True, "output_buffer": StringIO()})
    ctx.impl.static_output = lambda text: statements.append(text.rstrip().removesuffix(";"))  # type: ignore[method-assign]
    running = getattr(alembic.op, "_proxy", None)  # the proxy of the Alembic run we are inside, if any
    try:
        with Operations.context(ctx):
            fn(PLACEHOLDER)
    finally:
        if running is not None:  # Operations.context removes the proxy instead of restoring it
            running._install_proxy()
    return tuple(statements)


def _run(direction: str, revision: str, tenants: Tenants, groups: list[Group], target: str,
         target_model: str, large_table_rows: int | None) -> None:
    global _last
    from alembic import op

    ctx = op.get_context()
    if ctx.as_sql:
        raise SchemadiffError("schemadiff revisions cannot run in offline (--sql) mode: they read every "
                              "tenant's state first; use `schemadiff plan --format sql` for a script")
    job = replace(make_job(revision, direction, tenants, groups, target, target_model),
                  large_table_rows=large_table_rows)
    bind = ctx.bind
    assert bind is not None
    url = db.to_libpq(bind.engine.url.render_as_string(hide_password=False))
    with ctx.autocommit_block():
        _last = run(url, job, options(), _reporter or _print_progress)
    if _reporter is None:  # plain `alembic upgrade`: say what was done (schemadiff apply prints its own)
        print(summary_line(_last), file=sys.stderr, flush=True)


def summary_line(report: Report) -> str:
    return (f"schemadiff: {report.direction} {report.revision}: {len(report.applied)} schema(s) changed, "
            f"{len(report.skipped)} already done, in {report.seconds:.2f} s")


def make_job(revision: str, direction: str, tenants: Tenants, groups: list[Group], target: str,
             target_model: str) -> Job:
    """Record every group's SQL once; work out the between-phases state of online changes."""
    sql = {g.fingerprint: (record(g.upgrade), record(g.downgrade)) for g in groups}
    statements = [s for up, down in sql.values() for s in up + down]
    indexes, constraints = online_names(statements)
    not_null = online_not_null(statements)
    model = _model(target_model)
    job = Job(revision, direction, tenants.template, tenants.pattern, tenants.tables, target, model, sql,
              None, indexes, constraints, not_null)
    if model is not None and (indexes or constraints or not_null):
        job = replace(job, mid=fingerprint(without_online_parts(model, job)))
    return job


def _model(text: str) -> SchemaModel | None:
    return model_from_dict(json.loads(text)) if text else None


def options() -> Options:
    """``-x`` arguments first, then ``SCHEMADIFF_*`` environment variables, then defaults."""
    x: dict[str, str] = {}
    try:
        from alembic import context

        x = context.get_x_argument(as_dictionary=True)
    except Exception:  # not inside an Alembic environment (direct library use)
        x = {}

    def get(key: str, default: str) -> str:
        return x.get(key) or os.environ.get(f"SCHEMADIFF_{key.upper()}") or default

    base = Options()
    try:
        return Options(workers=int(get("workers", str(base.workers))),
                       lock_timeout=get("lock_timeout", base.lock_timeout),
                       statement_timeout=get("statement_timeout", base.statement_timeout),
                       lock_wait=float(get("lock_wait", str(base.lock_wait))),
                       retries=int(get("retries", str(base.retries))),
                       synchronous_commit=get("synchronous_commit", base.synchronous_commit))
    except ValueError as exc:
        raise SchemadiffError(f"bad schemadiff option: {exc}") from None


def _print_progress(schema: str, done: int, total: int) -> None:
    step = max(1, total // 10)
    if done == total or done % step == 0:
        print(f"schemadiff: {done}/{total} schemas done", file=sys.stderr, flush=True)
