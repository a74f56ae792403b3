"""The CI gate: check. Thin, like the others."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from schemadiff.cli import fleet_commands as fleet
from schemadiff.cli.common import EXIT_CHANGES, EXIT_OK, ConfigOpt, DevUrlOpt, SpecOpt, _err, _fail, _load, app
from schemadiff.errors import SchemadiffError
from schemadiff.pg import connection


class ReportFormat(str, Enum):
    text = "text"
    json = "json"


FormatOpt = Annotated[ReportFormat, typer.Option("--format", "-f", help="Output format.")]


@app.command()
def check(
    spec: SpecOpt = Path("schema.yaml"),
    database_url: fleet.UrlsOpt = None,
    dev_url: DevUrlOpt = None,
    config: ConfigOpt = Path("alembic.ini"),
    format: FormatOpt = ReportFormat.text,
    allow_pending: Annotated[
        bool,
        typer.Option(
            "--allow-pending", help="Tenants the revisions not applied yet take to the spec pass (pull requests)."
        ),
    ] = False,
    no_database: Annotated[
        bool, typer.Option("--no-database", help="Check the repository only, even when a database URL is configured.")
    ] = False,
    targets: fleet.TargetsOpt = None,
) -> None:
    """The CI gate: the head revision captures the spec, no revision was edited after it was written,
    and (with a database) every tenant is at the spec.

    Reads the revision files without running them. Without a database (no --database-url,
    SCHEMADIFF_DATABASE_URL or DATABASE_URL) the spec is normalized in the dev database.
    Exit 0 when the check passes, 2 when it fails, 1 on error.
    """
    from schemadiff.render.check_report import render_check_json, render_check_text
    from schemadiff.workflow.check import check as run_check
    from schemadiff.workflow.check import uses_database

    url: str | None = None
    try:
        loaded = _load(spec)
        shards, one_url = fleet.targets_of(database_url, targets)
        if shards and not no_database:
            code = fleet.check(loaded, shards, config, dev_url, allow_pending, format is ReportFormat.json)
            raise typer.Exit(code)
        if uses_database(one_url, no_database):
            url = connection.resolve_url(one_url).url
        dev = connection.to_libpq(dev_url) if dev_url else None
        result = run_check(loaded, config, url, dev, allow_pending, notice=lambda m: _err(f"note: {m}"))
        render = render_check_json if format is ReportFormat.json else render_check_text
        typer.echo(render(result), nl=False)
    except SchemadiffError as exc:
        raise _fail(exc, url) from None
    raise typer.Exit(EXIT_OK if result.ok else EXIT_CHANGES)
