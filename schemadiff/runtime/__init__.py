"""What generated revisions import. **This API is a compatibility promise**: a revision written
today must keep running after schemadiff changes (``tests/golden/revision_v1.py`` proves it).

A revision declares its tenants, its target state and, per starting state, an upgrade and a
downgrade function made of ordinary ``op.*`` calls. Its ``upgrade()``/``downgrade()`` hand these
to :func:`upgrade`/:func:`downgrade`, which

1. turn each group's functions into statements once (Alembic's own offline compiler), each with
   its phase as data (the ``before_transaction`` / ``after_commit`` blocks it was written in),
2. take a PostgreSQL advisory lock on a connection of their own,
3. fingerprint every tenant in one catalog pass and refuse to start on unknown states (and, on a
   downgrade, on data it would delete unless ``allow=deletes_data``),
4. run each tenant in its own transaction, check before its COMMIT that it reached the promised
   state, and record it in the ledger, the template first, with ``workers`` connections,
   retrying lock timeouts,

and raise (so Alembic does not advance ``alembic_version``) when any tenant failed.

Revision formats: format 2 (written now) has group functions without parameters whose statements
name no schema (each tenant runs them with its ``search_path`` set to it) and pass SQL text through
:func:`verbatim`; format 1 functions take the schema (see ``legacy``).
The run's settings are one :class:`Options` record. ``schemadiff apply``/``rollback`` hand it over
in Alembic's ``Config.attributes`` (with a progress callback, a check called after a staged run's
canary, and a list that receives each revision's :class:`Report`); under plain Alembic it is read
from ``-x key=value`` (``workers``, ``lock_timeout``, ``statement_timeout``, ``lock_wait``,
``retries``, ``backoff``, ``synchronous_commit``, ``allow``, ``assume_from``, and the staged
rollout's ``tenants``, ``canary``, ``continue``, ``wave_size``, ``max_failures``, ``max_rate``,
``delay``, ``max_replication_lag``) or the matching ``SCHEMADIFF_*`` environment variables. A run
that leaves tenants of the revision undone (a staged rollout's subset, canary or stop) raises, so
Alembic keeps ``alembic_version``; where the rollout stands is kept next to the ledger. Nothing here
keeps state between runs in memory.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from schemadiff.core.fingerprint import fingerprint
from schemadiff.core.model import SchemaModel, model_from_dict
from schemadiff.core.options import Options
from schemadiff.core.sqltext import quote_ident
from schemadiff.errors import SchemadiffError
from schemadiff.pg import connection
from schemadiff.runtime import legacy, recorder
from schemadiff.runtime.execute import Reporter
from schemadiff.runtime.job import (
    CANARY_DONE,
    NOTICE,
    OPTIONS,
    REPORTER,
    REPORTS,
    Direction,
    GroupSQL,
    Job,
    Loss,
    Report,
)
from schemadiff.runtime.recorder import Verbatim, expect_none
from schemadiff.runtime.rollout import RolloutEnded, run

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "Group",
    "Loss",
    "Tenants",
    "after_commit",
    "before_transaction",
    "downgrade",
    "expect_none",
    "own_transaction",
    "pg_type",
    "sql",
    "upgrade",
    "verbatim",
]


@dataclass(frozen=True)
class Tenants:
    """Which schemas a revision runs on: the template plus every full match of ``pattern``."""

    template: str
    pattern: str
    tables: tuple[str, ...]


@dataclass(frozen=True)
class Group:
    """A starting state (by fingerprint), the functions taking it to the target and back, and the
    data each direction deletes (checked before a run; refused unless allowed)."""

    fingerprint: str
    upgrade: Callable[..., None]
    downgrade: Callable[..., None]
    upgrade_deletes: tuple[Loss, ...] = ()
    downgrade_deletes: tuple[Loss, ...] = ()


def sql(schema: str, text: str) -> str:
    """Format 1: ``text`` with every ``{schema}`` replaced by the quoted schema name."""
    return text.replace("{schema}", quote_ident(schema))


def verbatim(text: str) -> Verbatim:
    """SQL text that reaches PostgreSQL exactly as written (no bind parameters, no escapes)."""
    return Verbatim(text)


def before_transaction(index: str | None = None) -> Any:
    """``with runtime.before_transaction(index=…) as online:`` — the statements in the block run
    before the tenant's transaction, on their own (``DROP INDEX CONCURRENTLY``); ``online`` is
    False when a small tenant runs them plainly inside its transaction instead."""
    return recorder.phase(recorder.BEFORE, index=index)


def own_transaction() -> Any:
    """``with runtime.own_transaction():`` — each statement in the block commits on its own before the
    tenant's transaction, for every tenant (``ALTER TYPE … ADD VALUE``: a value added in a transaction
    cannot be used in it, and the tenant's transaction may use it)."""
    return recorder.phase(recorder.BEFORE, always=True)


