"""``schemadiff demo``: the whole job on seeded tenants, each step the real command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from schemadiff.cli.common import SpecOpt, UrlOpt, _fail, _load, app
from schemadiff.errors import SchemadiffError
from schemadiff.pg import connection


@app.command()
def demo(
    spec: SpecOpt = Path("schema.yaml"),
    database_url: UrlOpt = None,
    directory: Annotated[Path, typer.Option("--dir", help="Where the demo's Alembic environment goes.")] = Path(
        ".schemadiff/demo"
    ),
    validate: Annotated[bool, typer.Option(help="Prove the revision with migra before writing it.")] = True,
) -> None:
    """The whole job on seeded tenants: seed, plan + write the revision, apply, status, rollback, status."""
    from schemadiff.workflow import demo as demo_mod

    url: str | None = None
    try:
        loaded = _load(spec)
        server = connection.resolve_url(database_url)
        url = server.url
        typer.echo(f"== 1. seed: database {demo_mod.DEMO_DATABASE} on {server.shown}")
        demo_url = demo_mod.recreate_database(server.url, demo_mod.DEMO_DATABASE)
        demo_mod.seed_previous_state(demo_url, loaded)
        typer.echo(
            f"   public + user_1..user_{demo_mod.TENANTS} with rows in the previous state; "
            f"user_7 hand-fixed with step_order; ignored: {', '.join(demo_mod.IGNORED)}"
        )
        ini = demo_mod.fresh_environment(directory)
        args = ["--spec", str(spec), "--database-url", demo_url, "--config", str(ini)]
        _step(
            2,
            "plan",
            args
            + [
                "-m",
                "add task orchestration columns",
                "--why",
                "Enables granular task tracking with 1-commit-per-task architecture",
            ]
            + ([] if validate else ["--no-validate"])
            + (["--dev-url", server.url]),
            ok=(2,),
        )
        _step(3, "apply", [*args, "--yes"])
        _step(4, "status", args)
        _step(5, "rollback", ["--database-url", demo_url, "--config", str(ini), "--yes"])
        _step(6, "status", args, ok=(3,))  # rolled back: every tenant pending again
        typer.echo("\nThe embedded PostgreSQL keeps running for the next command; `schemadiff db stop` stops it.")
    except SchemadiffError as exc:
        raise _fail(exc, url) from None


def _step(n: int, command: str, args: list[str], ok: tuple[int, ...] = (0,)) -> None:
    import shlex

    shown = [a if not a.startswith("postgresql") else connection.redact(a) for a in args]
    typer.echo(f"\n== {n}. schemadiff {command} {shlex.join(shown)}")
    try:
        result = app([command, *args], standalone_mode=False)
        code = result if isinstance(result, int) else 0
    except typer.Exit as exit_:
        code = exit_.exit_code
    if code not in ok:
        raise SchemadiffError(f"demo step {n} ({command}) exited {code}")
