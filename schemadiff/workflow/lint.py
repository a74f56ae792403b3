"""Lint each group's upgrade SQL with squawk (the ``squawk-cli`` package, its JSON reporter).

The SQL is linted as the runtime runs it — one transaction with ``SET LOCAL lock_timeout`` and
``statement_timeout`` — and rules the runtime already satisfies are not reported as violations.
Findings are deduplicated across groups (the same statement for another schema is one finding).
Findings of a rule the spec silences (``lint.ignore``) carry the spec's reason: the plan counts
them in its verdict instead of showing them as warnings.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from schemadiff.core.options import Options
from schemadiff.core.plan import GroupPlan, LintFinding, Plan
from schemadiff.core.sqltext import quote_ident
from schemadiff.core.statements import Statement, by_phase
from schemadiff.render.tenant_script import group_statements

SATISFIED_BY_RUNTIME = {
    "require-timeout-settings": "the runtime sets lock_timeout and statement_timeout in every tenant transaction",
    "prefer-robust-stmts": "each tenant runs once, in one transaction, after a preflight of its exact state",
    "transaction-nesting": "the runtime owns the transactions; revisions contain no BEGIN/COMMIT",
}


def squawk_binary() -> str | None:
    beside = Path(sys.executable).parent / "squawk"
    return str(beside) if beside.exists() else shutil.which("squawk")


def lint_plan(plan: Plan, exclude: set[str], ignore: Mapping[str, str] | None = None) -> tuple[LintFinding, ...]:
    """Every group's upgrade through squawk, findings of the rules in ``ignore`` (rule → the spec's
    reason) marked with their reason; raises FileNotFoundError when squawk is missing."""
    binary = squawk_binary()
    if binary is None:
        raise FileNotFoundError("squawk")
    merged: dict[tuple[str, str], LintFinding] = {}
    for n, group in enumerate(plan.groups, 1):
        for finding in _lint_group(binary, n, group, exclude | set(SATISFIED_BY_RUNTIME)):
            key = (finding.rule, finding.statement)
            if key in merged:
                old = merged[key]
                finding = LintFinding(old.rule, old.level, old.message, old.help, old.statement, (*old.groups, n))
            merged[key] = finding
    reasons = ignore or {}
    found = sorted(merged.values(), key=lambda f: (f.groups[0], f.rule, f.statement))
    return tuple(replace(f, reason=reasons.get(f.rule)) for f in found)


def _lint_group(binary: str, n: int, group: GroupPlan, exclude: set[str]) -> list[LintFinding]:
    schema = group.schemas[0]
    all_statements = group_statements(group, schema)
    statements = [s.sql for s in all_statements]
    before, inside, after = by_phase(all_statements)
    defaults = Options()  # the settings the runtime runs with unless told otherwise
    lines = [
        f"SET lock_timeout = '{defaults.lock_timeout}';",
        f"SET statement_timeout = '{defaults.statement_timeout}';",
    ]
    owner: dict[int, int] = {}  # 0-based line → statement index

    def add(phase: tuple[Statement, ...]) -> None:
        for statement in phase:
            for line in (statement.sql + ";").splitlines():
                owner[len(lines)] = all_statements.index(statement)
                lines.append(line)

    add(before)
    lines.append("BEGIN;")
    add(inside)
    lines.append("COMMIT;")
    add(after)
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as handle:
        handle.write("\n".join(lines) + "\n")
        path = handle.name
    try:
        args = [binary, "--reporter", "json"] + ([f"--exclude={','.join(sorted(exclude))}"] if exclude else [])
        proc = subprocess.run([*args, path], capture_output=True, text=True, timeout=60)
    finally:
        Path(path).unlink(missing_ok=True)
    raw = json.loads(proc.stdout or "[]")
    pattern = re.compile(r'(?<![\w"])' + re.escape(quote_ident(schema)) + r"\.")
    out = []
    for item in raw:
        index = owner.get(int(item.get("line", 0)))
        text = pattern.sub("<schema>.", statements[index]) if index is not None else ""
        out.append(
            LintFinding(
                item["rule_name"],
                str(item.get("level", "Warning")).lower(),
                item.get("message", ""),
                item.get("help"),
                text,
                (n,),
            )
        )
    return out
