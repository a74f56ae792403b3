"""schema.yaml → validated pydantic spec. The only module that reads the spec file.

Every problem is reported at once as ``FILE:LINE:COL: path: message``.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path as FsPath
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)

from schemadiff.core.hazards import ALL
from schemadiff.core.sqltext import identifier_problem, parse_type, render_default
from schemadiff.errors import SpecError, SpecProblem
from schemadiff.spec.enums import declared_enums, enum_problems, label_problem
from schemadiff.spec.exclusions import ExclusionSpec, exclusion_problems
from schemadiff.spec.fragments import check_expression, check_type_name
from schemadiff.spec.keys import ForeignKeySpec, UniqueSpec, check_reference, key_problems, unique_problems
from schemadiff.spec.lint_rules import LintSpec, lint_problems
from schemadiff.spec.names import relation_name_problems, table_name_problems
from schemadiff.spec.partitions import PartitionBound, PartitionKey, partition_problems
from schemadiff.spec.relation_renames import relation_rename_problems
from schemadiff.spec.yaml_source import (
    MAX_SPEC_BYTES,
    Located,
    Path,
    load_yaml,
    too_large,
)
from schemadiff.text import did_you_mean

HAZARDS = ALL
INDEX_METHODS = ("btree", "hash", "gin", "gist", "brin", "spgist")
TEXT_CATEGORIES = ("text",)


def _identifier(name: str) -> str:
    problem = identifier_problem(name)
    if problem:
        raise ValueError(problem)
    return name


def _type(text: str, info: ValidationInfo) -> str:
    check_type_name(text)
    enums = (info.context or {}).get("enums") or ()
    if text in enums:  # the name of a spec enum type is a type
        return text
    try:
        parse_type(text)
    except ValueError:
        hint = did_you_mean(text, list(enums))
        if hint:
            raise ValueError(f"unknown column type '{text}'{hint}") from None
        raise
    return text


def _enum_label(label: str) -> str:
    problem = label_problem(label)
    if problem:
        raise ValueError(problem)
    return label


def _expression(text: str) -> str:
    check_expression(text)
    return text


def _regex(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"invalid regular expression: {exc}") from None
    return pattern


def _collatable(text: str) -> bool:
    """A text type (or an array of one); a spec enum type has no collation."""
    try:
        return parse_type(text).category in TEXT_CATEGORIES
    except ValueError:
        return False


def _identity_kind(value: bool | str) -> bool | str:
    if isinstance(value, str) and value not in ("always", "by_default"):
        raise ValueError(f"identity '{value}' is not a kind: write true (by_default), by_default or always")
    return value


Ident = Annotated[str, AfterValidator(_identifier)]
Reference = Annotated[str, AfterValidator(check_reference)]
IdentityKind = Annotated[
    bool | str,
    AfterValidator(_identity_kind),
    WithJsonSchema({"anyOf": [{"type": "boolean"}, {"enum": ["always", "by_default"], "type": "string"}]}),
]
EnumLabel = Annotated[str, AfterValidator(_enum_label)]


class IdentitySpec(BaseModel):
    """``identity: {kind, start, increment}``: an identity column with its sequence's options."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    kind: Literal["by_default", "always"] = Field("by_default", description="BY DEFAULT (the default) or ALWAYS")
    start: int | None = Field(None, ge=1, description="START WITH (default 1)")
    increment: int | None = Field(None, ge=1, description="INCREMENT BY (default 1)")


IDENTITY_TAGS = ("[identity kind]", "[identity options]")  # union branches; never shown in a located error


def _identity_form(raw: Any) -> str:
    return IDENTITY_TAGS[1] if isinstance(raw, dict) else IDENTITY_TAGS[0]


# a kind (true, by_default, always) or a mapping with the sequence's options; discriminated so that an
# error names only the form written
Identity = Annotated[
    Annotated[IdentityKind, Tag(IDENTITY_TAGS[0])] | Annotated[IdentitySpec, Tag(IDENTITY_TAGS[1])],
    Discriminator(_identity_form),
]


