"""Which type changes PostgreSQL makes without a USING clause, read from its catalog (``sql/casts.sql``)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import psycopg

SQL = (Path(__file__).parent / "sql" / "casts.sql").read_text()


def without_implicit_cast(conn: psycopg.Connection, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """The (source, target) pairs PostgreSQL cannot cast implicitly (unresolvable names are not judged)."""
    wanted = sorted(set(pairs))
    if not wanted:
        return set()
    rows = conn.execute(SQL, {"sources": [s for s, _ in wanted], "targets": [t for _, t in wanted]}).fetchall()
    return {(source, target) for source, target, implicit in rows if not implicit}
