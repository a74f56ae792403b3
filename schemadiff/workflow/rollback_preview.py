"""`rollback --dry-run`: the downgrade as a plan, with its hazards, read without changing anything.

The applied revision's own groups are recorded exactly as a run would record them; every tenant is
classified by the runtime's own preflight against the ledger; the data each group's downgrade
would delete is checked tenant by tenant (a column NULL, or holding only its default, everywhere
deletes nothing). Reports render it as text, JSON, Markdown or a psql script.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from alembic.config import Config

from schemadiff.core.hazards import DELETES_DATA, FAILS_ON_EXISTING_ROWS
from schemadiff.core.statements import AFTER, BEFORE, INSIDE
from schemadiff.pg import connection
from schemadiff.render.tenant_script import script_line, tenant_script
from schemadiff.runtime.execute import data_losses, preflight, read_states
from schemadiff.runtime.job import Job, Loss, Options, Report, Work
from schemadiff.text import few


@dataclass(frozen=True)
class PreviewGroup:
    start: str  # the fingerprint the schemas go back to
    schemas: tuple[str, ...]
    statements: tuple[Any, ...]
    deletes: tuple[Loss, ...]
    losing: tuple[tuple[str, tuple[str, ...]], ...]  # (what, schemas that hold data there)
    guarded: tuple[str, ...]  # guards: these fail the tenant instead of losing values


@dataclass(frozen=True)
class Preview:
    revision: str
    message: str
    groups: tuple[PreviewGroup, ...]
    unchanged: tuple[str, ...]
    allowed: bool  # deletes_data allowed for this run

    @property
    def hazards(self) -> tuple[str, ...]:
        found = {DELETES_DATA for g in self.groups if g.losing}
        found |= {FAILS_ON_EXISTING_ROWS for g in self.groups if g.guarded}
        return tuple(sorted(found))

    @property
    def refused(self) -> bool:
        return not self.allowed and any(g.losing for g in self.groups)


def downgrade_job(cfg: Config, revision: str) -> tuple[Any, Job]:
    """The revision's script and the job its downgrade runs, as the runtime records it."""
    from alembic.script import ScriptDirectory

    from schemadiff.runtime import make_job

    script = ScriptDirectory.from_config(cfg).get_revision(revision)
    if script is None or script.module is None:
        raise ValueError(f"revision {revision} is not in the versions directory")
    module = script.module
    job = make_job(
        revision,
        "downgrade",
        module.TENANTS,
        module.GROUPS,
        module.TARGET,
        getattr(module, "TARGET_MODEL", ""),
        getattr(module, "REVISION_FORMAT", 1),
    )
    return script, replace(job, large_table_rows=getattr(module, "LARGE_TABLE_ROWS", None))


def preview(cfg: Config, url: str, revision: str, options: Options) -> Preview:
    from schemadiff.runtime.rollout import choose

    script, job = downgrade_job(cfg, revision)
    with connection.connect(url, autocommit=True) as conn:
        states, rows = read_states(conn, job)
        report = Report("downgrade", revision)
        chosen = None if options.selection.everything else set(choose(job, list(states), options))
        allowed = replace(options, allow=options.allow | {DELETES_DATA})
        work = preflight(conn, job, report, states, rows, allowed, chosen=chosen)
        losing = data_losses(conn, work)
    return Preview(
        revision,
        (script.doc or "").strip(),
        _groups(job, work, losing),
        tuple(report.skipped),
        DELETES_DATA in options.allow,
    )


def _groups(job: Job, work: list[Work], losing: dict[str, list[str]]) -> tuple[PreviewGroup, ...]:
    by_start: dict[str, list[Work]] = {}
    for item in work:
        by_start.setdefault(item.from_fp, []).append(item)
    out = []
    for start, items in by_start.items():
        schemas = tuple(i.schema for i in items)
        statements = job.way(start).forms.online if start in job.groups else ()
        deletes = job.way(start).deletes if start in job.groups else ()
        lose = tuple((str(loss), tuple(s for s in losing.get(str(loss), []) if s in schemas)) for loss in deletes)
        out.append(
            PreviewGroup(
                start,
                schemas,
                statements,
                deletes,
                tuple(x for x in lose if x[1]),
                tuple(s.guard for s in statements if s.guard),
            )
        )
    return tuple(out)


def render(p: Preview, format: str, database: str) -> str:
    return {"json": render_json, "markdown": render_markdown, "sql": render_sql}.get(format, render_text)(p, database)


def render_text(p: Preview, database: str) -> str:
    count = sum(len(g.schemas) for g in p.groups)
    out = [
        f"rollback of {p.revision} ({p.message}) on {database}: {count} schema(s) would change, "
        f"{len(p.unchanged)} need nothing"
    ]
    for n, g in enumerate(p.groups, 1):
        out += ["", f"Group {n}: {len(g.schemas)} schema(s) back to state {g.start}: {few(g.schemas)}"]
        out += [f"  {_phase_note(s.phase)}{s.sql}" for s in g.statements if not s.guard]
        out += [f"  guard: fails the schema if {guard}" for guard in g.guarded]
        for what, schemas in g.losing:
            out.append(f"  deletes_data: {what} holds data in {len(schemas)} schema(s): {few(schemas)}")
        out += [
            f"  deletes nothing: {loss} is NULL or its default everywhere"
            for loss in g.deletes
            if str(loss) not in dict(g.losing)
        ]
    out += ["", _verdict(p)]
    return "\n".join(out) + "\n"


def _phase_note(phase: str) -> str:
    return {BEFORE: "[before the transaction] ", AFTER: "[after the commit] ", INSIDE: ""}[phase]


def _verdict(p: Preview) -> str:
    if p.refused:
        return (
            "refused: the rollback would delete data (deletes_data); re-run with --allow deletes_data "
            "if that is intended"
        )
    if p.hazards:
        return f"hazards: {', '.join(p.hazards)}" + (" (deletes_data allowed)" if p.allowed else "")
    return "hazards: none"


def render_json(p: Preview, database: str) -> str:
    data = {
        "revision": p.revision,
        "message": p.message,
        "database": database,
        "hazards": list(p.hazards),
        "refused": p.refused,
        "unchanged": list(p.unchanged),
        "groups": [
            {
                "start": g.start,
                "schemas": list(g.schemas),
                "statements": [{"sql": s.sql, "phase": s.phase, "guard": s.guard} for s in g.statements],
                "deletes": [str(loss) for loss in g.deletes],
                "holds_data": {what: list(schemas) for what, schemas in g.losing},
            }
            for g in p.groups
        ],
    }
    return json.dumps(data, indent=2) + "\n"


def render_markdown(p: Preview, database: str) -> str:
    out = [f"### schemadiff rollback of `{p.revision}`", "", f"{p.message}", ""]
    for n, g in enumerate(p.groups, 1):
        out += [f"**Group {n}**: {len(g.schemas)} schema(s) back to `{g.start}` ({few(g.schemas)})", "", "```sql"]
        out += [script_line(s) for s in g.statements]
        out += ["```", ""]
        out += [
            f"- :warning: `deletes_data`: {what} holds data in {len(s)} schema(s): {few(s)}" for what, s in g.losing
        ]
    out.append(f"**{_verdict(p)}**")
    return "\n".join(out) + "\n"


def render_sql(p: Preview, database: str) -> str:
    out = [f"-- schemadiff rollback of {p.revision}: each schema in its own transaction"]
    out += [tenant_script(g.statements, schema) for g in p.groups for schema in g.schemas]
    return "\n".join(out) + "\n"
