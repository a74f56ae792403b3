"""models: the spec's SQLAlchemy 2.0 models, written or checked (no database)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from schemadiff.cli.common import EXIT_ERROR, SpecOpt, _err, _fail, app
from schemadiff.errors import SchemadiffError

if TYPE_CHECKING:
    from schemadiff.workflow.models import Models

STDOUT = Path("-")


@app.command()
def models(
    spec: SpecOpt = Path("schema.yaml"),
    out: Annotated[Path, typer.Option("--out", "-o", help="The Python file to write; - prints it.")] = Path(
        "models.py"
    ),
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 when the file is out of date with the spec.")
    ] = False,
) -> None:
    """Write SQLAlchemy 2.0 declarative models of the spec's tables, in no schema (touches no database).

    The application picks the tenant with schema_translate_map={None: "user_42"}. With --check,
    exit 0 when the file is up to date with the spec, 1 (one line naming it) when it is not.
    """
    from schemadiff.workflow import models as workflow

    try:
        generated = workflow.generate(spec)
    except SchemadiffError as exc:
        raise _fail(exc) from None
    if out == STDOUT:
        if check:
            _err("error: --check needs a file: give --out PATH")
            raise typer.Exit(EXIT_ERROR)
        typer.echo(generated.source, nl=False)
        return
    if check:
        _check(generated, spec, out)
        return
    if workflow.write(generated, out):
        s = generated.summary
        _err(f"wrote {out}: {s.classes} model(s), {s.core_tables} Core table(s), {s.enums} enum type(s) from {spec}")
    else:
        _err(f"{out} is up to date with {spec}")


def _check(generated: Models, spec: Path, out: Path) -> None:
    from schemadiff.workflow import models as workflow

    if workflow.is_current(generated, out):
        typer.echo(f"{out} is up to date with {spec}")
        return
    state = "is out of date with" if out.exists() else "does not exist; it is generated from"
    _err(f"{out} {state} {spec}; run: schemadiff models --spec {_arg(spec)} --out {_arg(out)}")
    raise typer.Exit(EXIT_ERROR)


def _arg(path: Path) -> str:
    return shlex.quote(str(path))
