"""Names a spec gives or implies, checked before PostgreSQL would silently change them. Pure.

PostgreSQL truncates a name longer than 63 bytes without a word, so ``<table>_<column>_key`` for a
long table could silently collide with another name, or differ from what the plan expects. The
spec refuses such names instead of deriving PostgreSQL's shortened ones: the fix is a shorter
table or column name. Relations named ``pg_…`` are refused too: ``pg_catalog`` is searched first,
so an unqualified ``pg_class`` never means the tenant's own table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from schemadiff.errors import SpecProblem
from schemadiff.spec.yaml_source import Located, Path

if TYPE_CHECKING:
    from schemadiff.spec.schema import Spec, TableSpec

MAX_NAME_BYTES = 63
SYSTEM_PREFIX = "pg_"


class DerivedName(NamedTuple):
    """A constraint name the spec implies, with the spec node that implies it."""

    name: str
    path: Path
    shorten: str


def derived_names(tname: str, table: TableSpec) -> list[DerivedName]:
    """``<table>_pkey``, ``<table>_<column>_key`` and ``ck_<table>_<column>`` of one table, in order."""
    base: Path = ("tables", tname)
    out: list[DerivedName] = []
    pk_columns = [c for c, col in table.columns.items() if col is not None and col.primary_key]
    if table.primary_key is not None or pk_columns:
        at = base + (("primary_key",) if table.primary_key is not None else ("columns", pk_columns[0], "primary_key"))
        out.append(DerivedName(f"{tname}_pkey", at, "the table name"))
    for cname, col in table.columns.items():
        if col is not None and col.unique:
            out.append(
                DerivedName(f"{tname}_{cname}_key", (*base, "columns", cname, "unique"), "the table or column name")
            )
        if col is not None and col.enum:
            out.append(
                DerivedName(f"ck_{tname}_{cname}", (*base, "columns", cname, "enum"), "the table or column name")
            )
        if col is not None and col.references:
            at = (*base, "columns", cname, "references")
            out.append(DerivedName(f"{tname}_{cname}_fkey", at, "the table or column name"))
    return out


def table_name_problems(tname: str, table: TableSpec, located: Located) -> list[SpecProblem]:
    """System prefixes, over-long derived names and constraint names used twice within one table."""
    base: Path = ("tables", tname)
    problems = (
        [located.problem(base, _system_message("table", tname), at_key=True)] if tname.startswith(SYSTEM_PREFIX) else []
    )
    problems += [
        located.problem((*base, "indexes", i), _system_message("index", i), at_key=True)
        for i in table.indexes
        if i.startswith(SYSTEM_PREFIX)
    ]
    problems += [
        located.problem((*base, "partitions", p), _system_message("partition", p), at_key=True)
        for p in table.partitions
        if p.startswith(SYSTEM_PREFIX)
    ]
    derived = derived_names(tname, table)
    for item in derived:
        size = len(item.name.encode("utf-8"))
        if size > MAX_NAME_BYTES:
            problems.append(
                located.problem(
                    item.path,
                    f"the derived constraint name '{item.name}' is {size} bytes; "
                    f"PostgreSQL allows {MAX_NAME_BYTES}: shorten {item.shorten}",
                )
            )
    names = [(d.name, d.path) for d in derived] + [(c, (*base, "checks", c)) for c in table.checks]
    names += [(k, (*base, "foreign_keys", k)) for k in table.foreign_keys]
    names += [(u, (*base, "uniques", u)) for u in table.uniques]
    names += [(x, (*base, "exclusions", x)) for x in table.exclusions]
    return problems + _twice(names, located, f"in table '{tname}'")


def relation_name_problems(spec: Spec, located: Located) -> list[SpecProblem]:
    """Tables, indexes and constraint indexes share one namespace per schema."""
    names: list[tuple[str, Path]] = []
    for tname, table in spec.tables.items():
        names.append((tname, ("tables", tname)))
        names += [(i, ("tables", tname, "indexes", i)) for i in table.indexes]
        names += [(u, ("tables", tname, "uniques", u)) for u in table.uniques]  # each has its index
        names += [(x, ("tables", tname, "exclusions", x)) for x in table.exclusions]  # so does each of these
        names += [(p, ("tables", tname, "partitions", p)) for p in table.partitions]  # tables of their own
        names += [
            (d.name, d.path)
            for d in derived_names(tname, table)
            if not d.name.startswith("ck_") and d.path[-1] != "references"  # no index: a table's own name
        ]
    return _twice(names, located, "in one schema")


def _twice(names: list[tuple[str, Path]], located: Located, where: str) -> list[SpecProblem]:
    seen: set[str] = set()
    problems: list[SpecProblem] = []
    for name, path in names:
        if name in seen:
            problems.append(located.problem(path, f"name '{name}' is used twice {where}"))
        seen.add(name)
    return problems


def _system_message(kind: str, name: str) -> str:
    return (
        f"{kind} name '{name}' starts with {SYSTEM_PREFIX}, which PostgreSQL keeps for system objects "
        f"(pg_catalog is searched first); rename it"
    )
