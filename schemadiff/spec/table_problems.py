"""The rules one table of the spec must satisfy beyond its fields' own types: its primary key named
once and over its columns, defaults its column types accept, enum values that fit, index keys
that are columns, renames without repeats or cycles. Each is ``(path, message)``; the spec
loader locates them. Pure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from schemadiff.core.sqltext import parse_type, render_default
from schemadiff.errors import SpecProblem
from schemadiff.spec.enums import declared_enums
from schemadiff.spec.names import table_name_problems
from schemadiff.spec.yaml_source import Located, Path
from schemadiff.text import did_you_mean

if TYPE_CHECKING:  # the spec's models import these rules
    from schemadiff.spec.schema import ColumnSpec, TableSpec

TEXT_CATEGORIES = ("text",)


def table_problems(name: str, table: TableSpec, located: Located) -> list[SpecProblem]:
    base: Path = ("tables", name)
    problems = [located.problem(path, msg) for path, msg in _column_problems(base, table, declared_enums(located.data))]
    problems += [located.problem(path, msg) for path, msg in _index_problems(base, table)]
    problems += [located.problem(path, msg) for path, msg in _rename_problems(base, table)]
    return problems + table_name_problems(name, table, located)


def _rename_problems(base: Path, table: TableSpec) -> list[tuple[Path, str]]:
    """Two renames of one column, and cycles (a swap looks the same before and after, so it
    would run again on every plan): rename through a temporary name, one revision per step."""
    renames = {n: c.renamed_from for n, c in table.columns.items() if c is not None and c.renamed_from}
    out: list[tuple[Path, str]] = []
    seen: dict[str, str] = {}
    for new, old in renames.items():
        path = (*base, "columns", new, "renamed_from")
        if old in seen:
            out.append((path, f"'{old}' is already renamed to '{seen[old]}'; a column can be renamed once"))
            continue
        seen[old] = new
        chain = [new, old]
        while chain[-1] in renames and chain[-1] not in chain[:-1]:
            chain.append(renames[chain[-1]])
        if chain[-1] == new and len(chain) > 1:
            out.append(
                (
                    path,
                    f"renamed_from forms a cycle ({' ← '.join(chain)}): a swap cannot be told from "
                    "its result; rename through a temporary name, one revision per step",
                )
            )
    return out


def _column_problems(base: Path, table: TableSpec, enums: frozenset[str] = frozenset()) -> list[tuple[Path, str]]:
    out: list[tuple[Path, str]] = []
    pk_cols = [n for n, c in table.columns.items() if c is not None and c.primary_key]
    if pk_cols and table.primary_key is not None:
        out.append(
            (
                (*base, "primary_key"),
                f"primary key defined twice: on columns ({', '.join(pk_cols)}) and as table primary_key; keep one",
            )
        )
    for pk_col in table.primary_key or []:
        if pk_col not in table.columns:
            out.append(((*base, "primary_key"), f"primary key column '{pk_col}' is not a column of this table"))
    for cname, col in table.columns.items():
        if col is None or col.type in enums:  # an enum-typed column: checked by spec.enums
            continue
        path = (*base, "columns", cname)
        ctype = parse_type(col.type)
        if col.default is not None:
            try:
                render_default(col.default, ctype)
            except ValueError as exc:
                out.append(((*path, "default"), str(exc)))
        if col.enum is not None:
            out += _enum_problems(path, col, ctype)
    return out


def _enum_problems(path: Path, col: ColumnSpec, ctype: Any) -> list[tuple[Path, str]]:
    if ctype.category not in TEXT_CATEGORIES or ctype.array:
        return [((*path, "enum"), f"enum needs a text type (text, varchar), not {col.type}")]
    out: list[tuple[Path, str]] = []
    if not col.enum:
        out.append(((*path, "enum"), "enum needs at least one value"))
    for i, value in enumerate(col.enum or []):
        if ctype.modifiers and len(value) > ctype.modifiers[0]:
            out.append(((*path, "enum", i), f"enum value {value!r} is longer than {col.type} allows"))
    if col.default is not None and col.enum and str(col.default) not in col.enum:
        out.append(((*path, "default"), f"default {col.default!r} is not one of the enum values"))
    return out


def _index_problems(base: Path, table: TableSpec) -> list[tuple[Path, str]]:
    out: list[tuple[Path, str]] = []
    for iname, index in table.indexes.items():
        keys = [(("columns", i), c if isinstance(c, str) else c.name) for i, c in enumerate(index.columns)]
        for where, col in keys + [(("include", i), c) for i, c in enumerate(index.include)]:
            if col not in table.columns:
                hint = _suggest(col, list(table.columns))
                out.append(
                    (
                        (*base, "indexes", iname, *where),
                        f"index column '{col}' is not a column of this table{hint}",
                    )
                )
    return out


def _suggest(word: str, options: list[str]) -> str:
    return did_you_mean(word, options)
