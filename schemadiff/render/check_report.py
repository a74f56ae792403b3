"""`check` and `status` as text for people and JSON for pipelines. Pure."""

from __future__ import annotations

import json
from typing import Any

from schemadiff.core.gate import CheckResult, Finding
from schemadiff.core.tenant_states import AT_SPEC, PENDING, STATUS_EXIT, UNKNOWN, RevisionInfo, TenantStates
from schemadiff.text import few

CHECK_EXIT_OK, CHECK_EXIT_FAILED = 0, 2


def checksum_state(rev: RevisionInfo) -> str | None:
    """``verified``, ``edited``, ``absent``, or None for a revision schemadiff did not write."""
    if not rev.managed:
        return None
    if rev.recorded is None:
        return "absent"
    return "verified" if rev.recorded == rev.actual else "edited"


def status_lines(states: TenantStates, database: str, reasons: bool = True) -> list[str]:
    lines = [f"database {database}: revision {states.revision or '(none)'}, head {states.head or '(none)'}"]
    if states.rollout:
        lines.append(f"  {states.rollout}")
    for label, state in (("at the spec:", AT_SPEC), ("pending:", PENDING), ("unknown:", UNKNOWN)):
        schemas = states.schemas(state)
        lines.append(f"  {label:<12} {len(schemas):>6}  {few(schemas)}")
    for g in states.groups if reasons else ():  # check says it in its problems
        if g.state == UNKNOWN:
            lines.append(f"  unknown state {g.fingerprint} ({len(g.schemas)} schema(s)): {g.reason}")
    return lines


def render_status_text(states: TenantStates, database: str) -> str:
    return "\n".join(status_lines(states, database)) + "\n"


def status_dict(states: TenantStates, database: str) -> dict[str, Any]:
    return {
        "database": database,
        "revision": states.revision,
        "head": states.head,
        "at_head": states.at_head,
        "target": states.target,
        "verdict": states.verdict,
        "rollout": states.rollout,
        "exit_code": STATUS_EXIT[states.verdict],
        "counts": {state: len(states.schemas(state)) for state in (AT_SPEC, PENDING, UNKNOWN)},
        "groups": [
            {
                "fingerprint": g.fingerprint,
                "state": g.state,
                "schema_count": len(g.schemas),
                "schemas": list(g.schemas),
                "via": list(g.via),
                "reason": g.reason,
            }
            for g in states.groups
        ],
    }


def render_status_json(states: TenantStates, database: str) -> str:
    return json.dumps(status_dict(states, database), indent=2) + "\n"


def _revisions_line(result: CheckResult) -> list[str]:
    head = result.head
    if head is None:
        return [f"revisions: {len(result.chain)}, none written by schemadiff"]
    states = [s for s in (checksum_state(r) for r in result.chain) if s]
    counts = ", ".join(f"{states.count(s)} {s}" for s in ("verified", "edited", "absent") if s in states)
    return [
        f"revisions: {len(result.chain)}; head {head.revision} ({head.path}), target state {head.target}",
        f"  checksums: {counts}",
    ]


def render_check_text(result: CheckResult) -> str:
    lines = [f"spec {result.spec_path}: target state {result.target}", *_revisions_line(result)]
    if result.tenants is not None:
        lines += status_lines(result.tenants, result.database, reasons=False)
    lines += [f"note: {f.message}" for f in result.notes]
    lines += [f"warning: {f.message}" for f in result.warnings]
    lines += [f"problem: {f.message}" for f in result.problems]
    lines.append("check passed" if result.ok else f"check failed: {len(result.problems)} problem(s)")
    return "\n".join(lines) + "\n"


def _findings(findings: tuple[Finding, ...]) -> list[dict[str, str]]:
    return [{"kind": f.kind, "message": f.message, "path": f.path} for f in findings]


def check_dict(result: CheckResult) -> dict[str, Any]:
    head = result.head
    return {
        "ok": result.ok,
        "exit_code": CHECK_EXIT_OK if result.ok else CHECK_EXIT_FAILED,
        "spec": {"path": result.spec_path, "target": result.target},
        "head": None if head is None else {"revision": head.revision, "path": head.path, "target": head.target},
        "revisions": [
            {
                "revision": r.revision,
                "path": r.path,
                "down_revisions": list(r.down),
                "schemadiff": r.managed,
                "target": r.target,
                "checksum": checksum_state(r),
            }
            for r in result.chain
        ],
        "problems": _findings(result.problems),
        "warnings": _findings(result.warnings),
        "notes": _findings(result.notes),
        "database": None if result.tenants is None else status_dict(result.tenants, result.database),
    }


def render_check_json(result: CheckResult) -> str:
    return json.dumps(check_dict(result), indent=2) + "\n"
