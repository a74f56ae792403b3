"""Op → readable ``op.*`` Python calls for a (format 2) revision file. Pure.

Statements name no schema: each tenant runs them with its ``search_path`` set to it. Where Alembic
has a faithful operation it is used (``op.add_column``, ``op.create_index`` …); otherwise the op's
own SQL is emitted through ``op.execute(runtime.verbatim("…"))``. Every piece of SQL text schemadiff
wrote (defaults, predicates, checks) goes through ``runtime.verbatim``, which reaches PostgreSQL
byte for byte. A statement that runs outside the tenant's transaction is written inside a
``with runtime.before_transaction(…)`` or ``with runtime.after_commit(…)`` block: its phase is
data the runtime reads, never guessed from the SQL.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from schemadiff.core.alter_column import AlterColumn
from schemadiff.core.constraint_ops import AddConstraint, DropConstraint
from schemadiff.core.model import Column, Constraint
from schemadiff.core.ops import (
    AddColumn,
    CreateIndex,
    CreateTable,
    DropColumn,
    DropIndex,
    DropTable,
    Op,
    RenameColumn,
    SetComment,
)
from schemadiff.core.relation_renames import RenameTable
from schemadiff.core.statements import AFTER, BEFORE, INSIDE, Statement

_SIMPLE_TYPES = {
    "integer": "sa.Integer()",
    "bigint": "sa.BigInteger()",
    "smallint": "sa.SmallInteger()",
    "boolean": "sa.Boolean()",
    "text": "sa.Text()",
    "jsonb": "postgresql.JSONB()",
    "json": "postgresql.JSON()",
    "timestamp with time zone": "sa.DateTime(timezone=True)",
    "timestamp without time zone": "sa.DateTime()",
    "date": "sa.Date()",
    "uuid": "sa.Uuid()",
    "double precision": "sa.Double()",
    "bytea": "sa.LargeBinary()",
}
_VARCHAR = re.compile(r"^character varying\((\d+)\)$")
_NUMERIC = re.compile(r"^numeric\((\d+),(\d+)\)$")
_PLAIN_KEYS = re.compile(r"^USING (\w+) \(((?:[a-z_][a-z0-9_$]*)(?:, [a-z_][a-z0-9_$]*)*)\)(?: WHERE (.*))?$")
_KEYS = re.compile(r"^(?:PRIMARY KEY|UNIQUE) \(((?:[a-z_][a-z0-9_$]*)(?:, [a-z_][a-z0-9_$]*)*)\)$")
_CONSTRAINT_TYPES = {"p": "primary", "u": "unique", "c": "check", "f": "foreignkey", "x": None}
_BLOCKS = {BEFORE: "before_transaction", AFTER: "after_commit"}


def py_type(pg: str) -> str:
    if pg in _SIMPLE_TYPES:
        return _SIMPLE_TYPES[pg]
    if m := _VARCHAR.match(pg):
        return f"sa.String(length={m.group(1)})"
    if m := _NUMERIC.match(pg):
        return f"sa.Numeric({m.group(1)}, {m.group(2)})"
    return f"runtime.pg_type({pg!r})"


def _verbatim(expr: str | None) -> str:
    return "None" if expr is None else f"runtime.verbatim({expr!r})"


def _block(statement: Statement) -> str:
    marks = [
        f"{name}={value!r}"
        for name, value in (
            ("index", statement.index),
            ("validates", statement.validates),
            ("not_null", statement.not_null),
        )
        if value is not None
    ]
    if statement.always:
        return "with runtime.own_transaction():"
    return f"with runtime.{_BLOCKS[statement.phase]}({', '.join(marks)}) as online:"


def _statement(statement: Statement, inline: Statement | None) -> list[str]:
    if statement.guard:
        return [f"runtime.expect_none({statement.sql!r}, {statement.guard!r})"]
    if inline is not None and inline.sql != statement.sql:
        return [f"op.execute(runtime.verbatim({statement.sql!r} if online else {inline.sql!r}))"]
    return [f"op.execute(runtime.verbatim({statement.sql!r}))"]


def _execute(op: Op) -> list[str]:
    """The op's own statements, each in the block of its phase."""
    plain = replace(op, online=False).statements(None) if isinstance(op, (CreateIndex, DropIndex)) else []
    out: list[str] = []
    for statement in op.statements(None):  # an index built or dropped CONCURRENTLY has a plain form
        lines = _statement(statement, plain[0] if plain and statement.index else None)
        out += lines if statement.phase == INSIDE else [_block(statement)] + [f"    {line}" for line in lines]
    return out


def render_op(op: Op) -> list[str]:
    """Python statements (one per line) performing ``op`` on the tenant of the search_path."""
    renderer = _RENDERERS.get(type(op))
    return renderer(op) if renderer else _execute(op)


def _column(col: Column) -> str:
    args = [repr(col.name), py_type(col.type)]
    if col.identity and col.identity_options != (1, 1):
        start, increment = col.identity_options
        args.append(f"sa.Identity(always={col.identity == 'a'}, start={start}, increment={increment})")
    elif col.identity:
        args.append(f"sa.Identity(always={col.identity == 'a'})")
    args.append(f"nullable={col.nullable}")
    if col.default is not None:
        args.append(f"server_default={_verbatim(col.default)}")
    if col.comment is not None:
        args.append(f"comment={col.comment!r}")
    return f"sa.Column({', '.join(args)})"


