"""A live table's constraints and indexes → the spec's keys for them (``schemadiff inspect``). Pure.

pglast parses what ``pg_get_constraintdef`` / ``pg_get_indexdef`` printed, to tell each part (a
column or an expression, an operator class, a sort order, DEFERRABLE …); ``spec.printed_sql``
cuts the printed text so that expressions keep PostgreSQL's spelling. A constraint named as the
spec names its shorthands (``<table>_pkey``, ``<table>_<column>_key``, ``<table>_<column>_fkey``,
``ck_<table>_<column>`` for an ``enum:`` CHECK) becomes the shorthand on its column; any other
becomes an entry of ``checks``, ``uniques``, ``foreign_keys``, ``exclusions`` or ``indexes``. What
the spec cannot say is left out (or written in its nearest form) with a note.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pglast import ast, parse_sql
from pglast.enums import ConstrType, SortByDir, SortByNulls
from pglast.parser import ParseError

from schemadiff.core.constraintdef import creatable
from schemadiff.core.model import NOT_VALID, Constraint, Index, Table
from schemadiff.core.sqltext import quote_ident, quote_literal
from schemadiff.spec.draft import TableDraft
from schemadiff.spec.fragments import check_expression
from schemadiff.spec.printed_sql import find_top, group, rfind_top, split_top, unwrap

ACTIONS = {"a": "no action", "r": "restrict", "c": "cascade", "n": "set null", "d": "set default"}
INDEX_METHODS = ("btree", "hash", "gin", "gist", "brin", "spgist")
EXCLUSION_METHODS = ("gist", "spgist", "btree", "hash")


@dataclass(frozen=True)
class LiveContext:
    """What writing one table needs to know of the others."""

    template: str
    enums: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # enum types of the schema read
    # tables of the schema read that its foreign keys reach as a table every tenant shares
    shared: frozenset[str] = frozenset()
    # tables of the schema read that schemadiff does not plan: why (partitioned …)
    unplannable: Mapping[str, str] = field(default_factory=dict)


class Unsupported(ValueError):
    """What the spec cannot say about a constraint or an index."""


def parse_constraint(definition: str) -> ast.Constraint:
    """The pglast node of a ``pg_get_constraintdef`` text; Unsupported when pglast's grammar
    does not take it (a form newer than it)."""
    try:
        statement = parse_sql(f"ALTER TABLE t ADD CONSTRAINT c {definition}")[0].stmt
    except ParseError as exc:
        raise Unsupported(f"not understood ({exc})") from None
    assert isinstance(statement, ast.AlterTableStmt) and statement.cmds
    node = statement.cmds[0].def_
    assert isinstance(node, ast.Constraint)
    return node


def reference(constraint: Constraint) -> tuple[str | None, str] | None:
    """(schema or None for the table's own, table) a foreign key references; None otherwise."""
    if constraint.kind != "f":
        return None
    try:
        node = parse_constraint(constraint.definition)
    except Unsupported:
        return None
    return _referenced(node)


def _referenced(node: ast.Constraint) -> tuple[str | None, str]:
    assert node.pktable is not None and node.pktable.relname is not None
    return (node.pktable.schemaname, node.pktable.relname)


def add_constraints(draft: TableDraft, table: Table, ctx: LiveContext) -> None:
    handlers = {"p": _primary_key, "u": _unique, "c": _check, "f": _foreign_key, "x": _exclusion}
    for con in table.constraints:
        definition = con.definition.removesuffix(NOT_VALID)
        try:
            _columns_written(draft, con.uses)
            handlers[con.kind](draft, con, definition, parse_constraint(definition), ctx)
        except Unsupported as exc:
            draft.note(f"constraint {con.name} left out: {exc}; the plan would drop it: {con.definition}", True)
            continue
        if not con.valid:
            draft.note(
                f"constraint {con.name} is NOT VALID here; the spec's constraints are validated, so the plan validates it",
                True,
            )


def _columns_written(draft: TableDraft, uses: tuple[str, ...]) -> None:
    missing = [c for c in uses if c not in draft.columns]
    if missing:
        raise Unsupported(f"it uses column {missing[0]}, which is left out")


def _names(nodes: Any) -> list[str]:
    return [n.sval for n in nodes or ()]


def _refuse(node: ast.Constraint, *what: str) -> None:
    found = [w for w in what if getattr(node, w, None)]
    labels = {
        "including": "INCLUDE columns",
        "options": "storage parameters",
        "indexspace": "a tablespace",
        "is_no_inherit": "NO INHERIT",
        "deferrable": "DEFERRABLE",
        "without_overlaps": "WITHOUT OVERLAPS",
        "fk_del_set_cols": "ON DELETE SET NULL/DEFAULT of some columns",
    }
    if found:
        raise Unsupported(f"the spec cannot say {', '.join(labels[w] for w in found)}")
    if getattr(node, "is_enforced", True) is False and node.contype in (
        ConstrType.CONSTR_CHECK,
        ConstrType.CONSTR_FOREIGN,
    ):
        raise Unsupported("the spec cannot say NOT ENFORCED")


def _primary_key(draft: TableDraft, con: Constraint, text: str, node: ast.Constraint, ctx: LiveContext) -> None:
    columns = _names(node.keys)
    other = [w for w in ("including", "options", "indexspace", "deferrable") if getattr(node, w, None)]
    if other:
        draft.note(f"primary key {con.name} has {', '.join(other)} ({text}): written as a plain primary key", True)
    if con.name != f"{draft.name}_pkey":
        draft.note(
            f"primary key {con.name}: the spec names a primary key {draft.name}_pkey, so the plan drops it and "
            "adds it under that name",
            True,
        )
    if len(columns) == 1 and columns[0] in draft.columns:
        draft.columns[columns[0]]["primary_key"] = True
    else:
        draft.primary_key = columns


def _unique(draft: TableDraft, con: Constraint, text: str, node: ast.Constraint, ctx: LiveContext) -> None:
    _refuse(node, "including", "options", "indexspace", "without_overlaps")
    columns = _names(node.keys)
    plain = not (node.nulls_not_distinct or node.deferrable)
    if plain and len(columns) == 1 and con.name == f"{draft.name}_{columns[0]}_key" and columns[0] in draft.columns:
        draft.columns[columns[0]]["unique"] = True
        return
    entry: dict[str, Any] = {"columns": columns}
    entry.update({"nulls_not_distinct": True} if node.nulls_not_distinct else {})
    entry.update(_deferral(node))
    draft.sections["uniques"][con.name] = entry


def _deferral(node: ast.Constraint) -> dict[str, Any]:
    if not node.deferrable:
        return {}
    return {"deferrable": True, "initially_deferred": True} if node.initdeferred else {"deferrable": True}


def _check(draft: TableDraft, con: Constraint, text: str, node: ast.Constraint, ctx: LiveContext) -> None:
    _refuse(node, "is_no_inherit")
    for column, keys in draft.columns.items():
        values = enum_values(text, column, keys["type"])
        if values is None:
            continue
        if con.name == f"ck_{draft.name}_{column}" and "enum" not in keys:
            keys["enum"] = values
            return
        # what the spec's enum: writes, under another name: as readable as it
        draft.sections["checks"][con.name] = f"{quote_ident(column)} IN ({', '.join(map(quote_literal, values))})"
        return
    body = unwrap(group(creatable(text) or text)[0])
    _expression(body)
    draft.sections["checks"][con.name] = body


def _expression(text: str) -> None:
    try:
        check_expression(text)
    except ValueError as exc:
        raise Unsupported(f"its expression is no spec fragment ({exc})") from None


def enum_values(definition: str, column: str, type_: str) -> list[str] | None:
    """The values of a CHECK the spec writes for ``enum:`` (``column IN (…)``) on a ``text`` or
    ``varchar`` column, when ``definition`` is exactly what PostgreSQL prints for it; else None."""
    node = parse_constraint(definition).raw_expr
    values = _string_constants(node)
    if not values:
        return None
    return values if definition == _enum_definition(column, type_, values) else None


def _string_constants(node: Any) -> list[str]:
    """The string constants of ``x = ANY (ARRAY[…])`` or ``x = '…'``, loosely (checked by text after)."""
    if not isinstance(node, ast.A_Expr):
        return []
    right = node.rexpr.arg if isinstance(node.rexpr, ast.TypeCast) else node.rexpr
    items = right.elements if isinstance(right, ast.A_ArrayExpr) else (right,)
    out = []
    for item in items or ():
        const = item.arg if isinstance(item, ast.TypeCast) else item
        if not isinstance(const, ast.A_Const) or not isinstance(const.val, ast.String):
            return []
        out.append(str(const.val.sval))
    return out


def _enum_definition(column: str, type_: str, values: list[str]) -> str | None:
    """What PostgreSQL prints for ``CHECK (column IN (values))`` (one value: ``column = value``)."""
    col = quote_ident(column)
    if type_ == "text":
        if len(values) == 1:
            return f"CHECK (({col} = {quote_literal(values[0])}::text))"
        return f"CHECK (({col} = ANY (ARRAY[{', '.join(quote_literal(v) + '::text' for v in values)}])))"
    if type_.startswith("varchar"):
        if len(values) == 1:
            return f"CHECK ((({col})::text = {quote_literal(values[0])}::text))"
        items = ", ".join(f"{quote_literal(v)}::character varying" for v in values)
        return f"CHECK ((({col})::text = ANY ((ARRAY[{items}])::text[])))"
    return None


def _foreign_key(draft: TableDraft, con: Constraint, text: str, node: ast.Constraint, ctx: LiveContext) -> None:
    _refuse(node, "fk_del_set_cols")
    if node.fk_matchtype not in ("s", "\x00", None):
        raise Unsupported("the spec cannot say MATCH FULL")
    columns, ref_columns = _names(node.fk_attrs), _names(node.pk_attrs)
    own, table = _referenced(node)
    if own is None and table in ctx.unplannable:
        raise Unsupported(f"it references {table}, which is {ctx.unplannable[table]} (schemadiff plans plain tables)")
    schema = own or (ctx.template if table in ctx.shared else None)
    entry: dict[str, Any] = {"columns": columns, "references": {"table": table, "columns": ref_columns}}
    if schema is not None:
        entry["references"]["schema"] = schema
    actions = {
        key: ACTIONS[code]
        for key, code in (("on_delete", node.fk_del_action), ("on_update", node.fk_upd_action))
        if code in ACTIONS and code != "a"
    }
    entry.update(actions)
    entry.update(_deferral(node))
    names = [*columns, table, *ref_columns, *([schema] if schema else [])]
    short = len(columns) == 1 and len(entry) == 2 and not any("." in n for n in names)
    if short and con.name == f"{draft.name}_{columns[0]}_fkey" and columns[0] in draft.columns:
        draft.columns[columns[0]]["references"] = ".".join([*([schema] if schema else []), table, ref_columns[0]])
        return
    draft.sections["foreign_keys"][con.name] = entry


def _exclusion(draft: TableDraft, con: Constraint, text: str, node: ast.Constraint, ctx: LiveContext) -> None:
    _refuse(node, "including", "options", "indexspace")
    if node.access_method not in EXCLUSION_METHODS:
        raise Unsupported(f"the spec has no exclusion constraint using {node.access_method}")
    printed = split_top(group(text)[0])
    elements = []
    for (elem, operator), part in zip(node.exclusions or (), printed, strict=True):
        if _elem_extras(elem) or len(operator) != 1:
            raise Unsupported("the spec cannot say an operator class, collation or order of an element")
        if elem.name is not None:
            elements.append({"column": elem.name, "operator": operator[0].sval})
        else:
            expression = unwrap(part[: rfind_top(part, " WITH ")])
            _expression(expression)
            elements.append({"expression": expression, "operator": operator[0].sval})
    entry: dict[str, Any] = {} if node.access_method == "gist" else {"using": node.access_method}
    entry["elements"] = elements
    if node.where_clause is not None:
        entry["where"] = unwrap(group(text, find_top(text, " WHERE "))[0])
        _expression(entry["where"])
    entry.update(_deferral(node))
    draft.sections["exclusions"][con.name] = entry


def _elem_extras(elem: ast.IndexElem) -> bool:
    ordered = elem.ordering not in (None, SortByDir.SORTBY_DEFAULT)
    nulls = elem.nulls_ordering not in (None, SortByNulls.SORTBY_NULLS_DEFAULT)
    return bool(elem.collation or elem.opclass or elem.opclassopts or ordered or nulls)


def add_indexes(draft: TableDraft, table: Table) -> None:
    for index in table.indexes:
        try:
            _columns_written(draft, index.uses)
            draft.sections["indexes"][index.name] = index_entry(index)
        except Unsupported as exc:
            draft.note(f"index {index.name} left out: {exc}; the plan would drop it: {index.tail}", True)
            continue
        if not index.valid:
            draft.note(f"index {index.name} is INVALID here (a failed concurrent build?): the plan rebuilds it", True)


def index_entry(index: Index) -> dict[str, Any]:
    """``{columns, expressions, include, unique, using, where}`` of a live index (defaults left out)."""
    unique = "UNIQUE " if index.unique else ""
    try:
        node = parse_sql(f"CREATE {unique}INDEX i ON t {index.tail}")[0].stmt
    except ParseError as exc:
        raise Unsupported(f"not understood ({exc})") from None
    assert isinstance(node, ast.IndexStmt)
    if node.accessMethod not in INDEX_METHODS:
        raise Unsupported(f"the spec has no index using {node.accessMethod}")
    for what, label in (("options", "storage parameters"), ("tableSpace", "a tablespace")):
        if getattr(node, what, None):
            raise Unsupported(f"the spec cannot say {label}")
    if node.nulls_not_distinct:
        raise Unsupported("the spec cannot say NULLS NOT DISTINCT on an index (a uniques entry can)")
    columns, expressions = _index_keys(node, split_top(group(index.tail)[0]))
    entry: dict[str, Any] = {"columns": columns} if columns else {}
    entry.update({"expressions": expressions} if expressions else {})
    include = [e.name for e in node.indexIncludingParams or ()]
    entry.update({"include": include} if include else {})
    entry.update({"unique": True} if index.unique else {})
    entry.update({"using": node.accessMethod} if node.accessMethod != "btree" else {})
    if node.whereClause is not None:
        entry["where"] = unwrap(index.tail[find_top(index.tail, " WHERE ") + len(" WHERE ") :])
        _expression(entry["where"])
    return entry


def _index_keys(node: ast.IndexStmt, printed: list[str]) -> tuple[list[Any], list[str]]:
    columns: list[Any] = []
    expressions: list[str] = []
    for elem, text in zip(node.indexParams or (), printed, strict=True):
        if elem.name is None:
            if _elem_extras(elem):
                raise Unsupported("the spec cannot say a collation, operator class or order of an expression key")
            expressions.append(unwrap(text))
            _expression(expressions[-1])
            continue
        if expressions:
            raise Unsupported("the spec writes key columns before key expressions, this index has one after")
        columns.append(_key_column(elem))
    return columns, expressions


def _key_column(elem: ast.IndexElem) -> Any:
    if elem.opclassopts:
        raise Unsupported("the spec cannot say operator class parameters")
    key: dict[str, Any] = {"name": elem.name}
    if elem.ordering == SortByDir.SORTBY_DESC:
        key["order"] = "desc"
    elif elem.ordering == SortByDir.SORTBY_ASC:
        key["order"] = "asc"
    if elem.nulls_ordering == SortByNulls.SORTBY_NULLS_FIRST:
        key["nulls"] = "first"
    elif elem.nulls_ordering == SortByNulls.SORTBY_NULLS_LAST:
        key["nulls"] = "last"
    opclass, collation = _names(elem.opclass), _names(elem.collation)
    if len(opclass) > 1 or len(collation) > 1:
        raise Unsupported("the spec names an operator class or collation without a schema")
    key.update({"opclass": opclass[0]} if opclass else {})
    key.update({"collation": collation[0]} if collation else {})
    return elem.name if len(key) == 1 else key
