"""A staged rollout over a fleet of shards, as one rollout: the tenants chosen across the fleet,
the canary first (spread over the shards, see ``core.fleet_stages``), a pause or a question, then
waves across the fleet with ``max_failures`` counted across every shard. The same in both
directions: ``upgrade`` (``apply``: the pending revision) and ``downgrade`` (``rollback``: the newest
revision a shard has applied, see ``workflow.fleet_survey`` for what each direction reads).

Each stage runs each shard's part with the one-database machinery (``runtime.rollout``, in the
shard's own process, ``workflow.shard_run``): a shard's part is a staged run of its own, with the
stage's tenants as its selection, so every shard keeps its own ledger and rollout row, and a rerun
finishes what is left. The fleet keeps no state of its own: a shard paused after its canary is
read from that shard's rollout row.

Throttles (``max_rate``, ``delay``, ``max_replication_lag``) are handed to every shard's part, so
they apply per shard. Within a wave each shard stops on its own once its failures exceed what is
left of ``max_failures``; the count across the fleet is checked when the wave ends, and the next
wave does not start when it is exceeded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from schemadiff.core.fleet_stages import FleetWave, choose_fleet, fleet_waves, split_canary
from schemadiff.core.options import Options
from schemadiff.core.rollout import NO_CANARY, ONE_WAVE, Canary, Selection
from schemadiff.core.shards import qualify
from schemadiff.errors import SchemadiffError
from schemadiff.pg.targets import Target
from schemadiff.spec.schema import LoadedSpec
from schemadiff.text import few
from schemadiff.workflow.fleet import ShardResult, ShardRun, fleet_run, run_error
from schemadiff.workflow.fleet_survey import Survey, surveyor

Stage = Callable[[str, list[ShardResult[ShardRun]]], None]  # a stage's label and its shards' results
Progress = Callable[[str, int, int], None]  # a shard, its tenants done, its run's total
AskToGoOn = Callable[[list[str], int], bool]  # the canary tenants done, the tenants that wait


class FleetPaused(SchemadiffError):
    """The canary is done and verified on every shard that ran one; the rest waits for ``continue``."""


@dataclass(frozen=True)
class _Runner:
    """A run of some shards in the rollout's direction (one revision), each with its own options,
    reporting progress; ``word`` names the rollout in messages."""

    direction: str
    word: str
    config: Path
    spec: Path
    progress: Progress | None

    def __call__(
        self, targets: list[Target], options: Options | Callable[[Target], Options]
    ) -> list[ShardResult[ShardRun]]:
        return fleet_run(self.direction, targets, self.config, self.spec, options, 1, self.progress)


def _part(options: Options, names: tuple[str, ...], label: str, **changes: object) -> Options:
    """A shard's part of a stage: a staged run of exactly ``names`` (named after the fleet's stage in
    the shard's rollout row), going on past a shard paused after its canary."""
    selection = Selection(names=names, label=label)
    base = replace(options, selection=selection, canary=NO_CANARY, proceed=True, wave_size=ONE_WAVE)
    return replace(base, **changes)  # type: ignore[arg-type]


def rollout(
    direction: str,
    loaded: LoadedSpec | None,
    targets: list[Target],
    config: Path,
    spec: Path,
    options: Options,
    on_stage: Stage,
    ask: AskToGoOn,
    progress: Progress | None = None,
) -> str:
    """The rollout over the fleet in ``direction`` (``loaded``: the spec, for an upgrade); what it did
    in one line, or a raise: FleetPaused after the canary, SchemadiffError when it stopped (a rerun
    resumes it)."""
    look = surveyor(direction, loaded, targets, config, options)
    if look is None:
        return "nothing to roll back: no shard has a revision applied"
    run = _Runner(direction, look.word, config, spec, progress)
    surveys = look(targets)
    chosen, missing = choose_fleet(options.selection, {n: s.tenants for n, s in surveys.items()})
    if missing:
        raise SchemadiffError(
            f"--tenants {options.selection}: {few(missing)} matches no tenant on any shard "
            "(name one shard's tenant as SHARD:SCHEMA); nothing was changed"
        )
    canaries, unknown = split_canary(options.canary, chosen, look.template)
    if unknown:
        raise SchemadiffError(
            f"--canary {few(unknown)}: not among the tenants the {look.word} takes on any shard; nothing was changed"
        )
    paused = {n for n, s in surveys.items() if s.paused}
    todo = {n: c for n, c in canaries.items() if n not in paused and set(chosen[n]) & surveys[n].pending}
    if todo:
        paused |= _canary(run, targets, options, chosen, todo, on_stage)
        surveys = look(targets)
    waiting = sum(len([t for t in chosen[n] if t in surveys[n].pending]) for n in surveys)
    in_order = [t.name for t in targets if t.name in paused]
    if paused and waiting and not options.proceed and not (todo and ask(in_order, waiting)):
        raise FleetPaused(
            f"the fleet's {look.word} is paused after its canary on {len(paused)} shard(s) ({', '.join(in_order)}); "
            f"{waiting} schema(s) wait; rerun with --continue to go on"
        )
    pending = {n: tuple(t for t in chosen[n] if t in surveys[n].pending) for n in surveys}
    waves = fleet_waves(pending, sum(len(c) for c in chosen.values()), options.wave_size)
    _waves(run, targets, options, waves, on_stage)
    touched = {n for w in waves for n in w.parts}
    behind = [t for t in targets if not surveys[t.name].settled and t.name not in touched]
    if options.selection.everything and behind:  # every tenant done, alembic_version not yet moved
        finish = replace(options, canary=NO_CANARY, proceed=True, wave_size=ONE_WAVE)
        results = run(behind, finish)
        on_stage("alembic_version", results)
        if any(run_error(r) for r in results):
            raise SchemadiffError(
                f"the fleet's {look.word} did every tenant; moving alembic_version failed on "
                + "; ".join(f"{r.target.name}: {run_error(r)}" for r in results if run_error(r))
            )
    return _finished(options, chosen, surveys, look.word, look.revision)


