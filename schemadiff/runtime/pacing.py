"""How fast a run starts tenants: at most ``max_rate`` a second across its workers, ``delay`` after
each tenant in each worker, and not while a standby of this primary replays more than
``max_replication_lag`` seconds behind (read from ``pg_stat_replication`` before each wave and at
most once a second before a tenant, on a connection of its own). Shared by a run's worker threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import psycopg

from schemadiff.errors import SchemadiffError
from schemadiff.pg import connection
from schemadiff.runtime.job import Options

LAG_CHECK_EVERY = 1.0  # seconds: how old a lag reading may be before a tenant starts; the pause's step
# the physical standbys' replay lag; logical replication (a subscriber, a change-data consumer) has
# a slot of kind 'logical' held by its walsender and is not counted
REPLICATION_LAG = """
SELECT count(*), count(*) FILTER (WHERE r.state IS NULL),
       coalesce(max(extract(epoch FROM r.replay_lag)), 0)::float8,
       (array_agg(r.application_name ORDER BY r.replay_lag DESC NULLS LAST))[1]
FROM pg_catalog.pg_stat_replication r
WHERE r.pid NOT IN (SELECT s.active_pid FROM pg_catalog.pg_replication_slots s
                    WHERE s.slot_type = 'logical' AND s.active_pid IS NOT NULL)"""

Notice = Callable[[str], None]


class Pacing:
    """``before_tenant()`` in a worker before each tenant, ``after_tenant()`` after it,
    ``before_wave()`` in the coordinator before each stage; ``close()`` at the end."""

    def __init__(self, url: str, options: Options, notice: Notice) -> None:
        self.url, self.notice = url, notice
        self.interval = 1 / options.max_rate if options.max_rate else 0.0
        self.delay = options.delay
        self.max_lag = options.max_replication_lag
        self._lock = threading.Lock()
        self._next_start = 0.0
        self._lag_lock = threading.Lock()
        self._lag_read_at = -LAG_CHECK_EVERY
        self._conn: psycopg.Connection | None = None

    def before_wave(self) -> None:
        self._wait_for_replicas(force=True)

    def before_tenant(self) -> None:
        self._wait_for_replicas(force=False)
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next_start)
            self._next_start = start + self.interval
        time.sleep(start - now)

    def after_tenant(self) -> None:
        if self.delay:
            time.sleep(self.delay)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()

    def replication_lag(self) -> tuple[int, float, str]:
        """(standbys, the largest replay lag in seconds, the name of the standby furthest behind);
        an error when this role may not read the lag of a standby there is."""
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = connection.connect(self.url, autocommit=True)
        row = self._conn.execute(REPLICATION_LAG).fetchone()
        standbys, hidden, lag, name = row if row else (0, 0, 0.0, None)
        if hidden:
            raise SchemadiffError(
                f"--max-replication-lag: this role cannot read the replication lag of {hidden} standby(s) "
                "in pg_stat_replication; grant it pg_monitor (or pg_read_all_stats), or leave the option out"
            )
        return int(standbys), float(lag), str(name or "")

    def _wait_for_replicas(self, force: bool) -> None:
        if self.max_lag is None:
            return
        with self._lag_lock:  # one reader; the other workers wait here while the run is paused
            if not force and time.monotonic() - self._lag_read_at < LAG_CHECK_EVERY:
                return
            paused = False
            while True:
                _standbys, lag, name = self.replication_lag()
                self._lag_read_at = time.monotonic()
                if lag <= self.max_lag:
                    break
                if not paused:
                    self.notice(
                        f"schemadiff: paused: standby '{name}' replays {lag:.1f} s behind, more than "
                        f"--max-replication-lag {self.max_lag:g} s; waiting"
                    )
                    paused, since = True, time.monotonic()
                time.sleep(LAG_CHECK_EVERY)
            if paused:
                self.notice(f"schemadiff: resumed after {time.monotonic() - since:.1f} s: replication lag {lag:.1f} s")
