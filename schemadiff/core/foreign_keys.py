"""Foreign keys: their structure, the text that creates one, the guard counting the rows that break
one, and the order of foreign-key ops. Pure.

A foreign key's definition is PostgreSQL's ``pg_get_constraintdef`` with the tenant's own schema
stripped: ``FOREIGN KEY (job_id) REFERENCES jobs(id)`` points into the same tenant (tenant-local),
``… REFERENCES public.countries(code)`` at a table of another schema that every tenant shares.
Its structure is read back from that text with PostgreSQL's own parser (``pglast``), never a regex.

Order: a key needs its referenced table and that table's unique key, so every foreign key a plan
adds (or validates) comes after every other op, and every one it drops before them; the
downgrade, being the reverse, drops them first and adds them back last.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

from pglast import ast, parse_sql
from pglast.parser import ParseError

from schemadiff.core.model import Constraint, Table
from schemadiff.core.sqltext import qualify, quote_ident
from schemadiff.core.statements import Statement

FOREIGN_KEY = "f"
ACTIONS = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}


@dataclass(frozen=True)
class ForeignKey:
    """The parts of a foreign key: ``schema`` is None for a tenant-local reference."""

    columns: tuple[str, ...]
    schema: str | None
    table: str
    ref_columns: tuple[str, ...]
    on_delete: str = "NO ACTION"
    on_update: str = "NO ACTION"
    deferrable: bool = False
    initially_deferred: bool = False

    def clause(self) -> str:
        """``FOREIGN KEY (…) REFERENCES t (…) [ON …] [DEFERRABLE …]``, every name quoted as needed."""
        text = (
            f"FOREIGN KEY ({_names(self.columns)}) REFERENCES {qualify(self.schema, self.table)} "
            f"({_names(self.ref_columns)})"
        )
        if self.on_update != "NO ACTION":
            text += f" ON UPDATE {self.on_update}"
        if self.on_delete != "NO ACTION":
            text += f" ON DELETE {self.on_delete}"
        if self.deferrable:
            text += " DEFERRABLE INITIALLY DEFERRED" if self.initially_deferred else " DEFERRABLE"
        return text


def _names(names: tuple[str, ...]) -> str:
    return ", ".join(quote_ident(n) for n in names)


@lru_cache(maxsize=4096)
def parse_foreign_key(definition: str) -> ForeignKey | None:
    """The structure of a ``FOREIGN KEY …`` definition (None for any other text)."""
    if not definition.startswith("FOREIGN KEY"):
        return None
    try:
        statement = parse_sql(f"ALTER TABLE t ADD CONSTRAINT c {definition}")[0].stmt
    except ParseError:
        return None
    assert isinstance(statement, ast.AlterTableStmt) and statement.cmds
    node = statement.cmds[0].def_
    if not isinstance(node, ast.Constraint) or node.pktable is None or node.pktable.relname is None:
        return None
    return ForeignKey(
        columns=tuple(a.sval for a in node.fk_attrs or ()),
        schema=node.pktable.schemaname,
        table=node.pktable.relname,
        ref_columns=tuple(a.sval for a in node.pk_attrs or ()),
        on_delete=ACTIONS.get(node.fk_del_action or "a", "NO ACTION"),
        on_update=ACTIONS.get(node.fk_upd_action or "a", "NO ACTION"),
        deferrable=bool(node.deferrable),
        initially_deferred=bool(node.initdeferred),
    )


def offending_rows_guard(schema: str | None, table: str, constraint: Constraint) -> Statement | None:
    """A query counting the rows of ``table`` whose key matches no referenced row (``MATCH SIMPLE``:
    a key with a NULL part is not checked): a non-zero count fails the tenant with that count,
    before the key is added. None for a constraint that is not a foreign key."""
    key = parse_foreign_key(constraint.definition) if constraint.kind == FOREIGN_KEY else None
    if key is None or len(key.columns) != len(key.ref_columns) or not key.columns:
        return None
    referenced = qualify(key.schema, key.table) if key.schema else qualify(schema, key.table)
    present = " AND ".join(f"c.{quote_ident(c)} IS NOT NULL" for c in key.columns)
    match = " AND ".join(
        f"r.{quote_ident(r)} = c.{quote_ident(c)}" for c, r in zip(key.columns, key.ref_columns, strict=True)
    )
    sql = (
        f"SELECT count(*) FROM {qualify(schema, table)} AS c WHERE {present} "
        f"AND NOT EXISTS (SELECT 1 FROM {referenced} AS r WHERE {match})"
    )
    target = f"{key.schema}.{key.table}" if key.schema else key.table
    return Statement(
        sql,
        guard=f"row(s) of {table} have a ({', '.join(key.columns)}) that {target} does not hold "
        f"(foreign key {constraint.name})",
    )


def without_foreign_keys(table: Table) -> Table:
    """``table`` without its foreign keys (created first; the keys are added once every table is)."""
    if not any(c.kind == FOREIGN_KEY for c in table.constraints):
        return table
    return replace(table, constraints=tuple(c for c in table.constraints if c.kind != FOREIGN_KEY))


def foreign_keys(table: Table) -> tuple[Constraint, ...]:
    return tuple(c for c in table.constraints if c.kind == FOREIGN_KEY)


def shared_references(table: Table) -> list[tuple[ForeignKey, Constraint]]:
    """The table's foreign keys that point at a table of another schema (shared by every tenant)."""
    out = []
    for constraint in foreign_keys(table):
        key = parse_foreign_key(constraint.definition)
        if key is not None and key.schema is not None:
            out.append((key, constraint))
    return out


def referencing_renamed(constraint: Constraint, old: str, new: str) -> Constraint:
    """A tenant-local foreign key to table ``old`` as PostgreSQL prints it once ``old`` is renamed to
    ``new`` (its text names the table by its current name); any other constraint as it is."""
    key = parse_foreign_key(constraint.definition) if constraint.kind == FOREIGN_KEY else None
    if key is None or key.schema is not None or key.table != old:
        return constraint
    head = f"FOREIGN KEY ({_names(key.columns)}) REFERENCES "
    before, after = f"{head}{quote_ident(old)}(", f"{head}{quote_ident(new)}("
    if not constraint.definition.startswith(before):
        return constraint
    source = constraint.source
    if source is not None and source.startswith(before):
        source = after + source[len(before) :]
    return replace(constraint, definition=after + constraint.definition[len(before) :], source=source)
