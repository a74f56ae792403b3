"""Hazards + where they bite + what is allowed → refused or warned. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from schemadiff.core.hazards import ALWAYS_REFUSED, REFUSED_ON_LARGE_TABLES
from schemadiff.core.plan import Plan
from schemadiff.errors import PolicyRefused
from schemadiff.text import few


@dataclass(frozen=True)
class HazardFinding:
    hazard: str
    group: int
    table: str
    name: str  # the object the op changes (column, index, constraint, or the table)
    op: str  # the op's description
    schemas: tuple[str, ...]  # where it bites: every schema of the group, or its large ones
    large: bool  # True when ``schemas`` are those whose table reaches the row threshold
    refused: bool

    def where(self, threshold: int) -> str:
        if self.large:
            return (
                f"{len(self.schemas)} schema(s) whose {self.table} holds at least "
                f"{threshold:,} rows: {few(self.schemas)}"
            )
        return f"{len(self.schemas)} schema(s): {few(self.schemas)}"


def assess(plan: Plan, allowed: set[str]) -> list[HazardFinding]:
    """One finding per (group, op, hazard), deterministic order."""
    findings = []
    for n, group in enumerate(plan.groups, 1):
        for op in group.ops:
            for hazard in op.hazards:
                large = group.large_schemas(op.table)
                bites_large = hazard in REFUSED_ON_LARGE_TABLES and bool(large)
                refused = hazard not in allowed and (hazard in ALWAYS_REFUSED or bites_large)
                schemas = large if bites_large else group.schemas
                findings.append(
                    HazardFinding(hazard, n, op.table, op.name, op.describe(), schemas, bites_large, refused)
                )
    return findings


def check_policy(plan: Plan, allowed: set[str]) -> list[HazardFinding]:
    """Raise PolicyRefused naming the flag when a refused hazard remains; else the findings."""
    findings = assess(plan, allowed)
    refused = [f for f in findings if f.refused]
    if not refused:
        return findings
    names = tuple(dict.fromkeys(f.hazard for f in refused))
    first = refused[0]
    culprits = ", ".join(dict.fromkeys(f.table if f.name == f.table else f"{f.table}.{f.name}" for f in refused))
    raise PolicyRefused(
        f"plan refused: {culprits} ({', '.join(names)}) on {first.where(plan.large_table_rows)}; "
        f"re-run with --allow {','.join(names)} if that is intended",
        names,
    )


def summarize(plan: Plan) -> list[HazardFinding]:
    """Findings merged across groups (``group`` 0): refused first, then by hazard."""
    merged: dict[tuple[str, str, str, str, bool], tuple[list[str], bool]] = {}
    for f in assess(plan, set(plan.allowed)):
        key = (f.hazard, f.table, f.name, f.op, f.large)
        schemas, refused = merged.get(key, ([], False))
        merged[key] = (schemas + list(f.schemas), refused or f.refused)
    out = [
        HazardFinding(h, 0, table, name, op, tuple(s), large, refused)
        for (h, table, name, op, large), (s, refused) in merged.items()
    ]
    return sorted(out, key=lambda x: (not x.refused, x.hazard, x.op))


@dataclass(frozen=True)
class Verdict:
    """The plan in one line: what is refused, how many warnings and where, what the spec silenced."""

    refused: tuple[HazardFinding, ...]
    hazard_warnings: int
    lint_warnings: int
    on_large_tables: int  # hazard warnings (allowed by name) on tables at or over the threshold
    any_large_table: bool  # some group has a managed table at or over the threshold
    silenced: int
    threshold: int

    @property
    def warnings(self) -> int:
        return self.hazard_warnings + self.lint_warnings

    def __str__(self) -> str:
        if self.refused:
            names = tuple(dict.fromkeys(f.hazard for f in self.refused))
            every = list(dict.fromkeys(f"{f.hazard}: {f.op}" for f in self.refused))
            what = "; ".join(every[:3]) + (f"; … and {len(every) - 3} more" if len(every) > 3 else "")
            head = f"{len(self.refused)} change(s) refused ({what}): they need --allow {','.join(names)}"
        else:
            head = "nothing refused"
        parts = [head, self._warnings()]
        if self.silenced:
            parts.append(f"{self.silenced} lint finding(s) silenced in the spec")
        return "; ".join(parts)

    def _warnings(self) -> str:
        if not self.warnings:
            return "no warnings"
        kinds = f"{self.warnings} warning(s) ({self.hazard_warnings} hazard, {self.lint_warnings} lint)"
        if not self.any_large_table:
            return f"{kinds}, all on tables under {self.threshold:,} rows"
        if self.on_large_tables:
            return f"{kinds}, {self.on_large_tables} on tables of {self.threshold:,} rows or more (allowed by name)"
        return kinds


def verdict(plan: Plan) -> Verdict:
    """What ``summarize`` shows, counted: refused findings, warnings (hazards and lint), silenced lint."""
    findings = summarize(plan)
    warned = [f for f in findings if not f.refused]
    return Verdict(
        refused=tuple(f for f in findings if f.refused),
        hazard_warnings=len(warned),
        lint_warnings=len(plan.lint),
        on_large_tables=sum(1 for f in warned if f.large),
        any_large_table=any(g.large for g in plan.groups),
        silenced=len(plan.silenced),
        threshold=plan.large_table_rows,
    )
