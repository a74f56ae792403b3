"""UNLOGGED and partitioned tables: the ops that change a table's kind or add a partition, and the
changes PostgreSQL cannot make in place. Pure.

* ``unlogged`` is a switch: ``ALTER TABLE … SET UNLOGGED`` / ``SET LOGGED`` rewrites the table under
  ACCESS EXCLUSIVE either way; going UNLOGGED also gives up crash safety (``not_crash_safe``). A
  live UNLOGGED table the spec does not declare so is drift, set LOGGED.
* A partition key cannot be changed, added or removed on a live table (PostgreSQL has no ALTER for
  it): :func:`kind_problems` names the table and the schemas, and the plan is refused; nothing is
  ever dropped and created behind the user's back.
* A partition the spec names is created where it is missing (``CREATE TABLE … PARTITION OF``); the
  downgrade drops it (``deletes_data``: the rows it received since). One that exists with another
  bound is refused (moving rows between partitions is no schema change). Live partitions the spec
  does not name are not read, so never planned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from schemadiff.core.ddl_clauses import partition_sql
from schemadiff.core.hazards import (
    ACCESS_EXCLUSIVE,
    DELETES_DATA,
    FAILS_ON_EXISTING_ROWS,
    IRREVERSIBLE,
    NOT_CRASH_SAFE,
    REWRITES_TABLE,
)
from schemadiff.core.model import Partition, SchemaModel, Table
from schemadiff.core.ops import Op
from schemadiff.core.sqltext import qualify


@dataclass(frozen=True)
class SetLogged(Op):
    """``ALTER TABLE … SET UNLOGGED`` (``unlogged``) or ``SET LOGGED``."""

    kind: ClassVar[str] = "set_logged"
    table: str
    unlogged: bool

    @property
    def hazards(self) -> tuple[str, ...]:
        rewrite = (ACCESS_EXCLUSIVE, REWRITES_TABLE)  # the whole table is copied (SET LOGGED: into the WAL)
        return (ACCESS_EXCLUSIVE, NOT_CRASH_SAFE, REWRITES_TABLE) if self.unlogged else rewrite

    def sql(self, schema: str | None) -> list[str]:
        return [f"ALTER TABLE {qualify(schema, self.table)} SET {'UNLOGGED' if self.unlogged else 'LOGGED'}"]

    def reverse(self) -> Op:
        return SetLogged(self.table, not self.unlogged)

    def describe(self) -> str:
        if self.unlogged:
            return f"set table {self.table} UNLOGGED (rewritten; a crash empties it)"
        return f"set table {self.table} LOGGED (rewritten into the WAL)"


@dataclass(frozen=True)
class CreatePartition(Op):
    kind: ClassVar[str] = "create_partition"
    table: str  # the partitioned table
    partition: Partition

    @property
    def name(self) -> str:
        return self.partition.name

    @property
    def hazards(self) -> tuple[str, ...]:
        # rows of a DEFAULT partition that belong to the new one make it fail (PostgreSQL checks them)
        return (FAILS_ON_EXISTING_ROWS,) if self.partition.bound != "DEFAULT" else ()

    def sql(self, schema: str | None) -> list[str]:
        return [partition_sql(schema, self.table, self.partition)]

    def reverse(self) -> Op:
        return DropPartition(self.table, self.partition)

    def describe(self) -> str:
        return f"create partition {self.partition.name} of {self.table} {self.partition.bound}"


@dataclass(frozen=True)
class DropPartition(Op):
    kind: ClassVar[str] = "drop_partition"
    table: str
    partition: Partition

    @property
    def name(self) -> str:
        return self.partition.name

    @property
    def hazards(self) -> tuple[str, ...]:
        return (DELETES_DATA, IRREVERSIBLE)

    def sql(self, schema: str | None) -> list[str]:
        return [f"DROP TABLE {qualify(schema, self.partition.name)}"]

    def reverse(self) -> Op:
        return CreatePartition(self.table, self.partition)

    def describe(self) -> str:
        return f"drop partition {self.partition.name} of {self.table} (its rows are lost)"


def diff_kind(current: Table, target: Table) -> list[Op]:
    """``SET LOGGED`` / ``SET UNLOGGED`` where the kind differs (the partition key must not:
    :func:`kind_problems`)."""
    return [SetLogged(target.name, target.unlogged)] if current.unlogged != target.unlogged else []


def new_partitions(current: Table | None, target: Table) -> list[Op]:
    """The partitions ``target`` names that ``current`` lacks (one with another bound: kind_problems)."""
    return [
        CreatePartition(target.name, p)
        for p in target.partitions
        if current is None or current.partition(p.name) is None
    ]


KEY_FIX = (
    "PostgreSQL cannot change a table's partition key in place (there is no ALTER for it), and schemadiff "
    "never drops and recreates a table holding rows: create the table as the spec says and move the rows "
    "by hand, or leave the table out of the spec"
)
BOUND_FIX = "a partition's bound cannot change in place (its rows may not fit): detach it and attach it again by hand"
OWNER_FIX = "a partition belongs to one table: detach it by hand, or name it where it belongs"
ATTACH_FIX = "attach it by hand (ALTER TABLE … ATTACH PARTITION …), or rename it"


def kind_problems(
    current: SchemaModel, target: SchemaModel, renamed: Mapping[str, str] | None = None
) -> list[tuple[str, str]]:
    """(what, the fix) for each reason ``current`` cannot be planned to ``target``: a partition key
    differs (or is added or removed), a partition has another bound, a name the spec gives a
    partition is a partition of another table or a table of its own, or the name of a table it
    declares is a partition. ``renamed``: {new: old} of the declared table renames."""
    out: list[tuple[str, str]] = []
    partitions = {p.name: t.name for t in current.tables for p in t.partitions}
    for table in target.tables:
        live = current.table(table.name) or current.table((renamed or {}).get(table.name, ""))
        if table.name in partitions:
            out.append(
                (f"{table.name} is a partition of {partitions[table.name]}, the spec declares it a table", OWNER_FIX)
            )
        if live is not None and live.partition_by != table.partition_by:
            out.append((_key_problem(table.name, live.partition_by, table.partition_by), KEY_FIX))
        for wanted in table.partitions:
            out += _partition_problems(current, table, wanted, live, partitions.get(wanted.name))
    return out


def _key_problem(table: str, live: str | None, wanted: str | None) -> str:
    if live and wanted:
        return f"{table} is partitioned by {live}, the spec says {wanted}"
    if live:
        return f"{table} is partitioned by {live}, the spec declares it unpartitioned"
    return f"{table} is not partitioned, the spec says PARTITION BY {wanted}"


def _partition_problems(
    current: SchemaModel, table: Table, wanted: Partition, live: Table | None, parent: str | None
) -> list[tuple[str, str]]:
    found = live.partition(wanted.name) if live is not None else None
    if found is not None and found.bound != wanted.bound:
        return [(f"partition {wanted.name} of {table.name} is {found.bound}, the spec says {wanted.bound}", BOUND_FIX)]
    if found is None and parent is not None:
        return [(f"{wanted.name} is a partition of {parent}, the spec names it a partition of {table.name}", OWNER_FIX)]
    if current.table(wanted.name) is not None:
        return [(f"{wanted.name} is a table of its own, the spec names it a partition of {table.name}", ATTACH_FIX)]
    return []
