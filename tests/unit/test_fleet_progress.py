"""The fleet's progress display: a bar per shard and one for the fleet, on a terminal only, and
nothing drawn before a shard has tenants to change."""

from __future__ import annotations

import io
import re

from rich.console import Console

from schemadiff.cli.fleet_progress import FleetProgress


def _console(terminal: bool) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=terminal, width=100, color_system=None), out


def _frame(text: str, rows: int) -> list[str]:
    """The last ``rows`` lines drawn, without the terminal's control sequences."""
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text).replace("\r", "\n")
    return [line for line in plain.splitlines() if line.strip()][-rows:]


def test_a_bar_per_shard_and_one_for_the_fleet_on_a_terminal() -> None:
    console, out = _console(terminal=True)
    with FleetProgress("upgrade", console) as bar:
        bar.report("eu", 1, 3)
        bar.report("us", 2, 2)
        bar.report("eu", 3, 3)
    shown = _frame(out.getvalue(), 3)
    assert "upgrade: all shards" in shown[0] and "5/5" in shown[0], shown
    assert shown[1].lstrip().startswith("eu") and "3/3" in shown[1], shown
    assert shown[2].lstrip().startswith("us") and "2/2" in shown[2], shown


def test_nothing_is_drawn_without_a_terminal_or_without_tenants() -> None:
    console, out = _console(terminal=False)
    with FleetProgress("upgrade", console) as bar:
        bar.report("eu", 1, 3)
    assert out.getvalue() == ""
    console, out = _console(terminal=True)
    with FleetProgress("upgrade", console) as bar:
        bar.report("eu", 0, 0)  # a shard with nothing to do
    assert out.getvalue() == ""


def test_reset_ends_one_display_and_the_next_report_starts_another() -> None:
    console, out = _console(terminal=True)
    with FleetProgress("upgrade", console) as bar:
        bar.report("eu", 1, 1)
        bar.reset()
        first = out.getvalue()
        bar.report("us", 1, 2)
    assert "eu" in first and "us" not in first
    last = out.getvalue()[len(first) :]
    assert "us" in last and "1/2" in last and "eu" not in last
