"""Write a spec from a live database (``schemadiff inspect``), then group every tenant against it.

:func:`inspect_schema` reads one schema (the template, or ``source``) in one read-only snapshot:
the tables named (or all of its tables), the tables their tenant-local foreign keys reach, the
enum types they use, and what the catalog holds beyond the model; it returns the spec as a draft
and as YAML text. :func:`validated_spec` loads that text as any spec is loaded;
:func:`compare_tenants` plans every tenant against it (the plan's own grouping), so drift shows
on the first day.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import psycopg

from schemadiff.core.model import Table
from schemadiff.core.plan import Plan
from schemadiff.errors import DatabaseError, SchemadiffError, SpecError, first_line
from schemadiff.pg import connection
from schemadiff.pg.introspect import introspect, list_schemas, select_tenants
from schemadiff.pg.inventory import Inventory, read_inventory, table_extras, tables_present
from schemadiff.pg.normalize import target_model
from schemadiff.render.spec_yaml import render_spec_yaml
from schemadiff.spec.draft import Note, SpecDraft
from schemadiff.spec.from_live import TableInput, draft_table, spec_type
from schemadiff.spec.live_keys import LiveContext, reference
from schemadiff.spec.schema import LoadedSpec, parse_located
from schemadiff.text import did_you_mean
from schemadiff.workflow.planning import dev_connection, plan_from, read_tenants

# tables Alembic and schemadiff keep in the template for themselves: never part of a spec
OWN_TABLES = ("alembic_version", "schemadiff_ledger")


@dataclass
class Inspected:
    draft: SpecDraft
    text: str  # the spec as YAML
    pattern_guessed: bool


@dataclass
class _Reading:
    """What one snapshot of the schema read gives."""

    source: str
    template: str
    tenants: list[str]  # the tenant schemas other than the template
    inventory: Inventory
    explicit: bool  # tables named by the caller, not all of the schema's


def inspect_schema(
    url: str,
    template: str = "public",
    pattern: str | None = None,
    source: str | None = None,
    tables: list[str] | None = None,
    json_schema: bool = True,
) -> Inspected:
    """The spec of ``tables`` (default: every table) of ``source`` (default: the template);
    ``json_schema``: with the editors' modeline to ./schemadiff.schema.json."""
    try:
        with connection.connect(url) as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            names = list_schemas(conn)
            guessed = pattern is None
            pattern = pattern if pattern is not None else guess_pattern(names, template)
            source = source or template
            if source not in names:
                raise SchemadiffError(f"schema '{source}' is not in the database{did_you_mean(source, names)}")
            tenants = [s for s in select_tenants(names, template, pattern) if s != template]
            reading = _Reading(source, template, tenants, read_inventory(conn, source), tables is not None)
            draft = _draft(conn, reading, pattern, tables)
    except psycopg.Error as exc:
        raise DatabaseError(connection.redact(f"database error: {first_line(exc)}", url)) from None
    return Inspected(draft, render_spec_yaml(draft, json_schema), guessed)


def guess_pattern(schemas: list[str], template: str) -> str:
    """``^user_[0-9]+$`` for the prefix most schema names share before a number."""
    prefixes = Counter(m.group(1) for s in schemas if s != template and (m := re.fullmatch(r"(.*?)[0-9]+", s)))
    if not prefixes:
        raise SchemadiffError(
            "no schema name ends in a number, so no tenant pattern can be guessed: pass --pattern REGEX "
            "(a regular expression matching the whole name of every tenant schema)"
        )
    prefix = max(sorted(prefixes), key=lambda p: prefixes[p])
    return f"^{re.escape(prefix)}[0-9]+$"


def _draft(conn: psycopg.Connection, reading: _Reading, pattern: str, tables: list[str] | None) -> SpecDraft:
    draft = SpecDraft(reading.template, pattern, reading.source)
    chosen = _named(reading, tables) if tables is not None else _all_tables(conn, reading, draft)
    live, included, shared, enum_labels = _with_referenced(conn, reading, chosen)
    used = {spec_type(c.type, reading.inventory.enums) for t in live.values() for c in t.columns}
    written = [e for e in reading.inventory.enums if e in used or not reading.explicit]
    draft.enums = {e: list(enum_labels.get(e, ())) for e in written}
    unplannable = {t: why for t, why in reading.inventory.tables.items() if why}
    ctx = LiveContext(reading.template, enum_labels, frozenset(shared), unplannable)
    extras = table_extras(conn, reading.source, list(live))
    for name, table in live.items():
        table_draft = draft_table(TableInput(table, tuple(extras.get(name, ()))), ctx)
        if name in included:
            table_draft.notes.insert(0, Note(f"written because {included[name]} references it"))
        draft.tables.append(table_draft)
    if not draft.tables:
        raise SchemadiffError(f"schema {reading.source} has no table to write a spec of")
    return draft


