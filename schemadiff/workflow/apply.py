"""Drive Alembic (upgrade / downgrade / current) and verify convergence afterwards."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from alembic import command
from alembic.config import Config

from schemadiff import runtime
from schemadiff.errors import SchemadiffError, first_line
from schemadiff.pg import connection
from schemadiff.runtime.execute import Report, Reporter
from schemadiff.spec.schema import LoadedSpec
from schemadiff.workflow.planning import make_plan


@dataclass(frozen=True)
class RunOptions:
    workers: int = 4
    lock_timeout: str = "2s"
    statement_timeout: str = "0"
    lock_wait: float = 30.0
    allow: tuple[str, ...] = ()  # hazards the runtime may let through (deletes_data on a downgrade)
    assume_from: str = ""  # a downgrade: the start of tenants whose ledger row is lost

    def x_args(self) -> list[str]:
        args = [
            f"workers={self.workers}",
            f"lock_timeout={self.lock_timeout}",
            f"statement_timeout={self.statement_timeout}",
            f"lock_wait={self.lock_wait:g}",
        ]
        args += [f"allow={','.join(self.allow)}"] if self.allow else []
        return args + ([f"assume_from={self.assume_from}"] if self.assume_from else [])


@dataclass
class Outcome:
    reports: list[Report] = field(default_factory=list)
    converged: bool = True
    remaining: int = 0


@contextmanager
def _pointed_at(url: str, cfg: Config, options: RunOptions, reporter: Reporter | None) -> Iterator[None]:
    """env.py reads SCHEMADIFF_DATABASE_URL; the runtime reads -x options and the reporter."""
    saved = os.environ.get("SCHEMADIFF_DATABASE_URL")
    os.environ["SCHEMADIFF_DATABASE_URL"] = url
    cfg.cmd_opts = argparse.Namespace(x=options.x_args())
    runtime.set_reporter(reporter)
    try:
        yield
    finally:
        runtime.set_reporter(None)
        if saved is None:
            os.environ.pop("SCHEMADIFF_DATABASE_URL", None)
        else:
            os.environ["SCHEMADIFF_DATABASE_URL"] = saved


def _alembic(action: str, cfg: Config, url: str, target: str, options: RunOptions, reporter: Reporter | None) -> None:
    with _pointed_at(url, cfg, options, reporter):
        try:
            getattr(command, action)(cfg, target)
        except SchemadiffError:
            raise
        except Exception as exc:  # Alembic wraps driver errors; keep one redacted line
            cause = exc.__cause__ or exc
            raise SchemadiffError(connection.redact(f"{action} failed: {first_line(cause)}", url)) from None


def upgrade(
    cfg: Config, url: str, loaded: LoadedSpec, options: RunOptions, reporter: Reporter | None = None
) -> Outcome:
    _alembic("upgrade", cfg, url, "head", options, reporter)
    outcome = Outcome([r for r in [runtime.last_report()] if r is not None])
    plan, _ = make_plan(loaded, url, lint=False)
    outcome.remaining = sum(len(g.schemas) for g in plan.groups)
    outcome.converged = not plan.changes
    return outcome


def check_hazards(loaded: LoadedSpec, url: str, allowed: set[str]) -> None:
    """The policy again, on the live tenants: refuse before any change."""
    from schemadiff.core.policy import check_policy

    plan, _ = make_plan(loaded, url, allowed=tuple(sorted(allowed)), lint=False)
    check_policy(plan, allowed)


def downgrade(cfg: Config, url: str, steps: int, options: RunOptions, reporter: Reporter | None = None) -> Outcome:
    _alembic("downgrade", cfg, url, f"-{steps}", options, reporter)
    return Outcome([r for r in [runtime.last_report()] if r is not None])


def current_revision(url: str) -> str | None:
    with connection.connect(url) as conn:
        exists = conn.execute("SELECT to_regclass('public.alembic_version') IS NOT NULL").fetchone()
        if not exists or not exists[0]:
            return None
        row = conn.execute("SELECT version_num FROM public.alembic_version").fetchone()
        return row[0] if row else None


@dataclass(frozen=True)
class Status:
    revision: str | None
    head: str | None
    at_spec: tuple[str, ...]
    pending: tuple[str, ...]  # in a starting state the head revision knows
    unknown: tuple[str, ...]


def status(cfg: Config | None, url: str, loaded: LoadedSpec) -> Status:
    plan, _ = make_plan(loaded, url, lint=False)
    known: set[str] = set()
    head = None
    if cfg is not None:
        from schemadiff.workflow.alembic_env import script_directory

        script = script_directory(cfg)
        head = script.get_current_head()
        module = script.get_revision(head).module if head else None
        known = {g.fingerprint for g in getattr(module, "GROUPS", [])}
    pending: list[str] = []
    unknown: list[str] = []
    for group in plan.groups:
        (pending if group.fingerprint in known else unknown).extend(group.schemas)
    return Status(current_revision(url), head, plan.unchanged, tuple(pending), tuple(unknown))
