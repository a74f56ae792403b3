"""The normalized schema model shared by the spec and the live database.

Both sources become the same frozen dataclasses with the owning schema's name stripped,
so ``public`` and ``user_42`` compare directly. Nothing here does I/O.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any

NOT_VALID = " NOT VALID"  # what pg_get_constraintdef appends exactly when convalidated is false


_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple[Any, ...]:
    """``user_2`` sorts before ``user_10``."""
    parts: list[Any] = _DIGITS.split(name)  # the runs of digits at the odd places
    parts[1::2] = map(int, parts[1::2])
    return tuple(parts)


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool = True
    default: str | None = None
    identity: str = ""  # "" none, "d" BY DEFAULT, "a" ALWAYS
    comment: str | None = None
    generated: str | None = None  # the expression of a STORED generated column (then no default)
    collation: str | None = None  # its collation's name where it is not its type's default
    # an identity's sequence START WITH / INCREMENT BY, None for PostgreSQL's default 1
    identity_start: int | None = None
    identity_increment: int | None = None
    # an identity's sequence name where it is not the one PostgreSQL derives, ``<table>_<column>_seq``
    # (a table or column renamed since: see core/identity_sequences.py)
    identity_sequence: str | None = None

    @property
    def identity_options(self) -> tuple[int, int]:
        """(start, increment), PostgreSQL's defaults filled in."""
        return (self.identity_start or 1, self.identity_increment or 1)


# left out of plain data while None: fingerprints and embedded models of columns without them
# read as they did before these fields existed
OPTIONAL_COLUMN_FIELDS = ("generated", "collation", "identity_start", "identity_increment", "identity_sequence")


# left out of plain data while they hold their defaults: fingerprints and embedded models of plain
# tables read as they did before these fields existed
OPTIONAL_TABLE_FIELDS = ("unlogged", "partition_by", "partitions")  # False, None, ()


def table_data(table: Table) -> dict[str, Any]:
    """``asdict(table)`` without the table fields it does not use, its columns as ``column_data``."""
    data = asdict(table)
    for key in OPTIONAL_TABLE_FIELDS:
        if not data[key]:
            del data[key]
    data["columns"] = [column_data(c) for c in table.columns]
    return data


def relation_names(model: SchemaModel) -> list[str]:
    """The names introspection reads for ``model``: its tables, then the partitions it names."""
    return [t.name for t in model.tables] + [p.name for t in model.tables for p in t.partitions]


def column_data(col: Column) -> dict[str, Any]:
    """``asdict(col)`` without the optional fields it does not use, so the fingerprints and the
    revisions of columns without them stay what they were before those fields existed."""
    data = asdict(col)
    for key in OPTIONAL_COLUMN_FIELDS:
        if data[key] is None:
            del data[key]
    return data


@dataclass(frozen=True)
class Index:
    name: str
    unique: bool
    tail: str  # pg_get_indexdef after "ON schema.table": "USING btree (a, b) WHERE …", schema stripped
    valid: bool = True
    # how the spec wrote it: used to create it, never compared (PostgreSQL's deparse of its own
    # deparse can differ, e.g. for IN lists), so created objects read back equal to the target
    source: str | None = field(default=None, compare=False)
    uses: tuple[str, ...] = field(default=(), compare=False)  # the columns it uses (live), never compared


@dataclass(frozen=True)
class Constraint:
    name: str
    kind: str  # "p" primary key, "u" unique, "c" check, "f" foreign key, "x" exclusion
    definition: str  # pg_get_constraintdef with the schema stripped
    # how to create it: the spec's text, or for a live CHECK whose printed text PostgreSQL would
    # store differently, a text that it stores as this very definition (see constraintdef.py)
    source: str | None = field(default=None, compare=False)
    uses: tuple[str, ...] = field(default=(), compare=False)  # the columns it uses (live), never compared

    @property
    def valid(self) -> bool:
        """False for a constraint added NOT VALID and not validated since: PostgreSQL prints it
        (and so the model keeps it, fingerprints included) with a trailing `` NOT VALID``."""
        return not self.definition.endswith(NOT_VALID)

    def validated(self) -> Constraint:
        """The same constraint once ``VALIDATE CONSTRAINT`` has run."""
        source = self.source.removesuffix(NOT_VALID) if self.source else None
        return replace(self, definition=self.definition.removesuffix(NOT_VALID), source=source)


