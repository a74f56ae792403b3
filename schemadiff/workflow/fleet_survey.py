"""What a staged rollout over a fleet reads from every shard before a stage (``workflow.fleet_rollout``):
each shard's tenants, those the rollout still has to run, whether the shard's own rollout row says it
is paused after its canary, and whether its ``alembic_version`` is already where the rollout takes it.
The fleet keeps no state of its own: every shard is read anew, at once; a shard that cannot be read
stops the rollout before any change.

- **upgrade** (``apply``): a tenant is pending when its state differs from the spec (one plan per
  shard); a shard at the head is settled.
- **downgrade** (``rollback``): the rollout takes back one revision across the fleet, the newest one a
  shard has applied, in part or whole (as ``rollback`` picks it on one database: the rollout of the
  next revision in progress, else the revision ``alembic_version`` names). A tenant is pending when
  the runtime's own preflight would take it back; a shard where that revision is no longer applied
  (or never was) is settled, so a rerun after some shards finished resumes the same rollback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from alembic.config import Config

from schemadiff.core.hazards import DELETES_DATA
from schemadiff.core.model import natural_key
from schemadiff.core.options import Options
from schemadiff.errors import SchemadiffError
from schemadiff.pg import connection
from schemadiff.pg.targets import Target
from schemadiff.runtime.execute import preflight, read_states
from schemadiff.runtime.job import Job, Report
from schemadiff.runtime.rollout_state import PAUSED, RolloutRow, read_row, readable
from schemadiff.spec.schema import LoadedSpec
from schemadiff.workflow.fleet import each_shard
from schemadiff.workflow.planning import make_plan

T = TypeVar("T")


@dataclass(frozen=True)
class Survey:
    """One shard before a stage: its tenants (the template first), those the rollout still has to
    run, whether its rollout row says it is paused after its canary, and whether its
    ``alembic_version`` is already where the rollout takes it (nothing to finish there)."""

    tenants: tuple[str, ...]
    pending: frozenset[str]
    paused: bool
    settled: bool = False


@dataclass(frozen=True)
class Surveyor:
    """How one rollout reads the fleet: its direction, the template's name, the revision it runs
    (the head; or the one a rollback takes back), and how one shard is read."""

    direction: str
    template: str
    revision: str | None
    read: Callable[[Target], Survey]

    @property
    def word(self) -> str:
        return "rollout" if self.direction == "upgrade" else "rollback"

    def __call__(self, targets: list[Target]) -> dict[str, Survey]:
        return _every_shard(targets, self.read, self.word)


def surveyor(
    direction: str, loaded: LoadedSpec | None, targets: list[Target], config: Path, options: Options
) -> Surveyor | None:
    """The surveyor of a rollout in ``direction``; None for a rollback when no shard has a revision
    applied (nothing to take back)."""
    from schemadiff.workflow.alembic_env import alembic_config, current_head, script_directory

    cfg = alembic_config(config)
    if direction == "upgrade":
        assert loaded is not None
        head = current_head(script_directory(cfg))
        return Surveyor(direction, loaded.spec.tenants.template, head, _upgrade_read(loaded, head))
    revision = _newest_applied(cfg, targets)
    if revision is None:
        return None
    from schemadiff.workflow.rollback_preview import downgrade_job

    _, job = downgrade_job(cfg, revision)
    return Surveyor(direction, job.template, revision, _downgrade_read(cfg, job, options))


def _every_shard(targets: list[Target], read: Callable[[Target], T], word: str) -> dict[str, T]:
    results = each_shard(targets, read)
    down = [r for r in results if r.value is None]
    if down:
        shown = "; ".join(f"{r.target.name}: {r.error}" for r in down)
        raise SchemadiffError(
            f"a staged {word} reads every shard first; {len(down)} of {len(targets)} shard(s) cannot be read "
            f"({shown}); nothing was changed"
        )
    return {r.target.name: r.value for r in results if r.value is not None}


def _in_order(tenants: Iterable[str], template: str) -> tuple[str, ...]:
    return tuple(sorted(tenants, key=lambda s: (s != template, natural_key(s))))


def _upgrade_read(loaded: LoadedSpec, head: str | None) -> Callable[[Target], Survey]:
    from schemadiff.workflow.apply import current_revision

    template = loaded.spec.tenants.template

    def read(target: Target) -> Survey:
        plan, _ = make_plan(loaded, target.url, lint=False)
        pending = frozenset(s for g in plan.groups for s in g.schemas)
        tenants = _in_order(set(plan.unchanged) | pending, template)
        return Survey(tenants, pending, shard_paused(target, "upgrade"), current_revision(target.url) == head)

    return read


def _to_take_back(cfg: Config, url: str) -> str | None:
    """The revision ``rollback`` takes back on this database (see ``apply.downgrade``)."""
    from schemadiff.workflow.apply import current_revision
    from schemadiff.workflow.rollouts import in_progress

    progress = in_progress(cfg, url)
    return progress.revision if progress is not None else current_revision(url)


def _newest_applied(cfg: Config, targets: list[Target]) -> str | None:
    """The newest of the revisions the shards would take back (None: no shard has one)."""
    from schemadiff.workflow.alembic_env import script_directory

    found = _every_shard(targets, lambda t: _to_take_back(cfg, t.url) or "", "rollback")
    order = [script.revision for script in script_directory(cfg).walk_revisions()]  # the head first
    applied = {r for r in found.values() if r}
    unknown = sorted(applied - set(order))
    if unknown:
        raise SchemadiffError(f"revision {unknown[0]} of a shard is not in the versions directory; nothing was changed")
    return min(applied, key=order.index) if applied else None


def _downgrade_read(cfg: Config, job: Job, options: Options) -> Callable[[Target], Survey]:
    # the shard's run checks the data its tenants would lose; the survey only classifies them
    classify = replace(options, allow=options.allow | {DELETES_DATA})

    def read(target: Target) -> Survey:
        settled = _to_take_back(cfg, target.url) != job.revision
        with connection.connect(target.url, autocommit=True) as conn:
            states, rows = read_states(conn, job)
            pending: frozenset[str] = frozenset()
            if not settled and readable(conn, "public.schemadiff_ledger"):
                report = Report("downgrade", job.revision)
                preflight(conn, job, report, states, rows, classify, chosen=set())  # every tenant "outside"
                pending = frozenset(report.outside)
            paused = _paused(read_row(conn, job.revision), "downgrade")
        return Survey(_in_order(states, job.template), pending, paused, settled)

    return read


def shard_paused(target: Target, direction: str) -> bool:
    """Whether the shard's last staged run in ``direction`` is paused after its canary."""
    with connection.connect(target.url) as conn:
        return _paused(read_row(conn), direction)


def _paused(row: RolloutRow | None, direction: str) -> bool:
    return row is not None and row.state == PAUSED and row.direction == direction


def paused_shards(targets: list[Target], direction: str) -> list[str]:
    """The shards whose rollout (or rollback) is paused after its canary (read at once; one that
    cannot be read is left to the run, which reports it)."""
    return [r.target.name for r in each_shard(targets, lambda t: shard_paused(t, direction)) if r.value]
