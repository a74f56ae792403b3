"""The spec → a Python module of SQLAlchemy 2.0 declarative models (``schemadiff models``). Pure.

One ``DeclarativeBase``; one class per spec table with ``Mapped[...]`` / ``mapped_column(...)``
columns, its constraints and indexes in ``__table_args__``; a spec enum type as one ``sa.Enum`` bound
to the metadata (so ``create_all`` creates it first, in the tenant's schema); a table without a
primary key, which the ORM cannot map, as a Core ``sa.Table``. Nothing names a tenant's schema: the
application picks the tenant with ``schema_translate_map={None: "user_42"}``. Tables every tenant
shares (foreign keys with ``schema: public``) are stand-ins in a metadata of their own, which
``create_all`` never creates and the translation never moves.

The output is deterministic (tables, enums and constraints sorted by name, columns in spec order)
and laid out as ruff's formatter keeps it (see :mod:`schemadiff.render.python_source`).
"""

from __future__ import annotations

import io
import keyword
import re
import tokenize
from dataclasses import dataclass

from schemadiff.render.models_tables import (
    ColumnCode,
    Names,
    column_code,
    dotted_targets,
    shared_tables,
    table_args,
)
from schemadiff.render.models_types import IMPORTS
from schemadiff.render.python_source import (
    INDENT,
    WIDTH,
    Node,
    call,
    comment_lines,
    layout,
    mapping,
    py_str,
    seq,
    width,
)
from schemadiff.spec.schema import Spec, TableSpec, primary_key_columns

# names the generated module binds or uses itself: no table, column or type may take one
MODULE_NAMES = frozenset(
    {"annotations", "sa", "postgresql", "datetime", "decimal", "uuid", "ipaddress", "Any"}
    | {"DeclarativeBase", "Mapped", "mapped_column", "Base", "shared_metadata"}
    | {"int", "str", "bool", "float", "bytes", "list"}
)
# attributes a declarative class has already (SQLAlchemy refuses columns named so)
DECLARATIVE_NAMES = frozenset({"metadata", "registry", "type_annotation_map"})
SA_IMPORTS = ["import sqlalchemy as sa", "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column"]
TENANT_EXAMPLE = "user_42"
DOTTED_NOTE = "a foreign key names a table or column with a dot: its target is written as\n(table, column) tokens, which need SQLAlchemy 2.1 (a dotted string cannot say it)."


@dataclass(frozen=True)
class ModelsSummary:
    """What a generated module holds, for the command's one line."""

    classes: int
    core_tables: int
    enums: int


def render_models(spec: Spec, source: str) -> str:
    """The module for ``spec``, read from the file named ``source`` (named in the docstring)."""
    taken = set(MODULE_NAMES)
    names = Names(
        enums={e: _unique_name(e.upper(), taken) for e in sorted(spec.enums)},
        shared={k: _unique_name(f"{k[0]}_{k[1]}", taken) for k in shared_tables(spec.tables)},
    )
    tables = {n: t for n, t in sorted(spec.tables.items()) if not t.drop}
    blocks = [_enum_block(spec, names), _shared_block(spec, names)]
    for name, table in tables.items():
        blocks.append(_table_block(name, table, names, taken))
    dropped = sorted(n for n, t in spec.tables.items() if t.drop)
    if dropped:
        blocks.insert(0, comment_lines(f"Dropped by the spec (drop: true), so not here: {', '.join(dropped)}."))
    body = "\n\n\n".join("\n".join(b) for b in blocks if b)
    return _docstring(spec, source) + "\n" + _imports(body) + "\n\n\n" + _base(spec) + "\n\n\n" + body + "\n"


def summary(spec: Spec) -> ModelsSummary:
    tables = [t for t in spec.tables.values() if not t.drop]
    core = sum(1 for t in tables if not primary_key_columns(t))
    return ModelsSummary(len(tables) - core, core, len(spec.enums))


def _docstring(spec: Spec, source: str) -> str:
    tenant = TENANT_EXAMPLE if re.fullmatch(spec.tenants.pattern, TENANT_EXAMPLE) else spec.tenants.template
    lines = [
        f"SQLAlchemy models of the tables in {_docstring_safe(source)}: do not edit.",
        "",
        "Written by `schemadiff models`; run it again when the spec changes (`schemadiff models",
        "--check` fails while this file is out of date with the spec).",
        "",
        "No table names a schema: every tenant schema holds them all. Choose the tenant",
        "per connection:",
        "",
        f"    tenant = engine.execution_options(schema_translate_map={{None: {_docstring_safe(py_str(tenant))}}})",
        "    with Session(tenant) as session:",
        "        ...",
    ]
    return '"""' + "\n".join(lines) + '\n"""\n'


def _docstring_safe(text: str) -> str:
    """Text inside a docstring: backslashes and triple quotes escaped, control characters written out."""
    text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text.replace("\\", "\\\\"))
    return text.replace('"""', '\\"\\"\\"')


def _imports(body: str) -> str:
    """The import block, sorted as isort (ruff's ``I`` rules) sorts it, of the names ``body`` uses."""
    used = _names(body)
    wanted = [line for name, line in IMPORTS.items() if name in used and name != "postgresql"]
    stdlib = sorted(line for line in wanted if line.startswith("import ")) + [
        line for line in wanted if line.startswith("from ")
    ]
    third = [SA_IMPORTS[0], *([IMPORTS["postgresql"]] if "postgresql" in used else []), SA_IMPORTS[1]]
    return (
        "from __future__ import annotations\n\n"
        + "".join(f"{line}\n" for line in stdlib)
        + "\n" * bool(stdlib)
        + "\n".join(third)
    )


