"""squawk lint in the plan: rule names and links, deduplicated across groups, exclusions, --strict."""

from __future__ import annotations

import json
from pathlib import Path

from schemadiff.spec.schema import load_spec
from schemadiff.workflow import demo

from .helpers import run_cli


def test_lint_findings_are_in_every_format_and_deduplicated(fresh_db: str, spec_path: Path) -> None:
    demo.seed_previous_state(fresh_db, load_spec(spec_path), tenants=8, rows=2)  # two groups (user_7)
    data = json.loads(run_cli("plan", "--spec", spec_path, "--database-url", fresh_db, "--format", "json").stdout)
    assert len(data["groups"]) == 2
    rules = {f["rule"] for f in data["lint"]}
    assert "require-concurrent-index-creation" in rules and "constraint-missing-not-valid" in rules
    assert not rules & {"require-timeout-settings", "prefer-robust-stmts", "transaction-nesting"}
    index = [f for f in data["lint"] if f["rule"] == "require-concurrent-index-creation"]
    assert [f["groups"] for f in index] == [[1, 2], [1, 2]]  # one finding per statement, not per group
    assert index[0]["statement"].startswith(
        "CREATE INDEX idx_marketplace_tasks_job_order ON <schema>.marketplace_tasks"
    )
    assert index[0]["link"] == "https://squawkhq.com/docs/require-concurrent-index-creation"
    text = run_cli("plan", "--spec", spec_path, "--database-url", fresh_db).stdout
    assert "Lint (squawk):" in text and "https://squawkhq.com/docs/require-concurrent-index-creation" in text
    markdown = run_cli("plan", "--spec", spec_path, "--database-url", fresh_db, "--format", "markdown").stdout
    assert "### Lint (squawk)" in markdown and "[`require-concurrent-index-creation`]" in markdown


def test_excluded_rules_and_strict(fresh_db: str, spec_path: Path, tmp_path: Path) -> None:
    demo.seed_previous_state(fresh_db, load_spec(spec_path), tenants=2, rows=2)
    spec = tmp_path / "schema.yaml"
    spec.write_text(
        spec_path.read_text() + "lint:\n  exclude: [require-concurrent-index-creation, prefer-text-field]\n"
    )
    data = json.loads(run_cli("plan", "--spec", spec, "--database-url", fresh_db, "--format", "json").stdout)
    rules = {f["rule"] for f in data["lint"]}
    assert rules and not rules & {"require-concurrent-index-creation", "prefer-text-field"}
    strict = run_cli("plan", "--spec", spec, "--database-url", fresh_db, "--strict")
    assert strict.exit_code == 1
    assert strict.stderr.strip().splitlines()[-1].startswith("error: --strict: ")
    off = tmp_path / "off.yaml"
    off.write_text(spec_path.read_text() + "lint:\n  enabled: false\n")
    assert run_cli("plan", "--spec", off, "--database-url", fresh_db, "--strict").exit_code == 2


def test_rules_the_spec_contradicts_are_silenced_with_a_reason_and_counted(
    fresh_db: str, spec_path: Path, tmp_path: Path
) -> None:
    demo.seed_previous_state(fresh_db, load_spec(spec_path), tenants=8, rows=2)  # two groups (user_7)
    spec = tmp_path / "schema.yaml"
    spec.write_text(
        spec_path.read_text()
        + "lint:\n  ignore:\n    prefer-bigint-over-int: ids are per tenant, int is enough\n"
        + "    prefer-text-field: the step names are short and fixed\n"
    )
    loud = json.loads(run_cli("plan", "--spec", spec_path, "--database-url", fresh_db, "--format", "json").stdout)
    data = json.loads(run_cli("plan", "--spec", spec, "--database-url", fresh_db, "--format", "json").stdout)
    silenced = {"prefer-bigint-over-int", "prefer-text-field"}
    assert silenced <= {f["rule"] for f in loud["lint"]}  # squawk raises them on the marketplace change
    assert not {f["rule"] for f in data["lint"]} & silenced
    assert {f["rule"] for f in data["lint_silenced"]} == silenced
    assert data["verdict"]["silenced"] == len(data["lint_silenced"]) == 2
    assert data["verdict"]["lint_warnings"] == loud["verdict"]["lint_warnings"] - 2
    text = run_cli("plan", "--spec", spec, "--database-url", fresh_db).stdout
    assert "  silenced by the spec: prefer-text-field (1 finding(s)): the step names are short and fixed" in text
    last = text.strip().splitlines()[-1]
    assert last == (
        f"Verdict: nothing refused; {data['verdict']['warnings']} warning(s) "
        f"({data['verdict']['hazard_warnings']} hazard, {data['verdict']['lint_warnings']} lint), "
        "all on tables under 100,000 rows; 2 lint finding(s) silenced in the spec"
    )
