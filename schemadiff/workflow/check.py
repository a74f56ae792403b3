"""`schemadiff check` and `status`: read the versions directory (never running it), the spec's target
state and, with a database, where every tenant stands; the verdicts are ``core.gate`` and
``core.tenant_states``."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from schemadiff.core.fingerprint import fingerprint
from schemadiff.core.gate import CheckResult, gate
from schemadiff.core.tenant_states import RevisionInfo, TenantStates, tenant_states
from schemadiff.errors import SchemadiffError
from schemadiff.pg import connection
from schemadiff.spec.schema import LoadedSpec
from schemadiff.workflow.alembic_env import alembic_config, database_revisions, versions_directory
from schemadiff.workflow.planning import make_plan, normalized_target
from schemadiff.workflow.versions import read_chain


def _shown(path: str) -> str:
    """A path relative to the working directory when it is under it (as a person wrote it)."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return path


def revision_chain(loaded: LoadedSpec, config: Path | None, required: bool = False) -> tuple[RevisionInfo, ...]:
    """The versions directory (``migrations.directory`` of the spec, else that of ``config``), oldest
    first; empty when there is no Alembic environment and the spec names no directory (an error
    when ``required``)."""
    override = loaded.spec.migrations.directory
    if override:
        directory = Path(override)
    elif config is not None and (required or config.exists()):
        directory = versions_directory(alembic_config(config), None)
    else:
        return ()
    return tuple(replace(r, path=_shown(r.path)) for r in read_chain(directory))


def applied_revision(url: str, chain: tuple[RevisionInfo, ...]) -> str | None:
    """The revision ``public.alembic_version`` records (None when none); one the versions directory has."""
    applied = database_revisions(url)
    if len(applied) > 1:
        raise SchemadiffError(
            f"the database records {len(applied)} revisions ({', '.join(applied)}); schemadiff expects one chain"
        )
    revision = applied[0] if applied else None
    if revision is not None and revision not in {r.revision for r in chain}:
        raise SchemadiffError(
            f"the database is at revision {revision}, which the versions directory does not have; "
            "check against the database this project migrates, or pull the missing revision"
        )
    return revision


def database_states(
    loaded: LoadedSpec,
    url: str,
    chain: tuple[RevisionInfo, ...],
    dev_url: str | None = None,
    notice: Callable[[str], None] = lambda _m: None,
    rolling_back_to: tuple[str | None, ...] = (),
) -> TenantStates:
    """Every tenant, grouped by state, classified against the revisions the database has not run
    (``rolling_back_to``: one revision to classify from instead of the database's, when the rollback
    of the database's revision is in progress and ``apply`` would run that revision again)."""
    plan, _ = make_plan(loaded, url, dev_url, notice, lint=False)
    groups = [(plan.target_fingerprint, plan.unchanged)] if plan.unchanged else []
    groups += [(g.fingerprint, g.schemas) for g in plan.groups]
    applied = rolling_back_to[0] if rolling_back_to else applied_revision(url, chain)
    return tenant_states(groups, list(chain), applied, plan.target_fingerprint)


def uses_database(flag: str | None, no_database: bool) -> bool:
    """`check` reads a database when one is given (``--database-url``) or configured
    (SCHEMADIFF_DATABASE_URL, DATABASE_URL), never the embedded server by default."""
    return not no_database and bool(flag or any(os.environ.get(v) for v in connection.URL_ENV_VARS))


def check(
    loaded: LoadedSpec,
    config: Path | None,
    url: str | None = None,
    dev_url: str | None = None,
    allow_pending: bool = False,
    notice: Callable[[str], None] = lambda _m: None,
) -> CheckResult:
    """The whole check; with ``url``, the tenants too (and the spec normalized there, as `plan`
    does), else the spec normalized in the dev database."""
    chain = revision_chain(loaded, config, required=True)
    if url is None:
        target = fingerprint(normalized_target(loaded, dev_url))
        return gate(loaded.path, target, chain)
    states = database_states(loaded, url, chain, dev_url, notice)
    return gate(loaded.path, states.target, chain, states, connection.redact(url), allow_pending)
