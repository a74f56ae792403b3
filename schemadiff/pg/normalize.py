"""Spec → target model, normalized by PostgreSQL itself.

The spec's tables are created in a scratch schema inside a transaction that is always rolled
back, by the very statements a migration creates a table with (``spec.to_model`` and
``CreateTable``), then read back with the same catalog queries as the tenants. When the target
database refuses (read-only role, replica), the same happens in the dev database.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import replace

import psycopg

from schemadiff.core.model import SchemaModel, Table, relation_names
from schemadiff.core.sqltext import quote_ident
from schemadiff.errors import DatabaseError, SchemadiffError, first_line
from schemadiff.pg.introspect import introspect
from schemadiff.spec.schema import LoadedSpec
from schemadiff.spec.to_model import create_schema_statements, spec_model

REFUSALS = (psycopg.errors.InsufficientPrivilege, psycopg.errors.ReadOnlySqlTransaction)
# PostgreSQL evaluates constant parts of index expressions and predicates while creating the index,
# so a spec fragment such as ``length(repeat('x', 400000000))`` costs the target's CPU and memory at
# plan time: every scratch statement is bounded (an unreviewed spec must not hold production busy).
NORMALIZE_TIMEOUT = "10s"


def with_sources(model: SchemaModel, written: SchemaModel) -> SchemaModel:
    """Attach the spec's own text (``written``, see ``spec.to_model``) to the normalized constraints
    and indexes: what created them, and what creates them in a migration."""
    tables = []
    for table in model.tables:
        spec_table = written.table(table.name) or Table(table.name)
        clauses = {c.name: c.source for c in spec_table.constraints}
        tails = {i.name: i.source for i in spec_table.indexes}
        constraints = tuple(replace(c, source=clauses.get(c.name)) for c in table.constraints)
        indexes = tuple(replace(i, source=tails.get(i.name)) for i in table.indexes)
        tables.append(replace(table, constraints=constraints, indexes=indexes))
    return replace(model, tables=tuple(tables))


def normalize_in(conn: psycopg.Connection, loaded: LoadedSpec) -> SchemaModel:
    """Create the spec in a scratch schema of ``conn``, read it back, always roll back."""
    scratch = f"schemadiff_scratch_{secrets.token_hex(4)}"
    written = spec_model(loaded.spec)
    try:
        with conn.transaction(force_rollback=True):
            conn.execute(f"CREATE SCHEMA {quote_ident(scratch)}")
            conn.execute(f"SET LOCAL search_path = {quote_ident(scratch)}")
            conn.execute(f"SET LOCAL statement_timeout = '{NORMALIZE_TIMEOUT}'")
            for table, statement in create_schema_statements(scratch, written):
                if table is None:  # an enum type: its values were checked at load, always accepted
                    conn.execute(statement)
                else:
                    _create_or_explain(conn, loaded, scratch, table, [statement])
            names, enums = relation_names(written), [e.name for e in written.enums]
            return with_sources(introspect(conn, [scratch], names, enums=enums).models[scratch], written)
    finally:
        if not conn.autocommit and conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.rollback()


def _create_or_explain(
    conn: psycopg.Connection, loaded: LoadedSpec, scratch: str, name: str, statements: list[str]
) -> None:
    """Run the statements a migration would create table ``name`` with; a failure names the spec table."""
    for statement in statements:
        try:
            with conn.transaction():
                conn.execute(statement)
        except REFUSALS:
            raise
        except psycopg.errors.QueryCanceled:
            raise SchemadiffError(
                f"{loaded.where(('tables', name))}: PostgreSQL took longer than {NORMALIZE_TIMEOUT} "
                f"to create table '{name}' (an expression it evaluates while creating an index "
                "or a default?); simplify the spec's expressions"
            ) from None
        except psycopg.Error as exc:
            message = first_line(exc).replace(scratch + ".", "")
            raise SchemadiffError(
                f"{loaded.where(('tables', name))}: PostgreSQL rejects table '{name}': {message}"
            ) from None


def target_model(
    conn: psycopg.Connection,
    loaded: LoadedSpec,
    dev_connect: Callable[[], AbstractContextManager[psycopg.Connection]],
    notice: Callable[[str], None],
) -> SchemaModel:
    """Normalize in the target database, or in the dev database when the target refuses."""
    try:
        return normalize_in(conn, loaded)
    except REFUSALS as exc:
        reason = first_line(exc)
        notice(f"target database refuses a scratch schema ({reason}); normalizing the spec in the dev database")
    try:
        with dev_connect() as dev:
            return normalize_in(dev, loaded)
    except REFUSALS as exc:
        raise DatabaseError(f"the dev database refuses a scratch schema too: {str(exc).strip()}") from None