def _named(reading: _Reading, tables: list[str]) -> list[str]:
    for name in tables:
        if name not in reading.inventory.tables:
            hint = did_you_mean(name, list(reading.inventory.tables))
            raise SchemadiffError(f"table '{name}' is not in schema {reading.source}{hint}")
    return list(dict.fromkeys(tables))


def _all_tables(conn: psycopg.Connection, reading: _Reading, draft: SpecDraft) -> list[str]:
    """Every plain table of the schema but schemadiff's and Alembic's own, the unplannable ones,
    and (read from the template) those no tenant has, each left out with a note atop the file."""
    found = reading.inventory.tables
    own = [t for t in found if t in OWN_TABLES]
    odd = {t: why for t, why in found.items() if why and t not in own}
    candidates = [t for t in found if t not in own and t not in odd]
    alone: list[str] = []
    if reading.source == reading.template and reading.tenants:
        present = tables_present(conn, reading.tenants, candidates)
        alone = [t for t in candidates if t not in present]
    if own:
        draft.notes.append(Note(f"left out: {', '.join(own)} (kept by Alembic and schemadiff themselves)"))
    for table, why in odd.items():
        draft.notes.append(Note(f"left out: {table} is {why}; schemadiff plans plain (logged, unpartitioned) tables"))
    if alone:
        draft.notes.append(
            Note(
                f"left out: {', '.join(alone)} (in {reading.template} only, in no tenant: a table the tenants share?); "
                "name it with --tables to manage it in every tenant"
            )
        )
    for kind, name in reading.inventory.others:
        draft.notes.append(Note(f"{kind} {name} (the spec manages tables and enum types only; left as it is)"))
    return [t for t in candidates if t not in alone]


def _with_referenced(
    conn: psycopg.Connection, reading: _Reading, chosen: list[str]
) -> tuple[dict[str, Table], dict[str, str], set[str], dict[str, tuple[str, ...]]]:
    """The live tables chosen plus those their foreign keys reach in the same schema (a tenant-local
    key needs its table in the spec), except, read from the template, a table no tenant has: that
    one is shared (``schema: <template>``). Returns the tables, {included: by which key}, shared,
    and the labels of the schema's enum types."""
    live: dict[str, Table] = {}
    enums: dict[str, tuple[str, ...]] = {}
    included: dict[str, str] = {}
    shared: set[str] = set()
    todo = list(chosen)
    while todo:
        model = introspect(conn, [reading.source], todo, enums=reading.inventory.enums).models[reading.source]
        live.update((t.name, t) for t in model.tables)
        enums.update((e.name, e.labels) for e in model.enums)
        reached = {
            ref[1]: f"{t.name}.{c.name}"
            for t in model.tables
            for c in t.constraints
            if (ref := reference(c)) is not None and ref[0] is None and ref[1] not in live and ref[1] not in shared
        }
        todo = []
        if reached and reading.source == reading.template and reading.tenants:
            present = tables_present(conn, reading.tenants, list(reached))
            shared |= {t for t in reached if t not in present}
        for name, by in reached.items():
            if name not in shared and name in reading.inventory.tables and not reading.inventory.tables[name]:
                included[name] = by
                todo.append(name)
    return live, included, shared, enums


def validated_spec(text: str, name: str) -> LoadedSpec:
    """The written spec loaded as every spec is; a problem there is a bug of inspect."""
    try:
        spec, located = parse_located(text, name)
    except SpecError as exc:
        problems = "; ".join(str(p) for p in exc.problems)
        raise SchemadiffError(f"the written spec does not validate (a bug of schemadiff inspect): {problems}") from None
    return LoadedSpec(spec, name, hashlib.sha256(text.encode("utf-8")).hexdigest(), located)


def compare_tenants(
    loaded: LoadedSpec, url: str, dev_url: str | None = None, notice: Callable[[str], None] = lambda _m: None
) -> Plan:
    """The plan of every tenant against the written spec: its groups are how the tenants differ."""
    try:
        with connection.connect(url) as conn:
            _schemas, tenants = read_tenants(conn, loaded)
            target = target_model(conn, loaded, lambda: dev_connection(dev_url), notice)
            return plan_from(loaded, tenants, target)
    except psycopg.Error as exc:
        raise DatabaseError(connection.redact(f"database error: {first_line(exc)}", url)) from None
