"""Plan → a runnable SQL script: every tenant's upgrade in its own transaction."""

from __future__ import annotations

from schemadiff.core.plan import Plan
from schemadiff.render.tenant_script import tenant_transaction
from schemadiff.text import few


def render_sql(plan: Plan) -> str:
    out = [f"-- schemadiff plan for {plan.spec_path or 'spec'} (target state {plan.target_fingerprint})"]
    if not plan.changes:
        return out[0] + "\n-- every schema is at the spec; nothing to do\n"
    for n, group in enumerate(plan.groups, 1):
        out.append("")
        out.append(f"-- group {n}: {len(group.schemas)} schema(s) in state {group.fingerprint}: {few(group.schemas)}")
        out += [tenant_transaction(group, schema) for schema in group.schemas]
    return "\n".join(out) + "\n"
