"""Staged rollouts as pure data: which tenants a run takes (``tenants``), which of them go first
(``canary``), and how the rest is cut into waves (``wave_size``). No I/O: the runtime hands in the
tenants it found on its server and runs the stages there; a run over several servers plans each
server's stages with the same functions.

The text forms (``--tenants 'user_1*,user_42'``, ``--canary 2``, ``--wave-size 25%`` …) are parsed
here, each into a small frozen record; a bad one is a ValueError naming the accepted form.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from schemadiff.core.model import natural_key

__all__ = [
    "EVERY_TENANT",
    "NO_CANARY",
    "ONE_WAVE",
    "Canary",
    "Selection",
    "Share",
    "Stages",
    "choose_canaries",
    "plan_stages",
]


@dataclass(frozen=True)
class Selection:
    """Which tenants a run takes. ``patterns``: shell-style globs (``*``, ``?``, ``[…]``), each
    matched case-sensitively against the whole schema name; or ``file``: a file naming one schema a
    line (``names`` once it was read); or ``names`` alone, exactly, with a ``label`` saying where
    they come from (a fleet's stage). None of these: every tenant."""

    patterns: tuple[str, ...] = ()
    file: str = ""
    names: tuple[str, ...] = ()
    label: str = ""

    @property
    def everything(self) -> bool:
        return not self.patterns and not self.file and not self.names

    def __str__(self) -> str:
        return self.label or (f"@{self.file}" if self.file else ",".join(self.patterns))

    def with_file_text(self, text: str) -> Selection:
        """The selection with its file's names: one a line, blank lines and ``#`` comments skipped."""
        names = tuple(dict.fromkeys(n for line in text.splitlines() if (n := line.split("#", 1)[0].strip())))
        if not names:
            raise ValueError(f"{self.file} names no schema (one schema name a line)")
        return Selection(file=self.file, names=names)

    def choose(self, tenants: Sequence[str]) -> tuple[list[str], list[str]]:
        """The tenants chosen, in the order given; and what chose nothing (a glob matching no tenant,
        a name of the file that is not a tenant)."""
        if self.everything:
            return list(tenants), []
        if self.file or self.names:
            wanted = set(self.names)
            present = set(tenants)
            return [t for t in tenants if t in wanted], [n for n in self.names if n not in present]
        chosen = [t for t in tenants if any(fnmatchcase(t, p) for p in self.patterns)]
        return chosen, [p for p in self.patterns if not any(fnmatchcase(t, p) for t in tenants)]


def parse_selection(text: str) -> Selection:
    """``user_1*,user_42`` (globs, comma-separated) or ``@tenants.txt`` (a file, read later)."""
    text = text.strip()
    if text.startswith("@"):
        if not text[1:].strip():
            raise ValueError("not a file name after @ (use @tenants.txt: one schema name a line)")
        return Selection(file=text[1:].strip())
    patterns = tuple(p.strip() for p in text.split(","))
    if not all(patterns):
        raise ValueError("not a comma-separated list of schema names or globs (e.g. 'user_1*,user_42')")
    return Selection(patterns=tuple(dict.fromkeys(patterns)))


@dataclass(frozen=True)
class Canary:
    """The tenants that run first: ``count`` of them chosen by :func:`choose_canaries`, or ``names``."""

    count: int = 0
    names: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.count or self.names)

    def __str__(self) -> str:
        return ",".join(self.names) if self.names else str(self.count)


def parse_canary(text: str) -> Canary:
    """``2`` (a count, 0 for none) or ``user_1,user_7`` (schema names)."""
    text = text.strip()
    if re.fullmatch(r"[0-9]+", text):
        return Canary(count=int(text))
    names = tuple(n.strip() for n in text.split(","))
    if not all(names):
        raise ValueError("not a number of tenants or a comma-separated list of schema names")
    return Canary(names=tuple(dict.fromkeys(names)))


@dataclass(frozen=True)
class Share:
    """A wave's size: ``count`` tenants, or ``percent`` of the tenants the run takes (rounded up).
    Neither: one wave of everything."""

    count: int = 0
    percent: float = 0.0

    def __bool__(self) -> bool:
        return bool(self.count or self.percent)

    def __str__(self) -> str:
        return f"{self.percent:g}%" if self.percent else str(self.count)

    def size(self, total: int) -> int:
        if self.count:
            return self.count
        if self.percent:
            return max(1, math.ceil(total * self.percent / 100))
        return max(1, total)


def parse_share(text: str) -> Share:
    """``50`` (tenants) or ``10%`` (of the tenants the run takes)."""
    text = text.strip()
    if re.fullmatch(r"[0-9]+", text) and int(text) >= 1:
        return Share(count=int(text))
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)\s*%", text)
    if match and 0 < float(match[1]) <= 100:
        return Share(percent=float(match[1]))
    raise ValueError("not a number of tenants (1 or more) or a percentage (e.g. 10%, above 0 and at most 100)")


EVERY_TENANT, NO_CANARY, ONE_WAVE = Selection(), Canary(), Share()  # the defaults: a run as it always was


def parse_rate(text: str) -> float:
    """``50/s``, ``50`` (per second) or ``600/min`` → tenants per second."""
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)\s*(?:/\s*(s|min|h))?", text.strip())
    if match is None or float(match[1]) <= 0:
        raise ValueError("not a rate above 0 such as 50/s, 600/min or 5000/h")
    return float(match[1]) / {"s": 1, "min": 60, "h": 3600, None: 1}[match[2]]


@dataclass(frozen=True)
class Stages:
    """What a run does, in order: the canary tenants still to run, then the waves of the rest.
    ``canaries``: every canary, also those done by an earlier run (they are verified again)."""

    canaries: tuple[str, ...]
    canary: tuple[str, ...]
    waves: tuple[tuple[str, ...], ...]


def choose_canaries(canary: Canary, chosen: Sequence[str], starts: Mapping[str, str], template: str) -> tuple[str, ...]:
    """The canaries among ``chosen`` (in its order). Named ones as named; a count takes one tenant of
    each starting state first (the states with most tenants first), so every kind of change runs
    in the canary when the count allows, then fills up in name order. The template is never
    chosen by count. ``starts``: each tenant's starting state (done tenants keep theirs, so a rerun
    chooses the same canaries)."""
    if canary.names:
        wanted = set(canary.names)
        return tuple(s for s in chosen if s in wanted)
    candidates = [s for s in chosen if s != template]
    by_state: dict[str, list[str]] = {}
    for schema in candidates:
        by_state.setdefault(starts.get(schema, ""), []).append(schema)
    firsts = [members[0] for members in sorted(by_state.values(), key=lambda m: (-len(m), natural_key(m[0])))]
    picked = set(firsts[: canary.count])
    for schema in candidates:
        if len(picked) >= canary.count:
            break
        picked.add(schema)
    return tuple(s for s in chosen if s in picked)


def plan_stages(chosen: Sequence[str], pending: set[str], canaries: tuple[str, ...], wave: Share) -> Stages:
    """The canaries still pending first, then the other pending tenants of ``chosen`` (in its order:
    the template first) in waves of ``wave.size(len(chosen))``."""
    first = set(canaries)
    rest = [s for s in chosen if s in pending and s not in first]
    size = wave.size(len(chosen)) if wave else max(1, len(rest))
    waves = tuple(tuple(rest[i : i + size]) for i in range(0, len(rest), size))
    return Stages(canaries, tuple(s for s in canaries if s in pending), waves)
