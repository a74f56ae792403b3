"""plan, apply, rollback, status and check over a fleet of shards (``--targets FILE`` or repeated
``--database-url``): the commands call these when a run names more than one database."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, Optional

import typer
from rich.console import Console
from rich.table import Table

from schemadiff.cli.common import EXIT_CHANGES, EXIT_ERROR, EXIT_OK, EXIT_PAUSED, Format, _err
from schemadiff.cli.fleet_progress import FleetProgress
from schemadiff.core.options import Options
from schemadiff.core.shards import schema_of
from schemadiff.errors import SchemadiffError
from schemadiff.pg import connection
from schemadiff.pg.targets import Target, resolve_targets

if TYPE_CHECKING:
    from schemadiff.spec.schema import LoadedSpec
    from schemadiff.workflow.fleet import ShardResult, ShardRun

UrlsOpt = Annotated[
    Optional[list[str]],
    typer.Option(
        "--database-url",
        metavar="URL",
        help="Target database (repeat for a fleet of shards); else SCHEMADIFF_DATABASE_URL, DATABASE_URL, "
        "or the embedded server.",
        show_default=False,
    ),
]
TargetsOpt = Annotated[
    Optional[Path],
    typer.Option(
        "--targets",
        help="A targets file naming the shards of a fleet: `targets: {NAME: {url_env: VARIABLE}}`.",
        show_default=False,
    ),
]


def targets_of(urls: list[str] | None, targets_file: Path | None) -> tuple[list[Target], str | None]:
    """The fleet (more than one shard) and None, or no fleet and the one URL flag as today."""
    targets = resolve_targets(urls, targets_file)
    if len(targets) > 1:
        return targets, None
    if targets:
        return [], targets[0].url
    return [], urls[0] if urls else None


def _shards_line(shards: list[Any]) -> str:
    return ", ".join(f"{s.target.name} ({s.target.shown})" for s in shards)


def _report_down(shards: list[Any], what: str) -> None:
    for shard in shards:
        if shard.error is not None:
            _err(f"shard {shard.target.name}: {what}: {shard.error}")


# ── plan ──────────────────────────────────────────────────────────────────────────────────


def plan(
    loaded: LoadedSpec,
    targets: list[Target],
    dev_url: str | None,
    format: Format,
    allowed: set[str],
    message: str | None,
    why: str | None,
    config: Path,
    no_validate: bool,
    strict: bool,
    dry_run: bool,
    write_checked_revision: Callable[..., Path],
) -> NoReturn:
    """``write_checked_revision``: plan's own (proves and writes the one revision)."""
    from schemadiff.core.policy import check_policy
    from schemadiff.render.json_report import plan_dict
    from schemadiff.render.text_report import render_text
    from schemadiff.workflow.fleet import fleet_plan
    from schemadiff.workflow.planning import dev_connection

    if format is Format.sql:
        raise SchemadiffError(
            "--format sql is a script for one database (one connection runs it); for a fleet plan each shard "
            "with its own --database-url, or use --format text, json or markdown"
        )
    dev = connection.to_libpq(dev_url) if dev_url else None
    fleet = fleet_plan(
        loaded,
        targets,
        dev,
        lambda: dev_connection(dev),
        notice=lambda m: _err(f"note: {m}"),
        allowed=tuple(sorted(allowed)),
    )
    result = fleet.plan
    if result is not None:
        shown = f"{len(targets)} shard(s): {', '.join(t.name for t in targets)}"
        if format is Format.json:
            data = plan_dict(result, schema_of)
            data["shards"] = [
                {
                    "name": s.target.name,
                    "database": s.target.shown,
                    "tenants": len(s.value.models) if s.value is not None else None,
                    "error": s.error,
                }
                for s in fleet.shards
            ]
            typer.echo(json.dumps(data, indent=2))
        elif format is Format.markdown:
            from schemadiff.render.markdown_report import render_markdown

            listed = [(s.target.name, s.target.shown, len(s.value.models) if s.value else None) for s in fleet.shards]
            typer.echo(render_markdown(result, schema_of, listed), nl=False)
        else:
            typer.echo(render_text(result, shown, schema_of), nl=False)
            for s in fleet.shards:
                typer.echo(
                    f"shard {s.target.name} ({s.target.shown}): "
                    + (f"{len(s.value.models)} schema(s) read in {s.seconds:.2f}s" if s.value is not None else "down")
                )
    _report_down(fleet.shards, "cannot read it")
    if fleet.down:
        raise SchemadiffError(
            f"{len(fleet.down)} of {len(targets)} shard(s) could not be read; no revision written. "
            "Run again when every shard answers"
        )
    assert result is not None
    check_policy(result, allowed)
    if strict and result.lint:
        raise SchemadiffError(f"--strict: {len(result.lint)} lint finding(s); fix them or exclude their rules")
    if result.changes and message and not dry_run:
        from schemadiff.workflow.alembic_env import alembic_config, require_up_to_date

        cfg = alembic_config(config)
        for target in targets:
            try:
                require_up_to_date(cfg, target.url, loaded.spec.migrations.directory)
            except SchemadiffError as exc:
                raise SchemadiffError(f"shard {target.name}: {exc}") from None
        path = write_checked_revision(result, loaded, config, message, why, None if no_validate else dev_url or "")
        _err(f"wrote {path} (one revision for every shard)")
    elif result.changes and not message and not dry_run:
        _err("note: no revision written; pass -m MESSAGE to write one")
    raise typer.Exit(EXIT_CHANGES if result.changes else EXIT_OK)


