"""Model → stable hash; schemas with the same hash form one group. Pure."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from schemadiff.core.model import SchemaModel, managed_state, natural_key, table_data


def canonical(model: SchemaModel) -> str:
    """Canonical JSON: tables in spec order, columns/indexes/constraints sorted by name.

    Column order is ignored on purpose: PostgreSQL cannot reorder columns in place, so two
    tenants whose columns were added in a different order are in the same state. So are
    constraints the spec cannot declare (``model.UNMANAGED_KINDS``): schemadiff never changes
    them, so a tenant holding one still reaches the target's fingerprint after an upgrade, and
    the runtime (which knows one target state per revision) can rerun and downgrade it.
    """
    tables = []
    for table in managed_state(model).tables:
        data = table_data(table)
        for key in ("columns", "indexes", "constraints", "partitions"):
            if key not in data:  # partitions: only where the table has some
                continue
            items = [{k: v for k, v in item.items() if k not in ("source", "uses")} for item in data[key]]
            data[key] = sorted(items, key=lambda item: item["name"])
        tables.append(data)
    if model.enums:  # absent without enums: fingerprints of specs without enums stay as they were
        tables.append({"enums": sorted([e.name, list(e.labels)] for e in model.enums)})
    return json.dumps(tables, sort_keys=True, separators=(",", ":"))


def fingerprint(model: SchemaModel) -> str:
    return hashlib.sha256(canonical(model).encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Group:
    """Schemas in one identical state, and that state (without unmanaged constraints)."""

    fingerprint: str
    schemas: tuple[str, ...]
    model: SchemaModel


def by_state(models: Mapping[str, SchemaModel]) -> dict[SchemaModel, list[str]]:
    """The schemas of each distinct model. Schemas sharing one model object (as a read grouped by
    catalog digest gives them) are collected by identity first: hashing a model walks all of it,
    which at 100,000 tenants costs seconds."""
    by_object: dict[int, tuple[SchemaModel, list[str]]] = {}
    for schema, model in models.items():
        entry = by_object.get(id(model))
        if entry is None:
            entry = by_object[id(model)] = (model, [])
        entry[1].append(schema)
    out: dict[SchemaModel, list[str]] = {}
    for model, names in by_object.values():  # equal models hash alike: one canonical dump per state
        out.setdefault(model, []).extend(names)
    return out


def group_schemas(models: dict[str, SchemaModel], first: str | None = None) -> list[Group]:
    """Group by fingerprint; groups ordered by their first schema (the template's first)."""
    by_model = by_state(models)
    members: dict[str, list[str]] = {}
    state: dict[str, SchemaModel] = {}
    for model, names in by_model.items():
        fp = fingerprint(model)
        members.setdefault(fp, []).extend(names)
        state.setdefault(fp, managed_state(model))

    def order(schema: str) -> tuple[int, tuple[object, ...]]:
        return (0 if schema == first else 1, natural_key(schema))

    groups = [Group(fp, tuple(sorted(names, key=order)), state[fp]) for fp, names in members.items()]
    return sorted(groups, key=lambda g: order(g.schemas[0]))
