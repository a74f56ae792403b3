"""Drive Alembic (upgrade / downgrade / current) and verify convergence afterwards."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from schemadiff.core.options import Options
from schemadiff.core.plan import GroupPlan
from schemadiff.core.rollout import EVERY_TENANT, Selection
from schemadiff.core.tenant_states import TenantStates
from schemadiff.errors import SchemadiffError, first_line
from schemadiff.pg import connection
from schemadiff.runtime.execute import Report, Reporter
from schemadiff.runtime.job import CANARY_DONE, DATABASE_URL, NOTICE, OPTIONS, REPORTER, REPORTS, CanaryDone
from schemadiff.runtime.pacing import Notice
from schemadiff.spec.schema import LoadedSpec
from schemadiff.workflow.planning import make_plan

Ask = Callable[[CanaryDone], bool]


@dataclass
class Outcome:
    reports: list[Report] = field(default_factory=list)
    converged: bool = True
    remaining: int = 0
    # a staged run that did every tenant it took while others still need the revision: where it stands
    in_progress: str = ""


@dataclass(frozen=True)
class Callbacks:
    """What a command hands the runtime besides the options: progress, lines to show, and the
    question after a canary (None: never ask, stop after the canary unless ``continue``). The
    library's ``upgrade``/``downgrade`` take them as ``reporter`` and the keywords ``notice``, ``ask``."""

    reporter: Reporter | None = None
    notice: Notice | None = None
    ask: Ask | None = None


@contextmanager
def _handed_over(
    cfg: Config, url: str, options: Options, calls: Callbacks, canary_done: Ask | None = None
) -> Iterator[list[Report]]:
    """What the run needs reaches env.py and the runtime in ``cfg.attributes``: the URL, the
    options, the callbacks, and a list the runtime appends each revision's report to."""
    reports: list[Report] = []
    handed = {
        DATABASE_URL: url,
        OPTIONS: options,
        REPORTS: reports,
        REPORTER: calls.reporter,
        NOTICE: calls.notice,
        CANARY_DONE: canary_done,
    }
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
    action: str,
    cfg: Config,
    url: str,
    target: str,
    options: Options,
    calls: Callbacks,
    canary_done: Ask | None = None,
) -> Outcome:
    """Run the Alembic command in-process; the report of each revision it ran. A staged run that did
    every tenant it took while others wait is an outcome ``in_progress``; other stops raise."""
    from schemadiff.runtime.rollout import RolloutPartial

    with _handed_over(cfg, url, options, calls, canary_done) as reports:
        try:
            getattr(command, action)(cfg, target)
        except RolloutPartial as partial:
            return Outcome([*reports, partial.report], in_progress=str(partial))
        except SchemadiffError:
            raise
        except Exception as exc:  # Alembic wraps driver errors; keep one redacted line
            cause = exc.__cause__ or exc
            raise SchemadiffError(connection.redact(f"{action} failed: {first_line(cause)}", url)) from None
    return Outcome(reports)


def stamp(cfg: Config, url: str, revision: str | None) -> None:
    """Set ``alembic_version`` to ``revision`` (None: no revision) without running anything."""
    _alembic("stamp", cfg, url, revision or "base", Options(), Callbacks())


def upgrade(
    cfg: Config,
    url: str,
    loaded: LoadedSpec,
    options: Options,
    reporter: Reporter | None = None,
    *,
    notice: Notice | None = None,
    ask: Ask | None = None,
) -> Outcome:
    """``upgrade head``, then every tenant must match the spec (the tenants the run took, when it
    was a part of a staged rollout). While the rollback of the database's revision is in progress,
    ``alembic_version`` goes back first so the revision runs again for the tenants it left."""
    from schemadiff.workflow.alembic_env import current_head, script_directory
    from schemadiff.workflow.rollouts import canary_check, in_progress

    calls = Callbacks(reporter, notice, ask)
    progress = in_progress(cfg, url)
    if progress is not None and progress.direction == "downgrade":
        stamp(cfg, url, progress.before)
    head = current_head(script_directory(cfg))
    check = canary_check(loaded, url, head, calls.ask) if calls.ask is not None else None
    outcome = _alembic("upgrade", cfg, url, "head", options, calls, check)
    plan, _ = make_plan(loaded, url, lint=False)
    differ = [s for g in plan.groups for s in g.schemas]
    if outcome.in_progress:
        report = outcome.reports[-1]
        took = set(report.applied) | set(report.skipped)
        differ = [s for s in differ if s in took] if report.revision == head else []
    outcome.remaining = len(differ)
    outcome.converged = not differ
    return outcome


