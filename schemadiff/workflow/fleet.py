"""A run over a fleet of shards: each shard a normal PostgreSQL server with its own
``alembic_version`` and ledger. ``plan`` reads every shard in parallel (one catalog pass each) and
plans each state once across shards; ``status`` and ``check`` read every shard in parallel;
``apply`` and ``rollback`` run the same Alembic command on every shard at once, each in a process
of its own (``workflow.shard_run``). A shard that fails or cannot be reached is reported with its
error and does not stop the others."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import psycopg

from schemadiff.core.gate import CheckResult
from schemadiff.core.model import LiveSchemas
from schemadiff.core.options import Options
from schemadiff.core.plan import Plan
from schemadiff.core.shards import qualify
from schemadiff.core.tenant_states import STATUS_EXIT, TenantStates
from schemadiff.errors import DatabaseError, SchemadiffError, first_line
from schemadiff.pg import connection
from schemadiff.pg.normalize import target_model
from schemadiff.pg.targets import Target
from schemadiff.spec.schema import LoadedSpec
from schemadiff.workflow import shard_run
from schemadiff.workflow.planning import check_conversions, plan_from, read_tenants

T = TypeVar("T")


@dataclass
class ShardResult(Generic[T]):
    """What one shard answered, or the one line saying why it did not."""

    target: Target
    value: T | None = None
    error: str | None = None
    seconds: float = 0.0


def each_shard(targets: list[Target], work: Callable[[Target], T]) -> list[ShardResult[T]]:
    """``work`` on every shard at once (one thread each), in the targets' order; an error is kept
    per shard as one redacted line, never raised."""

    def one(target: Target) -> ShardResult[T]:
        start = time.perf_counter()
        try:
            value = work(target)
        except SchemadiffError as exc:
            return ShardResult(target, None, connection.redact(str(exc), target.url), time.perf_counter() - start)
        except (psycopg.Error, OSError) as exc:
            error = connection.redact(f"database error: {first_line(exc)}", target.url)
            return ShardResult(target, None, error, time.perf_counter() - start)
        return ShardResult(target, value, None, time.perf_counter() - start)

    with ThreadPoolExecutor(max_workers=max(1, len(targets)), thread_name_prefix="shard") as pool:
        return list(pool.map(one, targets))


# ── plan ──────────────────────────────────────────────────────────────────────────────────


@dataclass
class FleetPlan:
    plan: Plan | None  # None when no shard could be read
    shards: list[ShardResult[LiveSchemas]]

    @property
    def down(self) -> list[ShardResult[LiveSchemas]]:
        return [s for s in self.shards if s.error is not None]


def _read_shard(loaded: LoadedSpec) -> Callable[[Target], LiveSchemas]:
    def read(target: Target) -> LiveSchemas:
        with connection.connect(target.url) as conn:
            return read_tenants(conn, loaded)[1]

    return read


def fleet_plan(
    loaded: LoadedSpec,
    targets: list[Target],
    dev_url: str | None,
    dev_connect: Callable[[], AbstractContextManager[psycopg.Connection]],
    notice: Callable[[str], None] = lambda _m: None,
    allowed: tuple[str, ...] = (),
) -> FleetPlan:
    """Every shard read in parallel; tenants named ``SHARD:SCHEMA`` and grouped by state across
    shards, so a state present on several shards is diffed once; the spec normalized on the first
    shard that answered (or the dev database when it refuses), as ``plan`` does on one database."""
    shards = each_shard(targets, _read_shard(loaded))
    up = [s for s in shards if s.value is not None]
    if not up:
        return FleetPlan(None, shards)
    merged = LiveSchemas()
    for shard in up:
        assert shard.value is not None
        for schema, model in shard.value.models.items():
            merged.models[qualify(shard.target.name, schema)] = model
        for (schema, table), stats in shard.value.stats.items():
            merged.stats[(qualify(shard.target.name, schema), table)] = stats
    first = up[0].target
    try:
        with connection.connect(first.url) as conn:
            target = target_model(conn, loaded, dev_connect, notice)
            plan = plan_from(loaded, merged, target, allowed, first=qualify(first.name, loaded.spec.tenants.template))
            check_conversions(conn, loaded, plan)
    except psycopg.Error as exc:
        raise DatabaseError(
            connection.redact(f"shard {first.name}: database error: {first_line(exc)}", first.url)
        ) from None
    return FleetPlan(plan, shards)


# ── status and check ─────────────────────────────────────────────────────────────────────


def fleet_status(
    loaded: LoadedSpec, targets: list[Target], config: Path | None, dev_url: str | None
) -> list[ShardResult[TenantStates]]:
    """Each shard's status as ``status`` reads one database (with where its rollout stands)."""
    from schemadiff.workflow.apply import status

    return each_shard(targets, lambda t: status(config, t.url, loaded, dev_url))


