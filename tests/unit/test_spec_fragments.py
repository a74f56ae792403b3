"""The spec's SQL fragments are parsed by PostgreSQL's parser (pglast) at load: one expression, nothing else."""

from __future__ import annotations

import pytest

from schemadiff.errors import SpecError
from schemadiff.spec.fragments import FragmentError, check_expression, check_type_name
from schemadiff.spec.schema import parse_spec

HEAD = "version: 1\ntenants: {pattern: '^user_[0-9]+$'}\ntables:\n  t:\n    columns:\n"
INJECTION = "a > 0; COMMIT; DROP TABLE public.victim"


def problems(text: str) -> list[str]:
    with pytest.raises(SpecError) as info:
        parse_spec(text, "schema.yaml")
    return [str(p) for p in info.value.problems]


def spec_with(fragment_kind: str, fragment: str) -> str:
    """A spec holding ``fragment`` (a YAML double-quoted scalar) in one fragment field, on line 6 or 8."""
    quoted = '"' + fragment.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if fragment_kind == "type":
        return HEAD + f"      a: {{type: {quoted}}}\n"
    if fragment_kind == "default_sql":
        return HEAD + f"      a: {{type: integer, default_sql: {quoted}}}\n"
    if fragment_kind == "checks":
        return HEAD + f"      a: {{type: integer}}\n    checks:\n      ck_a: {quoted}\n"
    if fragment_kind == "where":
        return HEAD + f"      a: {{type: integer}}\n    indexes:\n      t_a: {{columns: [a], where: {quoted}}}\n"
    return HEAD + f"      a: {{type: integer}}\n    indexes:\n      t_a: {{expressions: [{quoted}]}}\n"


@pytest.mark.parametrize(
    "kind,where",
    [
        ("default_sql", "schema.yaml:6:39: tables.t.columns.a.default_sql"),
        ("checks", "schema.yaml:8:13: tables.t.checks.ck_a"),
        ("where", "schema.yaml:8:34: tables.t.indexes.t_a.where"),
        ("expressions", "schema.yaml:8:27: tables.t.indexes.t_a.expressions.0"),
    ],
)
def test_statement_injection_through_each_fragment_is_a_located_spec_error(kind: str, where: str) -> None:
    assert problems(spec_with(kind, INJECTION)) == [f"{where}: must be one SQL expression (found 3 statements)"]


def test_statement_injection_through_a_type_is_a_located_spec_error() -> None:
    assert problems(spec_with("type", "integer; COMMIT; DROP TABLE public.victim")) == [
        "schema.yaml:6:17: tables.t.columns.a.type: must be one SQL type name (found 3 statements)"
    ]


@pytest.mark.parametrize(
    "fragment,found",
    [
        ("now(); ", "a statement separator ';'"),
        ("a > 0; DROP TABLE x", "2 statements"),
        ("DROP TABLE x", "a statement DROP"),
        ("a > 0 -- and the rest", "a comment"),
        ("a > 0 /* x */", "a comment"),
        ("a IN (SELECT 1)", "a subquery"),
        ("EXISTS (SELECT 1 FROM pg_class)", "a subquery"),
        ("(SELECT 1)", "a subquery"),
        ("$$a$$", "a dollar-quoted string; write it as a '…' literal"),
        ("$q$a; COMMIT$q$", "a dollar-quoted string; write it as a '…' literal"),
        ("'\\''; COMMIT; SELECT '", "a backslash in a '…' literal; write it as E'…'"),
        ("a) FROM x WHERE (b", "an unmatched ')'"),
        ("(a", "an unclosed '('"),
        ("$1", "a parameter $1"),
        ("a\x00", "a NUL byte"),
        ("  ", "nothing"),
        ("a >", "a syntax error: syntax error at end of input"),
    ],
)
def test_rejected_expressions_say_what_they_hold(fragment: str, found: str) -> None:
    with pytest.raises(FragmentError) as info:
        check_expression(fragment)
    assert str(info.value) == f"must be one SQL expression (found {found})"


@pytest.mark.parametrize(
    "fragment",
    [
        "'a;b'",
        "now()",
        "lower(status)",
        "a > 0 AND b IS NOT NULL",
        "status IN ('a','b')",
        "'$$a$$'",
        "E'a\\'b;'",
        "'it''s'",
        "now() AT TIME ZONE 'utc'",
        "(a + 1) * 2",
        "tags[1]",
        "COALESCE(a, 0) > 0",
        "'{}'::jsonb",
        "ARRAY['x', 'y']",
    ],
)
def test_one_expression_is_accepted(fragment: str) -> None:
    check_expression(fragment)


@pytest.mark.parametrize("kind", ["default_sql", "checks", "where", "expressions"])
def test_a_semicolon_inside_a_literal_is_accepted_in_every_fragment(kind: str) -> None:
    fragment = "a <> length('a;b')" if kind != "default_sql" else "'1;2'::text::int"
    parse_spec(spec_with(kind, fragment))


def test_a_literal_default_with_a_semicolon_is_just_a_literal() -> None:
    spec = parse_spec(HEAD + "      a: {type: text, default: 'a;b'}\n")
    assert spec.tables["t"].columns["a"].default == "a;b"


@pytest.mark.parametrize(
    "text",
    [
        "integer",
        "varchar(50)",
        "timestamp with time zone",
        "numeric(10,2)",
        "text[]",
        "integer[][]",
        "JSONB",
    ],
)
def test_type_names_are_accepted(text: str) -> None:
    check_type_name(text)
    parse_spec(HEAD + f"      a: {{type: '{text}'}}\n")


@pytest.mark.parametrize(
    "text,found",
    [
        ("integer -- x", "a comment"),
        ('int COLLATE "C"', "more than a type name"),
        ("int::text", "more than a type name"),
        ("SETOF int", "more than a type name"),
        ("int) FROM pg_class WHERE (true", "an unmatched ')'"),
        ("DROP TABLE x", "a statement DROP"),
    ],
)
def test_rejected_type_names(text: str, found: str) -> None:
    with pytest.raises(FragmentError) as info:
        check_type_name(text)
    assert str(info.value) == f"must be one SQL type name (found {found})"


def test_an_unknown_type_still_suggests_the_closest() -> None:
    assert problems(HEAD + "      a: {type: integr}\n") == [
        "schema.yaml:6:17: tables.t.columns.a.type: unknown column type 'integr'; did you mean 'integer'?"
    ]
