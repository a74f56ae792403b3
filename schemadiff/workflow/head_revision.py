"""The head revision of the versions directory and what it promises (its target state, its
tenants), read from its module without a database; whether a database is at it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from schemadiff.core.model import SchemaModel, model_from_dict
from schemadiff.errors import SchemadiffError
from schemadiff.workflow.alembic_env import current_head, script_directory, versions_directory

__all__ = ["HeadRevision", "read_head", "require_head"]


@dataclass(frozen=True)
class HeadRevision:
    """What the head revision of the versions directory promises: its target state, its tenants."""

    revision: str
    target: str
    target_model: SchemaModel | None
    template: str
    pattern: str
    tables: tuple[str, ...]
    chain: tuple[str, ...]  # "<id> (<message>)" from the head back to the first revision
    versions: Path  # the versions directory it was read from


def read_head(cfg: Any, versions_override: str | None = None) -> HeadRevision:
    """The head revision's promises, from its module (``TENANTS``, ``TARGET``, ``TARGET_MODEL``)."""
    script = script_directory(cfg, Path(versions_override) if versions_override else None)
    head = current_head(script)
    if head is None:
        raise SchemadiffError(
            "the versions directory has no revision yet; write one with `schemadiff plan -m MESSAGE` and apply it first"
        )
    module = script.get_revision(head).module
    tenants, target = getattr(module, "TENANTS", None), getattr(module, "TARGET", None)
    if tenants is None or not isinstance(target, str):
        raise SchemadiffError(f"head revision {head} was not written by schemadiff (it has no TENANTS and TARGET)")
    text = getattr(module, "TARGET_MODEL", "")
    model = model_from_dict(json.loads(text)) if text else None
    chain = tuple(f"{s.revision} ({s.doc})" for s in script.walk_revisions("base", head))
    versions = versions_directory(cfg, versions_override)
    return HeadRevision(head, target, model, tenants.template, tenants.pattern, tuple(tenants.tables), chain, versions)


def require_head(head: HeadRevision, current: tuple[str, ...]) -> None:
    """Refuse unless the database (its ``alembic_version`` rows: ``current``) is at ``head``; the
    message names the pending revisions, or says the database is at one the directory lacks."""
    if current == (head.revision,):
        return
    shown = ", ".join(current) or "(none)"
    ids = [entry.split(" ", 1)[0] for entry in head.chain]
    if len(current) == 1 and current[0] in ids:
        pending = head.chain[: ids.index(current[0])]
    elif not current:
        pending = head.chain
    else:
        raise SchemadiffError(
            f"the database is at revision {shown}, which the versions directory (head {head.revision}) does not "
            "have; use the versions directory the database was migrated with"
        )
    raise SchemadiffError(
        f"the database is at revision {shown}, not at head {head.revision}: pending {', '.join(pending)}; "
        "apply them first (schemadiff apply)"
    )
