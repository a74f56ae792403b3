"""The settings of a run (workers, timeouts, allowed hazards …) as one record, their defaults
written here once, and the one parser of their text form (``-x key=value``, ``SCHEMADIFF_*``).
Pure: the command line reads the defaults without loading the runtime."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from schemadiff.core.hazards import hazard_names
from schemadiff.core.rollout import (
    EVERY_TENANT,
    NO_CANARY,
    ONE_WAVE,
    Canary,
    Selection,
    Share,
    parse_canary,
    parse_rate,
    parse_selection,
    parse_share,
)
from schemadiff.errors import SchemadiffError

MAX_WORKERS = 64


@dataclass(frozen=True)
class Options:
    """The settings of one run; their defaults are written here and nowhere else. ``schemadiff
    apply``/``rollback`` build the record from their flags and hand it to the runtime in Alembic's
    ``Config.attributes``; under plain Alembic :meth:`from_strings` reads it from ``-x
    key=value`` and ``SCHEMADIFF_<KEY>`` environment variables."""

    workers: int = 4
    lock_timeout: str = "2s"
    statement_timeout: str = "0"
    lock_wait: float = 30.0  # seconds to wait for another run's lock
    retries: int = 3
    backoff: float = 0.5
    # Each tenant's change and its ledger row commit together, so a tenant whose commit is lost
    # in a server crash is simply back in its starting state without a ledger row, and the rerun
    # redoes it; the synchronous commit of alembic_version at the end flushes every one before.
    synchronous_commit: str = "off"
    allow: frozenset[str] = frozenset()  # hazards allowed for this run (deletes_data on a downgrade)
    # for a downgrade: the starting state of tenants at the target whose ledger row is missing
    assume_from: str = ""
    # staged rollouts (see core.rollout): which tenants, which first, in waves of what size
    selection: Selection = field(default=EVERY_TENANT, metadata={"key": "tenants"})
    canary: Canary = NO_CANARY
    proceed: bool = field(default=False, metadata={"key": "continue"})  # go on past the canary
    wave_size: Share = ONE_WAVE
    max_failures: int | None = None  # stop starting tenants once more than this many failed
    max_rate: float = 0.0  # tenants started per second, across the workers (0: no cap)
    delay: float = 0.0  # seconds each worker waits after each tenant
    max_replication_lag: float | None = None  # seconds of replay lag on a standby that pause the run

    @property
    def staged(self) -> bool:
        """Whether the run is part of a staged rollout (and keeps its state in the database)."""
        return bool(
            not self.selection.everything
            or self.canary
            or self.proceed
            or self.wave_size
            or self.max_failures is not None
        )

    @classmethod
    def from_strings(cls, values: Mapping[str, str]) -> Options:
        """The record from text values keyed by field name (other keys are ignored: ``-x`` carries
        the env.py's own arguments too); an absent or empty value keeps the default. A bad value is a
        SchemadiffError ``bad schemadiff option: …`` naming the key and the accepted form."""
        parsed: dict[str, Any] = {}
        for name, parse in _PARSERS.items():
            text = values.get(name, "").strip()
            if not text:
                continue
            try:
                parsed[name] = parse(text)
            except ValueError as exc:
                raise SchemadiffError(f"bad schemadiff option: {cls.key(name)}={text!r} is {exc}") from None
        return replace(cls(), **parsed)

    @classmethod
    def strings(cls, x_arguments: Mapping[str, str], environ: Mapping[str, str]) -> dict[str, str]:
        """Plain Alembic's text values keyed by field name: ``-x key=value`` first, then
        ``SCHEMADIFF_KEY`` variables (the key is the field's name, or its ``key``: ``continue``)."""
        keys = {f.name: f.metadata.get("key", f.name) for f in fields(cls)}
        return {n: x_arguments.get(k) or environ.get(f"SCHEMADIFF_{k.upper()}") or "" for n, k in keys.items()}

    @classmethod
    def key(cls, name: str) -> str:
        """The ``-x`` key of a field."""
        return str(next(f.metadata.get("key", f.name) for f in fields(cls) if f.name == name))


_DURATION = re.compile(r"(\d+)\s*(us|ms|s|min|h|d)?")
_MILLISECONDS = {"us": 0.001, "ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000, None: 1}
_INT_MAX = 2_147_483_647
SYNCHRONOUS_COMMIT = ("on", "off", "local", "remote_write", "remote_apply")


def pg_duration(value: str) -> str:
    """A PostgreSQL duration for lock_timeout/statement_timeout: an integer with an optional unit
    us|ms|s|min|h|d (no unit means milliseconds) → ``value`` unchanged, else ValueError."""
    match = _DURATION.fullmatch(value.strip())
    if match is None or int(match[1]) * _MILLISECONDS[match[2]] > _INT_MAX:
        raise ValueError(
            "not a PostgreSQL duration; use an integer with an optional unit "
            "us, ms, s, min, h or d, at most 24 days (e.g. 2s, 500ms, 0 for none)"
        )
    return value


def _integer(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        if not re.fullmatch(r"[0-9]+", text) or not low <= int(text) <= high:
            raise ValueError(f"not an integer from {low} to {high}")
        return int(text)

    return parse


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise ValueError("not a number of seconds, 0 or more")
    return value


def _synchronous_commit(text: str) -> str:
    if text not in SYNCHRONOUS_COMMIT:
        raise ValueError(f"not one of {', '.join(SYNCHRONOUS_COMMIT)}")
    return text


def _seconds_duration(text: str) -> float:
    """A duration as PostgreSQL writes it (``100ms``, ``10s``; no unit: milliseconds) → seconds."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise ValueError(
            "not a duration; use an integer with an optional unit us, ms, s, min, h or d (e.g. 100ms, 10s)"
        )
    return int(match[1]) * _MILLISECONDS[match[2]] / 1000


def _yes_no(text: str) -> bool:
    if text.lower() in ("1", "yes", "true", "on"):
        return True
    if text.lower() in ("0", "no", "false", "off"):
        return False
    raise ValueError("not one of yes, no (or 1, 0, true, false, on, off)")


def _hazards(text: str) -> frozenset[str]:
    try:
        return hazard_names([text], "the allow option")
    except SchemadiffError as exc:
        raise ValueError(f"not a comma-separated list of known hazards ({exc})") from None


_PARSERS: dict[str, Callable[[str], object]] = {
    "workers": _integer(1, MAX_WORKERS),
    "lock_timeout": pg_duration,
    "statement_timeout": pg_duration,
    "lock_wait": _seconds,
    "retries": _integer(0, 100),
    "backoff": _seconds,
    "synchronous_commit": _synchronous_commit,
    "allow": _hazards,
    "assume_from": str,
    "selection": parse_selection,
    "canary": parse_canary,
    "proceed": _yes_no,
    "wave_size": parse_share,
    "max_failures": _integer(0, _INT_MAX),
    "max_rate": parse_rate,
    "delay": _seconds_duration,
    "max_replication_lag": _seconds_duration,
}
