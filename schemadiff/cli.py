"""Typer commands, thin: parse, call the library, map errors to exit codes.

Exit codes: 0 nothing to do / success · 1 error or refusal · 2 plan/check found changes.
"""

from __future__ import annotations

import json
import os
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from schemadiff import db, embedded
from schemadiff.errors import PolicyRefused, SchemadiffError, SpecError
from schemadiff.spec import HAZARDS, LoadedSpec, load_spec, spec_json_schema

if TYPE_CHECKING:
    from schemadiff.plan import Plan

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Declarative, reversible migrations for schema-per-tenant PostgreSQL.")
db_app = typer.Typer(no_args_is_help=True, help="The embedded PostgreSQL used when no URL is configured.")
app.add_typer(db_app, name="db")

EXIT_OK, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2

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
    names = {h.strip() for f in flags or [] for h in f.split(",") if h.strip()}
    unknown = sorted(names - set(HAZARDS))
    if unknown:
        raise SchemadiffError(f"unknown hazard '{unknown[0]}' in --allow; known: {', '.join(HAZARDS)}")
    return names | set(loaded.spec.policy.allow)


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


@app.command()
def plan(
    spec: SpecOpt = Path("schema.yaml"),
    database_url: UrlOpt = None,
    dev_url: DevUrlOpt = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.text,
    allow: AllowOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan only; write no revision.")] = False,
) -> None:
    """Compare every tenant schema with the spec and show what would change, per group of tenants.

    Exit 0 when every schema is at the spec, 2 when there are changes, 1 on error or refusal.
    """
    url: str | None = None
    try:
        loaded = _load(spec)
        allowed = _allowed(allow, loaded)
        target = db.resolve_url(database_url)
        url = target.url
        result = _plan(loaded, target, dev_url)
        typer.echo(_render(result, format, target.shown), nl=False)
        from schemadiff.plan import check_policy

        check_policy(result, allowed)
    except SchemadiffError as exc:
        raise _fail(exc, url) from None
    raise typer.Exit(EXIT_CHANGES if result.changes else EXIT_OK)


def _plan(loaded: LoadedSpec, target: db.Target, dev_url: str | None) -> "Plan":
    from schemadiff.planner import make_plan

    dev = db.to_libpq(dev_url) if dev_url else None
    result, _tenants = make_plan(loaded, target.url, dev, notice=lambda m: _err(f"note: {m}"))
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


@app.command()
def demo(
    spec: SpecOpt = Path("schema.yaml"),
    database_url: UrlOpt = None,
) -> None:
    """Seed a demo database (public + 24 tenants in the previous state, with drift) and plan it."""
    from schemadiff import demo as demo_mod

    url: str | None = None
    try:
        loaded = _load(spec)
        server = db.resolve_url(database_url)
        url = server.url
        typer.echo(f"== 1. seed: database {demo_mod.DEMO_DATABASE} on {server.shown}")
        demo_url = demo_mod.recreate_database(server.url, demo_mod.DEMO_DATABASE)
        demo_mod.seed_previous_state(demo_url, loaded)
        typer.echo(f"   public + user_1..user_{demo_mod.TENANTS} with rows in the previous state; "
                   f"user_7 hand-fixed with step_order; ignored: {', '.join(demo_mod.IGNORED)}")
        typer.echo(f"== 2. schemadiff plan --spec {spec}")
        result = _plan(loaded, db.Target(demo_url, server.source), None)
        typer.echo(_render(result, Format.text, db.redact(demo_url)), nl=False)
    except SchemadiffError as exc:
        raise _fail(exc, url) from None


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


if __name__ == "__main__":
    main()
