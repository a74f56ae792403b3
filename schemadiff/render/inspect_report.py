"""What ``schemadiff inspect`` says on stderr: what it wrote, and how the tenants compare with it. Pure."""

from __future__ import annotations

from schemadiff.core.plan import Plan
from schemadiff.spec.draft import SpecDraft
from schemadiff.text import few

SHOWN_CHANGES = 3


def render_inspect_report(draft: SpecDraft, written: str, plan: Plan) -> str:
    """``wrote …`` with the tables and notes, then the tenants per state against what was written:
    those at the spec, then each group that differs with its first changes."""
    tables = [t.name for t in draft.tables]
    lines = [
        f"wrote {written}: {len(tables)} table(s) ({few(tables)}) and {len(draft.enums)} enum type(s) "
        f"read from schema {draft.source}"
    ]
    notes = draft.all_notes
    changing = sum(1 for n in notes if n.changes)
    if notes:
        lines.append(
            f"{len(notes)} YAML comment(s) on what the spec cannot hold: {changing} where a plan differs from "
            f"the database, {len(notes) - changing} on what schemadiff leaves as it is"
        )
    states = len(plan.groups) + (1 if plan.unchanged else 0)
    lines.append(
        f"{plan.tenant_count} schema(s) ({plan.template} and tenants matching {plan.pattern}) fall into "
        f"{states} group(s) against it:"
    )
    if plan.unchanged:
        lines.append(f"  {'at the spec:':<14}{len(plan.unchanged):>6}  {few(plan.unchanged)}")
    for n, group in enumerate(plan.groups, 1):
        changes = [op.describe() for op in group.ops]
        shown = "; ".join(changes[:SHOWN_CHANGES]) + (
            f" … and {len(changes) - SHOWN_CHANGES} more" if len(changes) > SHOWN_CHANGES else ""
        )
        label = f"differ ({n}):"
        lines.append(f"  {label:<14}{len(group.schemas):>6}  {few(group.schemas)}: {len(changes)} change(s): {shown}")
    if draft.source not in plan.unchanged and draft.source in [s for g in plan.groups for s in g.schemas]:
        lines.append(
            f"note: {draft.source}, the schema read, differs from the written spec where its comments say"
            if changing
            else f"warning: {draft.source}, the schema read, differs from the written spec; please report this"
        )
    schemas = [*plan.unchanged, *(s for g in plan.groups for s in g.schemas)]
    if not [s for s in schemas if s != plan.template]:
        lines.append(f"note: no schema matches the tenant pattern {plan.pattern}")
    return "\n".join(lines) + "\n"
