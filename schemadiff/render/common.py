"""Helpers shared by the plan renderers. Pure."""

from __future__ import annotations

from schemadiff.plan import GroupPlan
from schemadiff.sqltext import quote_ident


def few(names: tuple[str, ...] | list[str], limit: int = 5) -> str:
    """``public, user_1, user_2 … and 21 more``."""
    shown = ", ".join(names[:limit])
    rest = len(names) - limit
    return f"{shown} … and {rest} more" if rest > 0 else shown


def group_sql(group: GroupPlan, schema: str) -> list[str]:
    """The upgrade statements of a group, rendered for one of its schemas."""
    return [stmt for op in group.ops for stmt in op.sql(schema)]


def tenant_transaction(group: GroupPlan, schema: str) -> str:
    """One tenant's upgrade as the runtime runs it: one transaction, search_path pinned."""
    body = "\n".join(f"{stmt};" for stmt in group_sql(group, schema))
    return f"BEGIN;\nSET LOCAL search_path = {quote_ident(schema)};\n{body}\nCOMMIT;"
