"""Where a staged rollout stands, kept in the database next to the ledger: one row per revision in
``public.schemadiff_rollout`` (the last staged run of it, in either direction), written by the
run's coordinator between its stages, read by ``schemadiff status``.

The ledger says which tenants are done; this row says what the ledger cannot: the stage the run
reached (the canary, wave 2 of 4), how it ended (paused after the canary, stopped after too many
failures, the tenants it took done while others wait) and which tenants failed with what error.
Runs that are not staged write nothing here unless a staged run of the same revision did before
(they then mark it finished, or where they stopped)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import psycopg

from schemadiff.runtime.job import Job, Options, Report
from schemadiff.runtime.workers import LOCK_KEY

ROLLOUT_DDL = """CREATE TABLE IF NOT EXISTS public.schemadiff_rollout (
    revision text PRIMARY KEY,
    direction text NOT NULL CHECK (direction IN ('upgrade', 'downgrade')),
    state text NOT NULL,
    wave integer NOT NULL DEFAULT 0,
    waves integer NOT NULL DEFAULT 0,
    canaries text[] NOT NULL DEFAULT '{}',
    tenants text NOT NULL DEFAULT '',
    failures integer NOT NULL DEFAULT 0,
    max_failures integer,
    failed jsonb NOT NULL DEFAULT '{}',
    started_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now())
"""
FAILED_KEPT = 20  # the failed tenants (and errors) a row keeps

# a run's state: RUNNING while it works (or when it was killed), then how it ended
RUNNING, PAUSED, STOPPED, PARTIAL, FAILED, FINISHED = "running", "paused", "stopped", "partial", "failed", "finished"


@dataclass(frozen=True)
class RolloutRow:
    revision: str
    direction: str
    state: str
    wave: int  # 0: the canary
    waves: int
    canaries: tuple[str, ...]
    tenants: str  # the selection as given, "" for every tenant
    failures: int
    max_failures: int | None
    failed: dict[str, str]
    started_at: datetime
    updated_at: datetime


_COLUMNS = (
    "revision, direction, state, wave, waves, canaries, tenants, failures, max_failures, failed, started_at, updated_at"
)


def readable(conn: psycopg.Connection, table: str) -> bool:
    """Whether ``table`` exists and this role may read it (a read-only role running ``status``
    may not: it then reads as absent)."""
    row = conn.execute(
        "SELECT CASE WHEN to_regclass(%(t)s) IS NULL THEN false ELSE has_table_privilege(%(t)s, 'SELECT') END",
        {"t": table},
    ).fetchone()
    return bool(row and row[0])


def read_row(conn: psycopg.Connection, revision: str | None = None) -> RolloutRow | None:
    """The row of ``revision``; without one, the most recently updated row that is not finished.
    None when there is none (or no table, or none this role may read)."""
    if not readable(conn, "public.schemadiff_rollout"):
        return None
    if revision is not None:
        row = conn.execute(f"SELECT {_COLUMNS} FROM public.schemadiff_rollout WHERE revision = %s", (revision,))
    else:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM public.schemadiff_rollout WHERE state <> %s ORDER BY updated_at DESC LIMIT 1",
            (FINISHED,),
        )
    found = row.fetchone()
    if found is None:
        return None
    values = list(found)
    values[5] = tuple(values[5])
    return RolloutRow(*values)


class Tracker:
    """The coordinator's writes of its run's row (when the run is staged, or a staged run of the
    revision left a row); each write commits on its own, so ``status`` sees it at once."""

    def __init__(self, conn: psycopg.Connection, job: Job, options: Options, previous: RolloutRow | None) -> None:
        self.conn, self.job, self.options = conn, job, options
        self.enabled = options.staged or previous is not None
        self.waves = 0

    def begin(self, canaries: tuple[str, ...], waves: int) -> None:
        if not self.enabled:
            return
        self.waves = waves
        self.conn.execute(ROLLOUT_DDL)
        self.conn.execute(
            "INSERT INTO public.schemadiff_rollout (revision, direction, state, wave, waves, canaries, tenants, "
            "max_failures) VALUES (%s, %s, %s, 0, %s, %s, %s, %s) ON CONFLICT (revision) DO UPDATE SET "
            "direction = excluded.direction, state = excluded.state, wave = 0, waves = excluded.waves, "
            "canaries = excluded.canaries, tenants = excluded.tenants, failures = 0, "
            "max_failures = excluded.max_failures, failed = '{}', started_at = now(), updated_at = now()",
            (
                self.job.revision,
                self.job.direction,
                RUNNING,
                waves,
                list(canaries),
                str(self.options.selection),
                self.options.max_failures,
            ),
        )

    def stage(self, wave: int, report: Report) -> None:
        self.write(RUNNING, wave, report)

    def write(self, state: str, wave: int, report: Report) -> None:
        if not self.enabled:
            return
        failed = dict(list(report.failed.items())[:FAILED_KEPT])
        self.conn.execute(
            "UPDATE public.schemadiff_rollout SET state = %s, wave = %s, failures = %s, failed = %s, "
            "updated_at = now() WHERE revision = %s",
            (state, wave, len(report.failed), json.dumps(failed), self.job.revision),
        )


def ledger_counts(conn: psycopg.Connection, revision: str) -> dict[str, tuple[int, int]]:
    """The ledger rows of ``revision`` per direction: (rows, rows complete). Empty without a ledger
    (or one this role may not read)."""
    if not readable(conn, "public.schemadiff_ledger"):
        return {}
    rows = conn.execute(
        "SELECT direction, count(*), count(*) FILTER (WHERE complete) FROM public.schemadiff_ledger "
        "WHERE revision = %s GROUP BY direction",
        (revision,),
    ).fetchall()
    return {direction: (int(n), int(complete)) for direction, n, complete in rows}


def run_active(conn: psycopg.Connection) -> bool:
    """Whether a schemadiff run holds the migration lock on this database now."""
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_locks WHERE locktype = 'advisory' AND granted "
        "AND database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()) "
        "AND classid = %s AND objid = %s)",
        LOCK_KEY,
    ).fetchone()
    return bool(row and row[0])
