"""Plan → the default human-readable text."""

from __future__ import annotations

from collections.abc import Callable

from schemadiff.core.plan import Plan, silenced_rules
from schemadiff.core.policy import verdict
from schemadiff.text import few


def render_text(plan: Plan, database: str = "", sql_schema: Callable[[str], str] = str) -> str:
    """``sql_schema``: the schema a listed name's SQL is shown for (a fleet lists ``SHARD:SCHEMA``)."""
    lines = [f"schemadiff plan for {plan.spec_path or 'spec'}" + (f" against {database}" if database else "")]
    lines.append(
        f"{plan.tenant_count} schemas ({plan.template} and tenants matching "
        f"{plan.pattern}); target state {plan.target_fingerprint}"
    )
    if not plan.changes:
        lines.append("Every schema is at the spec; nothing to do.")
        return "\n".join(lines + _unmanaged_lines(plan) + _note_lines(plan)) + "\n"
    lines.append(f"{len(plan.groups)} group(s) with changes; {len(plan.unchanged)} schema(s) already at the spec")
    for n, group in enumerate(plan.groups, 1):
        lines.append("")
        lines.append(
            f"Group {n} of {len(plan.groups)}: {len(group.schemas)} schema(s) in state "
            f"{group.fingerprint}: {few(group.schemas)}"
        )
        lines.append(f"  SQL shown for {group.schemas[0]}; each schema runs it in its own transaction")
        for i, op in enumerate(group.ops, 1):
            hazards = f"   [{', '.join(op.hazards)}]" if op.hazards else ""
            lines.append(f"  {i}. {op.describe()}{hazards}")
            lines += [f"       {stmt};".replace("\n", "\n       ") for stmt in op.sql(sql_schema(group.schemas[0]))]
    lines += _hazard_lines(plan)
    lines += _lint_lines(plan)
    lines += _unmanaged_lines(plan)
    lines += _note_lines(plan)
    lines += ["", f"Verdict: {verdict(plan)}"]
    return "\n".join(lines) + "\n"


def _note_lines(plan: Plan) -> list[str]:
    if not plan.notes:
        return []
    return ["", "Not done (the spec asks it, these schemas do not allow it):"] + [f"  {line}" for line in plan.notes]


def _unmanaged_lines(plan: Plan) -> list[str]:
    if not plan.unmanaged:
        return []
    lines = ["", "Unmanaged (the spec cannot declare these constraints; left as they are):"]
    return lines + [f"  {line}" for line in plan.unmanaged]


def _lint_lines(plan: Plan) -> list[str]:
    if not plan.lint and not plan.silenced:
        return []
    lines = ["", "Lint (squawk):"]
    for f in plan.lint:
        groups = ", ".join(str(g) for g in f.groups)
        lines.append(f"  {f.level} {f.rule} (group {groups}): {f.message} {f.link}")
        lines.append(f"      {f.statement.splitlines()[0]}" + (" …" if "\n" in f.statement else ""))
        if f.help:
            lines.append(f"      help: {f.help}")
    for rule, (count, reason) in silenced_rules(plan).items():
        lines.append(f"  silenced by the spec: {rule} ({count} finding(s)): {reason}")
    return lines


def _hazard_lines(plan: Plan) -> list[str]:
    from schemadiff.core.hazards import EXPLAIN
    from schemadiff.core.policy import summarize

    findings = summarize(plan)
    if not findings:
        return []
    lines = ["", "Hazards:"]
    for f in findings:
        status = f"REFUSED (allow with --allow {f.hazard})" if f.refused else "warning"
        lines.append(f"  {status}: {f.hazard} — {f.op}")
        lines.append(f"      on {f.where(plan.large_table_rows)}; {EXPLAIN[f.hazard]}")
    return lines