def status_exit(shards: list[ShardResult[TenantStates]]) -> int:
    """1 when a shard could not be read, else the worst shard's status code (4 > 3 > 0)."""
    if any(s.value is None for s in shards):
        return 1
    return max(STATUS_EXIT[s.value.verdict] for s in shards if s.value is not None)


def fleet_check(
    loaded: LoadedSpec,
    targets: list[Target],
    config: Path | None,
    dev_url: str | None,
    allow_pending: bool,
) -> list[ShardResult[CheckResult]]:
    from schemadiff.workflow.check import check

    return each_shard(targets, lambda t: check(loaded, config, t.url, dev_url, allow_pending))


# ── apply and rollback ───────────────────────────────────────────────────────────────────


@dataclass
class ShardRun:
    """One shard's upgrade or downgrade: the runtime's report per revision, or why it stopped."""

    reports: list[dict[str, Any]] = field(default_factory=list)
    idle: str | None = None  # nothing to do, and why
    remaining: int = 0  # tenants still not at the spec after an upgrade
    error: str | None = None  # why the shard's run stopped (tenants done before it stay done)
    ended: str | None = None  # a staged run's stop: paused, stopped, failed; or error
    in_progress: str = ""  # a staged run that did the tenants it took while others wait

    @property
    def done(self) -> int:
        return sum(r["applied"] for r in self.reports)

    @property
    def skipped(self) -> int:
        return sum(r["skipped"] for r in self.reports)

    @property
    def failed(self) -> int:
        return sum(len(r["failed"]) for r in self.reports)


def fleet_run(
    action: str,
    targets: list[Target],
    config: Path,
    spec: Path,
    options: Options | Callable[[Target], Options],
    steps: int = 1,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[ShardResult[ShardRun]]:
    """``upgrade`` (to head, then the convergence check) or ``downgrade`` (``-steps``) on every
    shard at once, each with ``options.workers`` connections; a failed shard is its own result.
    ``options`` may differ per shard (a staged rollout's part of each shard); ``progress(shard,
    done, total)`` as each shard's tenants finish (from the shard's threads)."""

    def run(target: Target) -> ShardRun:
        chosen = options(target) if callable(options) else options
        job = json.dumps(
            {
                "action": action,
                "config": str(config),
                "spec": str(spec),
                "steps": steps,
                "options": shard_run.options_data(chosen),
            }
        )
        shard_progress = None if progress is None else lambda done, total: progress(target.name, done, total)
        code, out, errors = shard_run.spawn(job, target.url, shard_progress)
        lines = out.strip().splitlines()
        if not lines:
            raise SchemadiffError(f"the shard's run ended with exit {code}: {(errors or [''])[-1]}")
        answer = json.loads(lines[-1])
        error = answer.get("error")
        if not error and answer["remaining"]:
            error = (
                f"{answer['remaining']} schema(s) still differ from the spec after the upgrade; "
                "run `schemadiff plan` to see them"
            )
        return ShardRun(
            answer["reports"],
            answer["idle"],
            answer["remaining"],
            error,
            answer.get("ended"),
            answer.get("in_progress", ""),
        )

    return each_shard(targets, run)


def run_error(result: ShardResult[ShardRun]) -> str | None:
    """Why a shard's run did not finish: it could not start, or it stopped; None when it finished."""
    return result.error or (result.value.error if result.value is not None else None)
