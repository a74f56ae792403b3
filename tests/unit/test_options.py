"""A run's settings are one ``Options`` record: its defaults are written once (``core/options.py``),
its text form (``-x key=value``, ``SCHEMADIFF_*``) has one parser, and what revisions import keeps
no state between runs."""

from __future__ import annotations

import ast
from dataclasses import fields
from pathlib import Path

import pytest

from schemadiff.core.options import Options
from schemadiff.errors import SchemadiffError

PACKAGE = Path(__file__).resolve().parents[2] / "schemadiff"
HOME = PACKAGE / "core" / "options.py"
FIELDS = {f.name for f in fields(Options)}
DEFAULTS = {f.name: f.default for f in fields(Options)}


def test_from_strings_reads_every_field_and_keeps_the_defaults_for_the_rest() -> None:
    assert Options.from_strings({}) == Options()
    assert Options.from_strings({"workers": "", "lock_timeout": "  "}) == Options()
    given = {
        "workers": "2",
        "lock_timeout": "500ms",
        "statement_timeout": "10min",
        "lock_wait": "1.5",
        "retries": "0",
        "backoff": "0.1",
        "synchronous_commit": "local",
        "allow": "deletes_data,rewrites_table",
        "assume_from": "41f5a234b5f4a6f2",
        "tenant": "not ours",  # -x carries the env.py's own arguments too
    }
    assert Options.from_strings(given) == Options(
        workers=2,
        lock_timeout="500ms",
        statement_timeout="10min",
        lock_wait=1.5,
        retries=0,
        backoff=0.1,
        synchronous_commit="local",
        allow=frozenset({"deletes_data", "rewrites_table"}),
        assume_from="41f5a234b5f4a6f2",
    )


@pytest.mark.parametrize(
    "key,value,why",
    [
        ("workers", "abc", "is not an integer from 1 to 64"),
        ("workers", "0", "is not an integer from 1 to 64"),
        ("workers", "65", "is not an integer from 1 to 64"),
        ("workers", "2.5", "is not an integer from 1 to 64"),
        ("lock_timeout", "banana", "is not a PostgreSQL duration"),
        ("statement_timeout", "25d", "is not a PostgreSQL duration"),
        ("lock_wait", "-1", "is not a number of seconds, 0 or more"),
        ("lock_wait", "nan", "is not a number of seconds, 0 or more"),
        ("retries", "-1", "is not an integer from 0 to 100"),
        ("backoff", "soon", "is not a number of seconds, 0 or more"),
        ("synchronous_commit", "maybe", "is not one of on, off, local, remote_write, remote_apply"),
        ("allow", "deletes_everything", "unknown hazard 'deletes_everything'"),
    ],
)
def test_a_bad_value_is_one_error_naming_the_key_and_the_accepted_form(key: str, value: str, why: str) -> None:
    with pytest.raises(SchemadiffError) as caught:
        Options.from_strings({key: value})
    message = str(caught.value)
    assert message.startswith(f"bad schemadiff option: {key}={value!r} ") and why in message
    assert "\n" not in message


def test_x_arguments_come_before_the_environment_and_the_environment_before_the_defaults() -> None:
    environ = {
        "SCHEMADIFF_WORKERS": "3",
        "SCHEMADIFF_LOCK_TIMEOUT": "9s",
        "SCHEMADIFF_DATABASE_URL": "postgresql://x/y",
    }
    strings = Options.strings({"workers": "5", "retries": ""}, environ)
    assert set(strings) == FIELDS
    assert Options.from_strings(strings) == Options(workers=5, lock_timeout="9s")


# -- the defaults are written once ------------------------------------------------------------------


def _literal(node: ast.expr | None) -> bool:
    """A setting written out in the source (``4``, ``"2s"``, ``"0"``, ``30.0``, ``("a",)``), not a
    name or a call; ``None``, ``""``, ``0``, ``()`` say "not given" rather than choose a default."""
    if isinstance(node, ast.UnaryOp):
        node = node.operand
    if isinstance(node, ast.Tuple):
        return bool(node.elts)
    return isinstance(node, ast.Constant) and bool(node.value)


