"""The databases of one run: a fleet of shards named in a targets file (URLs from environment
variables, never from the file) or by repeated ``--database-url``; one target is today's run."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from schemadiff.errors import SchemadiffError, SpecError, SpecProblem
from schemadiff.pg import connection
from schemadiff.spec.yaml_source import load_yaml

SHARD_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
MAX_TARGETS_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Target:
    """One shard: its name (shown in every report) and its URL (psycopg form, never printed whole)."""

    name: str
    url: str

    @property
    def shown(self) -> str:
        return connection.redact(self.url)


def _named_by_url(urls: list[str]) -> list[Target]:
    """Repeated ``--database-url``: each shard named ``host:port/database`` (no user, no password)."""
    targets: list[Target] = []
    for url in urls:
        libpq = connection.to_libpq(url)
        parts = urlsplit(connection.split_userinfo(libpq)[0] + (connection.split_userinfo(libpq)[3] or ""))
        name = f"{parts.hostname or 'local'}{f':{parts.port}' if parts.port else ''}{parts.path or '/'}"
        if name in {t.name for t in targets}:
            raise SchemadiffError(f"--database-url names the database {name} twice; name each shard once")
        targets.append(Target(name, libpq))
    return targets


def load_targets(path: Path) -> list[Target]:
    """``targets: {NAME: {url_env: VARIABLE}, …}``; every problem as ``FILE:LINE:COL: …``."""
    try:
        raw = path.read_bytes()[: MAX_TARGETS_BYTES + 1]
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemadiffError(f"cannot read the targets file {path}: {getattr(exc, 'strerror', None) or exc}") from None
    located = load_yaml(text, str(path))
    shards = located.data.get("targets") if isinstance(located.data, dict) else None
    if not isinstance(shards, dict) or not shards:
        raise SpecError([located.problem((), "a targets file is `targets: {NAME: {url_env: VARIABLE}, …}`")])
    problems: list[SpecProblem] = []
    targets = []
    for name, entry in shards.items():
        where = ("targets", name)
        if not SHARD_NAME.match(str(name)):
            problems.append(located.problem(where, f"shard name {name!r}: letters, digits, _ . - only", at_key=True))
        elif not isinstance(entry, dict) or set(entry) != {"url_env"} or not isinstance(entry["url_env"], str):
            hint = (
                " (no URLs or passwords in files: put the URL in an environment variable)"
                if "url" in (entry if isinstance(entry, dict) else {})
                else ""
            )
            problems.append(located.problem(where, f"a shard is {{url_env: VARIABLE}}{hint}"))
        else:
            value = os.environ.get(entry["url_env"])
            if not value:
                problems.append(
                    located.problem((*where, "url_env"), f"environment variable {entry['url_env']} is not set")
                )
            else:
                targets.append(Target(str(name), connection.to_libpq(value)))
    if problems:
        raise SpecError(problems)
    return targets


def resolve_targets(urls: list[str] | None, targets_file: Path | None) -> list[Target]:
    """Every shard of the run: the targets file's, or one per ``--database-url``; empty when
    neither is given (the run resolves its one database as before)."""
    if targets_file is not None and urls:
        raise SchemadiffError("give either --targets or --database-url, not both")
    if targets_file is not None:
        return load_targets(targets_file)
    return _named_by_url(urls) if urls and len(urls) > 1 else []
