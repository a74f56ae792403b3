"""What PostgreSQL prints, read back into its parts. Pure.

``pg_get_constraintdef``, ``pg_get_indexdef`` and ``pg_get_expr`` print well-formed SQL. To write
a spec from a live table (``schemadiff inspect``), pglast tells what each part of such a text is
(a column or an expression, an operator class, a sort order) and these helpers cut the text at
its top level (outside parentheses, brackets and quotes) so that every expression keeps
PostgreSQL's own spelling, which reads as it was written and normalizes back to the same text.
"""

from __future__ import annotations

from collections.abc import Iterator


def _outside_quotes(text: str) -> Iterator[tuple[int, int]]:
    """(index, depth) of every character outside quotes; depth counts open ``(`` and ``[``."""
    depth, i = 0, 0
    while i < len(text):
        char = text[i]
        if char in "'\"":
            end = text.find(char, i + 1)
            while end != -1 and end + 1 < len(text) and text[end + 1] == char:  # '' or "" inside
                end = text.find(char, end + 2)
            i = len(text) if end == -1 else end + 1
            continue
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        yield i, depth
        i += 1


def split_top(text: str, separator: str = ",") -> list[str]:
    """``text`` cut at each top-level ``separator``, each part stripped."""
    parts, start = [], 0
    for i, depth in _outside_quotes(text):
        if depth == 0 and text[i] == separator:
            parts.append(text[start:i].strip())
            start = i + 1
    return [*parts, text[start:].strip()]


def find_top(text: str, word: str, start: int = 0) -> int:
    """Where ``word`` (e.g. `` WHERE ``) starts at the top level of ``text`` from ``start``, or -1."""
    for i, depth in _outside_quotes(text):
        if i >= start and depth == 0 and text.startswith(word, i):
            return i
    return -1


def rfind_top(text: str, word: str) -> int:
    """Where the last top-level ``word`` starts, or -1."""
    found = -1
    for i, depth in _outside_quotes(text):
        if depth == 0 and text.startswith(word, i):
            found = i
    return found


def group(text: str, start: int = 0) -> tuple[str, int]:
    """The inside of the first top-level parenthesized group at or after ``start``, and the index
    just after its closing parenthesis; ("", -1) when there is none."""
    opened = -1
    for i, depth in _outside_quotes(text):
        if i < start:
            continue
        if opened < 0 and text[i] == "(" and depth == 1:
            opened = i
        elif opened >= 0 and text[i] == ")" and depth == 0:
            return text[opened + 1 : i], i + 1
    return "", -1


def unwrap(text: str) -> str:
    """``text`` without the parentheses that enclose all of it (``((k > 0))`` → ``k > 0``)."""
    text = text.strip()
    while text.startswith("("):
        inside, end = group(text)
        if end != len(text):
            break
        text = inside.strip()
    return text
