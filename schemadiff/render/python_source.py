"""Python source for generated files: literals, and calls laid out as ruff's formatter keeps them. Pure.

A call (or list, tuple, dict) is written on one line when it fits in ``WIDTH`` (ruff's default line
length), else one item per line with a trailing comma. Ruff keeps both forms as they are at any line
length from ``WIDTH`` up: a line that fits stays, and the trailing comma of an exploded call is a
"magic" one that keeps it exploded. A tuple of one item has no magic comma, so its item is exploded
as well when the tuple is.

:func:`same_source` compares a file with the one generated: equal, or the same code and comments
laid out differently (after a formatter with other settings ran over it).
"""

from __future__ import annotations

import ast
import io
import threading
import tokenize
import unicodedata
from dataclasses import dataclass

WIDTH = 88
INDENT = "    "
# ast.parse shares its recursion counter between threads in CPython 3.11 (python/cpython#106905): two at
# once can fail with "SystemError: AST constructor recursion depth mismatch", and a fleet's status and
# check read the revision files on a thread per shard
_PARSING = threading.Lock()


def parse_python(text: str, filename: str = "<unknown>") -> ast.Module:
    """``ast.parse``, one thread at a time."""
    with _PARSING:
        return ast.parse(text, filename)


@dataclass(frozen=True)
class Bracket:
    """``open item, item close``; each item a (prefix, node) pair such as ``("name=", node)``."""

    open: str
    items: tuple[tuple[str, Node], ...]
    close: str
    one_tuple: bool = False  # a tuple of one item: its comma is not magic


Node = Bracket | str  # a str is Python source already (a name, a literal, an expression)


def call(func: str, *args: Node, **kwargs: Node | None) -> Bracket:
    """``func(args…, name=value…)``; keyword arguments whose value is None are left out."""
    items = tuple(("", a) for a in args) + tuple((f"{k}=", v) for k, v in kwargs.items() if v is not None)
    return Bracket(f"{func}(", items, ")")


def seq(open: str, nodes: list[Node], close: str) -> Bracket:
    """A list or tuple literal."""
    return Bracket(open, tuple(("", n) for n in nodes), close, one_tuple=open == "(" and len(nodes) == 1)


def mapping(pairs: list[tuple[str, Node]]) -> Bracket:
    """A dict literal with string keys."""
    return Bracket("{", tuple((f"{py_str(k)}: ", v) for k, v in pairs), "}")


def py_str(text: str) -> str:
    """A string literal as ruff writes it: double quotes unless single ones need fewer escapes."""
    quote = "'" if text.count('"') > text.count("'") else '"'
    return quote + "".join(_escaped(ch, quote) for ch in text) + quote


_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(ch: str, quote: str) -> str:
    if ch == quote:
        return "\\" + ch
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    return _printable(ch)  # \x00, \u2028 … escaped


def py_value(value: int | bool | str) -> str:
    return py_str(value) if isinstance(value, str) else repr(value)


def flat(node: Node) -> str:
    if isinstance(node, str):
        return node
    inner = ", ".join(prefix + flat(item) for prefix, item in node.items)
    return node.open + inner + ("," if node.one_tuple else "") + node.close


def layout(node: Node, indent: int = 0, head: str = "", tail: str = "", force: bool = False) -> list[str]:
    """The lines of ``head + node + tail`` at ``indent`` levels: one if it fits, else exploded."""
    pad = INDENT * indent
    one = pad + head + flat(node) + tail
    if isinstance(node, str) or not node.items or (width(one) <= WIDTH and not force):
        return [one]
    force_items = node.one_tuple
    lines = [pad + head + node.open]
    for prefix, item in node.items:
        lines += layout(item, indent + 1, prefix, ",", force_items)
    return [*lines, pad + node.close + tail]


def width(line: str) -> int:
    """Columns as ruff counts them: East Asian wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in line)


def comment_lines(text: str, indent: int = 0) -> list[str]:
    """``# text`` lines, one per line of ``text`` (other control characters escaped)."""
    pad = INDENT * indent
    return [(pad + "# " + "".join(_printable(ch) for ch in line)).rstrip() for line in text.split("\n")]


def _printable(ch: str) -> str:
    return ch if ch == " " or ch.isprintable() else repr(ch)[1:-1]


def same_source(ours: str, theirs: str) -> bool:
    """Whether ``theirs`` is ``ours`` or the same code and comments formatted otherwise."""
    if ours == theirs:
        return True
    try:
        return ast.dump(parse_python(ours)) == ast.dump(parse_python(theirs)) and _comments(ours) == _comments(theirs)
    except (SyntaxError, ValueError, tokenize.TokenError):
        return False


def _comments(source: str) -> list[str]:
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return [" ".join(t.string.lstrip("#").split()) for t in tokens if t.type == tokenize.COMMENT]
