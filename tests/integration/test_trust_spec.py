"""Issue 8: the spec's trust boundary on a real PostgreSQL. A fragment that tries to end its statement
is a spec error before any connection, so `plan` cannot run it; names PostgreSQL treats as keywords
are quoted and run; bad YAML gives one located line, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemadiff.core.model import Index
from schemadiff.core.ops import CreateIndex

from .helpers import execute, query, run_cli

INJECTION = "a > 0; COMMIT; DROP TABLE public.victim"
HEAD = "version: 1\ntenants: {template: public, pattern: '^user_[0-9]+$'}\ntables:\n  t:\n    columns:\n"
FRAGMENTS = {
    "default_sql": (HEAD + f'      a: {{type: integer, default_sql: "{INJECTION}"}}\n', "6:39", "expression"),
    "checks": (HEAD + f'      a: {{type: integer}}\n    checks:\n      ck_a: "{INJECTION}"\n', "8:13", "expression"),
    "where": (
        HEAD + f'      a: {{type: integer}}\n    indexes:\n      t_a: {{columns: [a], where: "{INJECTION}"}}\n',
        "8:34",
        "expression",
    ),
    "expressions": (
        HEAD + f'      a: {{type: integer}}\n    indexes:\n      t_a: {{expressions: ["{INJECTION}"]}}\n',
        "8:27",
        "expression",
    ),
    "type": (HEAD + '      a: {type: "integer; COMMIT; DROP TABLE public.victim"}\n', "6:17", "type name"),
}
KEYWORD_NAMES = ["concurrently", "lateral", "collation", "tablesample", "order", "user", "name\n"]


def _victim_and_a_tenant(url: str) -> None:
    execute(
        url,
        "CREATE TABLE public.victim (id integer)",
        "CREATE SCHEMA user_1",
        "CREATE TABLE public.t (a integer)",
        "CREATE TABLE user_1.t (a integer)",
    )


def _nothing_ran_nothing_left(url: str) -> None:
    assert query(url, "SELECT to_regclass('public.victim') IS NOT NULL")[0][0] is True
    assert query(url, "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'schemadiff_scratch%'")[0][0] == 0


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if not line.endswith("fix them and run again")]


@pytest.mark.parametrize("kind", list(FRAGMENTS))
def test_statement_injection_through_a_fragment_never_runs(kind: str, fresh_db: str, tmp_path: Path) -> None:
    text, position, what = FRAGMENTS[kind]
    spec = tmp_path / "schema.yaml"
    spec.write_text(text)
    _victim_and_a_tenant(fresh_db)
    validated = run_cli("validate", "--spec", spec)
    assert validated.exit_code == 1
    [line] = error_lines(validated.stderr)
    assert line.startswith(f"{spec}:{position}: tables.t.")
    assert line.endswith(f": must be one SQL {what} (found 3 statements)")
    planned = run_cli("plan", "--spec", spec, "--database-url", fresh_db)
    assert planned.exit_code == 1
    assert error_lines(planned.stderr) == [line]
    _nothing_ran_nothing_left(fresh_db)


# each way of hiding a second statement or a catalog read inside a fragment, as YAML double-quoted
# text (in the `where` of an index, which plan's normalization once ran on the target)
HIDDEN = {
    "dollar quoting": ("$q$a; COMMIT; DROP TABLE public.victim$q$", "a dollar-quoted string"),
    "line comment": ("a > 0 -- \\n; COMMIT; DROP TABLE public.victim", "3 statements"),
    "block comment": ("a > 0 /* */; COMMIT; DROP TABLE public.victim /* */", "3 statements"),
    "subquery": ("a IN (SELECT id FROM public.victim)", "a subquery"),
    "backslash literal": ("'\\\\''; COMMIT; DROP TABLE public.victim; SELECT '", "a backslash"),
}


@pytest.mark.parametrize("how", list(HIDDEN))
def test_a_hidden_statement_is_refused_at_validate_and_plan_and_never_runs(
    how: str, fresh_db: str, tmp_path: Path
) -> None:
    fragment, found = HIDDEN[how]
    spec = tmp_path / "schema.yaml"
    spec.write_text(
        HEAD + f'      a: {{type: integer}}\n    indexes:\n      t_a: {{columns: [a], where: "{fragment}"}}\n'
    )
    _victim_and_a_tenant(fresh_db)
    validated = run_cli("validate", "--spec", spec)
    assert validated.exit_code == 1
    [line] = error_lines(validated.stderr)
    assert line.startswith(f"{spec}:8:34: tables.t.indexes.t_a.where: must be one SQL expression (found {found}")
    planned = run_cli("plan", "--spec", spec, "--database-url", fresh_db)
    assert planned.exit_code == 1 and error_lines(planned.stderr) == [line]
    _nothing_ran_nothing_left(fresh_db)


@pytest.mark.parametrize("name", KEYWORD_NAMES)
def test_an_index_named_like_a_keyword_is_created_and_dropped(name: str, fresh_db: str) -> None:
    execute(fresh_db, 'CREATE SCHEMA "user"', 'CREATE TABLE "user"."where" ("collation" integer)')
    op = CreateIndex("where", Index(name, False, 'USING btree ("collation")'))
    execute(fresh_db, *op.sql("user"))
    found = query(fresh_db, "SELECT indexname FROM pg_indexes WHERE schemaname = 'user' AND tablename = 'where'")
    assert found == [(name,)]
    execute(fresh_db, *op.reverse().sql("user"))
    assert query(fresh_db, "SELECT count(*) FROM pg_indexes WHERE schemaname = 'user'")[0][0] == 0


def test_a_spec_with_keyword_names_plans_on_postgresql(fresh_db: str, tmp_path: Path) -> None:
    indexes = "".join(f"      {n}: {{columns: [collation]}}\n" for n in ("concurrently", "lateral", "tablesample"))
    spec = tmp_path / "schema.yaml"
    spec.write_text(
        "version: 1\ntenants: {pattern: '^user_[0-9]+$'}\ntables:\n  order:\n    columns:\n"
        "      collation: {type: boolean, default_sql: \"now() AT TIME ZONE 'utc' IS NOT NULL\"}\n"
        "      user: {type: text, unique: true}\n    indexes:\n" + indexes
    )
    execute(
        fresh_db,
        'CREATE TABLE public."order" ("collation" boolean)',
        "CREATE SCHEMA user_1",
        'CREATE TABLE user_1."order" ("collation" boolean)',
    )
    result = run_cli("plan", "--spec", spec, "--database-url", fresh_db, "--format", "sql")
    assert result.exit_code == 2, result.stderr
    for name in ("concurrently", "lateral", "tablesample"):
        assert f'INDEX "{name}" ON' in result.stdout


def deep_sequences(tmp: Path) -> Path:
    path = tmp / "deep.yaml"
    path.write_text("[" * 10_240 + "\n")
    return path


def deep_mappings(tmp: Path) -> Path:
    path = tmp / "deep.yaml"
    path.write_text("{a: " * 2_560 + "1" + "}" * 2_560 + "\n")
    return path


def huge(tmp: Path) -> Path:
    path = tmp / "huge.yaml"
    path.write_bytes(b"# " + b"x" * (3 * 1024 * 1024) + b"\n")
    return path


@pytest.mark.parametrize(
    "make,message",
    [
        (deep_sequences, ":1:34: YAML nesting is deeper than 32 levels; flatten it"),
        (deep_mappings, ":1:130: YAML nesting is deeper than 32 levels; flatten it"),
        (huge, ":1:1: spec is larger than 2 MiB; split it or trim it"),
        (lambda _tmp: Path("/dev/zero"), ":1:1: spec is larger than 2 MiB; split it or trim it"),
    ],
)
def test_bad_yaml_gives_one_located_line_and_no_traceback(make, message: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = make(tmp_path)
    result = run_cli("validate", "--spec", path)
    assert result.exit_code == 1
    assert error_lines(result.stderr) == [f"{path}{message}"]
    assert "Traceback" not in result.stdout + result.stderr
