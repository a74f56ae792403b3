"""Plan → Markdown for a pull-request comment, kept under GitHub's 65,536-character limit."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from schemadiff.core.plan import GroupPlan, Plan, silenced_rules
from schemadiff.core.policy import verdict
from schemadiff.render.tenant_script import group_sql
from schemadiff.text import few

COMMENT_LIMIT = 65_536
_BUDGET = 60_000  # leaves room for whatever a CI job wraps around the report


Shard = tuple[str, str, int | None]  # a fleet's shard: name, database (redacted), schemas read (None: down)


def render_markdown(plan: Plan, sql_schema: Callable[[str], str] = str, shards: Sequence[Shard] = ()) -> str:
    """``sql_schema``: the schema a listed name's SQL is shown for; ``shards``: a fleet's shards (its
    schemas are listed ``SHARD:SCHEMA``), shown in a table of their own."""
    head = [f"## schemadiff plan: `{plan.spec_path or 'spec'}`", ""]
    head.append(
        f"**{plan.tenant_count}** schemas{f' on **{len(shards)}** shards' if shards else ''} · "
        f"**{len(plan.groups)}** group(s) with changes · "
        f"**{len(plan.unchanged)}** already at the spec · target state `{plan.target_fingerprint}`"
    )
    head += _shard_table(shards)
    if not plan.changes:
        return (
            "\n".join([*head, "", "No changes: every schema is at the spec.", *_unmanaged(plan), *_notes(plan)]) + "\n"
        )
    head += ["", "| group | schemas | examples | ops | hazards |", "|---|---:|---|---:|---|"]
    for n, g in enumerate(plan.groups, 1):
        hazards = ", ".join(f"`{h}`" for h in g.hazards) or "none"
        head.append(
            f"| {n} `{g.fingerprint[:8]}` | {len(g.schemas)} | {few(g.schemas, 3)} | {len(g.ops)} | {hazards} |"
        )
    head += ["", f"**Verdict:** {_cell(str(verdict(plan)))}"]
    head += _hazard_table(plan)
    head += _lint_table(plan)
    head += _unmanaged(plan)
    head += _notes(plan)
    text = "\n".join(head) + "\n"
    for n, g in enumerate(plan.groups, 1):
        section = _group_section(n, g, sql_schema)
        if len(text) + len(section) > _BUDGET:
            rest = len(plan.groups) - n + 1
            text += f"\n_{rest} more group(s) not shown to stay under the comment limit; run `schemadiff plan --format sql` for all._\n"
            break
        text += section
    return text


def _shard_table(shards: Sequence[Shard]) -> list[str]:
    if not shards:
        return []
    rows = ["", "| shard | database | schemas |", "|---|---|---:|"]
    rows += [f"| `{_cell(n)}` | `{_cell(db)}` | {'down' if count is None else count} |" for n, db, count in shards]
    return rows


def _group_section(n: int, g: GroupPlan, sql_schema: Callable[[str], str] = str) -> str:
    ops = "\n".join(
        f"{i}. {op.describe()}" + (f" — {', '.join(op.hazards)}" if op.hazards else "") for i, op in enumerate(g.ops, 1)
    )
    shown = sql_schema(g.schemas[0])
    sql = "\n".join(f"{s};" for s in group_sql(g, shown))
    return (
        f"\n### Group {n}: {len(g.schemas)} schema(s) — {few(g.schemas, 8)}\n\n{ops}\n\n"
        f"<details><summary>SQL (shown for <code>{shown}</code>; one transaction per schema)</summary>\n\n"
        f"```sql\n{sql}\n```\n\n</details>\n"
    )


def _hazard_table(plan: Plan, limit: int = 40) -> list[str]:
    from schemadiff.core.hazards import EXPLAIN
    from schemadiff.core.policy import summarize

    findings = summarize(plan)
    if not findings:
        return []
    rows = ["", "### Hazards", "", "| | hazard | change | where | why it matters |", "|---|---|---|---|---|"]
    for f in findings[:limit]:
        status = f"⛔ refused — `--allow {f.hazard}`" if f.refused else "⚠️ warning"
        rows.append(
            f"| {status} | `{f.hazard}` | {_cell(f.op)} | {_cell(f.where(plan.large_table_rows))} | "
            f"{EXPLAIN[f.hazard]} |"
        )
    if len(findings) > limit:
        rows.append(f"\n_{len(findings) - limit} more hazard line(s) in `schemadiff plan --format json`._")
    return rows


def _notes(plan: Plan) -> list[str]:
    if not plan.notes:
        return []
    return ["", "### Not done", ""] + [f"- {_cell(line)}" for line in plan.notes]


def _unmanaged(plan: Plan, limit: int = 40) -> list[str]:
    if not plan.unmanaged:
        return []
    rows = ["", "### Unmanaged", "", "The spec cannot declare these constraints; they are left as they are.", ""]
    rows += [f"- `{_cell(line.split(' ', 1)[0])}` {_cell(line.split(' ', 1)[1])}" for line in plan.unmanaged[:limit]]
    if len(plan.unmanaged) > limit:
        rows.append(f"\n_{len(plan.unmanaged) - limit} more in `schemadiff plan --format json`._")
    return rows


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _lint_table(plan: Plan, limit: int = 30) -> list[str]:
    silenced = [
        f"- `{rule}` ({count} finding(s)): {_cell(reason)}" for rule, (count, reason) in silenced_rules(plan).items()
    ]
    if silenced:
        silenced = ["", "Silenced by the spec (`lint.ignore`):", "", *silenced]
    if not plan.lint:
        return ["", "### Lint (squawk)", *silenced] if silenced else []
    rows = ["", "### Lint (squawk)", "", "| level | rule | groups | statement | advice |", "|---|---|---|---|---|"]
    for f in plan.lint[:limit]:
        statement = f.statement.splitlines()[0] + (" …" if "\n" in f.statement else "")
        rows.append(
            f"| {f.level} | [`{f.rule}`]({f.link}) | {', '.join(map(str, f.groups))} | "
            f"`{_cell(statement)}` | {_cell(f.message)} {_cell(f.help or '')} |"
        )
    if len(plan.lint) > limit:
        rows.append(f"\n_{len(plan.lint) - limit} more lint finding(s) in `schemadiff plan --format json`._")
    return rows + silenced
