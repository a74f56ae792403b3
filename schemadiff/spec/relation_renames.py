"""``renamed_from`` on tables and indexes: checked when the spec loads, and handed to the diff. Pure.

A table or index renamed from a name the spec itself uses, or two renamed from one name, cannot be
told apart from its result: the spec refuses both (a swap goes through a temporary name, one
revision per step).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from schemadiff.core.relation_renames import RelationRenames
from schemadiff.errors import SpecProblem
from schemadiff.spec.yaml_source import Located, Path

if TYPE_CHECKING:
    from schemadiff.spec.schema import Spec


def relation_renames(spec: Spec) -> RelationRenames:
    """The spec's table and index renames (new name → old name)."""
    return RelationRenames(
        tables={name: t.renamed_from for name, t in spec.tables.items() if t.renamed_from},
        indexes={
            name: {i: index.renamed_from for i, index in t.indexes.items() if index.renamed_from}
            for name, t in spec.tables.items()
            if any(index.renamed_from for index in t.indexes.values())
        },
        dropped=tuple(name for name, t in spec.tables.items() if t.drop),
    )


def relation_rename_problems(spec: Spec, located: Located) -> list[SpecProblem]:
    tables: list[tuple[str, str, Path]] = [
        (n, t.renamed_from, ("tables", n, "renamed_from")) for n, t in spec.tables.items() if t.renamed_from
    ]
    indexes: list[tuple[str, str, Path]] = [
        (i, index.renamed_from, ("tables", n, "indexes", i, "renamed_from"))
        for n, t in spec.tables.items()
        for i, index in t.indexes.items()
        if index.renamed_from
    ]
    index_names = {i for t in spec.tables.values() for i in t.indexes}
    problems = _problems("table", tables, set(spec.tables), located)
    return problems + _problems("index", indexes, index_names, located)


def _problems(kind: str, renames: list[tuple[str, str, Path]], names: set[str], located: Located) -> list[SpecProblem]:
    out: list[SpecProblem] = []
    seen: dict[str, str] = {}
    for new, old, path in renames:
        if old == new:
            out.append(located.problem(path, f"a {kind} cannot be renamed from its own name; remove renamed_from"))
        elif old in names:
            out.append(
                located.problem(
                    path,
                    f"'{old}' is also {'an' if kind == 'index' else 'a'} {kind} of the spec: a rename from it cannot be told from its result; "
                    "rename through a temporary name, one revision per step",
                )
            )
        elif old in seen:
            out.append(
                located.problem(path, f"'{old}' is already renamed to '{seen[old]}'; a {kind} can be renamed once")
            )
        seen.setdefault(old, new)
    return out
