"""Plan → JSON for machines."""

from __future__ import annotations

import json
from typing import Any

from schemadiff.plan import Plan


def plan_dict(plan: Plan) -> dict[str, Any]:
    return {
        "changes": plan.changes,
        "tenant_count": plan.tenant_count,
        "target_fingerprint": plan.target_fingerprint,
        "template": plan.template,
        "pattern": plan.pattern,
        "spec": {"path": plan.spec_path, "sha256": plan.spec_sha256},
        "hazards": list(plan.hazards),
        "unchanged_schemas": list(plan.unchanged),
        "groups": [
            {
                "fingerprint": g.fingerprint,
                "schemas": list(g.schemas),
                "hazards": list(g.hazards),
                "ops": [
                    {"kind": op.kind, "table": op.table, "name": op.name, "description": op.describe(),
                     "sql": ";\n".join(op.sql(g.schemas[0])) + ";", "sql_schema": g.schemas[0],
                     "hazards": list(op.hazards)}
                    for op in g.ops
                ],
            }
            for g in plan.groups
        ],
    }


def render_json(plan: Plan) -> str:
    return json.dumps(plan_dict(plan), indent=2) + "\n"
