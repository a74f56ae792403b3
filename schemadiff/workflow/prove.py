"""Prove a revision on scratch copies before it is written, with migra as the independent oracle.

For each group: build its starting state in a scratch database, run the revision's upgrade
SQL, ask migra whether the result equals the spec (built in a second scratch database under
the same schema name); run the downgrade SQL and ask migra whether it equals the start.
Only small scratch databases are inspected: migra reads a whole database per call.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import types
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg

from schemadiff.core.ddl_clauses import add_constraint_sql
from schemadiff.core.enum_ops import create_enum_sql
from schemadiff.core.fingerprint import fingerprint
from schemadiff.core.foreign_keys import foreign_keys, shared_references, without_foreign_keys
from schemadiff.core.model import SchemaModel, relation_names
from schemadiff.core.ops import CreateTable
from schemadiff.core.plan import Plan
from schemadiff.core.serial_ops import serial_sequence
from schemadiff.core.sqltext import qualify, quote_ident
from schemadiff.core.statements import Statement, by_phase
from schemadiff.errors import first_line
from schemadiff.pg import connection
from schemadiff.pg.introspect import introspect
from schemadiff.runtime import record

SCHEMA = "tenant"
_NEXTVAL = re.compile(r"nextval\('([^']+)'::regclass\)")


@dataclass(frozen=True)
class Finding:
    group: int
    stage: str  # "upgrade" | "downgrade" | "setup"
    message: str
    fatal: bool = True

    def __str__(self) -> str:
        return f"group {self.group} {self.stage}: {self.message}"


def load_revision(text: str) -> types.ModuleType:
    module = types.ModuleType("schemadiff_candidate_revision")
    exec(compile(text, "<revision>", "exec"), module.__dict__)
    return module


def validate(plan: Plan, revision_text: str, dev_url: str) -> list[Finding]:
    module = load_revision(revision_text)
    findings: list[Finding] = []
    for n, (group, declared) in enumerate(zip(plan.groups, module.GROUPS, strict=True), 1):
        version = getattr(module, "REVISION_FORMAT", 1)
        up, down = record(declared.upgrade, version).online, record(declared.downgrade, version).online
        findings += _validate_group(n, group.model, plan.target, up, down, dev_url)
    return findings


def _validate_group(
    n: int,
    start: SchemaModel,
    target: SchemaModel,
    up: tuple[Statement, ...],
    down: tuple[Statement, ...],
    dev_url: str,
) -> list[Finding]:
    with scratch_databases(dev_url) as (work, oracle):
        try:
            build(work, start, also_shared=target)
        except psycopg.Error as exc:
            return [
                Finding(n, "setup", f"starting state could not be rebuilt ({first_line(exc)}); not validated", False)
            ]
        for stage, statements, expected in (("upgrade", up, target), ("downgrade", down, start)):
            problem = _run_and_compare(work, oracle, statements, expected)
            if problem:
                return [Finding(n, stage, problem)]
    return []


def _run_and_compare(work: str, oracle: str, statements: tuple[Statement, ...], expected: SchemaModel) -> str | None:
    try:
        run_statements(work, statements)
    except psycopg.Error as exc:
        return f"PostgreSQL rejected it: {first_line(exc)}"
    reset(oracle)
    build(oracle, expected)
    differences = migra_sql(work, oracle)
    if differences:
        return f"the result differs from what was expected; migra says:\n{differences}"
    with connection.connect(work) as conn:
        tables, enums = relation_names(expected), [e.name for e in expected.enums]
        got = introspect(conn, [SCHEMA], tables, enums=enums).models[SCHEMA]
    if fingerprint(got) != fingerprint(expected):
        return f"schemadiff reads state {fingerprint(got)}, expected {fingerprint(expected)}"
    return None


def build(url: str, model: SchemaModel, also_shared: SchemaModel | None = None) -> None:
    """Create ``model`` in schema ``tenant`` (plus the sequences its defaults name; a sequence of
    the schema itself is OWNED BY its column, as ``serial`` makes it), and stand-ins for the tables of
    other schemas its foreign keys (and those of ``also_shared``) reference."""
    with connection.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        conn.execute(f"SET search_path = {SCHEMA}")
        for enum in model.enums:
            conn.execute(create_enum_sql(SCHEMA, enum))
        for shared in (model, also_shared or SchemaModel()):  # what the upgrade's keys reference too
            _create_shared_tables(conn, shared)
        for table in model.tables:
            for column in table.columns:
                for sequence in _NEXTVAL.findall(column.default or ""):
                    _create_sequence(conn, sequence)
            for statement in CreateTable(table.name, without_foreign_keys(table)).sql(SCHEMA):
                conn.execute(statement)
        for table in model.tables:  # once every table exists: a key may reference any of them
            for constraint in foreign_keys(table):
                conn.execute(add_constraint_sql(SCHEMA, table.name, constraint))
            for column in table.columns:  # a serial column owns its sequence
                if (sequence := serial_sequence(column)) is not None:
                    conn.execute(
                        f"ALTER SEQUENCE {qualify(SCHEMA, sequence)} OWNED BY "
                        f"{qualify(SCHEMA, table.name)}.{quote_ident(column.name)}"
                    )


def _create_shared_tables(conn: psycopg.Connection, model: SchemaModel) -> None:
    """The tables of other schemas the model's foreign keys reference (shared by every tenant), as
    far as the keys show them: the referenced columns, typed like the referencing ones, unique.
    migra compares the tenant's schema only, so these stand-ins are never compared."""
    for table in model.tables:
        for key, _constraint in shared_references(table):
            assert key.schema is not None
            target = qualify(key.schema, key.table)
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(key.schema)}")
            conn.execute(f"CREATE TABLE IF NOT EXISTS {target} ()")
            for column, referenced in zip(key.columns, key.ref_columns, strict=False):
                found = table.column(column)
                kind = found.type if found is not None else "text"
                conn.execute(f"ALTER TABLE {target} ADD COLUMN IF NOT EXISTS {quote_ident(referenced)} {kind}")
            columns = ", ".join(quote_ident(c) for c in key.ref_columns)
            index = quote_ident(_stand_in(key.table, key.ref_columns))
            conn.execute(f"CREATE UNIQUE INDEX IF NOT EXISTS {index} ON {target} ({columns})")


