"""The plan's one-line verdict, and lint rules the spec silences with a reason (no database)."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace

import pytest

from schemadiff.core.fingerprint import group_schemas
from schemadiff.core.model import Column, SchemaModel, Table, TableStats
from schemadiff.core.plan import LintFinding, build_plan
from schemadiff.core.policy import verdict
from schemadiff.errors import SpecError
from schemadiff.render.json_report import plan_dict
from schemadiff.render.markdown_report import render_markdown
from schemadiff.render.text_report import render_text
from schemadiff.spec.lint_rules import SQUAWK_RULES
from schemadiff.spec.schema import parse_spec, spec_json_schema
from schemadiff.workflow.lint import squawk_binary

from .test_plan_render import HAND_FIXED, PREVIOUS, TARGET, demo_plan

BIGINT = LintFinding("prefer-bigint-over-int", "warning", "m", None, "ALTER TABLE …", (1,))
CONCURRENT = LintFinding("require-concurrent-index-creation", "warning", "m", None, "CREATE INDEX …", (1, 2))


def test_small_tables_nothing_refused_and_what_the_spec_silenced_is_counted() -> None:
    plan = replace(
        demo_plan(3),
        lint=(CONCURRENT,),
        silenced=(replace(BIGINT, reason="ids are per tenant, int is enough"),),
    )
    line = "nothing refused; 2 warning(s) (1 hazard, 1 lint), all on tables under 100,000 rows; 1 lint finding(s) silenced in the spec"
    assert str(verdict(plan)) == line
    text = render_text(plan)
    assert text.endswith(f"\nVerdict: {line}\n")
    assert "  silenced by the spec: prefer-bigint-over-int (1 finding(s)): ids are per tenant, int is enough" in text
    assert "warning prefer-bigint-over-int" not in text
    assert f"**Verdict:** {line}" in render_markdown(plan)
    data = plan_dict(plan)
    assert data["verdict"] == {
        "text": line,
        "refused": 0,
        "warnings": 2,
        "hazard_warnings": 1,
        "lint_warnings": 1,
        "warnings_on_large_tables": 0,
        "silenced": 1,
    }
    assert [f["reason"] for f in data["lint_silenced"]] == ["ids are per tenant, int is enough"]
    assert "reason" not in data["lint"][0]


def test_refused_changes_are_named_with_the_flag_they_need() -> None:
    dropped = SchemaModel((Table("marketplace_tasks", (*TARGET.tables[0].columns, Column("note", "text"))),))
    target = SchemaModel((Table("marketplace_tasks", TARGET.tables[0].columns),))
    plan = build_plan(group_schemas({"public": dropped, "user_1": dropped}), target, template="public", pattern="x")
    assert str(verdict(plan)) == (
        "1 change(s) refused (deletes_data: drop column marketplace_tasks.note): they need --allow deletes_data; "
        "1 warning(s) (1 hazard, 0 lint), all on tables under 100,000 rows"  # irreversible: a warning
    )


def test_large_tables_are_not_called_small() -> None:
    stats = {("user_1", "marketplace_tasks"): TableStats(rows=500_000)}
    groups = group_schemas({"public": PREVIOUS, "user_1": PREVIOUS, "user_7": HAND_FIXED})
    plan = build_plan(groups, TARGET, template="public", pattern="x", stats=stats, allowed=("blocks_writes",))
    assert "under 100,000 rows" not in str(verdict(plan))
    assert str(verdict(plan)).startswith("nothing refused; ")
    nothing = build_plan(group_schemas({"public": TARGET}), TARGET, template="public", pattern="x")
    assert str(verdict(nothing)) == "nothing refused; no warnings"


SPEC = """version: 1
tenants: {pattern: '^user_[0-9]+$'}
tables:
  t:
    columns:
      id: {type: integer}
lint:
"""


def problems(lint: str) -> list[str]:
    with pytest.raises(SpecError) as caught:
        parse_spec(SPEC + lint)
    return [str(p) for p in caught.value.problems]


def test_lint_ignore_takes_known_rules_each_with_a_reason() -> None:
    spec = parse_spec(SPEC + "  ignore: {prefer-bigint-over-int: 'ids are per tenant, int is enough'}\n")
    assert spec.lint.ignore == {"prefer-bigint-over-int": "ids are per tenant, int is enough"}
    assert problems("  ignore: {prefer-bigint-ovr-int: x}\n") == [
        "schema.yaml:8:12: lint.ignore.prefer-bigint-ovr-int: unknown squawk rule 'prefer-bigint-ovr-int'; "
        "did you mean 'prefer-bigint-over-int'?"
    ]
    reason = "say why the rule does not apply here: a reason, as text, is required"
    assert problems("  ignore: {prefer-text-field: ''}\n") == [
        f"schema.yaml:8:31: lint.ignore.prefer-text-field: {reason}"
    ]
    assert problems("  ignore: {prefer-text-field: }\n") == [
        f"schema.yaml:8:30: lint.ignore.prefer-text-field: {reason}"
    ]
    assert problems("  exclude: [prefer-txt-field]\n") == [
        "schema.yaml:8:13: lint.exclude.0: unknown squawk rule 'prefer-txt-field'; did you mean 'prefer-text-field'?"
    ]


def test_the_json_schema_offers_the_rule_names() -> None:
    lint = spec_json_schema()["$defs"]["LintSpec"]["properties"]
    assert lint["ignore"]["propertyNames"]["enum"] == sorted(SQUAWK_RULES)
    assert lint["exclude"]["items"]["enum"] == sorted(SQUAWK_RULES)
    assert json.dumps(lint)  # plain JSON


def test_the_rule_names_are_those_of_the_installed_squawk() -> None:
    binary = squawk_binary()
    if binary is None:
        pytest.skip("squawk is not installed")
    every = subprocess.run([binary, f"--exclude={','.join(sorted(SQUAWK_RULES))}", "/dev/null"], capture_output=True)
    assert every.returncode == 0, every.stderr  # squawk refuses an unknown name (exit 2)
    typo = subprocess.run([binary, "--exclude=prefer-bigint-ovr-int", "/dev/null"], capture_output=True)
    assert typo.returncode == 2
