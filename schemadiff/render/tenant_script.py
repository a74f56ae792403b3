"""Helpers shared by the plan renderers. Pure."""

from __future__ import annotations

from schemadiff.core.plan import GroupPlan
from schemadiff.core.sqltext import quote_ident, quote_literal
from schemadiff.core.statements import Statement, by_phase


def group_statements(group: GroupPlan, schema: str) -> list[Statement]:
    """The upgrade statements of a group, for one of its schemas, with their phases."""
    return [statement for op in group.ops for statement in op.statements(schema)]


def group_sql(group: GroupPlan, schema: str) -> list[str]:
    return [s.sql for s in group_statements(group, schema)]


def script_line(statement: Statement) -> str:
    """A statement as a line of a psql script; a guard becomes a block that raises when it counts rows."""
    if not statement.guard:
        return f"{statement.sql};"
    tag = "$sd$"
    while tag in statement.sql or tag in statement.guard:
        tag = tag[:-1] + "x$"
    message = quote_literal("% " + statement.guard.replace("%", "%%"))  # RAISE reads % as a placeholder
    return (
        f"DO {tag} DECLARE n bigint; BEGIN {statement.sql} INTO n; "
        f"IF n > 0 THEN RAISE EXCEPTION {message}, n; END IF; END {tag};"
    )


def tenant_transaction(group: GroupPlan, schema: str) -> str:
    """One tenant's upgrade as the runtime runs it (see ``tenant_script``)."""
    return tenant_script(group_statements(group, schema), schema)


def tenant_script(statements: list[Statement] | tuple[Statement, ...], schema: str) -> str:
    """A tenant's statements as the runtime runs them: those before its transaction, the
    transaction (search_path pinned), those after its commit."""
    before, inside, after = by_phase(statements)
    path = f"SET search_path = {quote_ident(schema)};"
    out = [path] + [script_line(s) for s in before] if before else []
    out += ["BEGIN;", f"SET LOCAL search_path = {quote_ident(schema)};"] + [script_line(s) for s in inside]
    out.append("COMMIT;")
    if after:
        out += [path] + [script_line(s) for s in after]
    if before or after:
        out.append("RESET search_path;")
    return "\n".join(out)
