"""Tenants one at a time: tenant create."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from schemadiff.cli.common import ConfigOpt, SpecOpt, UrlOpt, _fail, app
from schemadiff.cli.run_commands import LockTimeoutOpt
from schemadiff.core.options import Options
from schemadiff.errors import SchemadiffError
from schemadiff.pg import connection

tenant_app = typer.Typer(no_args_is_help=True, help="Tenants one at a time: create a new one at the spec.")
app.add_typer(tenant_app, name="tenant")


@tenant_app.command("create")
def create(
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="The new tenant schema; its whole name must match tenants.pattern.")
    ],
    spec: SpecOpt = Path("schema.yaml"),
    database_url: UrlOpt = None,
    config: ConfigOpt = Path("alembic.ini"),
    lock_timeout: LockTimeoutOpt = Options.lock_timeout,
) -> None:
    """Create a tenant schema directly at the spec's state, recorded in the ledger at the head revision.

    One transaction: the spec's enum types, tables, keys and indexes, a check that the schema reads
    back in the head revision's target state, and its ledger row; on any refusal or error nothing is
    left behind. Refused when the name does not match the tenant pattern, the schema exists, the
    database is not at the head revision, the spec changed since it, or a schemadiff run is under way.
    """
    from schemadiff.workflow.new_tenant import prepare_tenants

    url: str | None = None
    try:
        blueprint = prepare_tenants(spec, config, lock_timeout)
        blueprint.check_name(name)  # before any connection (or embedded server)
        target = connection.resolve_url(database_url)
        url = target.url
        created = blueprint.create(url, name)
    except SchemadiffError as exc:
        raise _fail(exc, url) from None
    typer.echo(
        f"created tenant {created.schema} at revision {created.revision} (state {created.fingerprint}) "
        f"in {created.seconds * 1000:.0f} ms"
    )
