"""A run of one revision on one server, in stages: take the lock, read every tenant's state, choose
the tenants the run takes (``tenants``), preflight, then run the canary tenants, verify them and
pause (or ask) before the rest, then the rest in waves, paced (``max_rate``, ``delay``, replication
lag) and stopped when more than ``max_failures`` tenants failed. A run without any of these options
is one wave of every tenant, as it always was.

``alembic_version`` moves only when every tenant of the revision is done: a run that ends with
tenants left (outside ``tenants``, after a paused canary, a stop, a failure) raises, so Alembic
leaves it at the old revision and the next run continues from the ledger. Where the rollout stands
is kept next to the ledger (``rollout_state``).

Nothing here depends on how many servers there are: a run over several servers runs this per server.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
from alembic.util import CommandError

from schemadiff.core.fingerprint import fingerprint
from schemadiff.core.rollout import Stages, choose_canaries, plan_stages
from schemadiff.errors import SchemadiffError
from schemadiff.pg import connection
from schemadiff.pg.introspect import introspect
from schemadiff.runtime.execute import (
    LEDGER_COMPLETE,
    LEDGER_DDL,
    Reporter,
    check_privileges,
    preflight,
    read_ledger,
    read_states,
)
from schemadiff.runtime.job import CanaryDone, Job, Options, Report, TenantState, Work
from schemadiff.runtime.pacing import Notice, Pacing
from schemadiff.runtime.rollout_state import FAILED, FINISHED, PARTIAL, PAUSED, STOPPED, Tracker, read_row
from schemadiff.runtime.tenant_phases import KnownStates, run_tenant
from schemadiff.runtime.workers import LOCK_KEY, WORKERS_KEY, RunFailed, Workers, acquire_lock
from schemadiff.text import did_you_mean, few

CanaryCheck = Callable[[CanaryDone], bool]


class RolloutEnded(SchemadiffError, CommandError):
    """The run ended with tenants of the revision left (so ``alembic_version`` stays); under plain
    Alembic one ``FAILED:`` line. ``report``: what the run did."""

    def __init__(self, message: str, report: Report) -> None:
        self.report = report
        super().__init__(message)


class RolloutStopped(RolloutEnded):
    """A canary failed (or differs from its target), or more than ``max_failures`` tenants failed."""


class RolloutPaused(RolloutEnded):
    """The canary is done and verified; the rest waits for ``continue``."""


class RolloutPartial(RolloutEnded):
    """Every tenant the run took is done; tenants outside its selection still need the revision."""


def run(
    url: str,
    job: Job,
    options: Options,
    reporter: Reporter | None = None,
    canary_done: CanaryCheck | None = None,
    notice: Notice | None = None,
) -> Report:
    """Run the revision on the server at ``url``; the report, or a raise when tenants are left."""
    started = time.perf_counter()
    report = Report(job.direction, job.revision)
    try:
        with connection.connect(url, autocommit=True) as coordinator:
            acquire_lock(coordinator, options.lock_wait)
            try:
                _locked(coordinator, url, job, options, report, reporter, canary_done, notice or _stderr)
            finally:
                coordinator.execute("SELECT pg_advisory_unlock_shared(%s, %s)", WORKERS_KEY)
                coordinator.execute("SELECT pg_advisory_unlock(%s, %s)", LOCK_KEY)
    finally:
        report.seconds = time.perf_counter() - started
    return report


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _locked(
    coordinator: psycopg.Connection,
    url: str,
    job: Job,
    options: Options,
    report: Report,
    reporter: Reporter | None,
    canary_done: CanaryCheck | None,
    notice: Notice,
) -> None:
    states, rows = read_states(coordinator, job)
    chosen = choose(job, list(states), options)
    check_privileges(coordinator, job, chosen)
    coordinator.execute(LEDGER_DDL)
    coordinator.execute(LEDGER_COMPLETE)
    previous = read_row(coordinator, job.revision)
    if previous and previous.state == PAUSED and previous.direction == job.direction and not options.proceed:
        report.tenants = len(states)
        raise RolloutPaused(
            f"the {_rollout(job)} is paused after its canary ({few(previous.canaries)}); nothing was changed; "
            f"{_go_on()}",
            report,
        )
    tracker = Tracker(coordinator, job, options, previous)
    with Workers(url, options.workers) as workers:
        selected = None if options.selection.everything else set(chosen)
        work = preflight(coordinator, job, report, states, rows, options, workers, selected)
        canaries = _canaries(coordinator, job, options, chosen, states)
        stages = plan_stages(chosen, {w.schema for w in work}, canaries, options.wave_size)
        report.canaries = canaries
        tracker.begin(canaries, len(stages.waves))
        pacing = Pacing(url, options, notice)
        try:
            _run_stages(
                coordinator, workers, job, options, report, work, stages, tracker, pacing, reporter, canary_done
            )
        finally:
            pacing.close()


def choose(job: Job, tenants: list[str], options: Options) -> list[str]:
    """The tenants the run takes, in order; a selection or a named canary that names no tenant of
    the revision on this server is an error before any change."""
    selection = options.selection
    if selection.file and not selection.names:
        try:
            selection = selection.with_file_text(Path(selection.file).read_text())
        except OSError as exc:
            raise SchemadiffError(f"--tenants @{selection.file}: cannot read it ({exc.strerror})") from None
        except ValueError as exc:
            raise SchemadiffError(f"--tenants @{selection.file}: {exc}") from None
    chosen, missing = selection.choose(tenants)
    if missing:
        what = "names no tenant" if selection.file or selection.names else "matches no tenant"
        raise SchemadiffError(
            f"--tenants {selection}: {', '.join(missing[:5])}{' …' if len(missing) > 5 else ''} {what} "
            f"of revision {job.revision} ({job.template} and schemas matching {job.pattern})"
            f"{did_you_mean(missing[0], tenants)}; nothing was changed"
        )
    outside = [n for n in options.canary.names if n not in chosen]
    if outside:
        where = "--tenants " + str(selection) if not selection.everything else f"the tenants of revision {job.revision}"
        raise SchemadiffError(
            f"--canary {', '.join(outside[:5])}: not among {where}{did_you_mean(outside[0], chosen)}; "
            "nothing was changed"
        )
    return chosen


def _canaries(
    conn: psycopg.Connection, job: Job, options: Options, chosen: list[str], states: dict[str, TenantState]
) -> tuple[str, ...]:
    """The run's canaries. By count: chosen by each tenant's starting state, which for a tenant an
    earlier run of this direction did is the one its ledger row recorded (so a rerun takes the same)."""
    if not options.canary:
        return ()
    ledger = read_ledger(conn, job.revision) if options.canary.count else {}
    starts = {
        s: row.from_fp if (row := ledger.get(s)) and row.direction == job.direction else states[s].fingerprint
        for s in chosen
    }
    return choose_canaries(options.canary, chosen, starts, job.template)


def _run_stages(
    coordinator: psycopg.Connection,
    workers: Workers,
    job: Job,
    options: Options,
    report: Report,
    work: list[Work],
    stages: Stages,
    tracker: Tracker,
    pacing: Pacing,
    reporter: Reporter | None,
    canary_done: CanaryCheck | None,
) -> None:
    by_schema = {w.schema: w for w in work}
    runner = StageRunner(workers, job, options, report, pacing, reporter, len(work))
    later = [s for wave in stages.waves for s in wave]
    if stages.canaries:
        tracker.stage(0, report)
        pacing.before_wave()
        runner.run([by_schema[s] for s in stages.canary], stop_at_first=False)
        _check_canary(coordinator, job, report, stages, tracker, later)
        if later and not _go_on_after_canary(job, options, report, stages, tracker, later, canary_done):
            report.not_started += later
            tracker.write(PAUSED, 0, report)
            raise RolloutPaused(
                f"canary done: {len(stages.canaries)} schema(s) {_at(job)} and verified "
                f"({few(stages.canaries)}); {len(later)} schema(s) wait; {_go_on()}",
                report,
            )
    for n, wave in enumerate(stages.waves, 1):
        pacing.before_wave()
        tracker.stage(n, report)
        runner.run([by_schema[s] for s in wave])
        if runner.stopped:
            report.not_started += runner.not_started + [s for w in stages.waves[n:] for s in w]
            tracker.write(STOPPED, n, report)
            raise RolloutStopped(_stopped_message(job, options, report, n, len(stages.waves)), report)
    _end(job, options, report, tracker, len(stages.waves))


def _check_canary(
    conn: psycopg.Connection, job: Job, report: Report, stages: Stages, tracker: Tracker, later: list[str]
) -> None:
    """Stop before the rest when a canary failed or does not read as its run promised."""
    problems = [f"{s}: {e}" for s, e in report.failed.items()]
    if not problems:
        problems = verify(conn, job, stages.canaries)
    if problems:
        report.not_started += later
        tracker.write(STOPPED, 0, report)
        raise RolloutStopped(
            f"the canary of the {_rollout(job)} failed for {len(problems)} of {len(stages.canaries)} schema(s): "
            f"{'; '.join(problems[:5])}; the other {len(later)} schema(s) were not touched; "
            "fix it and run again"
            + (" (or take the canary back with `schemadiff rollback`)" if job.direction == "upgrade" else ""),
            report,
        )


def _go_on_after_canary(
    job: Job,
    options: Options,
    report: Report,
    stages: Stages,
    tracker: Tracker,
    later: list[str],
    canary_done: CanaryCheck | None,
) -> bool:
    """Whether the rest runs now: ``continue`` says so, or the caller's check (which may verify more,
    ask on a terminal, or raise to stop)."""
    if canary_done is None:
        return options.proceed
    try:
        answer = canary_done(CanaryDone(job.revision, job.direction, stages.canaries, len(later)))
    except SchemadiffError as exc:
        report.not_started += later
        tracker.write(STOPPED, 0, report)
        raise RolloutStopped(f"{exc}; the other {len(later)} schema(s) were not touched", report) from None
    return options.proceed or answer


def verify(conn: psycopg.Connection, job: Job, schemas: tuple[str, ...]) -> list[str]:
    """Each of ``schemas`` read again: on an upgrade at the target with a complete ledger row, on a
    downgrade back in the state its ledger row recorded (or never upgraded). The problems found."""
    ledger = read_ledger(conn, job.revision)
    with conn.transaction():
        models = introspect(conn, list(schemas), list(job.tables), job.template, job.enums).models
    problems: list[str] = []
    for schema in schemas:
        fp, row = fingerprint(models[schema]), ledger.get(schema)
        if job.direction == "upgrade":
            ok = fp == job.target and row is not None and row.direction == "upgrade" and row.complete
        elif row is not None:
            ok = row.direction == "downgrade" and row.complete and fp == row.from_fp
        else:
            ok = fp in job.groups and fp != job.target
        if not ok:
            problems.append(f"{schema} reads as state {fp} after its run, not {_at(job)}")
    return problems


def _end(job: Job, options: Options, report: Report, tracker: Tracker, waves: int) -> None:
    if report.failed:
        tracker.write(FAILED, waves, report)
        shown = "; ".join(f"{s}: {e}" for s, e in list(report.failed.items())[:5])
        more = f" (and {len(report.failed) - 5} more)" if len(report.failed) > 5 else ""
        raise RunFailed(
            f"{job.direction} of {job.revision} failed for {len(report.failed)} schema(s): "
            f"{shown}{more}; the others are done; fix and run again to finish",
            report,
        )
    if not report.finished:
        tracker.write(PARTIAL, waves, report)
        raise RolloutPartial(_partial_message(job, options, report), report)
    tracker.write(FINISHED, waves, report)


def _partial_message(job: Job, options: Options, report: Report) -> str:
    left = f"{len(report.outside)} schema(s) outside --tenants {options.selection} still need it"
    if report.outside_unknown:
        left += (
            f", and {len(report.outside_unknown)} are in a state it does not know "
            f"({few(report.outside_unknown)}: plan again to cover them)"
        )
    return (
        f"the {_rollout(job)} is in progress: {report.done} of {report.tenants} schema(s) {_at(job)}; {left}; "
        "alembic_version moves when every schema is done"
    )


def _stopped_message(job: Job, options: Options, report: Report, wave: int, waves: int) -> str:
    shown = "; ".join(f"{s}: {e}" for s, e in list(report.failed.items())[:5])
    return (
        f"the {_rollout(job)} stopped in wave {wave} of {waves}: {len(report.failed)} schema(s) failed, more "
        f"than --max-failures {options.max_failures} ({shown}); the schemas in flight finished, "
        f"{len(report.not_started)} were not started; fix the failures and run again to resume"
    )


def _rollout(job: Job) -> str:
    return f"{'rollout' if job.direction == 'upgrade' else 'rollback'} of {job.revision}"


def _at(job: Job) -> str:
    return f"at {job.revision}" if job.direction == "upgrade" else f"back before {job.revision}"


def _go_on() -> str:
    return "rerun with --continue (plain Alembic: -x continue=yes) to go on"


class StageRunner:
    """Runs a stage's tenants on the run's workers (the template first, on its own), paced, and
    stops starting tenants once more than ``max_failures`` failed (those in flight finish)."""

    def __init__(
        self,
        workers: Workers,
        job: Job,
        options: Options,
        report: Report,
        pacing: Pacing,
        reporter: Reporter | None,
        total: int,
    ) -> None:
        self.workers, self.job, self.options, self.report = workers, job, options, report
        self.pacing, self.reporter, self.total = pacing, reporter, total
        self.known = KnownStates()
        self.lock = threading.Lock()
        self.finished = 0
        self.stop = threading.Event()
        self.not_started: list[str] = []

    @property
    def stopped(self) -> bool:
        return self.stop.is_set()

    def run(self, items: list[Work], stop_at_first: bool = True) -> None:
        """``stop_at_first=False``: every item runs (a canary: all its tenants are tried)."""
        limit = self.options.max_failures if stop_at_first else None
        template = self.job.template
        self.workers.map(lambda conn, item: self._one(conn, item, limit), [w for w in items if w.schema == template])
        self.workers.map(lambda conn, item: self._one(conn, item, limit), [w for w in items if w.schema != template])

    def _one(self, conn: psycopg.Connection, item: Work, limit: int | None) -> None:
        if not self.stop.is_set():
            self.pacing.before_tenant()
        if self.stop.is_set():
            with self.lock:
                self.not_started.append(item.schema)
            return
        error = run_tenant(conn, self.job, item, self.options, self.known)
        with self.lock:
            if error:
                self.report.failed[item.schema] = error
                if limit is not None and len(self.report.failed) > limit:
                    self.stop.set()
            else:
                self.report.applied.append(item.schema)
            self.finished += 1
            if self.reporter:
                self.reporter(item.schema, self.finished, self.total)
        self.pacing.after_tenant()
