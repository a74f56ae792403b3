"""The spec's table kinds: ``unlogged: true``, ``partition_by`` and ``partitions``. Pure.

``partition_by`` is what follows ``PARTITION BY`` (``RANGE (created_at)``), each of ``partitions`` what
follows ``PARTITION OF parent`` (``FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')``, or
``DEFAULT``): both parsed by pglast when the spec loads, like every fragment. Whether the bounds
suit the key is PostgreSQL's to say, when the spec is normalized (naming the table).

A partition the spec names is created in every tenant where it is missing; a live partition it
does not name is left alone (partitions are often made ahead by a job, tenant by tenant), never
planned as a table and never dropped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import AfterValidator

from schemadiff.errors import SpecProblem
from schemadiff.spec.fragments import check_partition_bound, check_partition_key
from schemadiff.spec.yaml_source import Located, Path

if TYPE_CHECKING:
    from schemadiff.spec.schema import Spec, TableSpec


def _key(text: str) -> str:
    check_partition_key(text)
    return text


def _bound(text: str) -> str:
    check_partition_bound(text)
    return text


PartitionKey = Annotated[str, AfterValidator(_key)]
PartitionBound = Annotated[str, AfterValidator(_bound)]


def partition_problems(spec: Spec, located: Located) -> list[SpecProblem]:
    """What PostgreSQL would refuse about a table's kind, at the key that says it."""
    problems = []
    for name, table in spec.tables.items():
        problems += [located.problem(("tables", name, *path), message) for path, message in _table_problems(table)]
    return problems


def _table_problems(table: TableSpec) -> list[tuple[Path, str]]:
    out: list[tuple[Path, str]] = []
    if table.unlogged and table.partition_by is not None:
        out.append(
            (
                ("unlogged",),
                "a partitioned table cannot be UNLOGGED (PostgreSQL 18 refuses it: its partitions hold the rows)",
            )
        )
    if table.partitions and table.partition_by is None:
        out.append((("partitions",), "partitions need partition_by (the key their bounds divide)"))
    if table.partition_by is not None:
        out += [
            (
                ("indexes", name, "concurrently"),
                "an index of a partitioned table cannot be built CONCURRENTLY (PostgreSQL refuses it); "
                "remove concurrently",
            )
            for name, index in table.indexes.items()
            if index.concurrently
        ]
    return out
