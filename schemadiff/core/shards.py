"""A tenant of a fleet is named ``SHARD:SCHEMA`` in a fleet's plan and reports (pure)."""

from __future__ import annotations

SEPARATOR = ":"


def qualify(shard: str, schema: str) -> str:
    return f"{shard}{SEPARATOR}{schema}"


def schema_of(name: str) -> str:
    """The schema of a qualified name (shard names hold no ``:``); an unqualified name unchanged."""
    return name.partition(SEPARATOR)[2] or name
