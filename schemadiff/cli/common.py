"""What every command shares: the root Typer app, exit codes, common options, error output.

Exit codes: 0 nothing to do / success · 1 error or refusal · 2 plan/check found changes ·
3 a staged rollout paused after its canary (rerun with --continue).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from typer.core import TyperArgument, TyperGroup, TyperOption

try:  # typer >= 0.2x vendors click
    from typer._click.exceptions import UsageError
except ImportError:  # pragma: no cover - older typer depends on click
    from click.exceptions import UsageError  # type: ignore[no-redef]

from schemadiff.core.hazards import hazard_names
from schemadiff.errors import SchemadiffError, SpecError
from schemadiff.pg import connection
from schemadiff.spec.field_types import HAZARDS
from schemadiff.spec.schema import LoadedSpec, load_spec

EXIT_OK, EXIT_ERROR, EXIT_CHANGES, EXIT_PAUSED = 0, 1, 2, 3


@contextmanager
def _usage_exits_1() -> Iterator[None]:
    """A usage error (unknown option, bad value, missing argument) leaves with exit code 1, never
    click's 2, which schemadiff keeps for "plan found changes"."""
    try:
        yield
    except UsageError as exc:
        exc.exit_code = EXIT_ERROR
        raise


_METAVARS = {"str": "TEXT", "int": "INTEGER", "float": "NUMBER", "int range": "INTEGER", "float range": "NUMBER"}


def _metavar(typer_label: str) -> str:
    """click's own style for a value typer would show as ``<str>``, ``<list[str]>``, ``<int range>``,
    ``<path>`` or ``<text|json>``: TEXT, TEXT (the option is repeated), INTEGER, PATH, [text|json]."""
    label = typer_label.strip("<>")
    if label.startswith("list[") and label.endswith("]"):
        label = label[len("list[") : -1]
    if "|" in label:
        return f"[{label}]"
    return _METAVARS.get(label, label.upper())


def _help_shows_metavars() -> None:
    """typer's rich help prints a type beside every value (``<str>``, ``<list[str]>``) and ``<bool>``
    beside a flag (``--help`` and ``--yes`` take no value). Show an option's ``metavar`` where it has
    one (URL, HAZARD, TABLE), click's style (TEXT, PATH, INTEGER) elsewhere, nothing for a flag or a
    counter. Done once, on the classes, so it holds for ``--help`` itself, which click creates per
    command, and for arguments too."""
    for cls in (TyperOption, TyperArgument):
        shown = cls.display_type_rich
        if getattr(shown, "schemadiff", False):
            continue
        cls.display_type_rich = _display_with(shown)  # type: ignore[method-assign]


def _display_with(shown: Any) -> Any:
    def display_type_rich(self: Any, ctx: Any) -> str | None:
        if getattr(self, "is_flag", False) or getattr(self, "count", False):
            return None
        if self.metavar is not None:
            return str(self.metavar)
        typer_label = shown(self, ctx)
        return None if typer_label is None else _metavar(typer_label)

    display_type_rich.schemadiff = True  # type: ignore[attr-defined]
    return display_type_rich


_help_shows_metavars()


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


app = typer.Typer(
    cls=SchemadiffGroup,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Declarative, reversible migrations for schema-per-tenant PostgreSQL.",
)


def _print_version(value: bool) -> None:
    if value:
        from schemadiff import __version__

        typer.echo(f"schemadiff {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """Declarative, reversible migrations for schema-per-tenant PostgreSQL."""


SpecOpt = Annotated[Path, typer.Option("--spec", help="Path of the spec file.")]
UrlOpt = Annotated[
    Optional[str],
    typer.Option(
        "--database-url",
        metavar="URL",
        help="Target database; else SCHEMADIFF_DATABASE_URL, DATABASE_URL, or the embedded server.",
        show_default=False,
    ),
]
DevUrlOpt = Annotated[
    Optional[str],
    typer.Option(
        "--dev-url",
        metavar="URL",
        envvar="SCHEMADIFF_DEV_URL",
        help="Scratch database for normalizing the spec and proving revisions (embedded by default).",
        show_default=False,
    ),
]
AllowOpt = Annotated[
    Optional[list[str]],
    typer.Option(
        "--allow",
        metavar="HAZARD",
        help=f"Allow hazards by name, comma-separated or repeated: {', '.join(HAZARDS)}.",
        show_default=False,
    ),
]


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
        _err(f"error: {connection.redact(str(exc), url)}")
    if os.environ.get("SCHEMADIFF_TRACEBACK"):
        raise exc
    return typer.Exit(EXIT_ERROR)


def _load(spec: Path) -> LoadedSpec:
    return load_spec(spec)


def _allowed(flags: list[str] | None, loaded: LoadedSpec) -> set[str]:
    return set(hazard_names(flags)) | set(loaded.spec.policy.allow)


MessageOpt = Annotated[
    Optional[str],
    typer.Option(
        "--message", "-m", help="Write a revision with this message when there are changes.", show_default=False
    ),
]
ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="The Alembic configuration file.")]
