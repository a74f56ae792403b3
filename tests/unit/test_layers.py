"""The layers are folders and imports only go down (cli → workflow → runtime → render, pg → spec →
core → errors, text). An AST walk over every module of the package: a module may import from its
own folder or from a layer below, never from one above; ``core`` imports no I/O library. The
import graph has no cycles."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "schemadiff"

# rank of each top-level part of the package; a module imports only from strictly lower ranks
# (or from its own folder)
RANKS = {
    "errors": 0,
    "text": 0,
    "__init__": 0,
    "core": 1,
    "spec": 2,
    "pg": 3,
    "embedded": 4,
    "render": 3,
    "runtime": 4,
    "workflow": 5,
    "cli": 6,
}
CORE_FORBIDDEN = ("psycopg", "alembic", "sqlalchemy", "typer", "rich", "migra", "yaml", "pydantic")


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        if "templates" in path.parts:
            continue  # files copied into user projects, not modules of the package
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _type_checking_only(tree: ast.Module) -> set[int]:
    """The import nodes under ``if TYPE_CHECKING:``: dependencies of the types, not of the running code."""
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            ids |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return ids


def _imports(name: str, path: Path, at_runtime: bool = False) -> list[str]:
    """Every schemadiff module (or package) ``name`` imports, at any depth of the file (with
    ``at_runtime``, without those imported for type checking only)."""
    tree = ast.parse(path.read_text(), str(path))
    skip = _type_checking_only(tree) if at_runtime else set()
    out: list[str] = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            if node.level:
                pkg = (
                    name.split(".")[: -node.level]
                    if path.name != "__init__.py"
                    else name.split(".")[: len(name.split(".")) - node.level + 1]
                )
                base = ".".join([*pkg, node.module])
            out.append(base)
            out += [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in MODULES]
    return out


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _rank(module: str) -> int:
    return RANKS[_part(module)]


def test_every_part_of_the_package_has_a_layer():
    unknown = sorted({_part(m) for m in MODULES} - set(RANKS))
    assert not unknown, f"modules outside the layers: {unknown}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_only_go_down(module):
    wrong = []
    for imported in _imports(module, MODULES[module]):
        if not imported.startswith("schemadiff") or imported == "schemadiff":
            continue
        if _part(imported) == _part(module):
            continue
        if _rank(imported) >= _rank(module):
            wrong.append(imported)
    assert not wrong, f"{module} imports from a layer at or above its own: {sorted(set(wrong))}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _part(m) == "core"))
def test_core_does_no_io(module):
    bad = [i for i in _imports(module, MODULES[module]) if i.split(".")[0] in CORE_FORBIDDEN]
    assert not bad, f"{module} (core is pure) imports {bad}"


def test_no_import_cycles():
    graph = {m: {i for i in _imports(m, p, at_runtime=True) if i in MODULES and i != m} for m, p in MODULES.items()}
    # a package's __init__ importing its own submodules is how a package is assembled, not a cycle
    for m in graph:
        graph[m] = {i for i in graph[m] if not (i.startswith(m + ".") and MODULES[m].name == "__init__.py")}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt] if nxt in stack else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert not cycles, f"import cycles: {cycles}"


def test_the_walk_sees_imports():
    """The check above can fail: it finds the imports this very package is known to have."""
    assert "schemadiff.core.model" in _imports("schemadiff.core.diff", MODULES["schemadiff.core.diff"])