def after_commit(
    index: str | None = None, validates: str | None = None, not_null: tuple[str, str] | None = None
) -> Any:
    """``with runtime.after_commit(…) as online:`` — the statements run after the tenant's commit,
    on their own (``CREATE INDEX CONCURRENTLY`` of ``index``, ``VALIDATE CONSTRAINT validates``,
    the ``SET NOT NULL`` of ``not_null = (table, column)``)."""
    return recorder.phase(recorder.AFTER, index=index, validates=validates, not_null=not_null)


def pg_type(name: str) -> Any:
    """A column type written exactly as PostgreSQL prints it (for types SQLAlchemy lacks)."""
    from sqlalchemy.types import UserDefinedType

    class _PgType(UserDefinedType):  # type: ignore[type-arg]
        cache_ok = True

        def get_col_spec(self, **kw: Any) -> str:
            return name

    return _PgType()


def upgrade(
    revision: str,
    tenants: Tenants,
    groups: list[Group],
    target: str,
    target_model: str = "",
    large_table_rows: int | None = None,
    *,
    revision_format: int = 1,
    start_models: Mapping[str, str] | None = None,
) -> None:
    """``large_table_rows``: tenants whose managed tables are all smaller run the online statements
    (CONCURRENTLY, NOT VALID + VALIDATE) plainly inside their one transaction. ``start_models``:
    each group's starting model (JSON, by fingerprint), read only to say what differs in a schema
    whose state the revision does not know (revisions written before it carry none)."""
    _run("upgrade", revision, tenants, groups, target, target_model, large_table_rows, revision_format, start_models)


def downgrade(
    revision: str,
    tenants: Tenants,
    groups: list[Group],
    target: str,
    target_model: str = "",
    large_table_rows: int | None = None,
    *,
    revision_format: int = 1,
    start_models: Mapping[str, str] | None = None,
) -> None:
    _run("downgrade", revision, tenants, groups, target, target_model, large_table_rows, revision_format, start_models)


def record(fn: Callable[..., None], revision_format: int = 1) -> recorder.Forms:
    """The statements a group function emits (both forms), via Alembic's offline compiler."""
    return legacy.record_v1(fn) if revision_format == 1 else recorder.record_forms(fn)


