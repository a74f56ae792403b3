"""The spec's ``lint:`` section: squawk on or off, rules not to run, and rules silenced with a reason.

A rule can contradict the spec on purpose (``prefer-bigint-over-int`` where the spec asks for an
``integer``, ``prefer-text-field`` where it asks for a ``varchar(50)``): ``ignore`` silences it and
says why, and the plan counts what it silenced. Rule names are checked against the rules of the
squawk release schemadiff installs (``squawk-cli`` 2.70), so a typo is a located error instead of a
squawk that silently reports nothing.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, JsonValue

from schemadiff.errors import SpecProblem
from schemadiff.spec.yaml_source import Located
from schemadiff.text import did_you_mean

# every rule squawk 2.70 knows (`squawk --exclude=NAME` accepts exactly these)
SQUAWK_RULES = frozenset(
    {
        "adding-field-with-default",
        "adding-foreign-key-constraint",
        "adding-not-nullable-field",
        "adding-required-field",
        "adding-serial-primary-key-field",
        "ban-add-column",
        "ban-add-composite-attribute",
        "ban-add-enum-value",
        "ban-alter-database-options",
        "ban-alter-domain-with-add-constraint",
        "ban-alter-extension",
        "ban-alter-function-options",
        "ban-alter-generated-expression",
        "ban-alter-identity",
        "ban-alter-policy-condition",
        "ban-alter-policy-roles",
        "ban-alter-role-options",
        "ban-alter-row-level-security",
        "ban-alter-sequence-values",
        "ban-alter-system-options",
        "ban-alter-view-options",
        "ban-char-field",
        "ban-concurrent-index-creation-in-transaction",
        "ban-create-domain-with-constraint",
        "ban-create-policy",
        "ban-detach-inheritance",
        "ban-disable-trigger",
        "ban-drop-column",
        "ban-drop-constraint",
        "ban-drop-database",
        "ban-drop-default",
        "ban-drop-domain",
        "ban-drop-extension",
        "ban-drop-function",
        "ban-drop-generated-expression",
        "ban-drop-index",
        "ban-drop-not-null",
        "ban-drop-policy",
        "ban-drop-schema",
        "ban-drop-sequence",
        "ban-drop-table",
        "ban-drop-trigger",
        "ban-drop-type",
        "ban-drop-view",
        "ban-duplicate-column-assignments",
        "ban-new-write-restriction",
        "ban-replace-view-function",
        "ban-replica-identity",
        "ban-revoke",
        "ban-set-default",
        "ban-set-schema",
        "ban-truncate-cascade",
        "ban-uncommitted-transaction",
        "changing-column-type",
        "constraint-missing-not-valid",
        "disallowed-unique-constraint",
        "identifier-too-long",
        "prefer-bigint-over-int",
        "prefer-bigint-over-smallint",
        "prefer-identity",
        "prefer-repack",
        "prefer-robust-stmts",
        "prefer-text-field",
        "prefer-timestamp-tz",
        "renaming-column",
        "renaming-object",
        "renaming-table",
        "require-concurrent-index-creation",
        "require-concurrent-index-deletion",
        "require-concurrent-partition-detach",
        "require-concurrent-reindex",
        "require-enum-value-ordering",
        "require-lock-timeout",
        "require-statement-timeout",
        "require-table-schema",
        "require-timeout-settings",
        "transaction-nesting",
    }
)


def _reason(given: object) -> object:
    if not isinstance(given, str) or not given.strip():
        raise ValueError("say why the rule does not apply here: a reason, as text, is required")
    return given


Reason = Annotated[str, BeforeValidator(_reason)]
_RULE_NAMES: dict[str, JsonValue] = {"type": "string", "enum": [*sorted(SQUAWK_RULES)]}


class LintSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    enabled: bool = Field(True, description="lint each group's upgrade SQL with squawk")
    exclude: list[str] = Field(
        default_factory=list,
        description="squawk rules not to run at all",
        json_schema_extra={"items": _RULE_NAMES},
    )
    ignore: dict[str, Reason] = Field(
        default_factory=dict,
        description="squawk rules silenced, each with the reason it does not apply (counted in the plan's verdict)",
        json_schema_extra={"propertyNames": _RULE_NAMES},
    )


def lint_problems(lint: LintSpec, located: Located) -> list[SpecProblem]:
    """Rule names squawk does not know, at the name, with the closest one."""
    problems = [
        located.problem(("lint", "exclude", n), _unknown(rule))
        for n, rule in enumerate(lint.exclude)
        if rule not in SQUAWK_RULES
    ]
    problems += [
        located.problem(("lint", "ignore", rule), _unknown(rule), at_key=True)
        for rule in lint.ignore
        if rule not in SQUAWK_RULES
    ]
    return problems


def _unknown(rule: str) -> str:
    return f"unknown squawk rule '{rule}'{did_you_mean(rule, SQUAWK_RULES)}"
