"""A staged rollout over a fleet of shards, as pure data: which tenants of which shard the rollout
takes (``--tenants`` with plain or ``SHARD:SCHEMA`` names), how many canaries each shard runs, and
the waves of the rest across the fleet. No I/O: the workflow reads each shard's tenants, and each
shard runs its part with the one-database machinery (``runtime.rollout``).

- **Names.** ``eu:user_1*`` matches on shard ``eu`` only; ``user_1*`` on every shard. A glob (or a
  file's name) is an error only when it matches no tenant on any shard.
- **Canaries.** ``--canary N`` is spread over the shards in fleet order, round robin (N=5 over three
  shards: 2, 2, 1), counting only shards whose chosen tenants hold a schema other than the
  template; each shard then picks its share by the one-database rule (one of each starting state
  first, the same tenants on a rerun). Named canaries go to the shard that holds them.
- **Waves.** The pending tenants of every shard (the template first on each), interleaved shard by
  shard, cut into waves of ``--wave-size`` (a percentage counts every tenant the rollout takes
  across the fleet), so each wave touches every shard that has tenants left.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from itertools import zip_longest

from schemadiff.core.rollout import Canary, Selection, Share
from schemadiff.core.shards import SEPARATOR

Tenants = Mapping[str, Sequence[str]]  # shard → its tenants, in order


def _split(name: str, shards: Sequence[str]) -> tuple[str | None, str]:
    """``SHARD:SCHEMA`` → (shard, schema) when SHARD is a shard of the fleet; else (None, name)."""
    shard, separator, schema = name.partition(SEPARATOR)
    if separator and shard in shards:
        return shard, schema
    return None, name


def choose_fleet(selection: Selection, tenants: Tenants) -> tuple[dict[str, list[str]], list[str]]:
    """Each shard's chosen tenants (in its order) and what chose nothing on any shard."""
    if selection.everything:
        return {shard: list(names) for shard, names in tenants.items()}, []
    shards = list(tenants)
    wanted = selection.names if selection.file else selection.patterns
    chosen: dict[str, set[str]] = {shard: set() for shard in shards}
    missing: list[str] = []
    for item in wanted:
        where, pattern = _split(item, shards)
        hits = 0
        for shard in [where] if where else shards:
            matched = [t for t in tenants[shard] if (t == pattern if selection.file else fnmatchcase(t, pattern))]
            chosen[shard].update(matched)
            hits += len(matched)
        if not hits:
            missing.append(item)
    return {shard: [t for t in tenants[shard] if t in chosen[shard]] for shard in shards}, missing


def split_canary(canary: Canary, chosen: Tenants, template: str) -> tuple[dict[str, Canary], list[str]]:
    """Each shard's canary (shards without one are left out) and the named canaries found nowhere
    among the chosen tenants."""
    shards = list(chosen)
    if canary.names:
        named: dict[str, list[str]] = {}
        missing: list[str] = []
        for item in canary.names:
            where, schema = _split(item, shards)
            holders = [s for s in ([where] if where else shards) if schema in chosen[s]]
            for shard in holders:
                named.setdefault(shard, []).append(schema)
            if not holders:
                missing.append(item)
        return {shard: Canary(names=tuple(dict.fromkeys(names))) for shard, names in named.items()}, missing
    room = {shard: len([t for t in chosen[shard] if t != template]) for shard in shards}
    counts = dict.fromkeys(shards, 0)
    left = canary.count
    while left and any(counts[s] < room[s] for s in shards):
        for shard in shards:
            if left and counts[shard] < room[shard]:
                counts[shard] += 1
                left -= 1
    return {shard: Canary(count=n) for shard, n in counts.items() if n}, []


@dataclass(frozen=True)
class FleetWave:
    """One wave: the tenants each shard runs in it (shards without any are left out)."""

    number: int
    parts: dict[str, tuple[str, ...]]

    @property
    def size(self) -> int:
        return sum(len(p) for p in self.parts.values())


def fleet_waves(pending: Tenants, taken: int, wave: Share) -> list[FleetWave]:
    """``pending``: each shard's tenants still to run, in its order. The waves across the fleet, of
    ``wave.size(taken)`` tenants (one wave of everything without a size)."""
    order = [
        (shard, t)
        for row in zip_longest(*([(s, t) for t in ts] for s, ts in pending.items()))
        for shard, t in filter(None, row)
    ]
    size = wave.size(taken) if wave else max(1, len(order))
    waves: list[FleetWave] = []
    for start in range(0, len(order), size):
        parts: dict[str, list[str]] = {}
        for shard, tenant in order[start : start + size]:
            parts.setdefault(shard, []).append(tenant)
        waves.append(FleetWave(len(waves) + 1, {s: tuple(ts) for s, ts in parts.items()}))
    return waves
