"""Plan → the default human-readable text."""

from __future__ import annotations

from schemadiff.plan import Plan
from schemadiff.render.common import few


def render_text(plan: Plan, database: str = "") -> str:
    lines = [f"schemadiff plan for {plan.spec_path or 'spec'}" + (f" against {database}" if database else "")]
    lines.append(f"{plan.tenant_count} schemas ({plan.template} and tenants matching "
                 f"{plan.pattern}); target state {plan.target_fingerprint}")
    if not plan.changes:
        lines.append("Every schema is at the spec; nothing to do.")
        return "\n".join(lines) + "\n"
    lines.append(f"{len(plan.groups)} group(s) with changes; {len(plan.unchanged)} schema(s) already at the spec")
    for n, group in enumerate(plan.groups, 1):
        lines.append("")
        lines.append(f"Group {n} of {len(plan.groups)}: {len(group.schemas)} schema(s) in state "
                     f"{group.fingerprint}: {few(group.schemas)}")
        lines.append(f"  SQL shown for {group.schemas[0]}; each schema runs it in its own transaction")
        for i, op in enumerate(group.ops, 1):
            hazards = f"   [{', '.join(op.hazards)}]" if op.hazards else ""
            lines.append(f"  {i}. {op.describe()}{hazards}")
            lines += [f"       {stmt};".replace("\n", "\n       ") for stmt in op.sql(group.schemas[0])]
    if plan.hazards:
        lines.append("")
        lines.append(f"Hazards: {', '.join(plan.hazards)}")
    return "\n".join(lines) + "\n"
