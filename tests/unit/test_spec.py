"""Spec validation: every error kind, with its line and column, all reported at once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from schemadiff.errors import SpecError
from schemadiff.spec.schema import load_spec, parse_spec, spec_json_schema

ROOT = Path(__file__).resolve().parents[2]

GOOD_HEAD = """version: 1
tenants:
  template: public
  pattern: '^user_[0-9]+$'
tables:
"""


def problems(text: str) -> list[str]:
    with pytest.raises(SpecError) as info:
        parse_spec(text, "schema.yaml")
    return [str(p) for p in info.value.problems]


def test_the_marketplace_example_validates_and_means_what_it_says() -> None:
    loaded = load_spec(ROOT / "schema.yaml")
    table = loaded.spec.tables["marketplace_tasks"]
    assert list(table.columns)[-4:] == ["step_type", "step_order", "is_idempotent", "side_effects"]
    assert table.columns["step_type"].enum == ["validate", "map", "upload_image", "create", "save"]
    assert table.columns["is_idempotent"].default is True
    assert table.indexes["idx_marketplace_tasks_job_order"].columns == ["job_id", "step_order"]
    assert loaded.spec.tenants.pattern == "^user_[0-9]+$"
    assert len(loaded.sha256) == 64


def test_yaml_syntax_error_has_line_and_column() -> None:
    assert problems("version: 1\ntenants: [\n") == [
        "schema.yaml:3:1: YAML syntax error: expected the node content, but found '<stream end>'"
    ]


def test_duplicate_keys_are_errors() -> None:
    text = GOOD_HEAD + "  t:\n    columns:\n      a: {type: integer}\n      a: {type: text}\n"
    assert problems(text) == ["schema.yaml:9:7: tables.t.columns.a: duplicate key 'a'"]


def test_unknown_key_points_at_the_key() -> None:
    text = GOOD_HEAD + "  t:\n    columns:\n      a: {type: integer, nulable: false}\n"
    assert problems(text) == ["schema.yaml:8:26: tables.t.columns.a.nulable: unknown key 'nulable'"]


def test_wrong_type() -> None:
    text = GOOD_HEAD + "  t:\n    columns:\n      a: {type: integer, nullable: 'no'}\n"
    assert problems(text) == ["schema.yaml:8:36: tables.t.columns.a.nullable: Input should be a valid boolean"]


def test_unknown_column_type_suggests_the_closest() -> None:
    text = GOOD_HEAD + "  t:\n    columns:\n      step_ordr: {type: integr}\n"
    assert problems(text) == [
        "schema.yaml:8:25: tables.t.columns.step_ordr.type: unknown column type 'integr'; did you mean 'integer'?"
    ]


@pytest.mark.parametrize(
    "name,why",
    [
        ("''", "must not be empty"),
        ("'" + "x" * 64 + "'", "is 64 bytes; PostgreSQL allows 63"),
        ('"a\\0b"', "must not contain a NUL byte"),
        ("'" + "ü" * 32 + "'", "is 64 bytes; PostgreSQL allows 63"),  # never silently truncated into a collision
    ],
)
def test_invalid_identifiers(name: str, why: str) -> None:
    text = GOOD_HEAD + f"  t:\n    columns:\n      {name}: {{type: integer}}\n"
    [problem] = problems(text)
    assert problem.startswith("schema.yaml:8:7: tables.t.columns.")
    assert why in problem


def test_index_and_enum_columns_must_exist_or_fit() -> None:
    text = GOOD_HEAD + (
        "  t:\n    columns:\n      a: {type: integer, enum: [x]}\n    indexes:\n      ix_t: {columns: [a, b]}\n"
    )
    assert problems(text) == [
        "schema.yaml:8:32: tables.t.columns.a.enum: enum needs a text type (text, varchar), not integer",
        "schema.yaml:10:27: tables.t.indexes.ix_t.columns.1: index column 'b' is not a column of this table",
    ]


def test_two_primary_key_definitions() -> None:
    text = GOOD_HEAD + "  t:\n    columns:\n      a: {type: integer, primary_key: true}\n    primary_key: [a]\n"
    assert problems(text) == [
        "schema.yaml:9:18: tables.t.primary_key: primary key defined twice: on columns (a) and as "
        "table primary_key; keep one"
    ]


def test_bad_regex_in_pattern() -> None:
    text = "version: 1\ntenants: {pattern: 'user_(['}\ntables:\n  t:\n    columns:\n      a: {type: text}\n"
    [problem] = problems(text)
    assert problem.startswith("schema.yaml:2:20: tenants.pattern: invalid regular expression")


@pytest.mark.parametrize(
    "column,message",
    [
        ("{type: integer, default: abc}", "default 'abc' is not an integer for type integer"),
        ("{type: boolean, default: 1}", "default 1 is not true or false for type boolean"),
        ("{type: varchar(3), default: toolong}", "default 'toolong' is longer than varchar(3) allows"),
    ],
)
def test_default_must_fit_the_type(column: str, message: str) -> None:
    text = GOOD_HEAD + f"  t:\n    columns:\n      a: {column}\n"
    [problem] = problems(text)
    assert problem.startswith("schema.yaml:8:") and problem.endswith(message)


def test_every_error_is_reported_at_once() -> None:
    text = GOOD_HEAD + (
        "  t:\n    columns:\n      a: {type: integr}\n      b: {type: integer, color: red}\n"
        "    indexes:\n      ix_t: {columns: [c]}\n"
        "  u:\n    columns:\n      d: {type: boolean, default: maybe}\n"
    )
    found = problems(text)
    assert len(found) == 4
    assert [p.split(":")[1] for p in found] == ["8", "9", "11", "14"]


def test_aliases_are_refused_so_alias_bombs_cannot_expand() -> None:
    bomb = (
        "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
    )
    found = problems(bomb)
    assert found and all("YAML aliases are not allowed" in p for p in found)


def test_arbitrary_python_objects_are_not_constructed() -> None:
    found = problems("version: !!python/object/apply:os.system ['echo pwned']\n")
    assert found == [
        "schema.yaml:1:10: version: YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed"
    ]


def test_a_huge_spec_is_refused_before_parsing() -> None:
    found = problems("# " + "x" * (3 * 1024 * 1024) + "\n")
    assert found == ["schema.yaml:1:1: spec is larger than 2 MiB; split it or trim it"]


def test_keys_stay_strings_even_when_yaml_would_read_booleans() -> None:
    spec = parse_spec(GOOD_HEAD + "  t:\n    columns:\n      on: {type: text}\n      yes: {type: text}\n")
    assert list(spec.tables["t"].columns) == ["on", "yes"]


def test_committed_json_schema_is_current() -> None:
    committed = json.loads((ROOT / "schemadiff.schema.json").read_text())
    assert committed == spec_json_schema()


def test_rename_cycles_and_double_renames_are_located_errors() -> None:
    text = GOOD_HEAD + (
        "  t:\n    columns:\n"
        "      a: {type: text, renamed_from: b}\n"
        "      b: {type: text, renamed_from: a}\n"
        "      c: {type: text, renamed_from: x}\n"
        "      d: {type: text, renamed_from: x}\n"
    )
    assert problems(text) == [
        "schema.yaml:8:37: tables.t.columns.a.renamed_from: renamed_from forms a cycle (a ← b ← a): a swap cannot "
        "be told from its result; rename through a temporary name, one revision per step",
        "schema.yaml:9:37: tables.t.columns.b.renamed_from: renamed_from forms a cycle (b ← a ← b): a swap cannot "
        "be told from its result; rename through a temporary name, one revision per step",
        "schema.yaml:11:37: tables.t.columns.d.renamed_from: 'x' is already renamed to 'c'; a column can be renamed once",
    ]


def test_a_chain_of_renames_is_not_a_cycle() -> None:
    text = GOOD_HEAD + (
        "  t:\n    columns:\n      name_v2: {type: text, renamed_from: name_v1}\n"
        "      name_v3: {type: text, renamed_from: name_v2}\n"
    )
    assert parse_spec(text, "schema.yaml").tables["t"].columns["name_v3"].renamed_from == "name_v2"
