"""The spec's keys: a column's ``references: jobs.id``, a table's ``foreign_keys`` and multi-column
``uniques``, and the checks that need the whole spec (the referenced table, its unique key). Pure.

A reference without ``schema`` is tenant-local: it names a table of this spec, created in every
tenant (and in the scratch schema that normalizes the spec), whose primary key, unique
constraint or unique index covers exactly the referenced columns. ``schema: public`` points at a
table every tenant shares, which must exist in the database; in the template schema itself such
a key reads like a tenant-local one, so it cannot name a table of the spec.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemadiff.core.foreign_keys import ForeignKey
from schemadiff.core.sqltext import identifier_problem, quote_ident
from schemadiff.errors import SpecProblem
from schemadiff.spec.yaml_source import Located, Path
from schemadiff.text import did_you_mean

if TYPE_CHECKING:
    from schemadiff.spec.schema import Spec, TableSpec

Action = Literal["no action", "restrict", "cascade", "set null", "set default"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def check_reference(text: str) -> str:
    """``table.column`` or ``schema.table.column``, each part a plain identifier."""
    parts = text.split(".")
    if len(parts) not in (2, 3):
        raise ValueError(f"'{text}' is not table.column (or schema.table.column)")
    for part in parts:
        problem = identifier_problem(part)
        if problem:
            raise ValueError(f"'{text}': {problem}")
    return text


class ReferenceSpec(_Strict):
    table: str = Field(description="the referenced table")
    columns: list[str] = Field(min_length=1, description="its columns, in the order of the key's columns")
    schema_name: str | None = Field(
        None,
        alias="schema",
        description="a schema every tenant shares (e.g. public); without it the table is the tenant's own",
    )

    @model_validator(mode="after")
    def _identifiers(self) -> ReferenceSpec:
        for name in (self.table, *self.columns, *([self.schema_name] if self.schema_name else [])):
            problem = identifier_problem(name)
            if problem:
                raise ValueError(f"'{name}': {problem}")
        return self


class ForeignKeySpec(_Strict):
    columns: list[str] = Field(min_length=1, description="this table's columns, in key order")
    references: ReferenceSpec
    on_delete: Action = "no action"
    on_update: Action = "no action"
    deferrable: bool = False
    initially_deferred: bool = Field(False, description="checked at COMMIT (needs deferrable: true)")

    @model_validator(mode="after")
    def _consistent(self) -> ForeignKeySpec:
        if self.initially_deferred and not self.deferrable:
            raise ValueError("initially_deferred needs deferrable: true")
        if len(self.columns) != len(self.references.columns):
            raise ValueError(
                f"{len(self.columns)} column(s) reference {len(self.references.columns)} column(s); give as many"
            )
        return self


class UniqueSpec(_Strict):
    columns: list[str] = Field(min_length=1, description="the columns, in key order")
    nulls_not_distinct: bool = Field(False, description="rows whose keys hold NULLs conflict too (PostgreSQL 15+)")
    deferrable: bool = False
    initially_deferred: bool = Field(False, description="checked at COMMIT (needs deferrable: true)")

    @model_validator(mode="after")
    def _consistent(self) -> UniqueSpec:
        if self.initially_deferred and not self.deferrable:
            raise ValueError("initially_deferred needs deferrable: true")
        for name in self.columns:
            problem = identifier_problem(name)
            if problem:
                raise ValueError(f"'{name}': {problem}")
        return self

    def clause(self) -> str:
        nulls = " NULLS NOT DISTINCT" if self.nulls_not_distinct else ""
        text = f"UNIQUE{nulls} ({', '.join(quote_ident(c) for c in self.columns)})"
        if self.deferrable:
            text += " DEFERRABLE INITIALLY DEFERRED" if self.initially_deferred else " DEFERRABLE"
        return text


def unique_problems(spec: Spec, located: Located) -> list[SpecProblem]:
    """Every ``uniques`` column is a column of its table."""
    problems = []
    for tname, table in spec.tables.items():
        for name, unique in table.uniques.items():
            path: Path = ("tables", tname, "uniques", name, "columns")
            problems += [
                located.problem(
                    (*path, i), f"column '{c}' is not a column of this table{did_you_mean(c, list(table.columns))}"
                )
                for i, c in enumerate(unique.columns)
                if c not in table.columns
            ]
    return problems


def foreign_key(spec: ForeignKeySpec) -> ForeignKey:
    ref = spec.references
    return ForeignKey(
        columns=tuple(spec.columns),
        schema=ref.schema_name,
        table=ref.table,
        ref_columns=tuple(ref.columns),
        on_delete=spec.on_delete.upper(),
        on_update=spec.on_update.upper(),
        deferrable=spec.deferrable,
        initially_deferred=spec.initially_deferred,
    )


def column_reference(column: str, text: str) -> ForeignKey:
    """``references: jobs.id`` (or ``public.jobs.id``) on ``column``."""
    parts = text.split(".")
    schema = parts[0] if len(parts) == 3 else None
    return ForeignKey(columns=(column,), schema=schema, table=parts[-2], ref_columns=(parts[-1],))


def column_key_name(table: str, column: str) -> str:
    """PostgreSQL's own name for a column's foreign key."""
    return f"{table}_{column}_fkey"


def declared_keys(tname: str, table: TableSpec) -> list[tuple[str, ForeignKey, Path]]:
    """(name, key, spec path) of every foreign key of a table: the columns' shorthands first."""
    base: Path = ("tables", tname)
    out = [
        (column_key_name(tname, c), column_reference(c, col.references), (*base, "columns", c, "references"))
        for c, col in table.columns.items()
        if col is not None and col.references
    ]
    out += [(n, foreign_key(k), (*base, "foreign_keys", n)) for n, k in table.foreign_keys.items() if k is not None]
    return out


