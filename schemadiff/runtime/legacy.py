"""Revisions written before statements carried their phase (format 1): how they still run.

A format-1 revision's group functions take the tenant schema and qualify every name with it; the
runtime records them once for a placeholder schema and substitutes each tenant's quoted name.
Their statements carry no phase, so the rules of that version recover it from the text: this
module is the only place that reads SQL text to decide anything, and only for such revisions.
Revisions written now (format 2) hand the phase over as data (see ``recorder``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from schemadiff.core.statements import AFTER, BEFORE, INSIDE, Statement
from schemadiff.runtime.recorder import Forms, record

PLACEHOLDER = "sdtenant__placeholder"
AFTER_MARK = "/* schemadiff: after the transaction */ "

_CONCURRENT = re.compile(r"^\s*(CREATE (UNIQUE )?INDEX|DROP INDEX) CONCURRENTLY\b", re.IGNORECASE)
_CONCURRENTLY = re.compile(r"\b(CREATE (?:UNIQUE )?INDEX|DROP INDEX) CONCURRENTLY\b", re.IGNORECASE)
_VALIDATE = re.compile(r"^\s*ALTER TABLE .+ VALIDATE CONSTRAINT ", re.IGNORECASE | re.DOTALL)
_INDEX_NAME = re.compile(
    r'INDEX CONCURRENTLY (?:IF EXISTS )?(?:(?:"(?:[^"]|"")+"|[^\s.]+)\.)?("(?:[^"]|"")+"|[^\s.]+)', re.IGNORECASE
)
_SET_NOT_NULL = re.compile(
    r'ALTER TABLE (?:"(?:[^"]|"")+"|[^\s.]+)\.("(?:[^"]|"")+"|\S+) ALTER COLUMN '
    r'("(?:[^"]|"")+"|\S+) SET NOT NULL',
    re.IGNORECASE,
)
_VALIDATED_NAME = re.compile(r'VALIDATE CONSTRAINT ("(?:[^"]|"")+"|\S+)', re.IGNORECASE)


def _unquote(name: str) -> str:
    return name[1:-1].replace('""', '"') if name.startswith('"') else name


def classify(text: str) -> Statement:
    """A format-1 statement with the phase and marks that version's rules give it."""
    if _CONCURRENT.match(text):
        m = _INDEX_NAME.search(text)
        phase = BEFORE if text.lstrip().upper().startswith("DROP") else AFTER
        return Statement(text, phase, index=_unquote(m.group(1)) if m else None)
    if _VALIDATE.match(text):
        m = _VALIDATED_NAME.search(text)
        return Statement(text, AFTER, validates=_unquote(m.group(1)) if m else None)
    if text.startswith(AFTER_MARK):
        m = _SET_NOT_NULL.search(text)
        not_null = (_unquote(m.group(1)), _unquote(m.group(2))) if m else None
        return Statement(text.removeprefix(AFTER_MARK), AFTER, not_null=not_null)
    return Statement(text, INSIDE)


def inline(text: str) -> Statement:
    return Statement(_CONCURRENTLY.sub(r"\1", text.removeprefix(AFTER_MARK)), INSIDE)


def record_v1(fn: Callable[[str], None]) -> Forms:
    texts = [s.sql for s in record(fn, PLACEHOLDER)]
    return Forms(tuple(classify(t) for t in texts), tuple(inline(t) for t in texts))
