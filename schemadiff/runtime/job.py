"""The records a run is made of: its options (``core.options``), its job, each tenant's work, its
report, and the ``Config.attributes`` keys they travel under. Pure data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import NamedTuple

from schemadiff.core.model import SchemaModel
from schemadiff.core.online import without_online_parts
from schemadiff.core.options import Options
from schemadiff.core.statements import Statement
from schemadiff.runtime.recorder import Forms

__all__ = [
    "DONE",
    "UNKNOWN",
    "CanaryDone",
    "Direction",
    "GroupSQL",
    "Job",
    "LedgerRow",
    "Loss",
    "Options",
    "Report",
    "TenantState",
    "Verdict",
    "Work",
]


# Config.attributes keys of a run started by `schemadiff apply`/`rollback` (plain Alembic sets none)
OPTIONS = "schemadiff.options"  # the run's Options record
REPORTER = "schemadiff.reporter"  # called (schema, done, total) after each tenant
REPORTS = "schemadiff.reports"  # a list: the runtime appends each revision's Report
DATABASE_URL = "schemadiff.database_url"  # read first by the env.py `schemadiff init` writes
CANARY_DONE = "schemadiff.canary_done"  # called with a CanaryDone after a verified canary: go on?
NOTICE = "schemadiff.notice"  # called with a line to show (a pause for replication lag …)


@dataclass(frozen=True)
class Loss:
    """Data a direction of a group deletes: a column, or a whole table when ``column`` is None.
    A column that holds only NULLs, or only its own ``default`` (as PostgreSQL prints it), deletes
    nothing anyone wrote."""

    table: str
    column: str | None = None
    default: str | None = None

    def __str__(self) -> str:
        return f"{self.table}.{self.column}" if self.column else f"table {self.table}"


@dataclass(frozen=True)
class Direction:
    """One direction of one group: its statements (online and inline forms) and what it deletes."""

    forms: Forms
    deletes: tuple[Loss, ...] = ()


@dataclass(frozen=True)
class GroupSQL:
    upgrade: Direction
    downgrade: Direction


@dataclass(frozen=True)
class Job:
    """What a run does: per starting state (fingerprint), the statements of each direction."""

    revision: str
    direction: str  # "upgrade" | "downgrade"
    template: str
    pattern: str
    tables: tuple[str, ...]
    target: str
    target_model: SchemaModel | None
    groups: dict[str, GroupSQL]
    mid: str | None = None  # the target without its online parts: a tenant between phases
    online_indexes: frozenset[str] = frozenset()
    online_constraints: frozenset[str] = frozenset()
    online_not_null: frozenset[tuple[str, str]] = frozenset()  # (table, column) made NOT NULL online
    large_table_rows: int | None = None  # below it a tenant's online statements run inline
    placeholder: str | None = None  # format-1 revisions: the schema text to replace per tenant
    # each group's starting model as the revision carries it (JSON, read only to explain an unknown state)
    start_models: Mapping[str, str] = field(default_factory=dict)

    @property
    def enums(self) -> tuple[str, ...]:
        """The enum types the revision manages: those of its target model (none for older revisions)."""
        return tuple(e.name for e in self.target_model.enums) if self.target_model is not None else ()

    def way(self, fingerprint: str) -> Direction:
        """This run's direction of the group starting from ``fingerprint``."""
        group = self.groups[fingerprint]
        return group.upgrade if self.direction == "upgrade" else group.downgrade

    def without_online_parts(self, model: SchemaModel) -> SchemaModel:
        """``model`` as compared between the phases of this revision's online changes."""
        return without_online_parts(model, self.online_indexes, self.online_constraints, self.online_not_null)


@dataclass(frozen=True)
class Work:
    schema: str
    from_fp: str  # the ledger's starting state
    statements: tuple[Statement, ...]
    post_only: bool = False  # the transaction is done; only the after-commit part remains
    deletes: tuple[Loss, ...] = ()
    digest: str = ""  # the catalog digest preflight read: tenants alike in it end alike

    def phase(self, name: str) -> tuple[Statement, ...]:
        return tuple(s for s in self.statements if s.phase == name)


class TenantState(NamedTuple):
    """A tenant's state as preflight read it: its fingerprint, its model, and the digest of its
    catalog rows (``tenant_phases.state_digest``; "" without any managed table)."""

    fingerprint: str
    model: SchemaModel
    digest: str = ""


class Verdict(Enum):
    """What preflight decides for a tenant that has no work: it is already done, or its state is
    one the revision does not know (the run stops before any change)."""

    DONE = "done"
    UNKNOWN = "unknown"


DONE, UNKNOWN = Verdict.DONE, Verdict.UNKNOWN


@dataclass(frozen=True)
class LedgerRow:
    direction: str
    from_fp: str
    complete: bool


@dataclass
class Report:
    """What a run of one revision did. ``skipped``: tenants it took that were already done. A staged
    run takes some tenants only: ``outside`` are the others that still need the revision (and
    ``outside_unknown`` those in a state it does not know); ``not_started`` the tenants it took but
    did not start because it stopped (a failed canary, too many failures, a pause after the canary)."""

    direction: str
    revision: str
    applied: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    tenants: int = 0  # every tenant of the revision on this server
    outside: list[str] = field(default_factory=list)
    outside_unknown: list[str] = field(default_factory=list)
    not_started: list[str] = field(default_factory=list)
    canaries: tuple[str, ...] = ()

    @property
    def done(self) -> int:
        """Tenants of the revision now done in this run's direction (this run's and earlier runs')."""
        left = len(self.outside) + len(self.outside_unknown) + len(self.failed) + len(self.not_started)
        return self.tenants - left

    @property
    def finished(self) -> bool:
        """Every tenant of the revision is done: Alembic may move ``alembic_version``."""
        return self.done == self.tenants


@dataclass(frozen=True)
class CanaryDone:
    """Handed to the ``CANARY_DONE`` callback once the canary tenants ran and were verified."""

    revision: str
    direction: str
    canaries: tuple[str, ...]
    rest: int  # tenants the run would take next
