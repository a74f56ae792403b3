"""One progress display across the shards of a fleet run: a bar per shard (tenants done of its total)
and one for the whole fleet, on stderr, only on a terminal, and only once a shard has tenants to
change (a run with nothing to do draws nothing). Shards report from their own threads."""

from __future__ import annotations

import threading

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

FLEET = "all shards"


class FleetProgress:
    def __init__(self, label: str, console: Console | None = None) -> None:
        self.label = label
        self.console = console or Console(stderr=True)
        self._lock = threading.Lock()
        self._bar: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        self._counts: dict[str, tuple[int, int]] = {}

    def __enter__(self) -> FleetProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.reset()

    def report(self, shard: str, done: int, total: int) -> None:
        """``shard`` has ``done`` of ``total`` tenants finished in its current run."""
        if total <= 0 or not self.console.is_terminal:
            return
        with self._lock:
            if self._bar is None:
                self._bar = Progress(
                    TextColumn("{task.description}"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeElapsedColumn(),
                    console=self.console,
                )
                self._tasks[FLEET] = self._bar.add_task(f"{self.label}: {FLEET}", total=total)
                self._bar.start()
            if shard not in self._tasks:
                self._tasks[shard] = self._bar.add_task(f"  {shard}", total=total)
            self._counts[shard] = (done, total)
            self._bar.update(self._tasks[shard], completed=done, total=total)
            self._bar.update(
                self._tasks[FLEET],
                completed=sum(d for d, _ in self._counts.values()),
                total=sum(t for _, t in self._counts.values()),
            )

    def reset(self) -> None:
        """The display off the terminal (as it stands); the next report starts a new one."""
        with self._lock:
            if self._bar is not None:
                self._bar.stop()
            self._bar, self._tasks, self._counts = None, {}, {}
