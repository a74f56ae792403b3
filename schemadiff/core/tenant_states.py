"""Where each tenant stands against the spec and the revisions: at the spec, pending, unknown. Pure.

A tenant is **pending** when the revisions the database has not run yet take its state, one after
the other, to the spec's target: each pending revision either knows the state as one of its
groups' starts (and moves it to its target) or finds it at its target already (and skips it).
It is **unknown** when a pending revision knows neither (the runtime would stop before changing
anything), or when the revisions leave it anywhere but at the spec (the spec changed since the
head revision, or the tenant drifted after the database reached the head).
"""

from __future__ import annotations

from dataclasses import dataclass

AT_SPEC, PENDING, UNKNOWN = "at_spec", "pending", "unknown"

# status exit codes: a deploy pipeline gates on them (0 and 1 keep their meaning for every command)
STATUS_EXIT = {AT_SPEC: 0, PENDING: 3, UNKNOWN: 4}


@dataclass(frozen=True)
class RevisionInfo:
    """What the versions directory says about one revision (read without running it)."""

    revision: str
    path: str
    down: tuple[str, ...] = ()
    target: str | None = None  # None: not a schemadiff revision (hand-written)
    starts: tuple[str, ...] = ()  # the states its groups start from
    recorded: str | None = None  # the OPERATIONS_SHA256 it records
    actual: str | None = None  # the checksum of its operations as they are now

    @property
    def managed(self) -> bool:
        return self.target is not None


@dataclass(frozen=True)
class GroupState:
    """One group of tenants in the same state and where it stands."""

    fingerprint: str
    schemas: tuple[str, ...]
    state: str  # AT_SPEC | PENDING | UNKNOWN
    via: tuple[str, ...] = ()  # PENDING: the revisions that take it to the spec, in order
    reason: str = ""  # UNKNOWN: why


@dataclass(frozen=True)
class TenantStates:
    revision: str | None  # the database's (alembic_version), None when none is applied
    head: str | None  # the versions directory's
    target: str  # the spec's target state
    groups: tuple[GroupState, ...]  # the group at the spec (if any) first
    rollout: str | None = None  # where a staged rollout (or rollback) in progress stands, in one line

    def schemas(self, state: str) -> tuple[str, ...]:
        return tuple(s for g in self.groups if g.state == state for s in g.schemas)

    @property
    def at_head(self) -> bool:
        return self.revision == self.head

    @property
    def verdict(self) -> str:
        """UNKNOWN when any tenant is unknown, else PENDING when any is pending or the database is
        behind the head, else AT_SPEC."""
        states = {g.state for g in self.groups}
        if UNKNOWN in states:
            return UNKNOWN
        return PENDING if PENDING in states or not self.at_head else AT_SPEC


def pending_revisions(chain: list[RevisionInfo], applied: str | None) -> list[RevisionInfo]:
    """The revisions of ``chain`` (oldest first) after ``applied`` (all of them when None)."""
    if applied is None:
        return list(chain)
    ids = [r.revision for r in chain]
    if applied not in ids:
        raise ValueError(f"revision {applied} is not in the versions directory")
    return chain[ids.index(applied) + 1 :]


def classify(
    fingerprint: str, schemas: tuple[str, ...], chain: list[RevisionInfo], pending: list[RevisionInfo], target: str
) -> GroupState:
    """Follow one state through the pending revisions (see the module docstring)."""
    if fingerprint == target:
        return GroupState(fingerprint, schemas, AT_SPEC)
    state, via = fingerprint, []
    for rev in (r for r in pending if r.managed):
        if state == rev.target:
            continue
        if state not in rev.starts:
            return GroupState(fingerprint, schemas, UNKNOWN, reason=f"revision {rev.revision} does not know this state")
        state = rev.target or state
        via.append(rev.revision)
    if state == target:
        return GroupState(fingerprint, schemas, PENDING, tuple(via))
    head = next((r for r in reversed(chain) if r.managed), None)
    if head is not None and state == head.target:
        reason = (
            f"{'the pending revision(s) take it to' if via else 'it is at'} the head revision's target {state}, "
            f"not {'to' if via else 'at'} the spec's {target}: the spec changed and no revision captures it yet"
        )
    elif via:
        reason = f"the pending revision(s) take it to {state}, not to the spec's {target}"
    elif pending:
        reason = "no pending revision changes this state"
    else:
        reason = "the database is at the head and no revision takes this state to the spec"
    return GroupState(fingerprint, schemas, UNKNOWN, tuple(via), reason)


def tenant_states(
    groups: list[tuple[str, tuple[str, ...]]],
    chain: list[RevisionInfo],
    applied: str | None,
    target: str,
) -> TenantStates:
    """Every group (fingerprint, schemas) classified against the revisions not yet run."""
    head = chain[-1].revision if chain else None
    pending = pending_revisions(chain, applied)
    classified = [classify(fp, schemas, chain, pending, target) for fp, schemas in groups]
    classified.sort(key=lambda g: g.state != AT_SPEC)  # stable: the plan's group order otherwise
    return TenantStates(applied, head, target, tuple(classified))