def _run(
    direction: str,
    revision: str,
    tenants: Tenants,
    groups: list[Group],
    target: str,
    target_model: str,
    large_table_rows: int | None,
    revision_format: int,
    start_models: Mapping[str, str] | None = None,
) -> None:
    from alembic import op

    ctx = op.get_context()
    if ctx.as_sql:
        raise SchemadiffError(
            "schemadiff revisions cannot run in offline (--sql) mode: they read every "
            "tenant's state first; use `schemadiff plan --format sql` for a script"
        )
    settings = options(ctx.config)
    attributes = ctx.config.attributes if ctx.config is not None else {}
    reporter: Reporter | None = attributes.get(REPORTER)
    job = replace(
        make_job(revision, direction, tenants, groups, target, target_model, revision_format),
        large_table_rows=large_table_rows,
        start_models=start_models or {},
    )
    bind = ctx.bind
    assert bind is not None
    url = connection.to_libpq(bind.engine.url.render_as_string(hide_password=False))
    with ctx.autocommit_block():
        try:
            report = run(
                url, job, settings, reporter or _print_progress, attributes.get(CANARY_DONE), attributes.get(NOTICE)
            )
        except RolloutEnded as ended:  # tenants are left: Alembic keeps alembic_version where it is
            if reporter is None:
                print(summary_line(ended.report), file=sys.stderr, flush=True)
            raise
        except SchemadiffError as exc:
            if reporter is not None:  # schemadiff apply / rollback print it themselves
                raise
            from schemadiff.runtime.command_errors import stopped

            raise stopped(exc) from None  # plain `alembic`: FAILED lines, no traceback
    attributes.setdefault(REPORTS, []).append(report)
    if reporter is None:  # plain `alembic upgrade`: say what was done (schemadiff apply prints its own)
        print(summary_line(report), file=sys.stderr, flush=True)


def summary_line(report: Report) -> str:
    return (
        f"schemadiff: {report.direction} {report.revision}: {len(report.applied)} schema(s) changed, "
        f"{len(report.skipped)} already done, in {report.seconds:.2f} s"
    )


def make_job(
    revision: str,
    direction: str,
    tenants: Tenants,
    groups: list[Group],
    target: str,
    target_model: str,
    revision_format: int = 1,
) -> Job:
    """Record every group's statements once; work out the between-phases state of online changes
    from the statements' marks."""
    recorded = {
        g.fingerprint: GroupSQL(
            Direction(record(g.upgrade, revision_format), g.upgrade_deletes),
            Direction(record(g.downgrade, revision_format), g.downgrade_deletes),
        )
        for g in groups
    }
    statements = [s for g in recorded.values() for s in g.upgrade.forms.online + g.downgrade.forms.online]
    indexes = frozenset(s.index for s in statements if s.index)
    constraints = frozenset(s.validates for s in statements if s.validates)
    not_null = frozenset(s.not_null for s in statements if s.not_null)
    model = _model(target_model)
    job = Job(
        revision,
        direction,
        tenants.template,
        tenants.pattern,
        tenants.tables,
        target,
        model,
        recorded,
        None,
        indexes,
        constraints,
        not_null,
        placeholder=legacy.PLACEHOLDER if revision_format == 1 else None,
    )
    if model is not None and (indexes or constraints or not_null):
        job = replace(job, mid=fingerprint(job.without_online_parts(model)))
    return job


def _model(text: str) -> SchemaModel | None:
    return model_from_dict(json.loads(text)) if text else None


def options(config: Config | None = None) -> Options:
    """The run's settings: the record ``schemadiff apply``/``rollback`` put in ``config.attributes``;
    else (plain Alembic) ``-x`` arguments, then ``SCHEMADIFF_*`` environment variables, then the
    defaults, through :meth:`Options.from_strings`."""
    handed = config.attributes.get(OPTIONS) if config is not None else None
    if handed is not None:
        if not isinstance(handed, Options):
            raise SchemadiffError(f"Config.attributes[{OPTIONS!r}] must be a schemadiff Options record")
        return handed
    try:
        return Options.from_strings(Options.strings(_x_arguments(config), os.environ))
    except SchemadiffError as exc:
        from schemadiff.runtime.command_errors import OptionError

        raise OptionError(str(exc)) from None


def _x_arguments(config: Config | None) -> dict[str, str]:
    """``-x key=value`` of the Alembic command line, as Alembic's ``get_x_argument`` reads them."""
    given: list[str] = getattr(getattr(config, "cmd_opts", None), "x", None) or []
    return {key: value for key, _, value in (arg.partition("=") for arg in given)}


def _print_progress(schema: str, done: int, total: int) -> None:
    step = max(1, total // 10)
    if done == total or done % step == 0:
        print(f"schemadiff: {done}/{total} schemas done", file=sys.stderr, flush=True)
