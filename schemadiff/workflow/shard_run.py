"""One shard's part of a fleet run, in a process of its own (Alembic's ``op`` and ``context`` are
process-wide, so two in-process upgrades cannot share one interpreter): a JSON job on stdin, the
URL in SCHEMADIFF_DATABASE_URL (never on the command line), one JSON result line on stdout."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import asdict, fields, is_dataclass
from pathlib import Path
from typing import Any

from schemadiff.core.options import Options
from schemadiff.errors import SchemadiffError
from schemadiff.pg import connection

URL_VARIABLE = "SCHEMADIFF_DATABASE_URL"


def _report(report: Any) -> dict[str, Any]:
    return {
        "direction": report.direction,
        "revision": report.revision,
        "applied": len(report.applied),
        "skipped": len(report.skipped),
        "failed": dict(report.failed),
        "canaries": list(report.canaries),
        "not_started": len(report.not_started),
        "seconds": round(report.seconds, 3),
    }


PROGRESS = "schemadiff-progress"  # the first word of a progress line on stderr: DONE TOTAL follow


def progress(_schema: str, done: int, total: int) -> None:
    """Tenants done of the run's total, as one line on stderr for the fleet's progress display (a
    reporter also makes the runtime raise its own errors, with their reports, as for ``apply``)."""
    sys.stderr.write(f"{PROGRESS} {done} {total}\n")
    sys.stderr.flush()


def run_job(job: dict[str, Any], url: str) -> dict[str, Any]:
    """``{"action": "upgrade"|"downgrade", "config", "spec", "steps", "options"}`` on ``url``."""
    from schemadiff.workflow import apply as apply_mod
    from schemadiff.workflow.alembic_env import alembic_config, current_head, script_directory
    from schemadiff.workflow.rollouts import in_progress

    cfg = alembic_config(Path(job["config"]))
    options = options_from(job["options"])
    result: dict[str, Any] = {"reports": [], "idle": None, "remaining": 0}
    try:
        if job["action"] == "upgrade":
            from schemadiff.spec.schema import load_spec

            if apply_mod.current_revision(url) == current_head(script_directory(cfg)) and not in_progress(cfg, url):
                return {**result, "idle": "at head"}
            loaded = load_spec(job["spec"])
            apply_mod.check_hazards(loaded, url, set(options.allow))
            # a canary is checked against the spec too, then the shard pauses (never asks)
            outcome = apply_mod.upgrade(cfg, url, loaded, options, progress, ask=lambda _done: False)
            result["remaining"] = outcome.remaining
        else:
            if apply_mod.current_revision(url) is None and not in_progress(cfg, url):
                return {**result, "idle": "no revision applied"}
            outcome = apply_mod.downgrade(cfg, url, job["steps"], options, progress)
        result["reports"] = [_report(r) for r in outcome.reports]
        result["in_progress"] = outcome.in_progress
    except SchemadiffError as exc:
        failed = getattr(exc, "report", None)
        result["reports"] = [_report(failed)] if failed is not None else []
        result["error"] = connection.redact(str(exc), url)
        result["ended"] = _ended(exc)
    return result


def _ended(exc: SchemadiffError) -> str:
    """How a staged run stopped: ``paused`` after its canary, ``stopped`` (a canary failed, or more
    than max_failures), ``failed`` (tenants failed), or ``error`` (anything else)."""
    from schemadiff.runtime.rollout import RolloutPaused, RolloutStopped
    from schemadiff.runtime.workers import RunFailed

    for kind, name in ((RolloutPaused, "paused"), (RolloutStopped, "stopped"), (RunFailed, "failed")):
        if isinstance(exc, kind):
            return name
    return "error"


def options_data(options: Options) -> dict[str, Any]:
    """The run's options as JSON data (a staged rollout's records become mappings, tuples lists)."""
    data = asdict(options)
    data["allow"] = sorted(options.allow)
    return data


def options_from(data: dict[str, Any]) -> Options:
    """The inverse of :func:`options_data`: the records a staged rollout carries rebuilt as such."""
    values: dict[str, Any] = {}
    for item in fields(Options):
        if item.name not in data:
            continue
        value = data[item.name]
        default = item.default
        if is_dataclass(default) and not isinstance(default, type) and isinstance(value, dict):
            value = type(default)(**{k: tuple(v) if isinstance(v, list) else v for k, v in value.items()})
        values[item.name] = value
    values["allow"] = frozenset(data.get("allow", ()))
    return Options(**values)


def spawn(job: str, url: str, progress: Callable[[int, int], None] | None = None) -> tuple[int, str, list[str]]:
    """Run ``job`` in a process of its own against ``url``: its exit code, its stdout, and its stderr
    lines other than progress, which go to ``progress(done, total)`` as they come."""
    import subprocess
    import threading

    env = {**os.environ, URL_VARIABLE: url}
    proc = subprocess.Popen(
        [sys.executable, "-m", "schemadiff.workflow.shard_run"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    other: list[str] = []

    def read_stderr() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            words = line.split()
            if len(words) == 3 and words[0] == PROGRESS:
                if progress is not None:
                    progress(int(words[1]), int(words[2]))
            elif line.strip():
                other.append(line.rstrip("\n"))

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(job)
    proc.stdin.close()
    out = proc.stdout.read()
    code = proc.wait()
    reader.join()
    return code, out, other


def main() -> None:
    url = os.environ.get(URL_VARIABLE, "")
    try:
        result = run_job(json.loads(sys.stdin.read()), url)
    except Exception as exc:  # anything else still answers in one redacted line
        result = {"reports": [], "idle": None, "remaining": 0, "error": connection.redact(str(exc), url)}
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
