"""The commands that read: validate, spec-schema, plan."""

from __future__ import annotations

import json
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from schemadiff.cli import fleet_commands as fleet
from schemadiff.cli.common import (
    EXIT_CHANGES,
    EXIT_OK,
    AllowOpt,
    ConfigOpt,
    DevUrlOpt,
    Format,
    MessageOpt,
    SpecOpt,
    _allowed,
    _err,
    _fail,
    _load,
    app,
)
from schemadiff.errors import SchemadiffError
from schemadiff.pg import connection
from schemadiff.spec.schema import LoadedSpec, spec_json_schema

if TYPE_CHECKING:
    from schemadiff.core.plan import Plan


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
    database_url: fleet.UrlsOpt = None,
    dev_url: DevUrlOpt = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.text,
    allow: AllowOpt = None,
    message: MessageOpt = None,
    why: Annotated[
        Optional[str],
        typer.Option("--why", help="Why the change is made (goes into the revision).", show_default=False),
    ] = None,
    config: ConfigOpt = Path("alembic.ini"),
    no_validate: Annotated[bool, typer.Option("--no-validate", help="Skip proving the revision with migra.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Treat squawk lint findings as errors.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the plan only; write no revision.")] = False,
    targets: fleet.TargetsOpt = None,
) -> None:
    """Compare every tenant schema with the spec and show what would change, per group of tenants.

    With -m, also write a reviewed-artifact Alembic revision (proved on scratch copies with migra
    first, unless --no-validate). Exit 0 when every schema is at the spec, 2 when there are
    changes, 1 on error or refusal. With several databases (--targets, or --database-url repeated)
    every shard is read in parallel and each state is planned once for the whole fleet.
    """
    url: str | None = None
    try:
        loaded = _load(spec)
        allowed = _allowed(allow, loaded)
        shards, one_url = fleet.targets_of(database_url, targets)
        if shards:
            fleet.plan(
                loaded,
                shards,
                dev_url,
                format,
                allowed,
                message,
                why,
                config,
                no_validate,
                strict,
                dry_run,
                write_checked_revision,
            )
        target = connection.resolve_url(one_url)
        url = target.url
        result = _plan(loaded, target, dev_url, allowed)
        typer.echo(_render(result, format, target.shown), nl=False)
        from schemadiff.core.policy import check_policy

        check_policy(result, allowed)
        if strict and result.lint:
            rules = ", ".join(dict.fromkeys(f.rule for f in result.lint))
            raise SchemadiffError(
                f"--strict: {len(result.lint)} lint finding(s) ({rules}); fix them, or silence a rule "
                "the spec contradicts on purpose with lint.ignore: {RULE: REASON}"
            )
        if result.changes and message and not dry_run:
            path = write_checked_revision(
                result, loaded, config, message, why, None if no_validate else dev_url or "", url
            )
            _err(f"wrote {path}")
        elif result.changes and not message and not dry_run:
            _err("note: no revision written; pass -m MESSAGE to write one")
    except SchemadiffError as exc:
        raise _fail(exc, url) from None
    raise typer.Exit(EXIT_CHANGES if result.changes else EXIT_OK)


def write_checked_revision(
    result: Plan,
    loaded: LoadedSpec,
    config: Path,
    message: str,
    why: str | None,
    dev_url: str | None,
    url: str | None = None,
) -> Path:
    """Refuse when the database ``url`` is behind the newest revision; render, prove with migra
    on the dev database (unless dev_url is None), then write."""
    from schemadiff.render.revision_file import RevisionInfo, render_revision
    from schemadiff.workflow.alembic_env import (
        alembic_config,
        require_up_to_date,
        write_revision,
    )

    cfg = alembic_config(config)
    if url is not None:
        require_up_to_date(cfg, url, loaded.spec.migrations.directory)
    if dev_url is not None:
        from datetime import datetime

        from schemadiff.workflow.planning import embedded_dev_url
        from schemadiff.workflow.prove import validate

        candidate = render_revision(result, RevisionInfo("candidate", None, message, why, datetime.now()))
        with nullcontext(connection.to_libpq(dev_url)) if dev_url else embedded_dev_url() as dev:
            findings = validate(result, candidate, dev)
        for finding in findings:
            _err(f"{'error' if finding.fatal else 'note'}: validation {finding}")
        if any(f.fatal for f in findings):
            raise SchemadiffError("the revision did not prove out on scratch copies; nothing written")
        _err(
            f"validated {len(result.groups)} group(s) with migra: upgrade reaches the spec, downgrade restores each start"
        )
    return write_revision(result, cfg, message, why, loaded.spec.migrations.directory)


def _plan(
    loaded: LoadedSpec, target: connection.ResolvedUrl, dev_url: str | None, allowed: set[str] | None = None
) -> Plan:
    from schemadiff.workflow.planning import make_plan

    dev = connection.to_libpq(dev_url) if dev_url else None
    result, _tenants = make_plan(
        loaded, target.url, dev, notice=lambda m: _err(f"note: {m}"), allowed=tuple(sorted(allowed or ()))
    )
    return result


def _render(result: Plan, format: Format, database: str) -> str:
    from schemadiff.render.json_report import render_json
    from schemadiff.render.markdown_report import render_markdown
    from schemadiff.render.sql_script import render_sql
    from schemadiff.render.text_report import render_text

    if format is Format.json:
        return render_json(result)
    if format is Format.sql:
        return render_sql(result)
    if format is Format.markdown:
        return render_markdown(result)
    return render_text(result, database)