# ── apply and rollback ───────────────────────────────────────────────────────────────────


def _summary(results: list[ShardResult[ShardRun]], label: str) -> None:
    from schemadiff.workflow.fleet import run_error

    table = Table(title=f"{label} on {len(results)} shard(s)")
    for column in ("shard", "tenants done", "skipped", "failed", "seconds", "result"):
        table.add_column(
            column, justify="right" if column in ("tenants done", "skipped", "failed", "seconds") else "left"
        )
    for r in results:
        run = r.value
        error = run_error(r)
        outcome = f"error: {error}" if error else (f"nothing to do ({run.idle})" if run and run.idle else "ok")
        if run and run.ended == "paused":
            outcome, error = "paused after its canary", None
        table.add_row(
            r.target.name,
            str(run.done) if run else "-",
            str(run.skipped) if run else "-",
            str(run.failed) if run else "-",
            f"{r.seconds:.1f}",
            outcome,
        )
    Console(width=160).print(table)
    for r in results:
        error = run_error(r)
        if error and not (r.value and r.value.ended == "paused"):
            _err(f"shard {r.target.name}: {label} failed: {error}")


def run(
    action: str,
    targets: list[Target],
    config: Path,
    spec: Path,
    options: Options,
    yes: bool,
    confirm: Callable[[str, bool], None],
    steps: int = 1,
) -> None:
    """apply (``upgrade``) or rollback (``downgrade``) on every shard at once; exit 1 when any
    shard failed or could not be reached (a rerun finishes only what is left)."""
    from schemadiff.workflow.fleet import fleet_run, run_error
    from schemadiff.workflow.fleet_survey import paused_shards

    verb = "Apply pending revisions to" if action == "upgrade" else f"Roll back {steps} revision(s) on"
    paused = paused_shards(targets, action)
    if paused:  # as on one database: a rollout paused after its canary goes on with --continue only
        word = "rollout" if action == "upgrade" else "rollback"
        typer.echo(
            f"the fleet's {word} is paused after its canary on {len(paused)} shard(s) ({', '.join(paused)}); "
            "nothing was changed; rerun with --continue to go on"
        )
        raise typer.Exit(EXIT_PAUSED)
    confirm(f"{verb} {len(targets)} shard(s) ({', '.join(t.name for t in targets)})?", yes)
    with FleetProgress(action) as bar:
        results = fleet_run(action, targets, config, spec, options, steps, bar.report)
    _summary(results, action)
    failed = [r.target.name for r in results if run_error(r)]
    if failed:
        raise SchemadiffError(
            f"{len(failed)} of {len(results)} shard(s) did not finish ({', '.join(failed)}); "
            "the others did. Run the same command again to finish what is left"
        )
    if action == "upgrade":
        typer.echo("every schema on every shard matches the spec")