TypeName = Annotated[str, AfterValidator(_type)]
SqlExpression = Annotated[str, AfterValidator(_expression)]
Hazard = Literal[
    "deletes_data",
    "rewrites_table",
    "blocks_writes",
    "access_exclusive",
    "scans_table",
    "fails_on_existing_rows",
    "irreversible",
    "drops_index",
    "drops_constraint",
    "not_crash_safe",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ColumnSpec(_Strict):
    type: TypeName = Field(description="PostgreSQL type, e.g. integer, varchar(50), jsonb, text[]")
    nullable: bool = Field(True, description="false adds NOT NULL")
    default: str | int | float | bool | dict[str, Any] | list[Any] | None = Field(
        None, description="literal default, quoted as an SQL literal of the column's type"
    )
    default_sql: SqlExpression | None = Field(
        None, description="SQL default expression, e.g. now(): exactly one expression, no subquery, no comment"
    )
    identity: Identity = Field(
        False,
        description="GENERATED BY DEFAULT AS IDENTITY (true or by_default) or GENERATED ALWAYS AS IDENTITY "
        "(always); {kind, start, increment} gives the sequence's START WITH and INCREMENT BY",
    )
    generated: SqlExpression | None = Field(
        None,
        description="a STORED generated column computed by this SQL expression over the table's other columns, "
        "e.g. price * quantity: exactly one expression; no default or identity with it",
    )
    collation: Ident | None = Field(
        None, description='collation of a text column, e.g. "C" (a change rebuilds the indexes using the column)'
    )
    primary_key: bool = False
    unique: bool = Field(False, description="a UNIQUE constraint named <table>_<column>_key")
    enum: list[str] | None = Field(None, description="allowed values: CHECK constraint ck_<table>_<column>")
    comment: str | None = None
    renamed_from: Ident | None = Field(None, description="rename this live column instead of adding a new one")
    references: Reference | None = Field(
        None,
        description="a foreign key <table>_<column>_fkey to table.column of the same tenant "
        "(or schema.table.column, a table every tenant shares)",
    )
    using: SqlExpression | None = Field(
        None,
        description="how a type change computes the new value, e.g. status::integer: one SQL expression, "
        "needed where PostgreSQL has no implicit cast",
    )
    down_using: SqlExpression | None = Field(
        None, description="how the downgrade computes the old value back, where the reverse cast is not implicit"
    )

    @model_validator(mode="after")
    def _consistent(self) -> ColumnSpec:
        if self.default is not None and self.default_sql is not None:
            raise ValueError("give either default or default_sql, not both")
        if self.generated is not None and (self.default is not None or self.default_sql is not None):
            raise ValueError("a generated column cannot also have a default: its value is the expression's")
        if self.generated is not None and self.identity:
            raise ValueError("a generated column cannot also be an identity column")
        if self.collation is not None and not _collatable(self.type):
            raise ValueError("collation needs a text type (text, varchar(n), char(n), citext)")
        if self.identity and (self.default is not None or self.default_sql is not None):
            raise ValueError("an identity column cannot also have a default")
        if self.identity and parse_type(self.type).category != "int":
            raise ValueError("identity needs an integer type (smallint, integer, bigint)")
        return self


class IndexColumnSpec(_Strict):
    """One key column of an index, as PostgreSQL has it."""

    name: Ident
    order: Literal["asc", "desc"] | None = Field(None, description="ASC (the default) or DESC")
    nulls: Literal["first", "last"] | None = Field(None, description="NULLS FIRST or NULLS LAST")
    opclass: Ident | None = Field(None, description="operator class, e.g. text_pattern_ops, gin_trgm_ops")
    collation: Ident | None = Field(None, description='collation of this key, e.g. "C"')


KEY_COLUMN_TAG = "[key column]"  # the mapping branch of an index key; never shown in a located error


def _key_form(raw: Any) -> str:
    return "name" if isinstance(raw, str) else KEY_COLUMN_TAG


# a plain name (ascending, its type's defaults) or a mapping; discriminated so that an error names
# only the form written
IndexKey = Annotated[
    Annotated[Ident, Tag("name")] | Annotated[IndexColumnSpec, Tag(KEY_COLUMN_TAG)], Discriminator(_key_form)
]


class IndexSpec(_Strict):
    columns: list[IndexKey] = Field(
        default_factory=list,
        description="key columns in order: a name, or {name, order, nulls, opclass, collation}",
    )
    include: list[Ident] = Field(default_factory=list, description="INCLUDE columns (stored, not keys)")
    expressions: list[SqlExpression] = Field(
        default_factory=list, description="SQL key expressions, e.g. lower(status): each exactly one expression"
    )
    unique: bool = False
    where: SqlExpression | None = Field(None, description="predicate of a partial index: one expression")
    using: Literal["btree", "hash", "gin", "gist", "brin", "spgist"] = "btree"
    concurrently: bool = Field(
        False,
        description="always build (and drop) it CONCURRENTLY, outside the "
        "tenant's transaction; done automatically on large tables",
    )
    renamed_from: Ident | None = Field(None, description="rename this live index instead of creating a new one")

    @model_validator(mode="after")
    def _has_keys(self) -> IndexSpec:
        if not self.columns and not self.expressions:
            raise ValueError("an index needs columns or expressions")
        return self


class TableSpec(_Strict):
    comment: str | None = None
    renamed_from: Ident | None = Field(None, description="rename this live table instead of creating a new one")
    drop: bool = Field(
        False,
        description="drop this table where it exists (deletes_data: refused unless allowed; "
        "the downgrade recreates its structure, not its rows); give nothing else",
    )
    unlogged: bool = Field(
        False,
        description="CREATE UNLOGGED TABLE: not written to the WAL (faster writes), but emptied after a crash "
        "and not replicated to standbys; a change either way (SET LOGGED / SET UNLOGGED) rewrites the table",
    )
    partition_by: PartitionKey | None = Field(
        None,
        description='PARTITION BY: the partition key, e.g. "RANGE (created_at)", "LIST (region)", "HASH (id)"; '
        "PostgreSQL cannot change it on a live table, so a tenant whose key differs is refused",
    )
    partitions: dict[Ident, PartitionBound] = Field(
        default_factory=dict,
        description="partitions created in every tenant: name -> bound, e.g. "
        "\"FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')\" or DEFAULT; live partitions not named here are "
        "left alone",
    )
    columns: dict[Ident, ColumnSpec] = Field(default_factory=dict, description="at least one, unless drop: true")
    primary_key: list[str] | None = Field(None, description="table-level primary key columns")
    indexes: dict[Ident, IndexSpec] = Field(default_factory=dict)
    checks: dict[Ident, SqlExpression] = Field(
        default_factory=dict, description="name -> boolean SQL expression (exactly one expression, no subquery)"
    )
    foreign_keys: dict[Ident, ForeignKeySpec] = Field(
        default_factory=dict, description="name -> foreign key (columns, references, on_delete …)"
    )
    uniques: dict[Ident, UniqueSpec] = Field(
        default_factory=dict, description="name -> UNIQUE constraint over several columns"
    )
    exclusions: dict[Ident, ExclusionSpec] = Field(
        default_factory=dict,
        description="name -> EXCLUDE constraint (using, elements: [{column or expression, opclass, operator}], where)",
    )

    @model_validator(mode="after")
    def _columns_unless_dropped(self) -> TableSpec:
        others = (
            self.columns
            or self.indexes
            or self.checks
            or self.exclusions
            or self.primary_key is not None
            or self.renamed_from
            or self.unlogged
            or self.partition_by is not None
            or self.partitions
        )
        if self.drop and (others or self.comment is not None):
            raise ValueError("a table with drop: true takes no other key (the live table is dropped as it is)")
        if not self.drop and not self.columns:
            raise ValueError("a table needs at least one column (or drop: true to drop it)")
        return self


class TenantsSpec(_Strict):
    template: Ident = Field(
        "public",
        description="the template schema, planned and migrated first "
        "(new tenants are built from the spec, never copied from it)",
    )
    pattern: Annotated[str, AfterValidator(_regex)] = Field(
        description="regular expression; every schema whose whole name matches is a tenant"
    )


class PolicySpec(_Strict):
    allow: list[Hazard] = Field(default_factory=list, description="hazards allowed without a flag")
    large_table_rows: int = Field(
        100_000,
        ge=0,
        description="row estimate from which a table counts as large: lock and scan hazards are refused there",
    )


class MigrationsSpec(_Strict):
    directory: str | None = Field(None, description="Alembic versions directory for written revisions")


class Spec(_Strict):
    version: Literal[1]
    tenants: TenantsSpec
    enums: dict[Ident, list[EnumLabel]] = Field(
        default_factory=dict,
        description="enum types created in every tenant schema: name -> values in order; a column's type may name one",
    )
    tables: dict[Ident, TableSpec] = Field(min_length=1)
    policy: PolicySpec = Field(default_factory=lambda: PolicySpec())
    migrations: MigrationsSpec = Field(default_factory=lambda: MigrationsSpec())
    lint: LintSpec = Field(default_factory=lambda: LintSpec())


class LoadedSpec:
    """A validated spec plus where it came from."""

    def __init__(self, spec: Spec, path: str, sha256: str, located: Located | None = None) -> None:
        self.spec = spec
        self.path = path
        self.sha256 = sha256
        self.located = located

    def where(self, path: Path) -> str:
        """``FILE:LINE:COL: dotted.path`` of a node of the spec."""
        line, col = self.located.position(path) if self.located else (1, 1)
        return f"{self.path}:{line}:{col}: {'.'.join(str(p) for p in path)}"


def load_spec(path: str | FsPath) -> LoadedSpec:
    """Read, parse and validate a spec file; raise SpecError listing every problem."""
    raw = _read_limited(FsPath(path))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SpecError([SpecProblem(str(path), 1, 1, "", "spec is not UTF-8 text")]) from None
    spec, located = parse_located(text, str(path))
    return LoadedSpec(spec, str(path), hashlib.sha256(raw).hexdigest(), located)


def _read_limited(path: FsPath) -> bytes:
    """At most MAX_SPEC_BYTES of the file (reading one byte more to tell), so /dev/zero cannot fill memory."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_SPEC_BYTES + 1)
    except OSError as exc:
        raise SpecError([SpecProblem(str(path), 1, 1, "", f"cannot read spec: {exc.strerror or exc}")]) from None
    if len(raw) > MAX_SPEC_BYTES:
        raise too_large(str(path))
    return raw


def parse_spec(text: str, file: str = "schema.yaml") -> Spec:
    return parse_located(text, file)[0]


def parse_located(text: str, file: str = "schema.yaml") -> tuple[Spec, Located]:
    located = load_yaml(text, file)
    if not isinstance(located.data, dict):
        raise SpecError([located.problem((), "the spec must be a mapping with version, tenants and tables")])
    try:
        spec = Spec.model_validate(located.data, context=_context(located.data))
    except ValidationError as exc:
        problems = [_pydantic_problem(located, err) for err in exc.errors()]
        problems += _semantic_problems_of_valid_tables(located)
        raise SpecError(problems) from None
    problems = semantic_problems(spec, located)
    if problems:
        raise SpecError(problems)
    return spec, located


def _pydantic_problem(located: Located, err: Any) -> SpecProblem:
    loc: Path = tuple(p for p in err["loc"] if p not in ("[key]", KEY_COLUMN_TAG, *IDENTITY_TAGS))
    at_key = err["type"] == "extra_forbidden" or "[key]" in err["loc"]
    loc = _strip_union_branches(loc, located)
    message = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        message = f"unknown key '{loc[-1]}'"
    if err["type"] == "missing":
        message = f"missing required key '{loc[-1]}'"
    return located.problem(loc, message, at_key=at_key)


def _strip_union_branches(loc: Path, located: Located) -> Path:
    """Drop pydantic's union-branch names (``str``, ``int`` …) that are not in the YAML."""
    out: list[str | int] = []
    for part in loc:
        candidate = (*tuple(out), part)
        if isinstance(part, str) and candidate not in located.values and candidate not in located.keys and out:
            parent = located.values.get(tuple(out))
            if parent is not None and not _is_missing_key(located, candidate):
                continue
        out.append(part)
    return tuple(out)


def _is_missing_key(located: Located, candidate: Path) -> bool:
    parent = _get(located.data, candidate[:-1])
    return isinstance(parent, dict)


def _get(data: Any, path: Path) -> Any:
    for part in path:
        if isinstance(data, dict) and isinstance(part, str):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return None
    return data


def _semantic_problems_of_valid_tables(located: Located) -> list[SpecProblem]:
    """Cross-field checks on the parts that validated on their own, so all errors show at once."""
    tables = located.data.get("tables") if isinstance(located.data, dict) else None
    problems: list[SpecProblem] = []
    for name, raw in tables.items() if isinstance(tables, dict) else []:
        table = _partial_table(raw, _context(located.data))
        if table is not None:
            problems += table_problems(name, table, located)
    return problems


def _partial_table(raw: Any, context: dict[str, Any] | None = None) -> TableSpec | None:
    """A TableSpec holding whichever columns and indexes validate (None for the others)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("columns"), dict):
        return None
    columns = {n: _or_none(ColumnSpec, c, context) for n, c in raw["columns"].items()}
    raw_indexes = raw.get("indexes")
    indexes = (
        {n: i for n, i in ((n, _or_none(IndexSpec, i)) for n, i in raw_indexes.items()) if i}
        if isinstance(raw_indexes, dict)
        else {}
    )
    pk = raw.get("primary_key")
    pk = pk if isinstance(pk, list) and all(isinstance(c, str) for c in pk) else None
    return TableSpec.model_construct(columns=columns, indexes=indexes, primary_key=pk, checks={}, comment=None)


def _context(data: Any) -> dict[str, Any]:
    return {"enums": declared_enums(data)}


def _or_none(model: type[BaseModel], raw: Any, context: dict[str, Any] | None = None) -> Any:
    try:
        return model.model_validate(raw, context=context)
    except ValidationError:
        return None


def semantic_problems(spec: Spec, located: Located) -> list[SpecProblem]:
    problems: list[SpecProblem] = []
    system = [
        s
        for s in ("pg_catalog", "information_schema", "pg_toast", "public_pg_temp")
        if s.startswith(("pg_", "information")) and re.fullmatch(spec.tenants.pattern, s)
    ]
    if system:
        problems.append(
            located.problem(
                ("tenants", "pattern"),
                f"pattern matches the system schema {system[0]}; system schemas are never tenants: narrow the pattern",
            )
        )
    for name, table in spec.tables.items():
        problems += table_problems(name, table, located)
    problems += relation_name_problems(spec, located)
    problems += key_problems(spec, located)
    problems += unique_problems(spec, located)
    problems += exclusion_problems(spec, located)
    problems += enum_problems(spec, located)
    problems += relation_rename_problems(spec, located)
    problems += partition_problems(spec, located)
    problems += lint_problems(spec.lint, located)
    return problems


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


def primary_key_columns(table: TableSpec) -> list[str]:
    if table.primary_key is not None:
        return list(table.primary_key)
    return [n for n, c in table.columns.items() if c.primary_key]


def spec_json_schema() -> dict[str, Any]:
    schema = Spec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "schemadiff spec (schema.yaml)"
    return schema
