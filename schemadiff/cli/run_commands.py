"""The commands that change databases: init, apply, rollback, status. Thin, like cli.py."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from schemadiff.cli import fleet_commands as fleet
from schemadiff.cli.check_commands import ReportFormat
from schemadiff.cli.common import (
    EXIT_PAUSED,
    AllowOpt,
    ConfigOpt,
    DevUrlOpt,
    Format,
    SpecOpt,
    _allowed,
    _err,
    _fail,
    _load,
    app,
)
from schemadiff.cli.rollout_options import (
    CanaryOpt,
    ContinueOpt,
    DelayOpt,
    MaxFailuresOpt,
    MaxLagOpt,
    MaxRateOpt,
    TenantsOpt,
    WaveSizeOpt,
    staged,
)
from schemadiff.cli.run_progress import Progress, callbacks, summary
from schemadiff.core import options as run_options
from schemadiff.core.hazards import hazard_names
from schemadiff.core.options import MAX_WORKERS, Options
from schemadiff.errors import SchemadiffError
from schemadiff.pg import connection


def pg_duration(value: str) -> str:
    """A PostgreSQL duration for lock_timeout/statement_timeout (the check ``-x`` values get too, see
    ``core.options``), made when the command line is parsed, before any connection; ``value``
    unchanged, or ``typer.BadParameter`` naming the accepted form."""
    try:
        return run_options.pg_duration(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is {exc}") from None


YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
WorkersOpt = Annotated[
    int,
    typer.Option("--workers", min=1, max=MAX_WORKERS, help=f"Parallel tenant connections (1-{MAX_WORKERS})."),
]
LockTimeoutOpt = Annotated[
    str,
    typer.Option("--lock-timeout", callback=pg_duration, help="SET LOCAL lock_timeout per tenant (e.g. 2s, 500ms)."),
]
StatementTimeoutOpt = Annotated[
    str,
    typer.Option(
        "--statement-timeout", callback=pg_duration, help="SET LOCAL statement_timeout per tenant (0 = none)."
    ),
]
LockWaitOpt = Annotated[float, typer.Option("--lock-wait", min=0, help="Seconds to wait for another run's lock.")]


@app.command()
def init(directory: Annotated[Path, typer.Option("--dir", help="Project root.")] = Path(".")) -> None:
    """Create alembic.ini, migrations/env.py, migrations/script.py.mako and migrations/versions/ where absent."""
    from schemadiff.workflow.alembic_env import init_environment

    created = init_environment(directory)
    for path in created:
        typer.echo(f"created {path}")
    if not created:
        typer.echo("nothing to do: the Alembic environment exists")


def _confirm(question: str, yes: bool) -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise SchemadiffError("no terminal to confirm on; re-run with --yes to proceed")
    if not typer.confirm(question, default=False):
        raise SchemadiffError("cancelled; nothing changed")


@app.command()
def apply(
    spec: SpecOpt = Path("schema.yaml"),
    database_url: fleet.UrlsOpt = None,
    config: ConfigOpt = Path("alembic.ini"),
    yes: YesOpt = False,
    workers: WorkersOpt = Options.workers,
    lock_timeout: LockTimeoutOpt = Options.lock_timeout,
    statement_timeout: StatementTimeoutOpt = Options.statement_timeout,
    lock_wait: LockWaitOpt = Options.lock_wait,
    allow: AllowOpt = None,
    targets: fleet.TargetsOpt = None,
    tenants: TenantsOpt = None,
    canary: CanaryOpt = None,
    proceed: ContinueOpt = False,
    wave_size: WaveSizeOpt = None,
    max_failures: MaxFailuresOpt = None,
    max_rate: MaxRateOpt = None,
    delay: DelayOpt = None,
    max_replication_lag: MaxLagOpt = None,
) -> None:
    """Run pending revisions (alembic upgrade head) on every tenant, then confirm each matches the spec.

    Before any change the plan is re-read against the live tenants and its hazards are checked
    again (tables may have grown since the revision was written): refused hazards need --allow.
    With several databases (--targets, or --database-url repeated) every shard runs at once, each
    with --workers connections; a shard that fails does not stop the others.
    A staged rollout takes some tenants (--tenants), runs a canary first and pauses after it
    (--canary; exit 3 without a terminal, --continue goes on), then the rest in waves
    (--wave-size) until more than --max-failures failed; alembic_version moves when every
    tenant is done. Over a fleet they make one rollout: SHARD:SCHEMA names, the canary spread over
    the shards before any other shard is touched, waves across the fleet, --max-failures counted
    across shards, throttles per shard.
    """
    from schemadiff.workflow import apply as apply_mod

    try:
        loaded = _load(spec)
        allowed = _allowed(allow, loaded)
        shards, one_url = fleet.targets_of(database_url, targets)
        options = staged(
            Options(workers, lock_timeout, statement_timeout, lock_wait, allow=frozenset(allowed)),
            tenants,
            canary,
            proceed,
            wave_size,
            max_failures,
            max_rate,
            delay,
            max_replication_lag,
        )
        if shards and options.staged:
            fleet.rollout("upgrade", loaded, shards, config, spec, options, yes, _confirm)
            return
        if shards:  # the throttles alone apply to every shard's run
            fleet.run("upgrade", shards, config, spec, options, yes, _confirm)
            return
    except SchemadiffError as exc:
        raise _fail(exc) from None

    def run(cfg: object, url: str, options: Options, calls: object) -> object:
        known = apply_mod.first_pending_starts(cfg, url)  # type: ignore[arg-type]
        apply_mod.check_hazards(loaded, url, allowed, known, options.selection)
        assert isinstance(calls, apply_mod.Callbacks)
        outcome = apply_mod.upgrade(cfg, url, loaded, options, calls.reporter, notice=calls.notice, ask=calls.ask)  # type: ignore[arg-type]
        if not outcome.converged:
            summary(outcome)
            raise SchemadiffError(
                f"{outcome.remaining} schema(s) still differ from the spec after the upgrade; "
                "run `schemadiff plan` to see them"
            )
        return outcome

    outcome = _run_revisions("upgrade", "Apply pending revisions to {}?", run, _at_head, one_url, config, yes, options)
    if outcome is not None and not outcome.in_progress:  # type: ignore[attr-defined]
        typer.echo("every schema matches the spec")


def _at_head(cfg: object, url: str) -> str | None:
    """ "nothing to do" when the database's revision is already the script head (and no rollback of
    it is in progress), else None."""
    from schemadiff.workflow.alembic_env import current_head, script_directory
    from schemadiff.workflow.apply import current_revision
    from schemadiff.workflow.rollouts import in_progress

    try:
        head = current_head(script_directory(cfg))  # type: ignore[arg-type]
    except Exception:
        return None
    if head is not None and current_revision(url) == head and in_progress(cfg, url) is None:  # type: ignore[arg-type]
        return f"nothing to do: the database is at head {head}"
    return None


def _none_applied(cfg: object, url: str) -> str | None:
    """ "nothing to roll back" when the database has no alembic_version row and no rollout of the
    first revision is in progress, else None."""
    from schemadiff.workflow.apply import current_revision
    from schemadiff.workflow.rollouts import in_progress

    if current_revision(url) is None and in_progress(cfg, url) is None:  # type: ignore[arg-type]
        return "nothing to roll back: no revision applied"
    return None


def _run_revisions(
    label: str,
    question: str,
    run: Callable[[object, str, Options, object], object],
    idle: Callable[[object, str], str | None],
    database_url: str | None,
    config: Path,
    yes: bool,
    options: Options,
) -> object | None:
    """Shared by apply and rollback: resolve; when ``idle`` says there is nothing to do, say so and
    return None without asking; else confirm, run with a progress bar, summarize, return the outcome.
    A staged rollout paused after its canary exits 3."""
    from schemadiff.workflow.alembic_env import alembic_config

    url: str | None = None
    try:
        cfg = alembic_config(config)
        target = connection.resolve_url(database_url)
        url = target.url
        nothing = idle(cfg, url)
        if nothing is not None:
            typer.echo(nothing)
            return None
        _confirm(question.format(target.shown), yes)
        with Progress(label) as progress:
            outcome = run(cfg, url, options, callbacks(progress, question=not options.proceed))
        summary(outcome)
    except SchemadiffError as exc:
        failed_report = getattr(exc, "report", None)
        if failed_report is not None:
            from schemadiff.workflow.apply import Outcome

            summary(Outcome([failed_report]))
        from schemadiff.runtime.rollout import RolloutPaused

        if isinstance(exc, RolloutPaused):
            typer.echo(connection.redact(str(exc), url))
            raise typer.Exit(EXIT_PAUSED) from None
        raise _fail(exc, url) from None
    return outcome


@app.command()
def rollback(
    database_url: fleet.UrlsOpt = None,
    config: ConfigOpt = Path("alembic.ini"),
    steps: Annotated[int, typer.Option("--steps", min=1, help="How many revisions to go back.")] = 1,
    yes: YesOpt = False,
    workers: WorkersOpt = Options.workers,
    lock_timeout: LockTimeoutOpt = Options.lock_timeout,
    statement_timeout: StatementTimeoutOpt = Options.statement_timeout,
    lock_wait: LockWaitOpt = Options.lock_wait,
    allow: AllowOpt = None,
    assume_from: Annotated[
        str,
        typer.Option(
            "--assume-from",
            help="The starting state (fingerprint) of tenants at the target whose ledger row is lost.",
            show_default=False,
        ),
    ] = Options.assume_from,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the downgrade and its hazards; change nothing.")
    ] = False,
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format of --dry-run.")] = Format.text,
    targets: fleet.TargetsOpt = None,
    tenants: TenantsOpt = None,
    canary: CanaryOpt = None,
    proceed: ContinueOpt = False,
    wave_size: WaveSizeOpt = None,
    max_failures: MaxFailuresOpt = None,
    max_rate: MaxRateOpt = None,
    delay: DelayOpt = None,
    max_replication_lag: MaxLagOpt = None,
) -> None:
    """Reverse the last revision(s) (alembic downgrade -N): each tenant back to the state it started from.

    A downgrade is a plan too: dropping a column or table that holds data written since the upgrade
    is refused (deletes_data) unless allowed with --allow deletes_data; --dry-run shows it first.
    While the rollout of the next revision is in progress, that revision is the one taken back.
    The staged-rollout options work as for apply. Over a fleet (--targets, or --database-url
    repeated) they make one rollback of the newest revision a shard has, across every shard:
    SHARD:SCHEMA names, the canary spread over the shards before any other shard is touched, waves
    across the fleet, --max-failures counted across shards, throttles per shard.
    """
    from schemadiff.workflow import apply as apply_mod

    try:
        allowed = hazard_names(allow)
        shards, one_url = fleet.targets_of(database_url, targets)
        if shards and dry_run:
            raise SchemadiffError("--dry-run shows one database; run it per shard with its own --database-url")
        options = staged(
            Options(workers, lock_timeout, statement_timeout, lock_wait, allow=allowed, assume_from=assume_from),
            tenants,
            canary,
            proceed,
            wave_size,
            max_failures,
            max_rate,
            delay,
            max_replication_lag,
        )
        if shards and options.staged:
            if steps > 1:
                raise SchemadiffError(
                    "a staged rollback over a fleet takes back one revision (the newest one a shard has); "
                    "drop --steps and run it again for the one before"
                )
            fleet.rollout("downgrade", None, shards, config, Path("schema.yaml"), options, yes, _confirm)
            return
        if shards:  # the throttles alone apply to every shard's run
            fleet.run("downgrade", shards, config, Path("schema.yaml"), options, yes, _confirm, steps)
            return
    except SchemadiffError as exc:
        raise _fail(exc) from None
    if dry_run:
        _preview(one_url, config, options, format, steps)
        return

    def run(cfg: object, url: str, options: Options, calls: object) -> object:
        assert isinstance(calls, apply_mod.Callbacks)
        return apply_mod.downgrade(cfg, url, steps, options, calls.reporter, notice=calls.notice, ask=calls.ask)  # type: ignore[arg-type]

    _run_revisions(
        "downgrade", f"Roll back {steps} revision(s) on {{}}?", run, _none_applied, one_url, config, yes, options
    )


def _preview(database_url: str | None, config: Path, options: Options, format: Format, steps: int) -> None:
    """rollback --dry-run: print the downgrade of the applied revision; exit 1 when it would be refused."""
    from schemadiff.workflow import rollback_preview
    from schemadiff.workflow.alembic_env import alembic_config
    from schemadiff.workflow.apply import current_revision
    from schemadiff.workflow.rollouts import in_progress

    url: str | None = None
    try:
        cfg = alembic_config(config)
        target = connection.resolve_url(database_url)
        url = target.url
        progress = in_progress(cfg, url)  # a revision half rolled out is the one a rollback takes back
        revision = progress.revision if progress and progress.direction == "upgrade" else current_revision(url)
        if revision is None:
            typer.echo("nothing to roll back: no revision applied")
            return
        result = rollback_preview.preview(cfg, url, revision, options)
        typer.echo(rollback_preview.render(result, format.value, target.shown), nl=False)
        if steps > 1:
            _err(f"note: --dry-run shows the first of {steps} steps; each later one depends on the one before")
        if result.refused:
            raise SchemadiffError(
                "rollback refused: it would delete data (deletes_data); "
                "re-run with --allow deletes_data if that is intended"
            )
    except (SchemadiffError, ValueError) as exc:
        raise _fail(exc if isinstance(exc, SchemadiffError) else SchemadiffError(str(exc)), url) from None


@app.command()
def status(
    spec: SpecOpt = Path("schema.yaml"),
    database_url: fleet.UrlsOpt = None,
    config: ConfigOpt = Path("alembic.ini"),
    format: Annotated[ReportFormat, typer.Option("--format", "-f", help="Output format.")] = ReportFormat.text,
    dev_url: DevUrlOpt = None,
    targets: fleet.TargetsOpt = None,
) -> None:
    """Show the Alembic revision and the tenants per state: at the spec, pending, unknown.

    Exit 0 when the database is at the head and every tenant at the spec, 3 when revisions or
    tenants are pending (`schemadiff apply` takes them to the spec), 4 when any tenant is in an
    unknown state (plan a new revision), 1 on error. With several databases (--targets, or
    --database-url repeated) every shard is read at once and the worst shard's code is the exit.
    """
    from schemadiff.core.tenant_states import STATUS_EXIT
    from schemadiff.render.check_report import render_status_json, render_status_text
    from schemadiff.workflow import apply as apply_mod

    url: str | None = None
    try:
        loaded = _load(spec)
        shards, one_url = fleet.targets_of(database_url, targets)
        if shards:
            raise typer.Exit(fleet.status(loaded, shards, config, format is ReportFormat.json, dev_url))
        target = connection.resolve_url(one_url)
        url = target.url
        states = apply_mod.status(config, url, loaded, connection.to_libpq(dev_url) if dev_url else None)
        render = render_status_json if format is ReportFormat.json else render_status_text
        typer.echo(render(states, target.shown), nl=False)
    except SchemadiffError as exc:
        raise _fail(exc, url) from None
    raise typer.Exit(STATUS_EXIT[states.verdict])
