"""Drive the pipeline against a database: discover tenants, introspect once, group, plan."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace

import psycopg

from schemadiff.core.conversions import casts_needed
from schemadiff.core.fingerprint import group_schemas
from schemadiff.core.model import LiveSchemas, SchemaModel
from schemadiff.core.plan import Plan, build_plan, unmanaged_report
from schemadiff.errors import DatabaseError, SchemadiffError, first_line
from schemadiff.pg import connection
from schemadiff.pg.casts import without_implicit_cast
from schemadiff.pg.digests import read_grouped
from schemadiff.pg.introspect import introspect, list_tenants
from schemadiff.pg.normalize import normalize_in, target_model
from schemadiff.spec.conversions import spec_conversions
from schemadiff.spec.relation_renames import relation_renames
from schemadiff.spec.schema import LoadedSpec


def spec_renames(loaded: LoadedSpec) -> dict[str, dict[str, str]]:
    return {
        t: {c: col.renamed_from for c, col in table.columns.items() if col.renamed_from}
        for t, table in loaded.spec.tables.items()
    }


def managed_names(loaded: LoadedSpec) -> list[str]:
    """The spec's tables, the partitions it names, then the names its tables are renamed from (read as
    well: a tenant that still has one is in another state than one that has not)."""
    tables = loaded.spec.tables
    partitions = [p for table in tables.values() for p in table.partitions]
    return list(tables) + partitions + list(relation_renames(loaded.spec).old_tables())


def read_tenants(conn: psycopg.Connection, loaded: LoadedSpec, grouped: bool = True) -> tuple[list[str], LiveSchemas]:
    """Every tenant and its model, in one snapshot: digested on the server and read in full once
    per distinct digest (``pg.digests``), with the row estimates of the tables large by the spec's
    policy; with ``grouped`` False every tenant read in full, every estimate (the same plan, slower:
    kept to measure against)."""
    spec = loaded.spec
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        schemas = list_tenants(conn, spec.tenants.template, spec.tenants.pattern)
        args = (conn, schemas, managed_names(loaded), spec.tenants.template, list(spec.enums))
        if not grouped:
            return schemas, introspect(*args)
        return schemas, read_grouped(*args, min_rows=spec.policy.large_table_rows)


def make_plan(
    loaded: LoadedSpec,
    url: str,
    dev_url: str | None = None,
    notice: Callable[[str], None] = lambda _m: None,
    allowed: tuple[str, ...] = (),
    lint: bool = True,
    grouped: bool = True,
) -> tuple[Plan, LiveSchemas]:
    """The whole read side: one catalog pass, the target normalized by PostgreSQL, the plan
    (linted with squawk when ``lint``: only what a person reads needs it)."""
    try:
        with connection.connect(url) as conn:
            schemas, tenants = read_tenants(conn, loaded, grouped)
            if not [s for s in schemas if s != loaded.spec.tenants.template]:
                raise SchemadiffError(
                    f"{loaded.where(('tenants', 'pattern'))}: '{loaded.spec.tenants.pattern}' "
                    "matches no schema in the database; fix the pattern (it must match "
                    "whole names) or point --database-url at the right database"
                )
            target = target_model(conn, loaded, lambda: dev_connection(dev_url), notice)
            plan = plan_from(loaded, tenants, target, allowed)
            check_conversions(conn, loaded, plan)
    except psycopg.Error as exc:
        raise DatabaseError(connection.redact(f"database error: {first_line(exc)}", url)) from None
    return (with_lint(plan, loaded, notice) if lint else plan), tenants


def with_lint(plan: Plan, loaded: LoadedSpec, notice: Callable[[str], None]) -> Plan:
    if not plan.changes or not loaded.spec.lint.enabled:
        return plan
    from schemadiff.workflow.lint import lint_plan

    lint = loaded.spec.lint
    try:
        found = lint_plan(plan, set(lint.exclude), lint.ignore)
        silenced = tuple(f for f in found if f.reason is not None)
        return replace(plan, lint=tuple(f for f in found if f.reason is None), silenced=silenced)
    except (FileNotFoundError, OSError, ValueError) as exc:
        notice(f"squawk lint skipped: {exc}")
        return plan


def plan_from(
    loaded: LoadedSpec,
    tenants: LiveSchemas,
    target: SchemaModel,
    allowed: tuple[str, ...] = (),
    first: str | None = None,
) -> Plan:
    """The plan of ``tenants``; ``first`` is the schema listed first (the template by default)."""
    spec = loaded.spec
    groups = group_schemas(tenants.models, first=first or spec.tenants.template)
    return build_plan(
        groups,
        target,
        template=spec.tenants.template,
        pattern=spec.tenants.pattern,
        renames=spec_renames(loaded),
        relations=relation_renames(spec),
        conversions=spec_conversions(spec),
        spec_path=loaded.path,
        spec_sha256=loaded.sha256,
        stats=tenants.stats,
        large_table_rows=spec.policy.large_table_rows,
        allowed=tuple(sorted(set(allowed) | set(spec.policy.allow))),
        concurrent_indexes=frozenset(
            i for t in spec.tables.values() for i, index in t.indexes.items() if index.concurrently
        ),
        unmanaged=unmanaged_report(tenants.models, target),
    )


def check_conversions(conn: psycopg.Connection, loaded: LoadedSpec, plan: Plan) -> None:
    """A type change (either way) PostgreSQL cannot cast implicitly and the spec gives no ``using`` /
    ``down_using`` for is an error at the column, before anything is written."""
    needs = [n for g in plan.groups for n in casts_needed(g.ops)]
    missing = without_implicit_cast(conn, [(n.source, n.target) for n in needs])
    problems = sorted(
        {
            f"{loaded.where(('tables', n.table, 'columns', n.column))}: PostgreSQL has no implicit cast from "
            f"{n.source} to {n.target}{' for the downgrade' if n.downgrade else ''}; say how to convert with "
            f'{n.key}: (one SQL expression, e.g. {n.key}: "{n.column}::{n.target}")'
            for n in needs
            if (n.source, n.target) in missing
        }
    )
    if problems:
        raise SchemadiffError("\n".join(problems))


def normalized_target(loaded: LoadedSpec, dev_url: str | None = None) -> SchemaModel:
    """The spec's target model normalized in the dev database alone (``dev_url``, the embedded
    server by default, borrowed), for what needs the spec's target state and no target database."""
    try:
        with dev_connection(dev_url) as dev:
            return normalize_in(dev, loaded)
    except psycopg.Error as exc:
        raise DatabaseError(connection.redact(f"dev database error: {first_line(exc)}", dev_url)) from None


@contextmanager
def dev_connection(dev_url: str | None) -> Iterator[psycopg.Connection]:
    """A connection to the dev database: ``dev_url``, else the embedded server, borrowed (stopped
    afterwards when this started it)."""
    if dev_url:
        with connection.connect(dev_url) as conn:
            yield conn
        return
    with embedded_dev_url() as url, connection.connect(url) as conn:
        yield conn


@contextmanager
def embedded_dev_url() -> Iterator[str]:
    """The embedded server as a scratch database for the block (see ``embedded_server.borrowed``)."""
    from schemadiff.pg import embedded_server

    with ExitStack() as stack:
        try:
            url = stack.enter_context(embedded_server.borrowed())
        except SchemadiffError as exc:
            raise DatabaseError(f"no dev database: {exc}") from None
        yield url
