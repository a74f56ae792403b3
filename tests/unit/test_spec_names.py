"""Names: quoting by PostgreSQL's keyword list, derived names within 63 bytes, no clashes, no pg_ prefix."""

from __future__ import annotations

import pytest

from schemadiff.core.sqltext import qualify, quote_ident
from schemadiff.errors import SpecError
from schemadiff.spec.schema import parse_spec

HEAD = "version: 1\ntenants: {pattern: '^user_[0-9]+$'}\ntables:\n"


def problems(text: str) -> list[str]:
    with pytest.raises(SpecError) as info:
        parse_spec(text, "schema.yaml")
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize(
    "name,quoted",
    [
        ("concurrently", '"concurrently"'),
        ("lateral", '"lateral"'),
        ("collation", '"collation"'),
        ("tablesample", '"tablesample"'),
        ("order", '"order"'),
        ("user", '"user"'),
        ("position", '"position"'),
        ("name\n", '"name\n"'),
        ("1a", '"1a"'),
        ("$a", '"$a"'),
        ("Ab", '"Ab"'),
        ('a"b', '"a""b"'),
        ("a-b", '"a-b"'),
        ("status", "status"),
        ("type", "type"),
        ("key", "key"),
        ("a$1", "a$1"),
        ("_x", "_x"),
        ("user_1", "user_1"),
    ],
)
def test_quote_ident_follows_postgresql_keywords(name: str, quoted: str) -> None:
    assert quote_ident(name) == quoted


def test_qualify_quotes_both_parts() -> None:
    assert qualify("user", "order") == '"user"."order"'


def test_a_derived_constraint_name_over_63_bytes_is_an_error() -> None:
    table, column = "t" * 40, "c" * 25
    text = HEAD + f"  {table}:\n    columns:\n      {column}: {{type: integer, unique: true}}\n"
    assert problems(text) == [
        f"schema.yaml:6:{33 + len(column)}: tables.{table}.columns.{column}.unique: the derived constraint name "
        f"'{table}_{column}_key' is 70 bytes; PostgreSQL allows 63: shorten the table or column name"
    ]


def test_derived_pkey_and_enum_names_are_checked_too() -> None:
    table = "t" * 60
    text = (
        HEAD + f"  {table}:\n    columns:\n      id: {{type: integer, primary_key: true}}\n"
        "      s: {type: text, enum: [a]}\n"
    )
    found = problems(text)
    assert [p.split(": ", 2)[1] for p in found] == [
        f"tables.{table}.columns.id.primary_key",
        f"tables.{table}.columns.s.enum",
    ]
    assert "'" + table + "_pkey' is 65 bytes" in found[0] and "shorten the table name" in found[0]
    assert "'ck_" + table + "_s' is 65 bytes" in found[1]


def test_a_check_named_like_a_derived_enum_check_clashes() -> None:
    text = HEAD + "  t:\n    columns:\n      s: {type: text, enum: [a]}\n    checks:\n      ck_t_s: s <> ''\n"
    assert problems(text) == ["schema.yaml:8:15: tables.t.checks.ck_t_s: name 'ck_t_s' is used twice in table 't'"]


def test_a_unique_key_named_like_another_table_clashes() -> None:
    text = (
        HEAD + "  t:\n    columns:\n      a: {type: integer, unique: true}\n"
        "  t_a_key:\n    columns:\n      b: {type: integer}\n"
    )
    [problem] = problems(text)
    assert problem.endswith(": name 't_a_key' is used twice in one schema")


@pytest.mark.parametrize(
    "text,where",
    [
        (
            "  pg_class:\n    columns:\n      a: {type: integer}\n",
            "schema.yaml:4:3: tables.pg_class: table name 'pg_class'",
        ),
        (
            "  t:\n    columns:\n      a: {type: integer}\n    indexes:\n      pg_t_a: {columns: [a]}\n",
            "schema.yaml:8:7: tables.t.indexes.pg_t_a: index name 'pg_t_a'",
        ),
    ],
)
def test_pg_prefixed_tables_and_indexes_are_refused(text: str, where: str) -> None:
    [problem] = problems(HEAD + text)
    assert problem.startswith(where) and "starts with pg_" in problem and problem.endswith("rename it")
