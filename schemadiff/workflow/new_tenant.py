"""A new tenant schema created directly at the spec's state and recorded at the head revision, in
one transaction: the library call an application makes at sign-up, and `schemadiff tenant create`.

The spec's own statements create it (the enum types, the tables, their keys and indexes, as a
migration creates a table), under a ``search_path`` naming the new schema alone; before anything
commits it is read back with the same catalog queries as every tenant and must be exactly in the
head revision's target state, or nothing is created. Its ledger row says it started where the
template started that revision (the runtime treats a tenant created after an upgrade like the
template), so ``alembic downgrade -1`` takes it back to the template's previous state with the
others, and a later revision finds it in the template's group.

Refused, before any change: a name that is not a tenant name (before any connection); a database
not at the head of the versions directory, or whose template has no ledger row there; a schemadiff
run in progress (its lock is held: the tenant could miss the run); a schema of that name. Refused
after creating, rolled back: a spec that no longer reads back as the head revision's target (the
spec changed and no revision captures it yet). The transaction holds the run lock shared until it
ends, so a run that starts meanwhile waits for it.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import tuple_row

from schemadiff.core.diff import diff_schema
from schemadiff.core.fingerprint import fingerprint
from schemadiff.core.model import SchemaModel
from schemadiff.core.options import Options
from schemadiff.core.sqltext import quote_ident
from schemadiff.errors import SchemadiffError, first_line
from schemadiff.pg import connection
from schemadiff.pg.connection import Message
from schemadiff.pg.digests import state_digest
from schemadiff.pg.introspect import introspect
from schemadiff.runtime.workers import LOCK_KEY
from schemadiff.spec.names import MAX_NAME_BYTES
from schemadiff.spec.schema import LoadedSpec, load_spec
from schemadiff.spec.to_model import create_schema_statements, spec_model
from schemadiff.workflow.head_revision import HeadRevision, read_head, require_head
from schemadiff.workflow.planning import managed_names

__all__ = ["CreatedTenant", "TenantBlueprint", "TenantRefused", "create_tenant", "prepare_tenants"]

_SYSTEM = re.compile(r"^(pg_.*|information_schema)$")
SETTINGS = ("search_path", "lock_timeout", "standard_conforming_strings")  # set for the creation, then restored


class TenantRefused(SchemadiffError):
    """The tenant was not created (nothing was left behind); the message says why and what to do."""


@dataclass(frozen=True)
class CreatedTenant:
    schema: str
    revision: str
    fingerprint: str  # the state it was created in: the head revision's target
    from_fingerprint: str  # where its ledger row says it started: the template's start
    seconds: float


@dataclass(frozen=True)
class TenantBlueprint:
    """The spec and the head revision, read once (at application start); :meth:`create` makes
    each new tenant from them."""

    loaded: LoadedSpec
    head: HeadRevision
    # the spec's enum types, tables, keys and indexes, naming no schema (the search_path does): the
    # same text for every tenant, so tenants in equal states have equal catalog digests
    statements: tuple[str, ...]
    tables: tuple[str, ...]  # read back: the spec's tables and those of the head revision
    enums: tuple[str, ...]
    lock_timeout: str = Options.lock_timeout
    # catalog digests (runtime.tenant_phases.state_digest) of new tenants already read back in full
    # and found in the target state: a tenant with one of them is in it too
    proved: set[str] = field(default_factory=set, compare=False, repr=False)

    def create(self, target: str | psycopg.Connection[Any], name: str) -> CreatedTenant:
        """Create tenant ``name`` from a database URL (its own connection, committed) or on the
        caller's psycopg connection: inside its open transaction (a savepoint), committed only by
        the caller; on an autocommit connection in a transaction of its own, committed. Raises
        :class:`TenantRefused` (nothing created, the caller's transaction still usable)."""
        self.check_name(name)
        if not isinstance(target, str):
            return self._create_on(target, name)
        with connection.connect(connection.to_libpq(target), autocommit=True) as conn:
            return self._create_on(conn, name)  # in a transaction of its own, committed

    def check_name(self, name: str) -> None:
        """Refuse a name that is not a tenant's, before any connection."""
        spec_pattern = self.loaded.spec.tenants.pattern
        problem = _name_problem(name, {self.head.template, self.loaded.spec.tenants.template})
        if problem is None and not re.fullmatch(spec_pattern, name):
            problem = (
                f"does not match the tenant pattern '{spec_pattern}' "
                f"({self.loaded.where(('tenants', 'pattern'))}); choose a name it matches whole"
            )
        if problem is None and not re.fullmatch(self.head.pattern, name):
            problem = (
                f"does not match the pattern '{self.head.pattern}' of head revision {self.head.revision}, "
                "whose upgrade and downgrade would not see it; use a name both patterns match"
            )
        if problem is not None:
            raise TenantRefused(f"tenant {name!r} {problem}; nothing was created")

    def _create_on(self, conn: psycopg.Connection[Any], name: str) -> CreatedTenant:
        started = time.perf_counter()
        status = conn.info.transaction_status
        if status not in (psycopg.pq.TransactionStatus.IDLE, psycopg.pq.TransactionStatus.INTRANS):
            raise TenantRefused(
                f"tenant {name!r}: the connection is not ready (status {status.name}); nothing was created"
            )
        try:
            locked = not conn.autocommit
            if locked:
                _take_run_lock(conn, name)  # opens the caller's transaction (psycopg) if none is open
            with conn.transaction():  # a savepoint inside the caller's transaction, else BEGIN … COMMIT
                saved, from_fp = self._check_database(conn, name, locked)
                self._create_schema(conn, name)
                self._record(conn, name, from_fp, saved)
        except psycopg.errors.DuplicateSchema:
            raise TenantRefused(f"schema {name!r} already exists; nothing was created") from None
        except psycopg.Error as exc:
            raise TenantRefused(f"tenant {name!r}: {first_line(exc)}; nothing was created") from None
        return CreatedTenant(name, self.head.revision, self.head.target, from_fp, time.perf_counter() - started)

    def _check_database(self, conn: psycopg.Connection[Any], name: str, locked: bool) -> tuple[tuple[str, ...], str]:
        """The run lock unless ``locked``; the caller's settings (then this transaction's own: a
        search_path naming the new schema alone, the lock_timeout); the database is at the head
        and the schema is free; the template's starting state there."""
        head = self.head
        lock = [] if locked else [Message(RUN_LOCK, LOCK_KEY)]
        *free, [saved], _set, [(versions_table, ledger_table, taken)] = connection.pipelined(
            conn,
            [
                *lock,
                Message(f"SELECT {', '.join(f'pg_catalog.current_setting({s!r})' for s in SETTINGS)}"),
                Message(
                    "SELECT pg_catalog.set_config('search_path', $1, true), "
                    "pg_catalog.set_config('lock_timeout', $2, true), "
                    "pg_catalog.set_config('standard_conforming_strings', 'on', true)",
                    (quote_ident(name), self.lock_timeout),
                ),
                Message(
                    "SELECT pg_catalog.to_regclass('public.alembic_version') IS NOT NULL, "
                    "pg_catalog.to_regclass('public.schemadiff_ledger') IS NOT NULL, "
                    "EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1)",
                    (name,),
                ),
            ],
        )
        if free and not free[0][0][0]:
            raise _run_under_way(name)
        if taken:
            raise TenantRefused(f"schema {name!r} already exists; nothing was created")
        reads = [Message("SELECT version_num FROM public.alembic_version ORDER BY 1")] if versions_table else []
        if ledger_table:
            reads.append(
                Message(
                    "SELECT direction, from_fingerprint FROM public.schemadiff_ledger "
                    "WHERE revision = $1 AND schema_name = $2",
                    (head.revision, head.template),
                )
            )
        found = connection.pipelined(conn, reads) if reads else []
        _refuse_unless_at(head, tuple(v for (v,) in found[0]) if versions_table else ())
        start = found[-1] if ledger_table else []
        if not start:
            raise TenantRefused(
                f"the ledger has no row for the template {head.template!r} at head revision {head.revision} "
                "(was the revision stamped instead of run?), so the state a new tenant starts from is not "
                "known; run the revision with `schemadiff apply` first; nothing was created"
            )
        direction, from_fp = start[0]
        if direction != "upgrade":
            raise TenantRefused(
                f"the template {head.template!r} was rolled back from head revision {head.revision} "
                "(an interrupted rollback?); finish the rollback or apply the revision again first; "
                "nothing was created"
            )
        return tuple(saved), str(from_fp)

    def _create_schema(self, conn: psycopg.Connection[Any], name: str) -> None:
        """The schema and the spec's objects in it (one round trip, with the digest of its catalog
        rows); it must read back in the head revision's target state: a digest already proved to be
        that state, else read in full. Planning the digest query is most of the time this takes
        (about 8 ms of the 20); preparing it would not help: CREATE SCHEMA invalidates every cached
        plan of the session (PostgreSQL re-plans on any change to pg_namespace)."""
        rows = connection.pipelined(
            conn,
            [
                Message(f"CREATE SCHEMA {quote_ident(name)}"),
                *(Message(statement) for statement in self.statements),
                Message(state_digest(conn.info.server_version), (name, list(self.tables))),
            ],
        )
        digest = str(rows[-1][0][0])
        if digest in self.proved:
            return
        model = introspect(conn, [name], list(self.tables), self.head.template, self.enums).models[name]
        got = fingerprint(model)
        if got != self.head.target:
            raise TenantRefused(self._differs(model, got))
        self.proved.add(digest)

    def _differs(self, model: SchemaModel, got: str) -> str:
        head = self.head
        what = ""
        if head.target_model is not None:
            ops = diff_schema(head.target_model, model)
            what = ": the spec would " + "; ".join(op.describe() for op in ops[:8]) if ops else ""
        return (
            f"the spec ({self.loaded.path}, state {got}) differs from the target {head.target} of head revision "
            f"{head.revision}{what}; the spec changed and no revision captures it yet: write one with "
            "`schemadiff plan -m MESSAGE` and apply it first; nothing was created"
        )

    def _record(self, conn: psycopg.Connection[Any], name: str, from_fp: str, saved: tuple[str, ...]) -> None:
        """The tenant's ledger row at the head revision (rows of an earlier schema of that name
        go), then the caller's settings again."""
        restore = ", ".join(f"pg_catalog.set_config({s!r}, ${n}, true)" for n, s in enumerate(SETTINGS, 1))
        connection.pipelined(
            conn,
            [
                Message("DELETE FROM public.schemadiff_ledger WHERE schema_name = $1", (name,)),
                Message(
                    "INSERT INTO public.schemadiff_ledger (revision, schema_name, direction, from_fingerprint, "
                    "to_fingerprint, complete) VALUES ($1, $2, 'upgrade', $3, $4, true)",
                    (self.head.revision, name, from_fp, self.head.target),
                ),
                Message(f"SELECT {restore}", saved),
            ],
        )


def _name_problem(name: str, templates: set[str]) -> str | None:
    size = len(name.encode("utf-8"))
    if not name or "\x00" in name:
        return "is not a schema name"
    if size > MAX_NAME_BYTES:
        return f"is {size} bytes; PostgreSQL allows {MAX_NAME_BYTES} (it would silently truncate it)"
    if name in templates:
        return "is the template schema"
    if _SYSTEM.match(name):
        return "is a system schema name (pg_*, information_schema)"
    return None


def _refuse_unless_at(head: HeadRevision, current: tuple[str, ...]) -> None:
    try:
        require_head(head, current)
    except SchemadiffError as exc:
        raise TenantRefused(f"{exc}; nothing was created") from None


# the run lock of runtime.execute, shared, until the transaction ends; False when a run holds it
RUN_LOCK = "SELECT pg_catalog.pg_try_advisory_xact_lock_shared($1, $2)"


def _take_run_lock(conn: psycopg.Connection[Any], name: str) -> None:
    """The run lock, shared, until the transaction ends: no schemadiff run is under way (its
    preflight would not see the new tenant), and none starts before this transaction ends. Sent
    through psycopg itself, which opens the caller's transaction when none is open."""
    with conn.cursor(row_factory=tuple_row) as cur:  # whatever rows the caller's connection makes
        row = cur.execute("SELECT pg_catalog.pg_try_advisory_xact_lock_shared(%s, %s)", LOCK_KEY).fetchone()
    if not (row and row[0]):
        raise _run_under_way(name)


def _run_under_way(name: str) -> TenantRefused:
    return TenantRefused(
        f"tenant {name!r}: a schemadiff run holds the migration lock (a tenant created now could miss it); "
        "try again when it has finished; nothing was created"
    )


def prepare_tenants(
    spec: str | Path | LoadedSpec = "schema.yaml",
    config: str | Path = "alembic.ini",
    lock_timeout: str = Options.lock_timeout,
) -> TenantBlueprint:
    """Read the spec and the head revision of the versions directory once (no database)."""
    from schemadiff.workflow.alembic_env import alembic_config

    loaded = spec if isinstance(spec, LoadedSpec) else load_spec(spec)
    try:
        head = read_head(alembic_config(Path(config)), loaded.spec.migrations.directory)
    except SchemadiffError as exc:
        raise TenantRefused(f"{exc}; nothing was created") from None
    tables = tuple(dict.fromkeys([*managed_names(loaded), *head.tables]))
    enums = list(loaded.spec.enums) + ([e.name for e in head.target_model.enums] if head.target_model else [])
    statements = tuple(statement for _table, statement in create_schema_statements(None, spec_model(loaded.spec)))
    return TenantBlueprint(loaded, head, statements, tables, tuple(dict.fromkeys(enums)), lock_timeout)


def create_tenant(
    target: str | psycopg.Connection[Any],
    name: str,
    spec: str | Path | LoadedSpec = "schema.yaml",
    config: str | Path = "alembic.ini",
    lock_timeout: str = Options.lock_timeout,
) -> CreatedTenant:
    """Create tenant ``name`` at the spec's state, recorded at the head revision (see
    :meth:`TenantBlueprint.create` for ``target`` and commits). The spec and the versions directory
    are read at the first call and again only when one of their files changed, so an application
    may call this at every sign-up."""
    return _prepared(spec, config, lock_timeout).create(target, name)


_PREPARED: dict[tuple[str, str, str], tuple[tuple[object, ...], TenantBlueprint]] = {}


def _prepared(spec: str | Path | LoadedSpec, config: str | Path, lock_timeout: str) -> TenantBlueprint:
    """The blueprint of an earlier call while the spec, alembic.ini and the revision files are the
    same files as then (path, size and modification time)."""
    if isinstance(spec, LoadedSpec):
        return prepare_tenants(spec, config, lock_timeout)
    key = (str(Path(spec).resolve()), str(Path(config).resolve()), lock_timeout)
    found = _PREPARED.get(key)
    if found is not None and found[0] == _stamps(key, found[1].head.versions):
        return found[1]
    blueprint = prepare_tenants(spec, config, lock_timeout)
    _PREPARED[key] = (_stamps(key, blueprint.head.versions), blueprint)
    return blueprint


def _stamps(key: tuple[str, str, str], versions: Path) -> tuple[object, ...]:
    stamps: list[object] = []
    for path in [Path(key[0]), Path(key[1]), *sorted(versions.glob("*.py"))]:
        try:
            stat = path.stat()
        except OSError:  # gone: read again, and the reading says what is wrong
            stamps.append((str(path), None))
            continue
        stamps.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(stamps)