def key_problems(spec: Spec, located: Located) -> list[SpecProblem]:
    """Every foreign key's columns, referenced table and unique key."""
    problems = []
    for tname, table in spec.tables.items():
        for name, key, path in declared_keys(tname, table):
            problems += [located.problem(p, m) for p, m in _problems(spec, tname, table, name, key, path)]
    return problems


def _problems(
    spec: Spec, tname: str, table: TableSpec, name: str, key: ForeignKey, path: Path
) -> list[tuple[Path, str]]:
    on_columns = path[-1] == "references" and path[-3] == "columns"
    out = [
        ((*path, "columns", i), f"column '{c}' is not a column of this table{did_you_mean(c, list(table.columns))}")
        for i, c in enumerate(key.columns)
        if c not in table.columns and not on_columns
    ]
    ref_path: Path = path if on_columns else (*path, "references")
    if key.schema is not None:
        if key.schema == spec.tenants.template and key.table in spec.tables:
            out.append(
                (
                    ref_path,
                    f"'{key.table}' is a table of this spec, created in every tenant: drop schema to reference "
                    f"each tenant's own, or name a table of {key.schema} the spec does not manage",
                )
            )
        return out
    referenced = spec.tables.get(key.table)
    if referenced is None:
        hint = did_you_mean(key.table, list(spec.tables))
        return [
            *out,
            (
                ref_path,
                f"'{key.table}' is not a table of this spec (a tenant-local reference needs one; give "
                f"schema: <name> for a table every tenant shares){hint}",
            ),
        ]
    missing = [c for c in key.ref_columns if c not in referenced.columns]
    if missing:
        return [*out, (ref_path, f"'{missing[0]}' is not a column of table '{key.table}'")]
    if not _unique(referenced, key.ref_columns):
        out.append(
            (
                ref_path,
                f"({', '.join(key.ref_columns)}) of '{key.table}' is neither its primary key nor unique: "
                "PostgreSQL needs a primary key, unique constraint or unique index on exactly those columns",
            )
        )
    return out


def _unique(table: TableSpec, columns: tuple[str, ...]) -> bool:
    """Whether the referenced columns carry a primary key, unique constraint or plain unique index."""
    wanted = set(columns)
    pk = table.primary_key if table.primary_key is not None else [n for n, c in table.columns.items() if c.primary_key]
    keys: list[set[str]] = [set(pk)] if pk else []
    keys += [{n} for n, c in table.columns.items() if c.unique]
    keys += [set(u.columns) for u in table.uniques.values()]
    keys += [
        {c if isinstance(c, str) else c.name for c in i.columns}
        for i in table.indexes.values()
        if i.unique and not i.expressions and i.where is None
    ]
    return any(k == wanted and len(k) == len(columns) for k in keys)