def rollout(
    action: str,
    loaded: LoadedSpec | None,
    targets: list[Target],
    config: Path,
    spec: Path,
    options: Options,
    yes: bool,
    confirm: Callable[[str, bool], None],
) -> None:
    """A staged rollout (``upgrade``) or rollback (``downgrade``) over the fleet
    (``workflow.fleet_rollout``): a table per stage; exit 3 when it pauses after the canary (asked on
    a terminal when the canary ran in this run), 1 when it stops."""
    import sys

    from schemadiff.workflow.fleet_rollout import FleetPaused
    from schemadiff.workflow.fleet_rollout import rollout as run_rollout

    shown = f"{len(targets)} shard(s) ({', '.join(t.name for t in targets)})"
    confirm(
        f"Roll out the pending revision to {shown}?"
        if action == "upgrade"
        else f"Roll back the newest revision on {shown}, in stages?",
        yes,
    )

    def ask(paused: list[str], waiting: int) -> bool:
        if options.proceed or not sys.stdin.isatty():
            return False
        return typer.confirm(
            f"Canary done and verified on {', '.join(paused)}. Go on with the other {waiting} schema(s)?",
            default=False,
        )

    def stage(label: str, results: list[ShardResult[ShardRun]]) -> None:
        bar.reset()
        _summary(results, f"{action}: {label}")

    try:
        with FleetProgress(action) as bar:
            done = run_rollout(action, loaded, targets, config, spec, options, stage, ask, bar.report)
    except FleetPaused as exc:
        typer.echo(str(exc))
        raise typer.Exit(EXIT_PAUSED) from None
    typer.echo(done)


# ── status and check ─────────────────────────────────────────────────────────────────────


def status(loaded: LoadedSpec, targets: list[Target], config: Path, json_format: bool, dev_url: str | None) -> int:
    from schemadiff.render.check_report import render_status_json, render_status_text
    from schemadiff.workflow.fleet import fleet_status, status_exit

    dev = connection.to_libpq(dev_url) if dev_url else None
    results = fleet_status(loaded, targets, config, dev)
    if json_format:
        shards = [
            {
                "name": r.target.name,
                "error": r.error,
                "status": json.loads(render_status_json(r.value, r.target.shown)) if r.value is not None else None,
            }
            for r in results
        ]
        typer.echo(json.dumps({"shards": shards}, indent=2))
    else:
        for r in results:
            typer.echo(f"shard {r.target.name}:")
            if r.value is not None:
                typer.echo(render_status_text(r.value, r.target.shown), nl=False)
            else:
                typer.echo(f"  cannot read it: {r.error}")
    _report_down(results, "cannot read it")
    return status_exit(results)


def check(
    loaded: LoadedSpec,
    targets: list[Target],
    config: Path,
    dev_url: str | None,
    allow_pending: bool,
    json_format: bool,
) -> int:
    from schemadiff.render.check_report import check_dict, render_check_text
    from schemadiff.workflow.fleet import fleet_check

    dev = connection.to_libpq(dev_url) if dev_url else None
    results = fleet_check(loaded, targets, config, dev, allow_pending)
    if json_format:
        shards = [
            {"name": r.target.name, "error": r.error, "check": check_dict(r.value) if r.value is not None else None}
            for r in results
        ]
        typer.echo(json.dumps({"ok": all(r.value and r.value.ok for r in results), "shards": shards}, indent=2))
    else:
        for r in results:
            typer.echo(f"shard {r.target.name}:")
            typer.echo(
                render_check_text(r.value) if r.value is not None else f"  cannot read it: {r.error}\n", nl=False
            )
    _report_down(results, "cannot check it")
    if any(r.value is None for r in results):
        return EXIT_ERROR
    return EXIT_OK if all(r.value is not None and r.value.ok for r in results) else EXIT_CHANGES