def check_hazards(
    loaded: LoadedSpec,
    url: str,
    allowed: set[str],
    known: frozenset[str] | None = None,
    selection: Selection = EVERY_TENANT,
) -> None:
    """The policy again, on the live tenants the run takes (``selection``): refuse before any
    change. ``known``: the starting states the first pending revision knows; schemas in other states
    are left to its runtime, which stops before any change and says what differs (their plan here is
    not what would run)."""
    from schemadiff.core.policy import check_policy

    plan, _ = make_plan(loaded, url, allowed=tuple(sorted(allowed)), lint=False)
    if known is not None:
        plan = replace(plan, groups=tuple(g for g in plan.groups if g.fingerprint in known))
    if not selection.everything:
        groups = (_taken(group, selection) for group in plan.groups)
        plan = replace(plan, groups=tuple(g for g in groups if g.schemas))
    check_policy(plan, allowed)


def _taken(group: GroupPlan, selection: Selection) -> GroupPlan:
    """The group with only the schemas the selection takes."""
    large = tuple((table, tuple(selection.choose(schemas)[0])) for table, schemas in group.large)
    return replace(group, schemas=tuple(selection.choose(group.schemas)[0]), large=large)


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


def downgrade(
    cfg: Config,
    url: str,
    steps: int,
    options: Options,
    reporter: Reporter | None = None,
    *,
    notice: Notice | None = None,
    ask: Ask | None = None,
) -> Outcome:
    """``downgrade -steps``. While the rollout of the next revision is in progress (some tenants
    reached it, ``alembic_version`` still names the one before), that revision is the one taken
    back: ``alembic_version`` names it first, and names the one before again when the rollback
    changed no tenant."""
    from schemadiff.workflow.rollouts import canary_check, in_progress

    calls = Callbacks(reporter, notice, ask)
    progress = in_progress(cfg, url)
    check = canary_check(None, url, None, calls.ask) if calls.ask is not None else None
    if progress is None or progress.direction != "upgrade":
        return _alembic("downgrade", cfg, url, f"-{steps}", options, calls, check)
    stamp(cfg, url, progress.revision)
    try:
        return _alembic("downgrade", cfg, url, f"-{steps}", options, calls, check)
    except BaseException:
        if not _rolled_back_any(url, progress.revision):
            stamp(cfg, url, progress.before)
        raise


def _rolled_back_any(url: str, revision: str) -> bool:
    from schemadiff.runtime.rollout_state import ledger_counts

    with connection.connect(url) as conn:
        return bool(ledger_counts(conn, revision).get("downgrade"))


def current_revision(url: str) -> str | None:
    with connection.connect(url) as conn:
        exists = conn.execute("SELECT to_regclass('public.alembic_version') IS NOT NULL").fetchone()
        if not exists or not exists[0]:
            return None
        row = conn.execute("SELECT version_num FROM public.alembic_version").fetchone()
        return row[0] if row else None


def status(config: Path | None, url: str, loaded: LoadedSpec, dev_url: str | None = None) -> TenantStates:
    """The database's revision, the head, and every tenant at the spec, pending or unknown
    (``core.tenant_states``); the versions directory is read without running it. While the
    rollback of the database's revision is in progress, its tenants are classified as ``apply``
    would run them (from the revision before); ``rollout`` says where a rollout stands."""
    from schemadiff.workflow.alembic_env import alembic_config
    from schemadiff.workflow.check import database_states, revision_chain
    from schemadiff.workflow.rollouts import in_progress, status_line

    cfg = alembic_config(config) if config is not None and config.exists() else None
    progress = in_progress(cfg, url) if cfg is not None else None
    chain = revision_chain(loaded, config)
    if progress is None or progress.direction != "downgrade":
        states = database_states(loaded, url, chain, dev_url)
    else:
        states = replace(
            database_states(loaded, url, chain, dev_url, rolling_back_to=(progress.before,)),
            revision=progress.revision,
        )
    tenants = sum(len(g.schemas) for g in states.groups)
    line = status_line(url, tenants, progress) if cfg is not None else None
    return replace(states, rollout=line)
