"""A revision's op functions → the exact SQL they emit, with each statement's phase as data.

Alembic's own offline compiler turns each ``op.*`` call into SQL once per group, never per
tenant. Three things keep the text byte-exact: the dialect neither doubles ``%`` (named
paramstyle) nor backslashes (the runtime pins ``standard_conforming_strings = on``); SQL text
written by schemadiff goes through :class:`Verbatim`, which compiles to itself (no bind
parameters, no ``\\:`` unescaping); and statements are taken from the compiler unmodified
(Alembic's own output step replaces tabs).

The phase of a statement is the ``with runtime.before_transaction()`` or
``with runtime.after_commit()`` block it was emitted in; the function is recorded twice, once
in its online form and once inline (every statement inside the transaction, nothing
``CONCURRENTLY``) for tenants whose tables are small.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from io import StringIO
from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import TextClause

from schemadiff.core.statements import AFTER, BEFORE, INSIDE, Statement


class Verbatim(TextClause):
    """SQL text that compiles to exactly itself: no bind parameters, no escapes."""

    inherit_cache = True

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.verbatim = text


@compiles(Verbatim)
def _compile_verbatim(element: Verbatim, compiler: Any, **kw: Any) -> str:
    return element.verbatim


@dataclass
class _Recording:
    online: bool
    statements: list[Statement] = field(default_factory=list)
    mark: Statement = field(default_factory=lambda: Statement(""))  # phase and marks of the open block


_current: contextvars.ContextVar[_Recording | None] = contextvars.ContextVar("schemadiff_recording", default=None)


@contextmanager
def phase(
    name: str,
    index: str | None = None,
    validates: str | None = None,
    not_null: tuple[str, str] | None = None,
    always: bool = False,
) -> Iterator[bool]:
    """Statements emitted in the block run in phase ``name``; yields whether to run them online
    (``CONCURRENTLY``). Outside a recording it yields True and marks nothing. ``always``: in that
    phase in the inline form too (where the other online statements run inside the transaction)."""
    recording = _current.get()
    if recording is None:
        yield True
        return
    saved = recording.mark
    recording.mark = (
        Statement("", name, index=index, validates=validates, not_null=not_null, always=always)
        if recording.online or always
        else Statement("")
    )  # inline: plainly inside the transaction
    try:
        yield recording.online
    finally:
        recording.mark = saved


def expect_none(query: str, message: str) -> None:
    """A guard: ``query`` counts rows that the change would lose; a non-zero count fails the tenant."""
    recording = _current.get()
    if recording is not None:
        recording.statements.append(Statement(query, guard=message))


def record(fn: Callable[..., None], *args: Any, online: bool = True) -> tuple[Statement, ...]:
    """Run ``fn(*args)`` under Alembic's offline compiler and return what it emitted."""
    import alembic.op
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import text as sa_text
    from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
    from sqlalchemy.sql.ddl import ExecutableDDLElement

    dialect = PGDialect_psycopg(paramstyle="named")
    dialect._backslash_escapes = False  # the runtime runs with standard_conforming_strings = on
    ctx = MigrationContext.configure(
        dialect=dialect, opts={"as_sql": True, "output_buffer": StringIO(), "literal_binds": True}
    )
    recording = _Recording(online)

    def exec_(construct: Any, *_args: Any, **_kw: Any) -> None:
        if isinstance(construct, str):  # as Alembic does; schemadiff's own text comes as Verbatim
            construct = sa_text(construct)
        kw = {} if isinstance(construct, ExecutableDDLElement) else {"compile_kwargs": {"literal_binds": True}}
        text = str(construct.compile(dialect=dialect, **kw)).strip()
        recording.statements.append(replace(recording.mark, sql=text))

    ctx.impl._exec = exec_  # type: ignore[method-assign]
    running = getattr(alembic.op, "_proxy", None)  # the proxy of the Alembic run we are inside, if any
    token = _current.set(recording)
    try:
        with Operations.context(ctx):
            fn(*args)
    finally:
        _current.reset(token)
        if running is not None:  # Operations.context removes the proxy instead of restoring it
            running._install_proxy()
    return tuple(recording.statements)


@dataclass(frozen=True)
class Forms:
    """One direction of one group: the online form and the inline form for small tenants."""

    online: tuple[Statement, ...]
    inline: tuple[Statement, ...]


def record_forms(fn: Callable[..., None], *args: Any) -> Forms:
    online = record(fn, *args, online=True)
    if all(s.phase == INSIDE and s.index is None and s.validates is None for s in online):
        return Forms(online, online)
    return Forms(online, record(fn, *args, online=False))


__all__ = ["AFTER", "BEFORE", "INSIDE", "Forms", "Verbatim", "expect_none", "phase", "record", "record_forms"]
