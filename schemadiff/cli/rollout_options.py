"""The staged-rollout options ``apply`` and ``rollback`` share (``--tenants``, ``--canary``,
``--continue``, ``--wave-size``, ``--max-failures``, ``--max-rate``, ``--delay``,
``--max-replication-lag``): checked when the command line is parsed, before any connection, by the
parsers ``-x`` values go through too, and turned into the fields of the run's Options record."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Optional

import typer

from schemadiff.core import rollout
from schemadiff.core.options import Options, pg_duration
from schemadiff.errors import SchemadiffError


def _checked(parse: Callable[[str], object]) -> Callable[[Optional[str]], Optional[str]]:
    def check(value: Optional[str]) -> Optional[str]:
        if value is not None:
            try:
                parse(value)
            except ValueError as exc:
                raise typer.BadParameter(f"{value!r} is {exc}") from None
        return value

    return check


TenantsOpt = Annotated[
    Optional[str],
    typer.Option(
        "--tenants",
        metavar="NAMES|@FILE",
        callback=_checked(rollout.parse_selection),
        help="Only these tenants: schema names or globs, comma-separated ('user_1*,user_42'), or @FILE (one name a line).",
        show_default=False,
    ),
]
CanaryOpt = Annotated[
    Optional[str],
    typer.Option(
        "--canary",
        callback=_checked(rollout.parse_canary),
        help="Run N tenants (one of each starting state first) or the named ones first, verify them, then pause.",
        show_default=False,
    ),
]
ContinueOpt = Annotated[
    bool, typer.Option("--continue", help="Go on past the canary (now, or after an earlier run paused there).")
]
WaveSizeOpt = Annotated[
    Optional[str],
    typer.Option(
        "--wave-size",
        callback=_checked(rollout.parse_share),
        help="Run the rest in waves of N tenants or P% of the tenants taken.",
        show_default=False,
    ),
]
MaxFailuresOpt = Annotated[
    Optional[int],
    typer.Option(
        "--max-failures",
        min=0,
        help="Stop starting tenants once more than N failed (those running finish); exit 1.",
        show_default=False,
    ),
]
MaxRateOpt = Annotated[
    Optional[str],
    typer.Option(
        "--max-rate",
        callback=_checked(rollout.parse_rate),
        help="Start at most this many tenants a second across the workers (50/s, 600/min).",
        show_default=False,
    ),
]
DelayOpt = Annotated[
    Optional[str],
    typer.Option(
        "--delay",
        callback=_checked(pg_duration),
        help="Each worker waits this long after each tenant (100ms, 2s).",
        show_default=False,
    ),
]
MaxLagOpt = Annotated[
    Optional[str],
    typer.Option(
        "--max-replication-lag",
        callback=_checked(pg_duration),
        help="Pause while a standby replays more than this far behind (10s); checked before each wave and tenant.",
        show_default=False,
    ),
]


def staged(
    options: Options,
    tenants: str | None,
    canary: str | None,
    proceed: bool,
    wave_size: str | None,
    max_failures: int | None,
    max_rate: str | None,
    delay: str | None,
    max_lag: str | None,
) -> Options:
    """``options`` with the staged-rollout flags given; a ``@FILE`` selection is read here, so a
    missing or empty file is one error before any connection."""
    texts = {
        "selection": tenants,
        "canary": canary,
        "wave_size": wave_size,
        "max_failures": None if max_failures is None else str(max_failures),
        "max_rate": max_rate,
        "delay": delay,
        "max_replication_lag": max_lag,
        "proceed": "yes" if proceed else None,
    }
    given = Options.from_strings({k: v for k, v in texts.items() if v is not None})
    fields = {k: getattr(given, k) for k, v in texts.items() if v is not None}
    result = replace(options, **fields)
    selection = result.selection
    if selection.file:
        try:
            selection = selection.with_file_text(Path(selection.file).read_text())
        except OSError as exc:
            raise SchemadiffError(f"--tenants @{selection.file}: cannot read it ({exc.strerror})") from None
        except ValueError as exc:
            raise SchemadiffError(f"--tenants @{selection.file}: {exc}") from None
    return replace(result, selection=selection)
