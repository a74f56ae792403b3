"""Staged rollouts seen from the commands: which revision is half rolled out (or half rolled back),
the line ``status`` prints about it, and the check ``apply`` runs after a canary (the canary
tenants must match the spec, as every tenant must after a whole ``apply``).

``alembic_version`` moves only when a run finishes every tenant. So while the rollout of the next
revision is in progress the database still names the previous one, and while the rollback of its
revision is in progress it still names that one; the ledger says which tenants are where."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from alembic.config import Config

from schemadiff.errors import SchemadiffError
from schemadiff.pg import connection
from schemadiff.runtime.job import CanaryDone
from schemadiff.runtime.rollout_state import (
    FAILED,
    PARTIAL,
    PAUSED,
    RUNNING,
    STOPPED,
    RolloutRow,
    ledger_counts,
    read_row,
    run_active,
)
from schemadiff.spec.schema import LoadedSpec
from schemadiff.text import few
from schemadiff.workflow.planning import make_plan


@dataclass(frozen=True)
class InProgress:
    """A revision some tenants reached (``upgrade``) or left again (``downgrade``) while
    ``alembic_version`` still says otherwise; ``before``: the revision before it (None: base)."""

    revision: str
    direction: str
    before: str | None


def in_progress(cfg: Config, url: str) -> InProgress | None:
    """The rollback of the database's revision when its ledger has downgrade rows; else the rollout
    of the next revision towards the head when its ledger has upgrade rows; else None."""
    from schemadiff.workflow.alembic_env import current_head, database_revisions, script_directory

    script = script_directory(cfg)
    try:
        head = current_head(script)
    except SchemadiffError:
        return None
    current = next(iter(database_revisions(url)), None)
    with connection.connect(url) as conn:
        if current is not None and ledger_counts(conn, current).get("downgrade"):
            return InProgress(current, "downgrade", _before(script.get_revision(current).down_revision))
        if head is None or head == current:
            return None
        upcoming = list(script.iterate_revisions(head, current or "base"))
        following = upcoming[-1].revision if upcoming else None
        if following is not None and ledger_counts(conn, following).get("upgrade"):
            return InProgress(following, "upgrade", current)
    return None


def _before(down: object) -> str | None:
    if isinstance(down, tuple | list):  # a merge revision: Alembic stamps the first branch's
        return str(down[0]) if down else None
    return str(down) if down else None


def status_line(url: str, tenants: int, progress: InProgress | None) -> str | None:
    """Where a rollout stands, for ``status``: the last staged run's row that is not finished (the
    stage it reached, how it ended, who failed), with the ledger's count of tenants done; or, without
    such a row, what the ledger says about a revision in progress."""
    with connection.connect(url) as conn:
        row = read_row(conn)
        revision = row.revision if row else progress.revision if progress else None
        if revision is None:
            return None
        direction = row.direction if row else progress.direction if progress else "upgrade"
        counts = ledger_counts(conn, revision)
        active = run_active(conn)
    if direction == "upgrade":
        done = counts.get("upgrade", (0, 0))[1]
        where = f"{done} of {tenants} schema(s) at {revision}"
    else:
        where = f"{tenants - counts.get('upgrade', (0, 0))[0]} of {tenants} schema(s) back before {revision}"
    what = "rollout" if direction == "upgrade" else "rollback"
    command = "schemadiff apply" if direction == "upgrade" else "schemadiff rollback"
    if row is None:
        return f"{what} of {revision} in progress: {where}; `{command}` finishes it"
    return f"{what} of {revision} " + _stage(row, where, command, active)


def _stage(row: RolloutRow, where: str, command: str, active: bool) -> str:
    wave = "the canary" if row.wave == 0 else f"wave {row.wave} of {row.waves}"
    failed = f" ({few(list(row.failed))})" if row.failed else ""
    if row.state == RUNNING:
        if active:
            return f"running: {where}, in {wave}"
        return f"interrupted in {wave}: {where}; `{command}` resumes it"
    if row.state == PAUSED:
        return f"paused after its canary ({few(row.canaries)}): {where}; `{command} --continue` goes on"
    if row.state == STOPPED:
        why = f"{row.failures} failure(s){failed}"
        limit = f", more than --max-failures {row.max_failures}" if row.wave and row.max_failures is not None else ""
        return f"in progress: {where}, {wave} stopped after {why}{limit}; fix them and `{command}` resumes it"
    if row.state == FAILED:
        return f"in progress: {where}; {row.failures} schema(s) failed in the last run{failed}; `{command}` retries"
    if row.state == PARTIAL:
        chosen = f"--tenants {row.tenants}" if row.tenants else "the schemas it took"
        return f"in progress: {where} (the run for {chosen} is done); `{command}` does the rest"
    return f"{row.state}: {where}"


def canary_check(
    loaded: LoadedSpec | None, url: str, head: str | None, ask: Callable[[CanaryDone], bool]
) -> Callable[[CanaryDone], bool]:
    """What ``apply`` does once the canary ran and the runtime verified it: on an upgrade to the head
    revision, every canary must match the spec (else the rollout stops before the rest); then
    ``ask`` says whether the rest runs now."""

    def check(done: CanaryDone) -> bool:
        if loaded is not None and done.direction == "upgrade" and done.revision == head:
            plan, _ = make_plan(loaded, url, lint=False)
            canaries = set(done.canaries)
            differ = [s for group in plan.groups for s in group.schemas if s in canaries]
            if differ:
                raise SchemadiffError(
                    f"the canary of the rollout of {done.revision} does not match the spec: {few(differ)} "
                    "still differ (run `schemadiff plan` to see how)"
                )
        return ask(done)

    return check
