"""Fingerprints, grouping, the plan, policy and the renderers (golden files), without a database.

Regenerate the golden files with ``SCHEMADIFF_REGENERATE_GOLDEN=1 pytest tests/unit``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from schemadiff.core.fingerprint import fingerprint, group_schemas
from schemadiff.core.model import (
    Column,
    Constraint,
    Index,
    SchemaModel,
    Table,
    TableStats,
)
from schemadiff.core.plan import Plan, build_plan, unmanaged_report
from schemadiff.core.policy import assess, check_policy
from schemadiff.errors import PolicyRefused
from schemadiff.render.json_report import plan_dict, render_json
from schemadiff.render.markdown_report import COMMENT_LIMIT, render_markdown
from schemadiff.render.sql_script import render_sql
from schemadiff.render.text_report import render_text

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
ID = Column("id", "bigint", nullable=False, identity="d")
JOB = Column("job_id", "integer", nullable=False)
ORDER = Column("step_order", "integer", nullable=False, default="1")
PKEY = Constraint("marketplace_tasks_pkey", "p", "PRIMARY KEY (id)")
IDX = Index("idx_marketplace_tasks_job_order", False, "USING btree (job_id, step_order)")

PREVIOUS = SchemaModel((Table("marketplace_tasks", (ID, JOB), (), (PKEY,)),))
HAND_FIXED = SchemaModel((Table("marketplace_tasks", (ID, JOB, ORDER), (), (PKEY,)),))
TARGET = SchemaModel((Table("marketplace_tasks", (ID, JOB, ORDER), (IDX,), (PKEY,)),))


def demo_plan(tenants: int = 24) -> Plan:
    models = {"public": PREVIOUS}
    models.update({f"user_{i}": PREVIOUS for i in range(1, tenants + 1)})
    models["user_7"] = HAND_FIXED
    groups = group_schemas(models, first="public")
    return build_plan(
        groups, TARGET, template="public", pattern="^user_[0-9]+$", spec_path="schema.yaml", spec_sha256="0" * 64
    )


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("SCHEMADIFF_REGENERATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


def test_fingerprint_is_stable_and_ignores_column_order() -> None:
    swapped = SchemaModel((Table("marketplace_tasks", (JOB, ID), (), (PKEY,)),))
    assert fingerprint(PREVIOUS) == fingerprint(swapped)
    assert fingerprint(PREVIOUS) != fingerprint(HAND_FIXED)
    rebuilt = SchemaModel((Table("marketplace_tasks", (Column("id", "bigint", False, None, "d"), JOB), (), (PKEY,)),))
    assert fingerprint(rebuilt) == fingerprint(PREVIOUS)
    assert len(fingerprint(PREVIOUS)) == 16


def test_a_foreign_sequence_default_is_its_own_state() -> None:
    foreign = Column("id", "bigint", False, "nextval('public.marketplace_tasks_id_seq'::regclass)")
    cloned = SchemaModel((Table("marketplace_tasks", (foreign, JOB), (), (PKEY,)),))
    groups = group_schemas({"public": PREVIOUS, "user_1": PREVIOUS, "user_2": cloned}, first="public")
    assert [g.schemas for g in groups] == [("public", "user_1"), ("user_2",)]


def test_groups_are_ordered_template_first_then_naturally() -> None:
    models = {"user_10": HAND_FIXED, "user_2": PREVIOUS, "public": PREVIOUS, "user_1": HAND_FIXED}
    groups = group_schemas(models, first="public")
    assert [g.schemas for g in groups] == [("public", "user_2"), ("user_1", "user_10")]


def test_the_demo_plan_has_exactly_two_groups() -> None:
    plan = demo_plan()
    assert [len(g.schemas) for g in plan.groups] == [24, 1]
    assert plan.groups[1].schemas == ("user_7",)
    assert plan.tenant_count == 25 and plan.changes
    assert [op.kind for op in plan.groups[1].ops] == ["create_index"]


def test_plan_with_everything_at_target_has_no_changes() -> None:
    plan = build_plan(group_schemas({"public": TARGET}), TARGET, template="public", pattern="x")
    assert not plan.changes and plan.unchanged == ("public",)


def test_policy_refuses_deletes_data_and_names_the_flag() -> None:
    drift = SchemaModel((Table("marketplace_tasks", (ID, JOB, ORDER, Column("note", "text")), (IDX,), (PKEY,)),))
    plan = build_plan(group_schemas({"public": drift}), TARGET, template="public", pattern="x")
    with pytest.raises(PolicyRefused) as info:
        check_policy(plan, set())
    assert str(info.value) == (
        "plan refused: marketplace_tasks.note (deletes_data) on 1 schema(s): public; "
        "re-run with --allow deletes_data if that is intended"
    )
    findings = check_policy(plan, {"deletes_data"})
    assert [(f.hazard, f.refused) for f in findings] == [("deletes_data", False), ("irreversible", False)]


def test_lock_hazards_are_refused_only_where_tables_are_large() -> None:
    models = {"public": PREVIOUS, "user_1": PREVIOUS, "user_2": PREVIOUS, "user_12": PREVIOUS}
    stats = {
        ("user_12", "marketplace_tasks"): TableStats(rows=2_000_000),
        ("user_1", "marketplace_tasks"): TableStats(10),
    }
    uuid = Column("token", "uuid", False, "gen_random_uuid()")
    target = SchemaModel((Table("marketplace_tasks", (ID, JOB, ORDER, uuid), (IDX,), (PKEY,)),))
    plan = build_plan(
        group_schemas(models, first="public"),
        target,
        template="public",
        pattern="x",
        stats=stats,
        large_table_rows=1_000_000,
    )
    rewriting = [f for f in assess(plan, set()) if f.hazard == "rewrites_table"]
    assert [(f.name, f.schemas, f.large, f.refused) for f in rewriting] == [("token", ("user_12",), True, True)]
    assert rewriting[0].where(plan.large_table_rows) == (
        "1 schema(s) whose marketplace_tasks holds at least 1,000,000 rows: user_12"
    )
    with pytest.raises(PolicyRefused, match="re-run with --allow rewrites_table,access_exclusive if"):
        check_policy(plan, set())
    check_policy(plan, {"rewrites_table", "access_exclusive"})
    small = build_plan(
        group_schemas(models, first="public"),
        target,
        template="public",
        pattern="x",
        stats=stats,
        large_table_rows=5_000_000,
    )
    assert not any(f.refused for f in assess(small, set()))


def test_indexes_on_large_tables_are_built_concurrently() -> None:
    stats = {("user_12", "marketplace_tasks"): TableStats(rows=2_000_000)}
    plan = build_plan(
        group_schemas({"user_1": PREVIOUS, "user_12": PREVIOUS}),
        TARGET,
        template="public",
        pattern="x",
        stats=stats,
        large_table_rows=1_000_000,
    )
    [create] = [op for op in plan.groups[0].ops if op.kind == "create_index"]
    assert create.sql("user_12") == [
        "CREATE INDEX CONCURRENTLY idx_marketplace_tasks_job_order ON user_12.marketplace_tasks USING btree (job_id, step_order)"
    ]
    assert "blocks_writes" not in create.hazards
    assert create.reverse().sql("user_12") == [
        "DROP INDEX CONCURRENTLY IF EXISTS user_12.idx_marketplace_tasks_job_order"
    ]
    plain = build_plan(
        group_schemas({"user_1": PREVIOUS}),
        TARGET,
        template="public",
        pattern="x",
        concurrent_indexes=frozenset({"idx_marketplace_tasks_job_order"}),
    )
    assert "CONCURRENTLY" in plain.groups[0].ops[-1].sql("user_1")[0]


def test_json_has_the_documented_shape() -> None:
    data = plan_dict(demo_plan())
    assert data["changes"] is True and data["tenant_count"] == 25
    assert data["target_fingerprint"] == fingerprint(TARGET)
    group = data["groups"][1]
    assert group["schemas"] == ["user_7"]
    assert group["ops"] == [
        {
            "kind": "create_index",
            "table": "marketplace_tasks",
            "name": "idx_marketplace_tasks_job_order",
            "description": "create index idx_marketplace_tasks_job_order on marketplace_tasks USING btree (job_id, step_order)",
            "sql": "CREATE INDEX idx_marketplace_tasks_job_order ON user_7.marketplace_tasks USING btree (job_id, step_order);",
            "sql_schema": "user_7",
            "hazards": ["blocks_writes"],
        }
    ]


@pytest.mark.parametrize(
    "name,render",
    [
        ("plan.txt", lambda p: render_text(p, "postgresql://app:***@db/prod")),
        ("plan.sql", render_sql),
        ("plan.json", render_json),
        ("plan.md", render_markdown),
    ],
)
def test_renderers_match_golden_files(name: str, render: object) -> None:
    assert callable(render)
    golden(name, render(demo_plan(3)))


def test_json_golden_parses() -> None:
    assert json.loads((GOLDEN / "plan.json").read_text())["groups"][0]["schemas"][0] == "public"


def test_markdown_stays_under_the_comment_limit_with_ten_thousand_tenants() -> None:
    models = {
        f"user_{i}": SchemaModel((Table("marketplace_tasks", (ID, JOB, Column(f"c{i % 400}", "text")), (), (PKEY,)),))
        for i in range(10_000)
    }
    plan = build_plan(group_schemas(models), TARGET, template="public", pattern="x")
    assert len(plan.groups) == 400
    text = render_markdown(plan)
    assert len(text) < COMMENT_LIMIT
    assert "more group(s) not shown" in text


def test_dropping_an_index_warns_even_on_large_tables() -> None:
    stats = {("user_12", "marketplace_tasks"): TableStats(rows=2_000_000)}
    indexed = SchemaModel((Table("marketplace_tasks", (ID, JOB, ORDER), (IDX,), (PKEY,)),))
    plan = build_plan(
        group_schemas({"user_12": indexed}),
        HAND_FIXED,
        template="public",
        pattern="x",
        stats=stats,
        large_table_rows=1_000_000,
    )
    [finding] = check_policy(plan, set())
    assert (finding.hazard, finding.refused) == ("drops_index", False)
    assert "warning: drops_index — drop index idx_marketplace_tasks_job_order" in render_text(plan)
    assert "queries that use the index become slower" in render_text(plan)


def test_unmanaged_constraints_are_listed_in_every_report(monkeypatch: pytest.MonkeyPatch) -> None:
    # no kind is unmanaged since issue 10 made foreign keys, then exclusions, declarable: the machinery
    # is kept for a kind the spec cannot declare, here exclusions as they were
    monkeypatch.setattr("schemadiff.core.model.UNMANAGED_KINDS", ("x",))
    fk = Constraint("fk_job", "x", "EXCLUDE USING btree (job_id WITH =)")
    with_fk = SchemaModel((Table("marketplace_tasks", (ID, JOB), (), (PKEY, fk)),))
    models = {"public": PREVIOUS, "user_1": with_fk, "user_2": PREVIOUS, "user_3": with_fk}
    plan = build_plan(
        group_schemas(models, first="public"),
        TARGET,
        template="public",
        pattern="x",
        unmanaged=unmanaged_report(models, TARGET),
    )
    line = "marketplace_tasks.fk_job (exclusion) in 2 schema(s): user_1, user_3"
    assert plan.unmanaged == (line,)
    assert all("drop constraint" not in op.describe() for g in plan.groups for op in g.ops)
    assert f"Unmanaged (the spec cannot declare these constraints; left as they are):\n  {line}\n" in render_text(plan)
    assert "- `marketplace_tasks.fk_job` (exclusion) in 2 schema(s): user_1, user_3" in render_markdown(plan)
    assert plan_dict(plan)["unmanaged"] == [line]
    done = build_plan(
        group_schemas({"user_1": with_fk}),
        TARGET,
        template="public",
        pattern="x",
        unmanaged=unmanaged_report({"user_1": with_fk}, TARGET),
    )
    assert "Unmanaged" in render_text(done) and "Unmanaged" in render_markdown(done)


def test_unmanaged_constraints_do_not_change_the_state(monkeypatch: pytest.MonkeyPatch) -> None:
    # no kind is unmanaged since issue 10 made foreign keys, then exclusions, declarable: the machinery
    # is kept for a kind the spec cannot declare, here exclusions as they were
    monkeypatch.setattr("schemadiff.core.model.UNMANAGED_KINDS", ("x",))
    fk = Constraint("fk_job", "x", "EXCLUDE USING btree (job_id WITH =)")
    with_fk = SchemaModel((Table("marketplace_tasks", (ID, JOB), (), (PKEY, fk)),))
    assert fingerprint(with_fk) == fingerprint(PREVIOUS)  # after an upgrade it is at the target's state
    [group] = group_schemas({"user_1": with_fk, "user_2": PREVIOUS})
    assert group.schemas == ("user_1", "user_2") and group.model == PREVIOUS  # rebuilt without it by validation
