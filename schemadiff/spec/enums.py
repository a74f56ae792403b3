"""The spec's enum types (top-level ``enums: {name: [values]}``) and the columns typed by them. Pure.

An enum type is created in every tenant schema; a column whose ``type`` is its name uses it. The
checks here run on a spec that validated, so every problem of the file is reported at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from schemadiff.errors import SpecProblem
from schemadiff.spec.yaml_source import Located, Path

if TYPE_CHECKING:
    from schemadiff.spec.schema import Spec

MAX_LABEL_BYTES = 63  # PostgreSQL's NAMEDATALEN - 1


def declared_enums(data: Any) -> frozenset[str]:
    """The enum names the raw spec declares (for the ``type`` of a column, before validation)."""
    enums = data.get("enums") if isinstance(data, dict) else None
    return frozenset(k for k in enums if isinstance(k, str)) if isinstance(enums, dict) else frozenset()


def label_problem(label: str) -> str | None:
    """Why PostgreSQL would refuse ``label`` as an enum value, or None."""
    if not label:
        return "an enum value must not be empty"
    if "\x00" in label:
        return "an enum value must not contain a NUL byte"
    if len(label.encode("utf-8")) > MAX_LABEL_BYTES:
        return f"enum value '{label[:20]}…' is {len(label.encode('utf-8'))} bytes; PostgreSQL allows {MAX_LABEL_BYTES}"
    return None


def enum_problems(spec: Spec, located: Located) -> list[SpecProblem]:
    """Values listed once, at least one; a name no spec table has (a table's row type has its name);
    columns of an enum type with a default among its values and no ``enum:`` CHECK besides."""
    out: list[SpecProblem] = []
    for name, labels in spec.enums.items():
        path: Path = ("enums", name)
        if not labels:
            out.append(located.problem(path, "an enum type needs at least one value"))
        out += [
            located.problem((*path, i), f"enum value '{label}' is listed twice")
            for i, label in enumerate(labels)
            if label in labels[:i]
        ]
        if name in spec.tables:
            out.append(located.problem(path, f"'{name}' is also a table: its row type has that name; rename one", True))
    for tname, table in spec.tables.items():
        for cname, col in table.columns.items():
            values = spec.enums.get(col.type)
            if values is not None:
                out += _column_problems(("tables", tname, "columns", cname), col.type, values, col, located)
    return out


def _column_problems(path: Path, enum: str, labels: list[str], col: Any, located: Located) -> list[SpecProblem]:
    out = []
    if col.enum is not None:
        out.append(located.problem((*path, "enum"), f"the type {enum} is an enum already: drop 'enum:'"))
    if col.default is not None and labels and col.default not in labels:
        out.append(located.problem((*path, "default"), f"default {col.default!r} is not a value of enum {enum}"))
    return out
