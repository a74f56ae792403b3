"""The checksum a revision records of its own operations, and reading it back. Pure.

What is hashed is the revision's *code*, not its bytes: the Python syntax tree of the module
without its docstrings (the module's and each function's), without the checksum assignment
itself, and with its imports as a sorted set. So comments, quotes, line breaks, trailing commas,
import order and the reviewer-facing prose can change (a formatter or an import sorter run over
the versions directory) while any change to what the revision does — an ``op.*`` call, a group's
fingerprint, ``TARGET``, ``TARGET_MODEL``, ``revision`` / ``down_revision``, a ``runtime.Loss`` —
changes the checksum. The tree is written out by :func:`_canonical` (node names and fields, empty
and absent fields left out), not by ``ast.dump``, whose text differs between Python versions.

A checksum proves that nobody edited the file *by accident or without noticing*; it is no
signature (whoever edits the operations can write the new checksum too): review catches that.
"""

from __future__ import annotations

import ast
import hashlib
import json

from schemadiff.render.python_source import parse_python

CHECKSUM_NAME = "OPERATIONS_SHA256"
PLACEHOLDER = "(checksum)"
_PLACEHOLDER_LINE = f"\n{CHECKSUM_NAME} = {PLACEHOLDER!r}\n"


def _docstring_free(body: list[ast.stmt]) -> list[ast.stmt]:
    first = body[0] if body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return body[1:]
    return body


def _is_checksum(stmt: ast.stmt) -> bool:
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(stmt, ast.AnnAssign) else []
    return any(isinstance(t, ast.Name) and t.id == CHECKSUM_NAME for t in targets)


def _import_names(stmt: ast.Import | ast.ImportFrom) -> list[list[object]]:
    if isinstance(stmt, ast.ImportFrom):
        return [["from", stmt.level or 0, stmt.module or "", a.name, a.asname or ""] for a in stmt.names]
    return [["import", 0, "", a.name, a.asname or ""] for a in stmt.names]


def _canonical(node: object) -> object:
    """A JSON-able form of a syntax tree: positions, the string ``kind`` and empty fields dropped;
    function bodies without their docstrings."""
    if isinstance(node, ast.AST):
        fields: dict[str, object] = {}
        for name, value in ast.iter_fields(node):
            if name == "kind" and isinstance(node, ast.Constant):
                continue  # u"" vs "": the same string
            if name == "body" and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                value = _docstring_free(value)
            shown = _canonical(value)
            if shown is not None and shown != []:
                fields[name] = shown
        return [type(node).__name__, fields]
    if isinstance(node, list):
        return [_canonical(item) for item in node]
    if node is None:
        return None
    return [type(node).__name__, repr(node)]


def canonical_operations(text: str) -> str:
    """The canonical text the checksum is taken of (raises ``SyntaxError`` on a broken file)."""
    body = _docstring_free(parse_python(text).body)
    imports = sorted(
        json.dumps(name) for s in body if isinstance(s, (ast.Import, ast.ImportFrom)) for name in _import_names(s)
    )
    code = [s for s in body if not isinstance(s, (ast.Import, ast.ImportFrom)) and not _is_checksum(s)]
    return json.dumps({"imports": imports, "code": _canonical(code)}, sort_keys=True, separators=(",", ":"))


def operations_checksum(text: str) -> str:
    return hashlib.sha256(canonical_operations(text).encode("utf-8")).hexdigest()


def recorded_checksum(text: str) -> str | None:
    """The checksum the file records (its ``OPERATIONS_SHA256 = '…'``), None when it has none."""
    for stmt in parse_python(text).body:
        value = stmt.value if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and _is_checksum(stmt) else None
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            return value.value
    return None


def with_checksum(text: str) -> str:
    """``text`` (rendered with ``OPERATIONS_SHA256 = PLACEHOLDER``) with the real checksum written in."""
    assert text.count(_PLACEHOLDER_LINE) == 1, "a revision renders the checksum placeholder exactly once"
    return text.replace(_PLACEHOLDER_LINE, f"\n{CHECKSUM_NAME} = {operations_checksum(text)!r}\n")
