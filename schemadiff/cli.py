"""Typer commands, thin: parse, call the library, map errors to exit codes.

Exit codes: 0 nothing to do / success · 1 error or refusal · 2 plan/check found changes.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from typer.core import TyperGroup

try:  # typer >= 0.2x vendors click
    from typer._click.exceptions import UsageError
except ImportError:  # pragma: no cover - older typer depends on click
    from click.exceptions import UsageError  # type: ignore[no-redef]

from schemadiff import db, embedded
from schemadiff.errors import SchemadiffError, SpecError
from schemadiff.hazards import hazard_names
from schemadiff.spec import HAZARDS, LoadedSpec, load_spec, spec_json_schema

if TYPE_CHECKING:
    from schemadiff.plan import Plan

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2


@contextmanager
def _usage_exits_1() -> Iterator[None]:
    """A usage error (unknown option, bad value, missing argument) leaves with exit code 1, never
    click's 2, which schemadiff keeps for "plan found changes"."""
    try:
        yield
    except UsageError as exc:
        exc.exit_code = EXIT_ERROR
        raise


class SchemadiffGroup(TyperGroup):
    """The root command group. Every command and subcommand is parsed inside ``make_context`` or
    ``invoke`` of this group, so mapping usage errors here covers them all, in the installed
    command and in-process (typer's CliRunner) alike."""

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        with _usage_exits_1():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: Any) -> Any:
        with _usage_exits_1():
            return super().invoke(ctx)


app = typer.Typer(cls=SchemadiffGroup, add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Declarative, reversible migrations for schema-per-tenant PostgreSQL.")
db_app = typer.Typer(no_args_is_help=True, help="The embedded PostgreSQL used when no URL is configured.")
app.add_typer(db_app, name="db")

SpecOpt = Annotated[Path, typer.Option("--spec", help="Path of the spec file.")]
UrlOpt = Annotated[Optional[str], typer.Option(
    "--database-url", help="Target database; else SCHEMADIFF_DATABASE_URL, DATABASE_URL, or the embedded server.",
    show_default=False)]
DevUrlOpt = Annotated[Optional[str], typer.Option(
    "--dev-url", help="Scratch database for normalizing the spec when the target is read-only (embedded by default).",
    show_default=False)]
AllowOpt = Annotated[Optional[list[str]], typer.Option(
    "--allow", help=f"Allow hazards by name, comma-separated: {', '.join(HAZARDS)}.", show_default=False)]


class Format(str, Enum):
    text = "text"
    sql = "sql"
    json = "json"
    markdown = "markdown"


def _err(message: str) -> None:
    typer.echo(message, err=True)


def _fail(exc: SchemadiffError, url: str | None = None) -> typer.Exit:
    if isinstance(exc, SpecError):
        for problem in exc.problems:
            _err(str(problem))
        _err(f"{len(exc.problems)} problem(s) in the spec; fix them and run again")
    else:
        _err(f"error: {db.redact(str(exc), url)}")
    if os.environ.get("SCHEMADIFF_TRACEBACK"):
        raise exc
    return typer.Exit(EXIT_ERROR)


def _load(spec: Path) -> LoadedSpec:
    return load_spec(spec)


def _allowed(flags: list[str] | None, loaded: LoadedSpec) -> set[str]:
    return set(hazard_names(flags)) | set(loaded.spec.policy.allow)


@app.command()
def validate(spec: SpecOpt = Path("schema.yaml")) -> None:
    """Validate the spec only (touches no database). Exit 0 when valid, 1 with every problem listed."""
    try:
        loaded = _load(spec)
    except SchemadiffError as exc:
        raise _fail(exc) from None
    tables = loaded.spec.tables
    typer.echo(f"{spec}: valid ({len(tables)} table(s): {', '.join(tables)})")


@app.command("spec-schema")
def spec_schema() -> None:
    """Print the JSON Schema of the spec format (committed as schemadiff.schema.json)."""
    typer.echo(json.dumps(spec_json_schema(), indent=2))


MessageOpt = Annotated[Optional[str], typer.Option(
    "--message", "-m", help="Write a revision with this message when there are changes.", show_default=False)]
ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="The Alembic configuration file.")]