def _add_column(op: AddColumn) -> list[str]:
    if op.column.generated is not None or op.column.collation is not None or op.column.identity_sequence:
        return _execute(op)  # sa.Column cannot say these
    return [f"op.add_column({op.table!r}, {_column(op.column)})"]


def _drop_column(op: DropColumn) -> list[str]:
    return [f"op.drop_column({op.table!r}, {op.column.name!r})"]


def _rename_column(op: RenameColumn) -> list[str]:
    return [f"op.alter_column({op.table!r}, {op.old!r}, new_column_name={op.new!r})"]


def _alter_column(op: AlterColumn) -> list[str]:
    identity = (op.old.identity, op.old.identity_options) != (op.new.identity, op.new.identity_options)
    if identity or op.online or (op.old.type, op.old.collation) != (op.new.type, op.new.collation):
        return _execute(op)  # type changes carry their guard; identity, collation and online forms are SQL
    old, new = op.old, op.new
    head = f"op.alter_column({op.table!r}, {new.name!r}, "
    out = []
    if old.default is not None and old.default != new.default:
        out.append(f"{head}server_default=None, existing_server_default={_verbatim(old.default)})")
    if new.default is not None and old.default != new.default:
        out.append(f"{head}server_default={_verbatim(new.default)})")
    if old.nullable != new.nullable:
        out.append(f"{head}nullable={new.nullable}, existing_type={py_type(new.type)})")
    return out


def _create_index(op: CreateIndex) -> list[str]:
    m = _PLAIN_KEYS.match(op.index.source or op.index.tail)
    if not m:
        return _execute(op)
    columns = [c.strip() for c in m.group(2).split(",")]
    args = [repr(op.index.name), repr(op.table), repr(columns)]
    if op.index.unique:
        args.append("unique=True")
    if m.group(1) != "btree":
        args.append(f"postgresql_using={m.group(1)!r}")
    if m.group(3):
        args.append(f"postgresql_where={_verbatim(m.group(3))}")
    if not op.online:
        return [f"op.create_index({', '.join(args)})"]
    return [
        f"with runtime.after_commit(index={op.index.name!r}) as online:",
        f"    op.create_index({', '.join([*args, 'postgresql_concurrently=online'])})",
    ]


def _drop_index(op: DropIndex) -> list[str]:
    if not op.online:
        return [f"op.drop_index({op.index.name!r}, table_name={op.table!r})"]
    return [
        f"with runtime.before_transaction(index={op.index.name!r}) as online:",
        f"    op.drop_index({op.index.name!r}, table_name={op.table!r}, postgresql_concurrently=online, "
        "if_exists=True)",
    ]


def _add_constraint(op: AddConstraint) -> list[str]:
    c: Constraint = op.constraint
    text = c.source or c.definition
    if op.online:
        return _execute(op)
    if c.kind == "c" and text.startswith("CHECK (") and text.endswith(")") and "NOT VALID" not in text:
        return [f"op.create_check_constraint({c.name!r}, {op.table!r}, {_verbatim(text[7:-1])})"]
    keys = _KEYS.match(text)
    if keys and c.kind in ("p", "u"):
        fn = "create_primary_key" if c.kind == "p" else "create_unique_constraint"
        columns = [k.strip() for k in keys.group(1).split(",")]
        return [f"op.{fn}({c.name!r}, {op.table!r}, {columns!r})"]
    return _execute(op)


def _drop_constraint(op: DropConstraint) -> list[str]:
    kind = _CONSTRAINT_TYPES.get(op.constraint.kind)
    type_ = f", type_={kind!r}" if kind else ""
    return [f"op.drop_constraint({op.constraint.name!r}, {op.table!r}{type_})"]


def _rename_table(op: RenameTable) -> list[str]:
    return [f"op.rename_table({op.old!r}, {op.table!r})"]


def _drop_table(op: DropTable) -> list[str]:
    return [f"op.drop_table({op.table!r})"]


def _set_comment(op: SetComment) -> list[str]:
    if op.column is not None:
        return [f"op.alter_column({op.table!r}, {op.column!r}, comment={op.new!r}, existing_comment={op.old!r})"]
    if op.new is None:
        return [f"op.drop_table_comment({op.table!r}, existing_comment={op.old!r})"]
    return [f"op.create_table_comment({op.table!r}, {op.new!r}, existing_comment={op.old!r})"]


_RENDERERS: dict[type, Callable[[Any], list[str]]] = {
    AddColumn: _add_column,
    DropColumn: _drop_column,
    RenameColumn: _rename_column,
    AlterColumn: _alter_column,
    CreateIndex: _create_index,
    DropIndex: _drop_index,
    AddConstraint: _add_constraint,
    DropConstraint: _drop_constraint,
    DropTable: _drop_table,
    RenameTable: _rename_table,
    SetComment: _set_comment,
    CreateTable: _execute,
}
