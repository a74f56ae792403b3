"""Every row of hazards.TYPE_CHANGES measured on a real PostgreSQL: the hazards AlterColumn reports,
whether the table was really rewritten (its filenode changes), and whether every value survived."""

from __future__ import annotations

import pytest

from schemadiff.core.alter_column import AlterColumn
from schemadiff.core.hazards import TYPE_CHANGES, TypeChange, type_change
from schemadiff.core.model import Column
from schemadiff.pg import connection

from .helpers import execute, query

# (old type, new type, values written before the change); format_type spellings
EXAMPLES = [
    ("character varying(20)", "character varying(50)", ["abc", "x" * 20]),
    ("character varying(20)", "character varying", ["abc", "x" * 20]),
    ("character varying(20)", "text", ["abc", "x" * 20]),
    ("character varying", "text", ["abc", "y" * 300]),
    ("text", "character varying", ["abc", "z" * 300]),
    ("numeric(10,2)", "numeric(12,2)", ["12345678.91", "-0.05"]),
    ("numeric(10,2)", "numeric(12,3)", ["12345678.91", "-0.05"]),
    ("numeric(10,2)", "numeric", ["12345678.91", "-0.05"]),
    ("smallint", "integer", ["32767", "-32768"]),
    ("smallint", "bigint", ["32767", "-32768"]),
    ("integer", "bigint", ["2147483647", "-2147483648"]),
    ("timestamp without time zone", "timestamp with time zone", ["2026-03-29 02:30:00", "2026-11-28 12:00:00"]),
]


def test_every_rule_has_an_example() -> None:
    covered = {id(type_change(old, new)) for old, new, _values in EXAMPLES}
    assert covered >= {id(rule) for rule in TYPE_CHANGES}


def filenode(url: str) -> int:
    return int(query(url, "SELECT pg_relation_filenode('public.t')")[0][0])


@pytest.mark.parametrize("old,new,values", EXAMPLES, ids=lambda x: x if isinstance(x, str) else "")
def test_type_change_rule_matches_postgresql(fresh_db: str, old: str, new: str, values: list[str]) -> None:
    rule = type_change(old, new)
    assert isinstance(rule, TypeChange)
    op = AlterColumn("t", Column("v", old), Column("v", new))
    assert ("deletes_data" in op.hazards) is rule.loses_data
    assert ("rewrites_table" in op.hazards) is rule.rewrites
    execute(fresh_db, f"CREATE TABLE public.t (id integer PRIMARY KEY, v {old})")
    with connection.connect(fresh_db) as conn:
        for n, value in enumerate(values):
            conn.execute("INSERT INTO public.t VALUES (%s, %s::text::" + old + ")", (n, value))
        conn.commit()
    before_node, before = filenode(fresh_db), query(fresh_db, "SELECT id, v::text FROM public.t ORDER BY id")
    with connection.connect(fresh_db) as conn:
        conn.execute("SET TimeZone = 'Europe/Paris'")  # a session that is not UTC, as tenants' may be
        for statement in op.sql("public"):
            conn.execute(statement)
        conn.commit()
    rewritten = filenode(fresh_db) != before_node
    if rule.safe_side:
        assert rule.rewrites  # may or may not rewrite by version or setting: the table says it does
    else:
        assert rewritten is rule.rewrites, f"{old} → {new}: rewritten={rewritten}"
    after = query(fresh_db, f"SELECT id, v::{old}::text FROM public.t ORDER BY id")  # each value, read back as before
    if not rule.loses_data:
        assert after == before
    else:
        assert after != before  # timestamp → timestamptz in a non-UTC session: the values move


def test_a_change_outside_the_table_rewrites_and_is_guarded_or_loses_data() -> None:
    """Narrowing within the text and number families is guarded: values that do not fit fail the
    tenant (fails_on_existing_rows), they are never cut; other unknown changes delete data."""
    op = AlterColumn("t", Column("v", "character varying(50)"), Column("v", "character varying(20)"))
    assert op.hazards == ("access_exclusive", "fails_on_existing_rows", "rewrites_table")
    assert (
        AlterColumn("t", Column("v", "numeric(10,2)"), Column("v", "numeric(12,1)")).hazards[1]
        == "fails_on_existing_rows"
    )
    assert "deletes_data" in AlterColumn("t", Column("v", "jsonb"), Column("v", "json")).hazards