def _stand_in(table: str, columns: tuple[str, ...]) -> str:
    return "schemadiff_ref_" + hashlib.sha256(repr((table, columns)).encode()).hexdigest()[:16]


def _create_sequence(conn: psycopg.Connection, name: str) -> None:
    if "." in name:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {name.split('.')[0]}")
    conn.execute(f"CREATE SEQUENCE IF NOT EXISTS {name}")


def reset(url: str) -> None:
    with connection.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")


def run_statements(url: str, statements: tuple[Statement, ...]) -> None:
    """In the runtime's phases, with the search_path on the scratch tenant: the statements before
    the transaction, the transaction (a guard counting rows fails it), the ones after it."""
    before, inside, after = by_phase(statements)
    with connection.connect(url, autocommit=True) as conn:
        conn.execute(f"SET search_path = {SCHEMA}")
        for statement in before:
            conn.execute(statement.sql)
        with conn.transaction():
            for statement in inside:
                cursor = conn.execute(statement.sql)
                row = cursor.fetchone() if statement.guard else None
                if row and row[0]:
                    raise psycopg.errors.CheckViolation(f"{row[0]} {statement.guard}")
        for statement in after:
            conn.execute(statement.sql)


def migra_sql(a: str, b: str) -> str:
    """migra's statements from database ``a`` to ``b`` (schema ``tenant``). Its sessions run on
    engines of their own without a pool, disposed afterwards: no connection outlives the call, so
    the scratch databases drop without terminating anyone."""
    from migra import Migration
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session
    from sqlalchemy.pool import NullPool

    engines = [create_engine(connection.to_sqlalchemy(url), poolclass=NullPool) for url in (a, b)]
    try:
        with Session(engines[0]) as from_session, Session(engines[1]) as to_session:
            migration = Migration(from_session, to_session, schema=SCHEMA)
            migration.set_safety(False)
            migration.add_all_changes()
            return str(migration.sql).strip()
    finally:
        for engine in engines:
            engine.dispose()


@contextmanager
def scratch_databases(dev_url: str) -> Iterator[tuple[str, str]]:
    names = [f"schemadiff_validate_{secrets.token_hex(4)}" for _ in range(2)]
    with connection.connect(dev_url, autocommit=True) as admin:
        for name in names:
            admin.execute(f"CREATE DATABASE {quote_ident(name)}")
    try:
        yield connection.database_url(dev_url, names[0]), connection.database_url(dev_url, names[1])
    finally:
        with connection.connect(dev_url, autocommit=True) as admin:
            for name in names:
                connection.drop_database(admin, name)
