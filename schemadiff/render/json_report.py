"""Plan → JSON for machines."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from schemadiff.core.plan import LintFinding, Plan
from schemadiff.core.policy import summarize, verdict


def _lint_item(f: LintFinding) -> dict[str, Any]:
    item = {
        "rule": f.rule,
        "level": f.level,
        "message": f.message,
        "help": f.help,
        "link": f.link,
        "statement": f.statement,
        "groups": list(f.groups),
    }
    return item if f.reason is None else {**item, "reason": f.reason}


def _verdict(plan: Plan) -> dict[str, Any]:
    v = verdict(plan)
    return {
        "text": str(v),
        "refused": len(v.refused),
        "warnings": v.warnings,
        "hazard_warnings": v.hazard_warnings,
        "lint_warnings": v.lint_warnings,
        "warnings_on_large_tables": v.on_large_tables,
        "silenced": v.silenced,
    }


def plan_dict(plan: Plan, sql_schema: Callable[[str], str] = str) -> dict[str, Any]:
    """``sql_schema``: the schema a listed name's SQL is shown for (a fleet lists ``SHARD:SCHEMA``)."""
    return {
        "changes": plan.changes,
        "verdict": _verdict(plan),
        "tenant_count": plan.tenant_count,
        "target_fingerprint": plan.target_fingerprint,
        "template": plan.template,
        "pattern": plan.pattern,
        "spec": {"path": plan.spec_path, "sha256": plan.spec_sha256},
        "hazards": list(plan.hazards),
        "large_table_rows": plan.large_table_rows,
        "allowed": list(plan.allowed),
        "hazard_findings": [
            {
                "hazard": f.hazard,
                "table": f.table,
                "name": f.name,
                "op": f.op,
                "refused": f.refused,
                "large_tables_only": f.large,
                "schema_count": len(f.schemas),
                "schemas": list(f.schemas[:50]),
            }
            for f in summarize(plan)
        ],
        "unchanged_schemas": list(plan.unchanged),
        "unmanaged": list(plan.unmanaged),
        **({"notes": list(plan.notes)} if plan.notes else {}),
        "lint": [_lint_item(f) for f in plan.lint],
        "lint_silenced": [_lint_item(f) for f in plan.silenced],
        "groups": [
            {
                "fingerprint": g.fingerprint,
                "schemas": list(g.schemas),
                "hazards": list(g.hazards),
                "ops": [
                    {
                        "kind": op.kind,
                        "table": op.table,
                        "name": op.name,
                        "description": op.describe(),
                        "sql": ";\n".join(op.sql(sql_schema(g.schemas[0]))) + ";",
                        "sql_schema": g.schemas[0],
                        "hazards": list(op.hazards),
                    }
                    for op in g.ops
                ],
            }
            for g in plan.groups
        ],
    }


def render_json(plan: Plan) -> str:
    return json.dumps(plan_dict(plan), indent=2) + "\n"
