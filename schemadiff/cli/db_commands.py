"""The embedded PostgreSQL: db url, db stop."""

from __future__ import annotations

import typer

from schemadiff.cli.common import _fail, app
from schemadiff.errors import SchemadiffError
from schemadiff.pg import connection, embedded_server

db_app = typer.Typer(no_args_is_help=True, help="The embedded PostgreSQL used when no URL is configured.")
app.add_typer(db_app, name="db")


@db_app.command("url")
def db_url() -> None:
    """Start the embedded PostgreSQL if needed and print its URL."""
    try:
        typer.echo(connection.redact(embedded_server.server_url()))
    except SchemadiffError as exc:
        raise _fail(exc) from None


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded PostgreSQL under .schemadiff/."""
    try:
        stopped = embedded_server.stop()
    except SchemadiffError as exc:
        raise _fail(exc) from None
    typer.echo("stopped" if stopped else "not running")
