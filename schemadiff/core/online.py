"""Choose online forms of ops where a table is large (or the spec asks), and the state between
the phases of an online change. Pure.

* ``CREATE INDEX`` / ``DROP INDEX`` become ``CONCURRENTLY``, run outside the tenant's
  transaction (automatically on large tables, always for indexes with ``concurrently: true``);
* new CHECK and FOREIGN KEY constraints on large tables are added ``NOT VALID`` and validated in
  a transaction of their own, so the scan holds no lock that blocks reads or writes;
* ``SET NOT NULL`` on a large table goes through a validated CHECK;
* none of these on a partitioned table (its ops keep their plain form and hazards).

Which statement runs in which phase is data on the statement (``statements.Statement``).
"""

from __future__ import annotations

from dataclasses import replace

from schemadiff.core.alter_column import AlterColumn
from schemadiff.core.constraint_ops import AddConstraint
from schemadiff.core.ddl_clauses import NOT_NULL_CHECK_PREFIX
from schemadiff.core.model import SchemaModel
from schemadiff.core.ops import CreateIndex, DropIndex, Op


def make_online(
    ops: list[Op],
    large_tables: set[str],
    concurrent_indexes: set[str],
    partitioned: set[str] | frozenset[str] = frozenset(),
) -> list[Op]:
    """Online forms where they apply; never on a ``partitioned`` table: PostgreSQL builds no index
    of one CONCURRENTLY, and before 18 adds no foreign key to one NOT VALID."""
    out: list[Op] = []
    for op in ops:
        if op.table in partitioned:
            out.append(op)
            continue
        if (
            (
                isinstance(op, (CreateIndex, DropIndex))
                and (op.table in large_tables or op.index.name in concurrent_indexes)
            )
            or (isinstance(op, AddConstraint) and op.constraint.kind in ("c", "f") and op.table in large_tables)
            or (
                isinstance(op, AlterColumn)
                and op.table in large_tables
                and op.old.nullable
                and not op.new.nullable
                and op.old.identity == op.new.identity
            )
        ):
            op = replace(op, online=True)
        out.append(op)
    return out


def without_online_parts(
    model: SchemaModel,
    online_indexes: frozenset[str] | set[str],
    online_constraints: frozenset[str] | set[str],
    online_not_null: frozenset[tuple[str, str]] | set[tuple[str, str]],
) -> SchemaModel:
    """The model with the revision's online indexes removed and its NOT VALID marks dropped: what a
    tenant between the phases of an online change equals once compared like this."""
    tables = []
    for table in model.tables:
        indexes = tuple(i for i in table.indexes if i.name not in online_indexes)
        constraints = tuple(
            replace(c, definition=c.definition.removesuffix(" NOT VALID")) if c.name in online_constraints else c
            for c in table.constraints
            if not (online_not_null and c.name.startswith(NOT_NULL_CHECK_PREFIX))
        )
        columns = tuple(
            replace(c, nullable=False) if (table.name, c.name) in online_not_null else c for c in table.columns
        )
        tables.append(replace(table, indexes=indexes, constraints=constraints, columns=columns))
    return replace(model, tables=tuple(tables))
