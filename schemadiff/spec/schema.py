"""schema.yaml → validated pydantic spec (the models: ``spec.models``). The only module that reads the spec file.

Every problem is reported at once as ``FILE:LINE:COL: path: message``.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path as FsPath
from typing import Any

from pydantic import BaseModel, ValidationError

from schemadiff.errors import SpecError, SpecProblem
from schemadiff.spec.enums import declared_enums, enum_problems
from schemadiff.spec.exclusions import exclusion_problems
from schemadiff.spec.field_types import IDENTITY_TAGS
from schemadiff.spec.keys import key_problems, unique_problems
from schemadiff.spec.lint_rules import lint_problems
from schemadiff.spec.models import (
    KEY_COLUMN_TAG,
    ColumnSpec,
    IndexColumnSpec,
    IndexSpec,
    MigrationsSpec,
    PolicySpec,
    Spec,
    TableSpec,
    TenantsSpec,
)
from schemadiff.spec.names import relation_name_problems
from schemadiff.spec.partitions import partition_problems
from schemadiff.spec.relation_renames import relation_rename_problems
from schemadiff.spec.table_problems import table_problems
from schemadiff.spec.yaml_source import (
    MAX_SPEC_BYTES,
    Located,
    Path,
    load_yaml,
    too_large,
)

__all__ = [  # the models live in spec.models; importing them from here keeps working
    "ColumnSpec",
    "IndexColumnSpec",
    "IndexSpec",
    "LoadedSpec",
    "MigrationsSpec",
    "PolicySpec",
    "Spec",
    "TableSpec",
    "TenantsSpec",
    "load_spec",
    "parse_located",
    "parse_spec",
    "primary_key_columns",
    "semantic_problems",
    "spec_json_schema",
]


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


def primary_key_columns(table: TableSpec) -> list[str]:
    if table.primary_key is not None:
        return list(table.primary_key)
    return [n for n, c in table.columns.items() if c.primary_key]


def spec_json_schema() -> dict[str, Any]:
    schema = Spec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "schemadiff spec (schema.yaml)"
    return schema
