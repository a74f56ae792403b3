"""Findings of a hostile review of the trust promises (issue 8) that need no database."""

from __future__ import annotations

import pytest

from schemadiff.core.sqltext import parse_type, render_default
from schemadiff.errors import SpecError
from schemadiff.spec.schema import parse_spec

HEAD = "version: 1\ntenants: {template: public, pattern: '^user_[0-9]+$'}\ntables:\n"


def problems(text: str) -> list[str]:
    with pytest.raises(SpecError) as info:
        parse_spec(HEAD + text, "schema.yaml")
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize(
    ("ctype", "value"), [("integer", 2**31), ("smallint", -(2**15) - 1), ("bigint", 2**63), ("int4", 99999999999)]
)
def test_an_integer_default_out_of_range_is_a_spec_error(ctype: str, value: int) -> None:
    """PostgreSQL stores such a default without a word and fails every insert that uses it, so
    validate, plan and apply all passed and the application broke afterwards."""
    found = problems(f"  t: {{columns: {{a: {{type: {ctype}, default: {value}}}}}}}\n")
    column = len(f"  t: {{columns: {{a: {{type: {ctype}, default: ") + 1
    assert found == [
        f"schema.yaml:4:{column}: tables.t.columns.a.default: default {value} is out of range for type {ctype}"
    ]


def test_integer_defaults_at_the_edges_of_their_range_are_accepted() -> None:
    assert render_default(2**31 - 1, parse_type("integer")) == "2147483647"
    assert render_default(-(2**63), parse_type("bigint")) == str(-(2**63))


@pytest.mark.parametrize(
    ("value", "sql"), [(float("inf"), "'Infinity'"), (float("-inf"), "'-Infinity'"), (float("nan"), "'NaN'")]
)
def test_a_non_finite_number_default_is_a_literal_not_a_column_reference(value: float, sql: str) -> None:
    """YAML's ``.inf`` / ``.nan`` rendered as bare ``inf`` / ``nan``: PostgreSQL then rejected the
    table at plan time with "cannot use column reference in DEFAULT expression"."""
    assert render_default(value, parse_type("float8")) == sql
