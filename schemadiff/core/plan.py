"""Groups + target + policy → Plan. Pure: the diff runs once per group, never per tenant."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from schemadiff.core.conversions import Conversions
from schemadiff.core.diff import (
    Renames,
    diff_schema,
    reverse_ops,
    unmanaged_constraints,
)
from schemadiff.core.fingerprint import Group, by_state, fingerprint
from schemadiff.core.model import CONSTRAINT_KINDS, SchemaModel, TableStats, relation_names
from schemadiff.core.online import make_online
from schemadiff.core.ops import Op
from schemadiff.core.relation_renames import NO_RENAMES, RelationRenames, rename_conflicts
from schemadiff.core.table_kinds import kind_problems
from schemadiff.errors import SchemadiffError
from schemadiff.text import few


@dataclass(frozen=True)
class LintFinding:
    """One squawk finding, merged across the groups whose SQL has the same statement."""

    rule: str
    level: str
    message: str
    help: str | None
    statement: str  # with the group's schema shown as <schema>
    groups: tuple[int, ...]
    reason: str | None = None  # why the spec silences this rule (lint.ignore), None when reported

    @property
    def link(self) -> str:
        return "https://squawkhq.com/docs/" + self.rule


@dataclass(frozen=True)
class GroupPlan:
    """One group of schemas in the same state and the ops that take it to the target."""

    fingerprint: str
    schemas: tuple[str, ...]
    ops: tuple[Op, ...]
    model: SchemaModel
    large: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (table, schemas whose table is large)

    def large_schemas(self, table: str) -> tuple[str, ...]:
        return next((schemas for name, schemas in self.large if name == table), ())

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
    large_table_rows: int = 100_000
    allowed: tuple[str, ...] = ()  # hazards allowed by flag or policy, for the renderers
    lint: tuple[LintFinding, ...] = ()
    silenced: tuple[LintFinding, ...] = ()  # findings of rules the spec silences, with its reason
    # live constraints the spec cannot declare, left alone: "t.fk_job (foreign key) in 3 schema(s): …"
    unmanaged: tuple[str, ...] = ()
    # what the plan does not do where the spec asks it, and why (a rename whose both names exist)
    notes: tuple[str, ...] = ()

    @property
    def changes(self) -> bool:
        return bool(self.groups)

    @property
    def tenant_count(self) -> int:
        return len(self.unchanged) + sum(len(g.schemas) for g in self.groups)

    @property
    def hazards(self) -> tuple[str, ...]:
        return tuple(sorted({h for g in self.groups for h in g.hazards}))


def silenced_rules(plan: Plan) -> dict[str, tuple[int, str]]:
    """Each rule the spec silenced that squawk raised: how many findings, and the spec's reason."""
    out: dict[str, tuple[int, str]] = {}
    for f in plan.silenced:
        count, _ = out.get(f.rule, (0, ""))
        out[f.rule] = (count + 1, f.reason or "")
    return out


def build_plan(
    groups: list[Group],
    target: SchemaModel,
    *,
    template: str,
    pattern: str,
    renames: Renames | None = None,
    relations: RelationRenames = NO_RENAMES,
    conversions: Conversions | None = None,
    spec_path: str = "",
    spec_sha256: str = "",
    stats: Mapping[tuple[str, str], TableStats] | None = None,
    large_table_rows: int = 100_000,
    allowed: tuple[str, ...] = (),
    concurrent_indexes: frozenset[str] = frozenset(),
    unmanaged: tuple[str, ...] = (),
) -> Plan:
    target_fp = fingerprint(target)
    refuse_unplannable(groups, target, relations)
    partitioned = {t.name for t in target.tables if t.partition_by is not None}
    changed: list[GroupPlan] = []
    unchanged: list[str] = []
    notes: list[str] = []
    for group in groups:
        ops = diff_schema(group.model, target, renames, relations, conversions)
        notes += [f"{note}: {few(group.schemas)}" for note in rename_conflicts(group.model, target, relations)]
        if ops:
            large = _large_tables(group, target, stats or {}, large_table_rows, relations)
            ops = make_online(ops, {table for table, _ in large}, set(concurrent_indexes), partitioned)
            changed.append(GroupPlan(group.fingerprint, group.schemas, tuple(ops), group.model, large))
        else:
            unchanged.extend(group.schemas)
    return Plan(
        template,
        pattern,
        tuple(relation_names(target)) + relations.old_tables(),
        target,
        target_fp,
        tuple(changed),
        tuple(unchanged),
        spec_path,
        spec_sha256,
        large_table_rows=large_table_rows,
        allowed=tuple(sorted(allowed)),
        unmanaged=unmanaged,
        notes=tuple(notes),
    )


def refuse_unplannable(groups: list[Group], target: SchemaModel, relations: RelationRenames = NO_RENAMES) -> None:
    """A SchemadiffError when a group's state cannot be planned to the target in place (a partition
    key or bound that differs: ``table_kinds.kind_problems``): one line per kind of fix, naming each
    problem and the schemas that have it."""
    found: dict[str, dict[str, list[str]]] = {}  # fix -> problem -> schemas
    for group in groups:
        for problem, fix in kind_problems(group.model, target, relations.tables):
            found.setdefault(fix, {}).setdefault(problem, []).extend(group.schemas)
    if found:
        raise SchemadiffError(
            "\n".join(
                "plan refused: "
                + "; ".join(f"{problem} (in {len(s)} schema(s): {few(s)})" for problem, s in problems.items())
                + f". {fix[0].upper()}{fix[1:]}"
                for fix, problems in found.items()
            )
        )


def unmanaged_report(models: Mapping[str, SchemaModel], target: SchemaModel, shown: int = 5) -> tuple[str, ...]:
    """One line per unmanaged live constraint (see ``diff.unmanaged_constraints``), with its schemas."""
    by_model = by_state(models)  # equal models are diffed once
    where: dict[tuple[str, str, str], list[str]] = {}
    for model, schemas in by_model.items():
        for table, constraint in unmanaged_constraints(model, target):
            where.setdefault((table, constraint.name, constraint.kind), []).extend(schemas)
    order = {schema: n for n, schema in enumerate(models)}
    lines = []
    for (table, name, kind), schemas in sorted(where.items()):
        schemas.sort(key=order.__getitem__)
        more = f" … and {len(schemas) - shown} more" if len(schemas) > shown else ""
        lines.append(
            f"{table}.{name} ({CONSTRAINT_KINDS.get(kind, kind)}) in {len(schemas)} schema(s): "
            f"{', '.join(schemas[:shown])}{more}"
        )
    return tuple(lines)


def _large_tables(
    group: Group,
    target: SchemaModel,
    stats: Mapping[tuple[str, str], TableStats],
    threshold: int,
    relations: RelationRenames = NO_RENAMES,
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Per managed table, the schemas of the group whose table's row estimate reaches the threshold
    (a table still under the name it is renamed from counts with its rows)."""
    out = []
    for table in target.tables:
        names = (table.name, relations.tables.get(table.name, table.name))
        reach = {s for (s, n), found in stats.items() if n in names and found.rows >= threshold}
        big = tuple(s for s in group.schemas if s in reach) if reach else ()
        if big:
            out.append((table.name, big))
    return tuple(out)
