"""The spec's SQL fragments, checked by PostgreSQL's own parser (pglast). Pure, no I/O.

A fragment (``default_sql``, a check, an index's ``where`` or ``expressions``) must be exactly one
SQL expression; a column ``type`` exactly one type name. "Exactly" means, all of:

- no statement separator ``;``, no comment (``--`` or ``/* */``), no NUL byte, and brackets that
  balance, as PostgreSQL's scanner sees the fragment on its own (``;`` inside a literal is fine);
- no dollar-quoted string (``$$…$$``: write a ``'…'`` literal) and no backslash in a plain
  ``'…'`` literal (its meaning depends on ``standard_conforming_strings``: write ``E'…'``);
- ``SELECT (<fragment>)`` parses to one statement selecting one unnamed value and nothing else
  (``SELECT NULL::<type>`` to a cast of NULL to one type, for a type);
- no subquery (PostgreSQL refuses them in defaults, checks and indexes) and no ``$1`` parameter.

A fragment that passes cannot end the statement it is pasted into, so it cannot run SQL of its
own (``a > 0; COMMIT; DROP TABLE …``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pglast import ast, enums, parser

_SEMICOLON, _COMMENTS = "ASCII_59", ("SQL_COMMENT", "C_COMMENT")
_OPEN, _CLOSE = {"ASCII_40": "(", "ASCII_91": "["}, {"ASCII_41": "(", "ASCII_93": "["}
_SELECT_DEFAULTS = {
    "targetList": None,
    "groupDistinct": False,
    "all": False,
    "limitOption": enums.LimitOption.LIMIT_OPTION_DEFAULT,
    "op": enums.SetOperation.SETOP_NONE,
}


class FragmentError(ValueError):
    """A fragment is not one expression (or one type name); ``found`` says what it holds instead."""

    def __init__(self, kind: str, found: str) -> None:
        self.found = found
        super().__init__(f"must be one SQL {kind} (found {found})")


def check_expression(text: str) -> None:
    """Raise FragmentError unless ``text`` is exactly one SQL expression without a subquery."""
    _check_tokens(text, "expression")
    target = _one_target(f"SELECT ({text}\n)", text, "expression")
    _check_nodes(target, "expression")


def check_type_name(text: str) -> None:
    """Raise FragmentError unless ``text`` is exactly one SQL type name (``varchar(50)``, ``text[]``)."""
    _check_tokens(text, "type name")
    target = _one_target(f"SELECT NULL::{text}\n", text, "type name")
    if not (
        isinstance(target, ast.TypeCast)
        and isinstance(target.arg, ast.A_Const)
        and target.arg.isnull
        and isinstance(target.typeName, ast.TypeName)
        and not target.typeName.setof
        and not target.typeName.pct_type
    ):
        raise FragmentError("type name", "more than a type name")
    _check_nodes(target, "type name")


def _check_tokens(text: str, kind: str) -> None:
    if "\x00" in text:
        raise FragmentError(kind, "a NUL byte")
    if not text.strip():
        raise FragmentError(kind, "nothing")
    raw = text.encode("utf-8")
    tokens = _scan(text, kind)
    statements = _statement_count(tokens)
    if statements > 1:
        raise FragmentError(kind, f"{statements} statements")
    if any(t.name == _SEMICOLON for t in tokens):
        raise FragmentError(kind, "a statement separator ';'")
    if any(t.name in _COMMENTS for t in tokens):
        raise FragmentError(kind, "a comment")
    for token in tokens:
        _check_literal(raw[token.start : token.end + 1].decode("utf-8"), token.name, kind)
    _check_brackets(tokens, kind)


def _scan(text: str, kind: str) -> list[Any]:
    try:
        return list(parser.scan(text))
    except parser.ParseError as exc:
        raise FragmentError(kind, f"a syntax error: {exc.args[0]}") from None


def _statement_count(tokens: list[Any]) -> int:
    count, pending = 0, False
    for token in tokens:
        if token.name == _SEMICOLON:
            count, pending = count + pending, False
        elif token.name not in _COMMENTS:
            pending = True
    return count + pending


def _check_literal(text: str, name: str, kind: str) -> None:
    if name == "SCONST" and text.startswith("$"):
        raise FragmentError(kind, "a dollar-quoted string; write it as a '…' literal")
    if name == "SCONST" and text.startswith("'") and "\\" in text:
        raise FragmentError(kind, "a backslash in a '…' literal; write it as E'…'")


def _check_brackets(tokens: list[Any], kind: str) -> None:
    stack: list[str] = []
    for token in tokens:
        if token.name in _OPEN:
            stack.append(_OPEN[token.name])
        elif token.name in _CLOSE and (not stack or stack.pop() != _CLOSE[token.name]):
            raise FragmentError(kind, f"an unmatched '{')' if _CLOSE[token.name] == '(' else ']'}'")
    if stack:
        raise FragmentError(kind, f"an unclosed '{stack[-1]}'")


def _one_target(wrapped: str, text: str, kind: str) -> ast.Node:
    """The single value of ``wrapped`` (a one-item SELECT), or FragmentError saying what else is there."""
    try:
        statements = parser.parse_sql(wrapped)
    except parser.ParseError as exc:
        raise FragmentError(kind, _what_instead(text, exc)) from None
    if len(statements) != 1 or not isinstance(statements[0].stmt, ast.SelectStmt):
        raise FragmentError(kind, f"{len(statements)} statements")
    select = statements[0].stmt
    if any(getattr(select, name) != _SELECT_DEFAULTS.get(name) for name in _fields(select) if name != "targetList"):
        raise FragmentError(kind, "a clause around the expression")
    targets = select.targetList or ()
    if len(targets) != 1 or targets[0].name is not None or targets[0].indirection:
        raise FragmentError(kind, "more than one expression")
    node: ast.Node = targets[0].val
    return node


def _what_instead(text: str, exc: parser.ParseError) -> str:
    """Name a fragment that does not parse as an expression: a statement, or the syntax error."""
    try:
        statements = parser.parse_sql(text)
    except parser.ParseError:
        return f"a syntax error: {_bare_error(text) or exc.args[0]}"
    if len(statements) == 1:
        return f"a statement {text.split()[0].upper()}"
    return f"{len(statements)} statements"


def _bare_error(text: str) -> str | None:
    """The syntax error of ``SELECT <text>``: its position is the fragment's own, not the wrapper's."""
    try:
        parser.parse_sql(f"SELECT {text}")
    except parser.ParseError as exc:
        return str(exc.args[0])
    return None


def _check_nodes(root: ast.Node, kind: str) -> None:
    for node in _walk(root):
        if isinstance(node, ast.SubLink):
            raise FragmentError(kind, "a subquery")
        if isinstance(node, ast.ParamRef):
            raise FragmentError(kind, f"a parameter ${node.number}")


def _fields(node: ast.Node) -> tuple[str, ...]:
    """The attribute names of a parse node (pglast keeps them as the class's slots)."""
    return tuple(getattr(type(node), "__slots__", ()))


def _walk(node: Any) -> Iterator[ast.Node]:
    if isinstance(node, ast.Node):
        yield node
        for name in _fields(node):
            yield from _walk(getattr(node, name))
    elif isinstance(node, tuple | list):
        for item in node:
            yield from _walk(item)


PARTITION_KEY = "partition key"
PARTITION_BOUND = "partition bound"
_BARE_TABLE = "CREATE TABLE t ()"
_BARE_PARTITION = "CREATE TABLE p PARTITION OF t DEFAULT"


def check_partition_key(text: str) -> None:
    """Raise FragmentError unless ``text`` is exactly one partition key, ``RANGE (created_at)``,
    ``LIST (lower(region))`` or ``HASH (id)``: what follows ``PARTITION BY``, and nothing after it
    (no ``USING``, ``WITH``, ``TABLESPACE`` …), without a subquery."""
    _check_tokens(text, PARTITION_KEY)
    statement = _one_create(f"{_BARE_TABLE} PARTITION BY {text}\n", PARTITION_KEY)
    _same_but(statement, _BARE_TABLE, "partspec", PARTITION_KEY)
    assert statement.partspec is not None  # _same_but: it is there
    _check_nodes(statement.partspec, PARTITION_KEY)


def check_partition_bound(text: str) -> None:
    """Raise FragmentError unless ``text`` is exactly one partition bound, ``FOR VALUES FROM ('2026-01-01')
    TO ('2027-01-01')``, ``FOR VALUES IN ('eu')``, ``FOR VALUES WITH (MODULUS 4, REMAINDER 0)`` or
    ``DEFAULT``: what follows ``PARTITION OF parent``, and nothing else (no columns, no key of its own)."""
    _check_tokens(text, PARTITION_BOUND)
    statement = _one_create(f"CREATE TABLE p PARTITION OF t {text}\n", PARTITION_BOUND)
    _same_but(statement, _BARE_PARTITION, "partbound", PARTITION_BOUND)
    assert statement.partbound is not None
    _check_nodes(statement.partbound, PARTITION_BOUND)


def _one_create(wrapped: str, kind: str) -> ast.CreateStmt:
    try:
        statements = parser.parse_sql(wrapped)
    except parser.ParseError as exc:
        raise FragmentError(kind, f"a syntax error: {exc.args[0]}") from None
    if len(statements) != 1 or not isinstance(statements[0].stmt, ast.CreateStmt):
        raise FragmentError(kind, f"{len(statements)} statements")
    statement: ast.CreateStmt = statements[0].stmt
    return statement


def _same_but(statement: ast.CreateStmt, bare: str, part: str, kind: str) -> None:
    """``statement`` is ``bare`` with ``part`` added, nothing else."""
    baseline = parser.parse_sql(bare)[0].stmt
    if getattr(statement, part) is None or any(
        getattr(statement, name) != getattr(baseline, name) for name in _fields(statement) if name != part
    ):
        raise FragmentError(kind, f"a clause around the {kind}")