def _names(body: str) -> set[str]:
    """The names the generated code uses (never a word of a string or a comment)."""
    tokens = tokenize.generate_tokens(io.StringIO(body).readline)
    return {t.string for t in tokens if t.type == tokenize.NAME}


def _base(spec: Spec) -> str:
    tenants = f"the template {spec.tenants.template} and every schema matching {spec.tenants.pattern}"
    lines = [
        "class Base(DeclarativeBase):",
        '    """Base.metadata holds every table and enum type of the spec, in no schema:',
        '    the tenant schema is chosen at run time (schema_translate_map)."""',
    ]
    return "\n".join([*comment_lines(f"Tenants: {tenants}."), *lines])


def _enum_block(spec: Spec, names: Names) -> list[str]:
    out: list[str] = []
    for name, var in names.enums.items():
        labels = [py_str(label) for label in spec.enums[name]]
        out += layout(call("sa.Enum", *labels, name=py_str(name), metadata="Base.metadata"), head=f"{var} = ")
    return out


def _shared_block(spec: Spec, names: Names) -> list[str]:
    if not names.shared:
        return []
    out = comment_lines(
        "Tables every tenant shares, which the spec does not manage: what the foreign keys to them\n"
        "reference. Their own metadata, so Base.metadata.create_all() never creates them, and a schema\n"
        "of their own, which schema_translate_map={None: ...} leaves where it is."
    )
    out.append("shared_metadata = sa.MetaData()")
    for (schema, table), columns in shared_tables(spec.tables).items():
        node = call(
            "sa.Table",
            py_str(table),
            "shared_metadata",
            *[call("sa.Column", py_str(c)) for c in columns],
            schema=py_str(schema),
        )
        out += layout(node, head=f"{names.shared[(schema, table)]} = ")
    return out


def _table_block(name: str, table: TableSpec, names: Names, taken: set[str]) -> list[str]:
    pk = primary_key_columns(table)
    attributes = set(taken) | DECLARATIVE_NAMES
    columns = [column_code(c, col, pk, names, _unique_name(c, attributes)) for c, col in table.columns.items()]
    args = table_args(name, table, names)
    note = comment_lines(f"{name}: {DOTTED_NOTE}") if dotted_targets(name, table) else []
    if not pk:
        return note + _core_table(name, table, columns, args, taken)
    out = [*note, f"class {_unique_name(_camel(name), taken)}(Base):", f"    __tablename__ = {py_str(name)}"]
    if table.comment is not None:
        args.append(mapping([("comment", py_str(table.comment))]))
    if args:
        out += layout(seq("(", args, ")"), 1, "__table_args__ = ")
    out.append("")
    for col in columns:
        items = ([py_str(col.column)] if col.attribute != col.column else []) + list(col.items)
        out += _mapped_lines(col, call("mapped_column", *items, **dict(col.options)))
    return out


def _mapped_lines(col: ColumnCode, node: Node) -> list[str]:
    """``attribute: Mapped[type] = mapped_column(…)``; where even its head is too long for a line, the
    annotation is split first, as ruff splits it."""
    python = f"{col.type.python}{'' if col.not_null else ' | None'}"
    head = f"{col.attribute}: Mapped[{python}] = "
    lines = layout(node, 1, head)
    if len(lines) == 1 or width(INDENT + head + "mapped_column(") <= WIDTH:
        return lines
    return [f"{INDENT}{col.attribute}: Mapped[", f"{INDENT * 2}{python}", *layout(node, 1, "] = ", force=True)]


def _core_table(name: str, table: TableSpec, columns: list[ColumnCode], args: list[Node], taken: set[str]) -> list[str]:
    comment = table.comment
    items: list[Node] = [py_str(name), "Base.metadata"]
    for col in columns:
        options = dict(col.options) | ({"nullable": "False"} if col.not_null else {})
        items.append(call("sa.Column", py_str(col.column), *col.items, **options))
    items += args
    node = call("sa.Table", *items, comment=py_str(comment) if comment is not None else None)
    var = _unique_name(f"{name}_table", taken)
    note = comment_lines(f"{name} has no primary key, without which the ORM maps no class: a Core table.")
    return note + layout(node, head=f"{var} = ")


def _camel(name: str) -> str:
    parts = [p for p in re.split(r"[\W_]+", name) if p]
    return "".join(p[:1].upper() + p[1:] for p in parts) or "Table"


def _unique_name(name: str, taken: set[str]) -> str:
    """``name`` as a Python identifier no other name of its scope takes: characters Python refuses as
    ``_``, a keyword or a taken name with ``_`` appended, then ``2``, ``3`` … until it is free."""
    base = "".join(ch if ("_" + ch).isidentifier() else "_" for ch in name) or "_"
    if not base.isidentifier():  # starts with a digit
        base = "n" + base
    if base.startswith("__") or base.startswith("_sa_"):  # mangled by Python, or SQLAlchemy's own
        base = "n" + base
    if keyword.iskeyword(base) or base in taken:
        base += "_"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}{n}", n + 1
    taken.add(candidate)
    return candidate
