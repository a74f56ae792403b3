"""schemadiff models as text, without a database: the generated module compiles, is deterministic,
names no tenant schema, passes mypy --strict, ruff's lint rules and ruff's formatter; Python literals
and the layout are ruff's; the committed models.py is what schema.yaml generates. The round trip on
PostgreSQL is tests/integration/test_models_roundtrip.py."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from schemadiff.render.models_file import render_models
from schemadiff.render.models_tables import sql_literal
from schemadiff.render.python_source import call, layout, py_str, same_source, seq
from schemadiff.spec.schema import load_spec, parse_spec
from schemadiff.workflow.models import generate

ROOT = Path(__file__).resolve().parents[2]
SPECS = {
    "schema.yaml": ROOT / "schema.yaml",
    "marketplace_fk.yaml": ROOT / "examples" / "marketplace_fk.yaml",
    "every_object.yaml": ROOT / "tests" / "specs" / "every_object.yaml",
}
# the rule set of this repository's pyproject.toml, which a user's project need not have
RUFF_RULES = "F,E,W,I,B,UP,C4,SIM,RUF"


def generated(name: str) -> str:
    return render_models(load_spec(SPECS[name]).spec, name)


@pytest.mark.parametrize(
    "text",
    ["plain", "it's", 'say "hi"', "both ' and \"", "back\\slash", "new\nline\ttab", "nul\x00 sep\u2028", "ünï 漢字"],
)
def test_string_literals_mean_their_text_and_quote_as_ruff_does(text: str) -> None:
    literal = py_str(text)
    assert ast.literal_eval(literal) == text
    assert literal[0] == ("'" if text.count('"') > text.count("'") else '"')
    assert "\n" not in literal and "\x00" not in literal


def test_a_call_fits_on_one_line_or_takes_one_line_per_item_with_a_magic_comma() -> None:
    short = call("sa.Index", py_str("ix"), py_str("a"), unique="True")
    assert layout(short, 1, "x = ") == ['    x = sa.Index("ix", "a", unique=True)']
    long = call("sa.Index", py_str("ix_" + "a" * 70), py_str("a"), unique="True")
    assert layout(long, 1, "x = ") == [
        "    x = sa.Index(",
        f'        "ix_{"a" * 70}",',
        '        "a",',
        "        unique=True,",
        "    )",
    ]
    # a tuple of one item has no magic comma: its item is exploded too, so no line length undoes it
    one = seq("(", [call("dict", comment=py_str("c" * 80))], ")")
    assert layout(one, 1, "t = ") == [
        "    t = (",
        "        dict(",
        f'            comment="{"c" * 80}",',
        "        ),",
        "    )",
    ]


def test_sql_for_sqlalchemy_text_escapes_only_the_colons_text_would_bind() -> None:
    assert ast.literal_eval(sql_literal("a::text = ' :x' AND b = 'a:b' AND c = :y")) == (
        "a::text = ' \\:x' AND b = 'a:b' AND c = \\:y"
    )


def test_a_file_is_current_when_only_its_layout_differs() -> None:
    ours = 'x = f(\n    "a",\n    b=1,\n)\n# note\n'
    assert same_source(ours, ours)
    assert same_source(ours, "x = f('a', b=1)  \n#   note\n")
    assert not same_source(ours, 'x = f("a", b=2)\n# note\n')
    assert not same_source(ours, 'x = f("a", b=1)\n# other note\n')
    assert not same_source(ours, 'x = f("a", b=1\n')


@pytest.mark.parametrize("name", list(SPECS))
def test_the_module_compiles_and_names_no_tenant_schema(name: str) -> None:
    text = generated(name)
    compile(text, name, "exec")
    tree = ast.parse(text)
    schemas = [
        k.value for node in ast.walk(tree) if isinstance(node, ast.Call) for k in node.keywords if k.arg == "schema"
    ]
    assert all(isinstance(s, ast.Constant) and s.value == "public" for s in schemas)  # shared tables only
    classes = [n.name for n in tree.body if isinstance(n, ast.ClassDef)]
    assert classes[0] == "Base"
    assert "MarketplaceTasks" in classes or name == "every_object.yaml"


def test_the_output_is_deterministic_whatever_the_order_of_the_spec() -> None:
    text = SPECS["every_object.yaml"].read_text()
    spec = parse_spec(text)
    tables = dict(reversed(list(spec.tables.items())))
    shuffled = spec.model_copy(
        update={
            "tables": {
                n: t.model_copy(update={"indexes": dict(reversed(list(t.indexes.items())))}) for n, t in tables.items()
            },
            "enums": dict(reversed(list(spec.enums.items()))),
        }
    )
    assert (
        render_models(shuffled, "s.yaml") == render_models(spec, "s.yaml") == render_models(parse_spec(text), "s.yaml")
    )


def test_names_python_cannot_take_keep_their_column_name() -> None:
    text = generated("every_object.yaml")
    for line in (
        'class_: Mapped[str | None] = mapped_column("class", sa.Text())',
        'metadata_: Mapped[Any | None] = mapped_column("metadata", postgresql.JSONB())',
        'weird_col: Mapped[str | None] = mapped_column("weird col", sa.String())',
        'int_: Mapped[int | None] = mapped_column("int", sa.Integer())',
        'sa_: Mapped[int | None] = mapped_column("sa", sa.Integer())',
        "class RoomType(Base):",
        "audit_log_table = sa.Table(",
    ):
        assert line in text


def test_what_sqlalchemy_would_add_on_its_own_is_switched_off() -> None:
    text = generated("marketplace_fk.yaml")
    # a one-column integer key is SERIAL to SQLAlchemy unless told otherwise; the spec says no default
    assert "id: Mapped[int] = mapped_column(sa.Integer(), primary_key=True, autoincrement=False)" in text
    assert "id: Mapped[int] = mapped_column(sa.BigInteger(), sa.Identity(), primary_key=True)" in text


def test_the_modules_pass_mypy_strict_and_ruff(tmp_path: Path) -> None:
    """One run of each tool over the three modules (mypy takes half a minute to load SQLAlchemy)."""
    files = []
    for name in SPECS:
        path = tmp_path / f"models_{name.split('.')[0]}.py"
        path.write_text(generated(name))
        files.append(path.name)
    mypy = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", str(tmp_path / ".mypy")]
    ruff = [sys.executable, "-m", "ruff"]
    lint = [*ruff, "check", "--isolated", "--select", RUFF_RULES, "--ignore", "E501", "--target-version", "py311"]
    # ruff's default settings (line length 88), as a project without ruff settings has them
    for command in (mypy, lint, [*ruff, "format", "--isolated", "--check", "--diff"]):
        proc = subprocess.run([*command, *files], cwd=tmp_path, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_committed_models_are_what_schema_yaml_generates() -> None:
    committed = (ROOT / "models.py").read_text()
    assert committed == generate(ROOT / "schema.yaml").source, (
        "models.py is out of date with schema.yaml: run `schemadiff models` at the repository root and commit it"
    )
