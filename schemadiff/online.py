"""Choose online forms of ops where a table is large (or the spec asks). Pure.

* ``CREATE INDEX`` / ``DROP INDEX`` become ``CONCURRENTLY``, run outside the tenant's
  transaction (automatically on large tables, always for indexes with ``concurrently: true``);
* new CHECK and FOREIGN KEY constraints on large tables are added ``NOT VALID`` and validated in
  a transaction of their own, so the scan holds no lock that blocks reads or writes.
"""

from __future__ import annotations

import re
from dataclasses import replace

from schemadiff.ops import AFTER_MARK, AddConstraint, AlterColumn, CreateIndex, DropIndex, Op

_CONCURRENT = re.compile(r"^\s*(CREATE (UNIQUE )?INDEX|DROP INDEX) CONCURRENTLY\b", re.IGNORECASE)
_VALIDATE = re.compile(r"^\s*ALTER TABLE .+ VALIDATE CONSTRAINT ", re.IGNORECASE | re.DOTALL)
_INDEX_NAME = re.compile(r'INDEX CONCURRENTLY (?:IF EXISTS )?(?:(?:"(?:[^"]|"")+"|[^\s.]+)\.)?("(?:[^"]|"")+"|[^\s.]+)', re.IGNORECASE)


def make_online(ops: list[Op], large_tables: set[str], concurrent_indexes: set[str]) -> list[Op]:
    out: list[Op] = []
    for op in ops:
        if isinstance(op, (CreateIndex, DropIndex)) and (op.table in large_tables or op.index.name in concurrent_indexes):
            op = replace(op, online=True)
        elif isinstance(op, AddConstraint) and op.constraint.kind in ("c", "f") and op.table in large_tables:
            op = replace(op, online=True)
        elif (isinstance(op, AlterColumn) and op.table in large_tables and op.old.nullable
              and not op.new.nullable and op.old.identity == op.new.identity):
            op = replace(op, online=True)
        out.append(op)
    return out


def split_phases(statements: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(before the transaction, in it, after it): concurrent drops first, concurrent creates and
    validations last, each in statement order."""
    before: list[str] = []
    inside: list[str] = []
    after: list[str] = []
    for statement in statements:
        if _CONCURRENT.match(statement):
            (before if statement.lstrip().upper().startswith("DROP") else after).append(statement)
        elif _VALIDATE.match(statement) or statement.startswith(AFTER_MARK):
            after.append(statement)
        else:
            inside.append(statement)
    return tuple(before), tuple(inside), tuple(after)


def concurrent_index_name(statement: str) -> str | None:
    """The (unqualified, unquoted) index name of a CONCURRENTLY statement."""
    match = _INDEX_NAME.search(statement)
    if not match:
        return None
    return _unquote(match.group(1))


_SET_NOT_NULL = re.compile(r'ALTER TABLE (?:"(?:[^"]|"")+"|[^\s.]+)\.("(?:[^"]|"")+"|\S+) ALTER COLUMN '
                           r'("(?:[^"]|"")+"|\S+) SET NOT NULL', re.IGNORECASE)
_VALIDATED_NAME = re.compile(r'VALIDATE CONSTRAINT ("(?:[^"]|"")+"|\S+)', re.IGNORECASE)


def _unquote(name: str) -> str:
    return name[1:-1].replace('""', '"') if name.startswith('"') else name


def online_not_null(statements: list[str]) -> frozenset[tuple[str, str]]:
    """(table, column) of every SET NOT NULL run after the transaction."""
    found = set()
    for statement in statements:
        if statement.startswith(AFTER_MARK) and (m := _SET_NOT_NULL.search(statement)):
            found.add((_unquote(m.group(1)), _unquote(m.group(2))))
    return frozenset(found)


def validated_constraint(statement: str) -> str | None:
    """The constraint name of a ``VALIDATE CONSTRAINT`` statement, else None."""
    if not _VALIDATE.match(statement):
        return None
    m = _VALIDATED_NAME.search(statement)
    return _unquote(m.group(1)) if m else None


def online_names(statements: list[str]) -> tuple[frozenset[str], frozenset[str]]:
    """(indexes built or dropped CONCURRENTLY, constraints validated separately) in ``statements``."""
    indexes = {n for s in statements if _CONCURRENT.match(s) and (n := concurrent_index_name(s))}
    constraints = {n for s in statements if (n := validated_constraint(s))}
    return frozenset(indexes), frozenset(constraints)
