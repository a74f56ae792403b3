"""The embedded PostgreSQL: db url, db stop; db seed fills a database with the demo's tenants."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from schemadiff.cli.common import SpecOpt, UrlOpt, _err, _fail, _load, app
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


@db_app.command("seed")
def db_seed(
    spec: SpecOpt = Path("schema.yaml"),
    database_url: UrlOpt = None,
    tenants: Annotated[int, typer.Option("--tenants", min=1, max=10_000, help="How many user_N schemas.")] = 24,
) -> None:
    """Fill a database with the demo's tenants, to adopt schemadiff on: public and user_1..user_N
    holding the marketplace example's tables in their previous state with rows, user_7 fixed by hand.

    The spec must be the marketplace example (the repository's schema.yaml). The database is the
    embedded server's (database postgres) unless a URL is given; nothing that exists is touched:
    the seed refuses when a schema or table it would create is already there.
    """
    from schemadiff.workflow import demo

    url: str | None = None
    try:
        loaded = _load(spec)
        demo.require_example(loaded)  # before any connection
        target = connection.resolve_url(database_url)
        url = target.url
        taken = demo.seed_conflicts(url, loaded, tenants)
        if taken:
            raise SchemadiffError(
                f"{target.shown} already has {', '.join(taken[:3])}{' …' if len(taken) > 3 else ''}; "
                "db seed fills only a database without them (run `schemadiff db stop` and remove .schemadiff/ "
                "to start the embedded one afresh)"
            )
        demo.seed_previous_state(url, loaded, tenants, hand_fixed="user_7" if tenants >= 7 else None)
    except SchemadiffError as exc:
        raise _fail(exc, url) from None
    _err(
        f"seeded {target.shown}: public and user_1..user_{tenants} with marketplace_tasks and jobs in the "
        f"example's previous state{'; user_7 has step_order, added by hand' if tenants >= 7 else ''}; "
        f"ignored by the tenant pattern: {', '.join(demo.IGNORED)}"
    )