def _canary(
    run: _Runner,
    targets: list[Target],
    options: Options,
    chosen: dict[str, list[str]],
    todo: dict[str, Canary],
    on_stage: Stage,
) -> set[str]:
    """The canary on the shards that hold one (every other shard untouched); the shards that paused.
    A canary that failed (or, on an upgrade, does not match the spec) stops the rollout here."""

    def part(target: Target) -> Options:
        names = tuple(chosen[target.name])
        return _part(
            options,
            names,
            "fleet stage: canary",
            canary=todo[target.name],
            proceed=Options.proceed,
            max_failures=Options.max_failures,
        )

    results = run([t for t in targets if t.name in todo], part)
    on_stage("canary", results)
    bad = [r for r in results if run_error(r) and (r.value is None or r.value.ended != "paused")]
    if bad:
        shown = "; ".join(f"{r.target.name}: {run_error(r)}" for r in bad)
        raise SchemadiffError(
            f"the fleet's canary failed on {len(bad)} shard(s), so no other shard was touched: {shown}"
        )
    return {r.target.name for r in results if r.value is not None and r.value.ended == "paused"}


def _waves(run: _Runner, targets: list[Target], options: Options, waves: list[FleetWave], on_stage: Stage) -> None:
    """Each wave on the shards it touches at once; the rollout stops after a wave when more than
    ``max_failures`` tenants failed across the fleet, or a shard could not run its part."""
    failed: dict[str, str] = {}
    limit = options.max_failures
    for n, wave in enumerate(waves, 1):
        label = f"wave {n} of {len(waves)}" if options.wave_size else "the rest" if options.canary else "the tenants"

        def part(target: Target, wave: FleetWave = wave, label: str = label) -> Options:
            left = None if limit is None else max(0, limit - len(failed))
            return _part(options, wave.parts[target.name], f"fleet stage: {label}", max_failures=left)

        results = run([t for t in targets if t.name in wave.parts], part)
        on_stage(label, results)
        for r in results:
            for report in r.value.reports if r.value is not None else []:
                failed.update({qualify(r.target.name, s): e for s, e in report["failed"].items()})
        broken = [
            r for r in results if run_error(r) and (r.value is None or r.value.ended not in ("failed", "stopped"))
        ]
        left = sum(w.size for w in waves[n:])
        if limit is not None and len(failed) > limit:
            raise SchemadiffError(
                f"the fleet's {run.word} stopped in {label}: {len(failed)} schema(s) failed across the fleet, more "
                f"than --max-failures {limit} ({_failures(failed)}); {left} schema(s) of later waves were not "
                "started; fix the failures and run again to resume"
            )
        if broken:
            shown = "; ".join(f"{r.target.name}: {run_error(r)}" for r in broken)
            raise SchemadiffError(
                f"the fleet's {run.word} stopped in {label}: {len(broken)} shard(s) could not run their part ({shown}); "
                f"{left} schema(s) of later waves were not started; run again to resume"
            )
    if failed:
        raise SchemadiffError(
            f"the fleet's {run.word} failed for {len(failed)} schema(s) ({_failures(failed)}); the others are done; "
            "fix them and run again to finish"
        )


def _failures(failed: dict[str, str]) -> str:
    shown = "; ".join(f"{s}: {e}" for s, e in list(failed.items())[:5])
    return shown + (f" and {len(failed) - 5} more" if len(failed) > 5 else "")


def _finished(
    options: Options, chosen: dict[str, list[str]], surveys: dict[str, Survey], word: str, revision: str | None
) -> str:
    if options.selection.everything:
        if word == "rollout":
            return "every schema on every shard matches the spec"
        return f"every schema on every shard is back before {revision}"
    outside = sum(len(s.pending - set(chosen[n])) for n, s in surveys.items())
    what = "the revision" if word == "rollout" else f"the rollback of {revision}"
    return (
        f"the fleet's {word} is in progress: the schemas of --tenants {options.selection} are done; "
        f"{outside} schema(s) outside it still need {what}"
    )
