"""``schemadiff inspect``: write a spec from a live database."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Optional

import typer

from schemadiff.cli.common import EXIT_OK, DevUrlOpt, UrlOpt, _err, _fail, app
from schemadiff.errors import SchemadiffError
from schemadiff.pg import connection


@app.command()
def inspect(
    database_url: UrlOpt = None,
    dev_url: DevUrlOpt = None,
    out: Annotated[
        str, typer.Option("--out", "-o", help="Where to write the spec; - writes it to standard output.")
    ] = "schema.yaml",
    force: Annotated[bool, typer.Option("--force", help="Overwrite the --out file if it exists.")] = False,
    source: Annotated[
        Optional[str],
        typer.Option("--from", help="Read this schema instead of the template, e.g. user_7.", show_default=False),
    ] = None,
    tables: Annotated[
        Optional[list[str]],
        typer.Option(
            "--tables",
            metavar="TABLE",
            help="Only these tables, comma-separated (and those their foreign keys reach); default: every table.",
            show_default=False,
        ),
    ] = None,
    template: Annotated[str, typer.Option("--template", help="The template schema.")] = "public",
    pattern: Annotated[
        Optional[str],
        typer.Option(
            "--pattern",
            help="Regular expression matching the whole name of every tenant schema; guessed when absent.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Write a spec (schema.yaml) from a live database, then say how many groups the tenants fall into against it.

    Reads the template (or --from SCHEMA): every column, key, index, check, comment and enum type
    the spec format can hold; what it cannot hold is written as a YAML comment. Exit 0 when
    written, 1 on error (an existing --out file without --force is one, before any connection).
    """
    url: str | None = None
    try:
        if pattern is not None:
            _check_pattern(pattern)
        target = Path(out)
        if out != "-" and target.exists() and not force:
            raise SchemadiffError(f"{out} exists; pass --force to overwrite it, or --out another path")
        if out != "-" and not target.parent.is_dir():
            raise SchemadiffError(f"cannot write {out}: no directory {target.parent}")
        resolved = connection.resolve_url(database_url)
        url = resolved.url
        _inspect(url, dev_url, out, source, _table_names(tables), template, pattern)
    except SchemadiffError as exc:
        raise _fail(exc, url) from None
    raise typer.Exit(EXIT_OK)


def _inspect(
    url: str,
    dev_url: str | None,
    out: str,
    source: str | None,
    tables: list[str] | None,
    template: str,
    pattern: str | None,
) -> None:
    from schemadiff.render.inspect_report import render_inspect_report
    from schemadiff.render.spec_yaml import JSON_SCHEMA
    from schemadiff.workflow.inspect import compare_tenants, inspect_schema, validated_spec

    beside = (Path(".") if out == "-" else Path(out).parent) / JSON_SCHEMA  # the modeline only where it resolves
    inspected = inspect_schema(
        url, template=template, pattern=pattern, source=source, tables=tables, json_schema=beside.is_file()
    )
    name = "schema.yaml" if out == "-" else out
    loaded = validated_spec(inspected.text, name)
    if out == "-":
        typer.echo(inspected.text, nl=False)
    else:
        try:
            Path(out).write_text(inspected.text, encoding="utf-8")
        except OSError as exc:
            raise SchemadiffError(f"cannot write {out}: {exc.strerror or exc}") from None
    dev = connection.to_libpq(dev_url) if dev_url else None
    try:
        plan = compare_tenants(loaded, url, dev, notice=lambda m: _err(f"note: {m}"))
    except SchemadiffError as exc:
        where = "the spec" if out == "-" else out
        raise SchemadiffError(f"wrote {where}, but could not group the tenants against it: {exc}") from None
    if inspected.pattern_guessed:
        _err(f"note: tenant pattern {inspected.draft.pattern} guessed from the schema names; pass --pattern to choose")
    _err(render_inspect_report(inspected.draft, "standard output" if out == "-" else out, plan).rstrip("\n"))


def _table_names(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    names = [n.strip() for v in values for n in v.split(",") if n.strip()]
    if not names:
        raise SchemadiffError("--tables names no table")
    return names


def _check_pattern(pattern: str) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise SchemadiffError(f"--pattern '{pattern}' is not a regular expression: {exc}") from None