# constraint kinds the spec cannot declare: never changed, listed as unmanaged, out of fingerprints.
# None since issue 10 (foreign keys, then exclusion constraints, were): kept for a kind to come.
UNMANAGED_KINDS: tuple[str, ...] = ()
CONSTRAINT_KINDS = {"p": "primary key", "u": "unique", "c": "check", "f": "foreign key", "x": "exclusion"}


@dataclass(frozen=True)
class Partition:
    """A partition of a partitioned table that the spec names: its bound as PostgreSQL prints it
    (``FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')``, ``DEFAULT``). It has its parent's columns,
    constraints and indexes; live partitions the spec does not name are not in the model at all."""

    name: str
    bound: str


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...] = ()
    indexes: tuple[Index, ...] = ()
    constraints: tuple[Constraint, ...] = ()
    comment: str | None = None
    unlogged: bool = False  # CREATE UNLOGGED TABLE
    partition_by: str | None = None  # the partition key as pg_get_partkeydef prints it: "RANGE (created_at)"
    partitions: tuple[Partition, ...] = ()  # the partitions the spec names that exist, by name

    def partition(self, name: str) -> Partition | None:
        return next((p for p in self.partitions if p.name == name), None)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    def index(self, name: str) -> Index | None:
        return next((i for i in self.indexes if i.name == name), None)

    def constraint(self, name: str) -> Constraint | None:
        return next((c for c in self.constraints if c.name == name), None)


@dataclass(frozen=True)
class EnumType:
    """An enum type of the tenant's own schema that the spec names (``enums:``), labels in order."""

    name: str
    labels: tuple[str, ...]


@dataclass(frozen=True)
class SchemaModel:
    """The managed tables of one schema; a managed table absent live is simply missing. ``enums``
    holds the managed enum types present in the schema (none unless the spec names some)."""

    tables: tuple[Table, ...] = ()
    enums: tuple[EnumType, ...] = ()

    def table(self, name: str) -> Table | None:
        return next((t for t in self.tables if t.name == name), None)

    def enum(self, name: str) -> EnumType | None:
        return next((e for e in self.enums if e.name == name), None)


def unmanaged(constraint: Constraint, target: Table) -> bool:
    """A live constraint the spec cannot express and does not name: schemadiff leaves it alone."""
    return constraint.kind in UNMANAGED_KINDS and target.constraint(constraint.name) is None


def managed_state(model: SchemaModel) -> SchemaModel:
    """``model`` without the constraints the spec cannot express (what fingerprints compare)."""
    if not any(c.kind in UNMANAGED_KINDS for t in model.tables for c in t.constraints):
        return model
    return replace(
        model,
        tables=tuple(
            replace(t, constraints=tuple(c for c in t.constraints if c.kind not in UNMANAGED_KINDS))
            for t in model.tables
        ),
    )


@dataclass(frozen=True)
class TableStats:
    """Size estimates read in the same catalog pass; never part of a fingerprint."""

    rows: int = 0


@dataclass
class LiveSchemas:
    """Every tenant schema's model plus the per-table statistics, in natural order."""

    models: dict[str, SchemaModel] = field(default_factory=dict)
    stats: dict[tuple[str, str], TableStats] = field(default_factory=dict)


def model_to_dict(model: SchemaModel) -> list[dict[str, Any]]:
    """Plain data for embedding a model in a revision (see ``model_from_dict``): one object per
    table, then one per enum type (``{"enum": name, "labels": [...]}``)."""
    return [_table_data(t) for t in model.tables] + [{"enum": e.name, "labels": list(e.labels)} for e in model.enums]


def _table_data(table: Table) -> dict[str, Any]:
    data = table_data(table)
    for key in ("indexes", "constraints"):  # what they use is read live, never carried
        for item in data[key]:
            del item["uses"]
    return data


def model_from_dict(data: list[dict[str, Any]]) -> SchemaModel:
    tables = []
    enums = tuple(EnumType(e["enum"], tuple(e["labels"])) for e in data if "enum" in e)
    for t in (t for t in data if "enum" not in t):
        tables.append(
            Table(
                name=t["name"],
                columns=tuple(Column(**c) for c in t["columns"]),
                indexes=tuple(Index(**i) for i in t["indexes"]),
                constraints=tuple(Constraint(**c) for c in t["constraints"]),
                comment=t.get("comment"),
                unlogged=t.get("unlogged", False),
                partition_by=t.get("partition_by"),
                partitions=tuple(Partition(**p) for p in t.get("partitions", ())),
            )
        )
    return SchemaModel(tuple(tables), enums)
