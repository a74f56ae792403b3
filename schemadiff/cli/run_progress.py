"""What a run shows while it works: a progress bar drawn only once there is something to count,
notices above it, the question after a canary, and the summary line of each revision run."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.progress import Progress as Bar

from schemadiff.cli.common import _err


class Progress:
    """A progress bar on stderr drawn from the first tenant done, its total known: a run with no
    tenant to change (or before the runtime knows how many) draws nothing, never ``0/?``."""

    def __init__(self, label: str) -> None:
        self.label = label
        self._bar: Bar | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def report(self, schema: str, done: int, total: int) -> None:
        if total <= 0:
            return
        if self._bar is None:
            self._bar = Bar(
                TextColumn(self.label),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self._task = self._bar.add_task(self.label, total=total)
            self._bar.start()
        assert self._task is not None
        self._bar.update(self._task, completed=done, total=total)

    def notice(self, line: str) -> None:
        """A line above the bar (or on stderr before there is one)."""
        if self._bar is None:
            _err(line)
        else:
            self._bar.console.print(line, markup=False, highlight=False)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """The bar off the terminal while a question is asked."""
        if self._bar is not None:
            self._bar.stop()
        try:
            yield
        finally:
            if self._bar is not None:
                self._bar.start()


def summary(outcome: object) -> None:
    from schemadiff.workflow.apply import Outcome

    assert isinstance(outcome, Outcome)
    for r in outcome.reports:
        typer.echo(
            f"{r.direction} {r.revision}: {len(r.applied)} applied, {len(r.skipped)} skipped, "
            f"{len(r.failed)} failed in {r.seconds:.1f}s"
            + (f"; {len(r.not_started)} not started" if r.not_started else "")
        )
    if outcome.in_progress:
        typer.echo(outcome.in_progress)


def callbacks(progress: Progress, question: bool) -> object:
    """Progress, notices above the bar, and the question after a canary: asked on a terminal
    (the bar paused meanwhile); without one the run stops after the canary (exit 3)."""
    from schemadiff.runtime.job import CanaryDone
    from schemadiff.workflow.apply import Callbacks

    def ask(done: CanaryDone) -> bool:
        if not question or not sys.stdin.isatty():
            return False
        with progress.paused():
            return typer.confirm(
                f"Canary done: {len(done.canaries)} schema(s) verified ({', '.join(done.canaries[:5])}"
                f"{' …' if len(done.canaries) > 5 else ''}). Go on with the other {done.rest}?",
                default=False,
            )

    return Callbacks(progress.report, progress.notice, ask)