@app.command()
def plan(
    spec: SpecOpt = Path("schema.yaml"),
    database_url: UrlOpt = None,
    dev_url: DevUrlOpt = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.text,
    allow: AllowOpt = None,
    message: MessageOpt = None,
    why: Annotated[Optional[str], typer.Option("--why", help="Why the change is made (goes into the revision).",
                                               show_default=False)] = None,
    config: ConfigOpt = Path("alembic.ini"),
    no_validate: Annotated[bool, typer.Option("--no-validate", help="Skip proving the revision with migra.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Treat squawk lint findings as errors.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan only; write no revision.")] = False,
) -> None:
    """Compare every tenant schema with the spec and show what would change, per group of tenants.

    With -m, also write a reviewed-artifact Alembic revision (proved on scratch copies with migra
    first, unless --no-validate). Exit 0 when every schema is at the spec, 2 when there are
    changes, 1 on error or refusal.
    """
    url: str | None = None
    try:
        loaded = _load(spec)
        allowed = _allowed(allow, loaded)
        target = db.resolve_url(database_url)
        url = target.url
        result = _plan(loaded, target, dev_url, allowed)
        typer.echo(_render(result, format, target.shown), nl=False)
        from schemadiff.policy import check_policy

        check_policy(result, allowed)
        if strict and result.lint:
            rules = ", ".join(dict.fromkeys(f.rule for f in result.lint))
            raise SchemadiffError(f"--strict: {len(result.lint)} lint finding(s) ({rules}); fix them, or exclude "
                                  "rules under lint.exclude in the spec")
        if result.changes and message and not dry_run:
            path = write_checked_revision(result, loaded, config, message, why, None if no_validate else dev_url or "",
                                          url)
            _err(f"wrote {path}")
        elif result.changes and not message and not dry_run:
            _err("note: no revision written; pass -m MESSAGE to write one")
    except SchemadiffError as exc:
        raise _fail(exc, url) from None
    raise typer.Exit(EXIT_CHANGES if result.changes else EXIT_OK)


def write_checked_revision(result: "Plan", loaded: LoadedSpec, config: Path, message: str,
                           why: str | None, dev_url: str | None, url: str | None = None) -> Path:
    """Refuse when the database ``url`` is behind the newest revision; render, prove with migra
    on the dev database (unless dev_url is None), then write."""
    from schemadiff.render.revision import RevisionInfo, render_revision
    from schemadiff.revision import alembic_config, require_up_to_date, write_revision

    cfg = alembic_config(config)
    if url is not None:
        require_up_to_date(cfg, url, loaded.spec.migrations.directory)
    if dev_url is not None:
        from datetime import datetime

        from schemadiff.validate import validate

        candidate = render_revision(result, RevisionInfo("candidate", None, message, why, datetime.now()))
        dev = db.to_libpq(dev_url) if dev_url else embedded.server_url()
        findings = validate(result, candidate, dev)
        for finding in findings:
            _err(f"{'error' if finding.fatal else 'note'}: validation {finding}")
        if any(f.fatal for f in findings):
            raise SchemadiffError("the revision did not prove out on scratch copies; nothing written")
        _err(f"validated {len(result.groups)} group(s) with migra: upgrade reaches the spec, downgrade restores each start")
    return write_revision(result, cfg, message, why, loaded.spec.migrations.directory)


def _plan(loaded: LoadedSpec, target: db.Target, dev_url: str | None, allowed: set[str] | None = None) -> "Plan":
    from schemadiff.planner import make_plan

    dev = db.to_libpq(dev_url) if dev_url else None
    result, _tenants = make_plan(loaded, target.url, dev, notice=lambda m: _err(f"note: {m}"),
                                 allowed=tuple(sorted(allowed or ())))
    return result


def _render(result: "Plan", format: Format, database: str) -> str:
    from schemadiff.render.json import render_json
    from schemadiff.render.markdown import render_markdown
    from schemadiff.render.sql import render_sql
    from schemadiff.render.text import render_text

    if format is Format.json:
        return render_json(result)
    if format is Format.sql:
        return render_sql(result)
    if format is Format.markdown:
        return render_markdown(result)
    return render_text(result, database)


@db_app.command("url")
def db_url() -> None:
    """Start the embedded PostgreSQL if needed and print its URL."""
    try:
        typer.echo(db.redact(embedded.server_url()))
    except SchemadiffError as exc:
        raise _fail(exc) from None


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded PostgreSQL under .schemadiff/."""
    try:
        stopped = embedded.stop()
    except SchemadiffError as exc:
        raise _fail(exc) from None
    typer.echo("stopped" if stopped else "not running")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        _err("interrupted")
        sys.exit(130)


from schemadiff import cli_run  # noqa: E402,F401  (registers init/apply/rollback/status/demo)

if __name__ == "__main__":  # `python -m schemadiff.cli`: the commands live on the imported module's app
    from schemadiff.cli import main as imported_main

    imported_main()
