"""Groups + target + policy → Plan. Pure: the diff runs once per group, never per tenant."""

from __future__ import annotations

from dataclasses import dataclass, field

from schemadiff.diff import Renames, diff_schema, reverse_ops
from schemadiff.errors import PolicyRefused
from schemadiff.fingerprint import Group, fingerprint
from schemadiff.model import SchemaModel
from schemadiff.ops import DELETES_DATA, Op


@dataclass(frozen=True)
class GroupPlan:
    """One group of schemas in the same state and the ops that take it to the target."""

    fingerprint: str
    schemas: tuple[str, ...]
    ops: tuple[Op, ...]
    model: SchemaModel

    @property
    def downgrade(self) -> tuple[Op, ...]:
        return tuple(reverse_ops(list(self.ops)))

    @property
    def hazards(self) -> tuple[str, ...]:
        return tuple(sorted({h for op in self.ops for h in op.hazards}))


@dataclass(frozen=True)
class Plan:
    template: str
    pattern: str
    tables: tuple[str, ...]
    target: SchemaModel
    target_fingerprint: str
    groups: tuple[GroupPlan, ...]  # only groups with changes
    unchanged: tuple[str, ...]  # schemas already at the target
    spec_path: str = ""
    spec_sha256: str = ""
    notices: tuple[str, ...] = field(default=())

    @property
    def changes(self) -> bool:
        return bool(self.groups)

    @property
    def tenant_count(self) -> int:
        return len(self.unchanged) + sum(len(g.schemas) for g in self.groups)

    @property
    def hazards(self) -> tuple[str, ...]:
        return tuple(sorted({h for g in self.groups for h in g.hazards}))


def build_plan(groups: list[Group], target: SchemaModel, *, template: str, pattern: str,
               renames: Renames | None = None, spec_path: str = "", spec_sha256: str = "") -> Plan:
    target_fp = fingerprint(target)
    changed: list[GroupPlan] = []
    unchanged: list[str] = []
    for group in groups:
        ops = diff_schema(group.model, target, renames)
        if ops:
            changed.append(GroupPlan(group.fingerprint, group.schemas, tuple(ops), group.model))
        else:
            unchanged.extend(group.schemas)
    return Plan(template, pattern, tuple(t.name for t in target.tables), target, target_fp,
                tuple(changed), tuple(unchanged), spec_path, spec_sha256)


def refused_hazards(plan: Plan, allowed: set[str]) -> tuple[str, ...]:
    """Hazards that policy refuses: ``deletes_data`` unless allowed by name."""
    return tuple(h for h in plan.hazards if h == DELETES_DATA and h not in allowed)


def check_policy(plan: Plan, allowed: set[str]) -> None:
    refused = refused_hazards(plan, allowed)
    if not refused:
        return
    culprits = [f"{op.table}.{op.name}" for g in plan.groups for op in g.ops
                if any(h in refused for h in op.hazards)]
    shown = ", ".join(dict.fromkeys(culprits))
    flag = ",".join(refused)
    raise PolicyRefused(f"plan {', '.join(refused).replace('_', ' ')}: {shown} ({', '.join(refused)}); "
                        f"re-run with --allow {flag} if that is intended", refused)
