"""Drive Alembic (upgrade / downgrade / current) and verify convergence afterwards."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from schemadiff.core.options import Options
from schemadiff.core.tenant_states import TenantStates
from schemadiff.errors import SchemadiffError, first_line
from schemadiff.pg import connection
from schemadiff.runtime.execute import Report, Reporter
from schemadiff.runtime.job import DATABASE_URL, OPTIONS, REPORTER, REPORTS
from schemadiff.spec.schema import LoadedSpec
from schemadiff.workflow.planning import make_plan


@dataclass
class Outcome:
    reports: list[Report] = field(default_factory=list)
    converged: bool = True
    remaining: int = 0


@contextmanager
def _handed_over(cfg: Config, url: str, options: Options, reporter: Reporter | None) -> Iterator[list[Report]]:
    """What the run needs reaches env.py and the runtime in ``cfg.attributes``: the URL, the
    options, the progress callback, and a list the runtime appends each revision's report to."""
    reports: list[Report] = []
    handed = {DATABASE_URL: url, OPTIONS: options, REPORTS: reports, REPORTER: reporter}
    cfg.attributes.update(handed)
    try:
        with _url_for_an_older_env_py(cfg, url):
            yield reports
    finally:
        for key in handed:
            cfg.attributes.pop(key, None)


@contextmanager
def _url_for_an_older_env_py(cfg: Config, url: str) -> Iterator[None]:
    """An env.py written by an older ``schemadiff init`` takes the URL from SCHEMADIFF_DATABASE_URL
    only: for it alone the variable is set while the command runs, then restored."""
    env_py = Path(ScriptDirectory.from_config(cfg).env_py_location)
    if not env_py.exists() or DATABASE_URL in env_py.read_text():
        yield
        return
    saved = os.environ.get("SCHEMADIFF_DATABASE_URL")
    os.environ["SCHEMADIFF_DATABASE_URL"] = url
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("SCHEMADIFF_DATABASE_URL", None)
        else:
            os.environ["SCHEMADIFF_DATABASE_URL"] = saved


def _alembic(
    action: str, cfg: Config, url: str, target: str, options: Options, reporter: Reporter | None
) -> list[Report]:
    """Run the Alembic command in-process; the report of each revision it ran."""
    with _handed_over(cfg, url, options, reporter) as reports:
        try:
            getattr(command, action)(cfg, target)
        except SchemadiffError:
            raise
        except Exception as exc:  # Alembic wraps driver errors; keep one redacted line
            cause = exc.__cause__ or exc
            raise SchemadiffError(connection.redact(f"{action} failed: {first_line(cause)}", url)) from None
    return reports


def upgrade(cfg: Config, url: str, loaded: LoadedSpec, options: Options, reporter: Reporter | None = None) -> Outcome:
    outcome = Outcome(_alembic("upgrade", cfg, url, "head", options, reporter))
    plan, _ = make_plan(loaded, url, lint=False)
    outcome.remaining = sum(len(g.schemas) for g in plan.groups)
    outcome.converged = not plan.changes
    return outcome


def check_hazards(loaded: LoadedSpec, url: str, allowed: set[str], known: frozenset[str] | None = None) -> None:
    """The policy again, on the live tenants: refuse before any change. ``known``: the starting
    states the first pending revision knows; schemas in other states are left to its runtime, which
    stops before any change and says what differs (their plan here is not what would run)."""
    from schemadiff.core.policy import check_policy

    plan, _ = make_plan(loaded, url, allowed=tuple(sorted(allowed)), lint=False)
    if known is not None:
        plan = replace(plan, groups=tuple(g for g in plan.groups if g.fingerprint in known))
    check_policy(plan, allowed)


def first_pending_starts(cfg: Config, url: str) -> frozenset[str] | None:
    """The starting states (fingerprints) of the first revision the database has not run; None
    when there is none, or it is not one schemadiff wrote."""
    from alembic.script.revision import RevisionError
    from alembic.util import CommandError

    from schemadiff.workflow.alembic_env import database_revisions, script_directory

    script = script_directory(cfg)
    try:
        pending = list(script.iterate_revisions("heads", database_revisions(url) or "base"))
    except (CommandError, RevisionError):  # an unknown current revision: the upgrade itself says so
        return None
    groups = getattr(pending[-1].module, "GROUPS", None) if pending else None
    if groups is None:
        return None
    return frozenset(g.fingerprint for g in groups)


def downgrade(cfg: Config, url: str, steps: int, options: Options, reporter: Reporter | None = None) -> Outcome:
    return Outcome(_alembic("downgrade", cfg, url, f"-{steps}", options, reporter))


def current_revision(url: str) -> str | None:
    with connection.connect(url) as conn:
        exists = conn.execute("SELECT to_regclass('public.alembic_version') IS NOT NULL").fetchone()
        if not exists or not exists[0]:
            return None
        row = conn.execute("SELECT version_num FROM public.alembic_version").fetchone()
        return row[0] if row else None


def status(config: Path | None, url: str, loaded: LoadedSpec, dev_url: str | None = None) -> TenantStates:
    """The database's revision, the head, and every tenant at the spec, pending or unknown
    (``core.tenant_states``); the versions directory is read without running it."""
    from schemadiff.workflow.check import database_states, revision_chain

    return database_states(loaded, url, revision_chain(loaded, config), dev_url)