def duplicate_defaults(package: Path, home: Path) -> list[str]:
    """Every place under ``package`` other than ``home`` that writes a default of a run setting as a
    literal: a parameter or a class attribute named like an Options field with a literal value
    (``workers: int = 4``, ``lock_timeout: LockTimeoutOpt = "2s"``), a keyword argument repeating a
    default (``Options(lock_wait=30.0)``), or the default lock timeout quoted anywhere (``'2s'``)."""
    found: list[str] = []
    for path in sorted(package.rglob("*.py")):
        if path == home:
            continue
        text = path.read_text()
        where = path.relative_to(package.parent)
        quoted = DEFAULTS["lock_timeout"]
        if f'"{quoted}"' in text or f"'{quoted}'" in text:
            found.append(f"{where}: the lock timeout {quoted!r} quoted")
        for node in ast.walk(ast.parse(text, str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                args = node.args
                positional = [*args.posonlyargs, *args.args]
                pairs = list(zip(positional[len(positional) - len(args.defaults) :], args.defaults, strict=True))
                pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is not None]
                found += [
                    f"{where}:{d.lineno}: parameter {a.arg} = {ast.unparse(d)}"
                    for a, d in pairs
                    if a.arg in FIELDS and _literal(d)
                ]
            elif isinstance(node, ast.ClassDef):
                for stmt in node.body:
                    target = stmt.target if isinstance(stmt, ast.AnnAssign) else None
                    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                        target = stmt.targets[0]
                    value = stmt.value if isinstance(stmt, ast.AnnAssign | ast.Assign) else None
                    if isinstance(target, ast.Name) and target.id in FIELDS and _literal(value):
                        found.append(f"{where}:{stmt.lineno}: class attribute {target.id} = {ast.unparse(value)}")  # type: ignore[arg-type]
            elif isinstance(node, ast.Call):
                found += [
                    f"{where}:{k.lineno}: {k.arg}={ast.unparse(k.value)}"
                    for k in node.keywords
                    if k.arg in FIELDS
                    and isinstance(k.value, ast.Constant)
                    and k.value.value == DEFAULTS[k.arg]
                    and type(k.value.value) is type(DEFAULTS[k.arg])
                ]
    return found


def test_the_defaults_of_a_run_are_written_once() -> None:
    assert duplicate_defaults(PACKAGE, HOME) == []


def test_the_duplicate_check_finds_what_it_looks_for(tmp_path: Path) -> None:
    package = tmp_path / "schemadiff"
    package.mkdir()
    (package / "options.py").write_text("class Options:\n    workers: int = 4\n")
    (package / "apply.py").write_text(
        "from dataclasses import dataclass\n\n\n"
        "@dataclass\nclass RunOptions:\n    workers: int = 4\n    lock_wait = 30.0\n\n\n"
        "def apply(workers: int = 8, *, statement_timeout: str = '0', assume_from: str = '') -> None:\n"
        "    Options(lock_wait=30.0, retries=1)\n\n\n"
        "PREAMBLE = \"SET lock_timeout = '2s';\"\n"
    )
    assert duplicate_defaults(package, package / "options.py") == [
        "schemadiff/apply.py: the lock timeout '2s' quoted",
        "schemadiff/apply.py:6: class attribute workers = 4",
        "schemadiff/apply.py:7: class attribute lock_wait = 30.0",
        "schemadiff/apply.py:10: parameter workers = 8",
        "schemadiff/apply.py:10: parameter statement_timeout = '0'",
        "schemadiff/apply.py:11: lock_wait=30.0",
    ]


# -- what revisions import keeps no state between runs ----------------------------------------------

MUTABLE = (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)


def module_state(folder: Path) -> list[str]:
    """``global`` statements, and module-level names bound to a mutable container or to None (a
    slot filled in later), in the modules of ``folder``."""
    found: list[str] = []
    for path in sorted(folder.glob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        found += [
            f"{path.name}:{n.lineno}: global {', '.join(n.names)}" for n in ast.walk(tree) if isinstance(n, ast.Global)
        ]
        for stmt in tree.body:
            if isinstance(stmt, ast.Assign) and [ast.unparse(t) for t in stmt.targets] == ["__all__"]:
                continue  # the module's exports, read by `import *`
            value = stmt.value if isinstance(stmt, ast.Assign | ast.AnnAssign) else None
            called = value.func.id if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) else ""
            if (
                isinstance(value, MUTABLE)
                or (isinstance(value, ast.Constant) and value.value is None)
                or called in {"list", "dict", "set", "defaultdict", "OrderedDict"}
            ):
                found.append(f"{path.name}:{stmt.lineno}: {ast.unparse(stmt).splitlines()[0]}")
    return found


def test_the_runtime_keeps_no_module_level_state() -> None:
    assert module_state(PACKAGE / "runtime") == []


def test_the_state_check_finds_a_module_global(tmp_path: Path) -> None:
    (tmp_path / "runtime.py").write_text(
        "_reporter: object | None = None\n_seen = {}\n\n\ndef set_reporter(r):\n    global _reporter\n    _reporter = r\n"
    )
    assert module_state(tmp_path) == [
        "runtime.py:6: global _reporter",
        "runtime.py:1: _reporter: object | None = None",
        "runtime.py:2: _seen = {}",
    ]
