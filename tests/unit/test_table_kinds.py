"""Issue 10: UNLOGGED and partitioned tables without a database — the spec (pglast-checked fragments,
located errors), the model and its fingerprint, the ops (SQL, hazards, reverse), the diff, what is
refused, the online forms left out, and the revision's rendering (the round trips on PostgreSQL are
tests/integration/test_table_kinds.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from schemadiff.core.diff import diff_schema, reverse_ops
from schemadiff.core.fingerprint import Group, fingerprint
from schemadiff.core.model import (
    Column,
    Constraint,
    Index,
    Partition,
    SchemaModel,
    Table,
    model_from_dict,
    model_to_dict,
    relation_names,
)
from schemadiff.core.online import make_online
from schemadiff.core.ops import CreateIndex, CreateTable, DropIndex
from schemadiff.core.plan import build_plan
from schemadiff.core.table_kinds import CreatePartition, DropPartition, SetLogged, kind_problems
from schemadiff.errors import SchemadiffError
from schemadiff.render.revision_file import losses
from schemadiff.spec.schema import parse_spec
from schemadiff.spec.to_model import spec_model

from .test_revision_render import recorded
from .test_spec import GOOD_HEAD, problems

SPEC = (
    GOOD_HEAD
    + """  events:
    partition_by: RANGE (created_at)
    partitions:
      events_2026: "FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')"
      events_other: DEFAULT
    columns:
      id: {type: bigint}
      created_at: {type: date}
    indexes:
      idx_events_id: {columns: [id]}
  scratch:
    unlogged: true
    columns:
      id: {type: integer}
"""
)
Y2026 = Partition("events_2026", "FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')")
OTHER = Partition("events_other", "DEFAULT")
COLUMNS = (Column("id", "bigint"), Column("created_at", "date"))
IDX = Index("idx_events_id", False, "USING btree (id)")
EVENTS = Table("events", COLUMNS, (IDX,), partition_by="RANGE (created_at)", partitions=(Y2026, OTHER))
SCRATCH = Table("scratch", (Column("id", "integer"),), unlogged=True)


def test_the_spec_declares_unlogged_and_partitioned_tables() -> None:
    model = spec_model(parse_spec(SPEC))
    events, scratch = model.table("events"), model.table("scratch")
    assert events is not None and scratch is not None
    assert (events.partition_by, events.partitions) == ("RANGE (created_at)", (Y2026, OTHER))
    assert scratch.unlogged and not events.unlogged
    assert relation_names(model) == ["events", "scratch", "events_2026", "events_other"]


@pytest.mark.parametrize(
    "old,new,message",
    [
        (
            "RANGE (created_at)",
            "RANGE (created_at); DROP TABLE x",
            "schema.yaml:7:19: tables.events.partition_by: must be one SQL partition key (found 2 statements)",
        ),
        (
            "RANGE (created_at)",
            "RANGE (created_at) TABLESPACE fast",
            "schema.yaml:7:19: tables.events.partition_by: must be one SQL partition key "
            "(found a clause around the partition key)",
        ),
        (
            "RANGE (created_at)",
            "SPREAD (created_at)",
            "schema.yaml:7:19: tables.events.partition_by: must be one SQL partition key "
            '(found a syntax error: unrecognized partitioning strategy "spread")',
        ),
        (
            "events_other: DEFAULT",
            "events_other: DEFAULT PARTITION BY LIST (id)",
            "schema.yaml:10:21: tables.events.partitions.events_other: must be one SQL partition bound "
            "(found a clause around the partition bound)",
        ),
        (
            "events_other: DEFAULT",
            'events_other: "FOR VALUES IN ((SELECT 1))"',
            "schema.yaml:10:21: tables.events.partitions.events_other: must be one SQL partition bound "
            "(found a subquery)",
        ),
    ],
    ids=["two statements", "a clause", "no strategy", "a key of its own", "a subquery"],
)
def test_partition_fragments_are_parsed_and_located(old: str, new: str, message: str) -> None:
    assert problems(SPEC.replace(old, new)) == [message]


def test_what_postgresql_would_refuse_is_a_located_error() -> None:
    text = (
        SPEC.replace(
            "    partition_by: RANGE (created_at)\n", "    partition_by: RANGE (created_at)\n    unlogged: true\n"
        )
        .replace("columns: [id]}", "columns: [id], concurrently: true}")
        .replace("  scratch:\n    unlogged: true\n", "  scratch:\n    partitions: {pg_scratch_1: DEFAULT}\n")
    )
    assert problems(text) == [
        "schema.yaml:8:15: tables.events.unlogged: a partitioned table cannot be UNLOGGED (PostgreSQL 18 refuses "
        "it: its partitions hold the rows)",
        "schema.yaml:16:52: tables.events.indexes.idx_events_id.concurrently: an index of a partitioned table "
        "cannot be built CONCURRENTLY (PostgreSQL refuses it); remove concurrently",
        "schema.yaml:18:17: tables.scratch.partitions: partitions need partition_by (the key their bounds divide)",
        "schema.yaml:18:18: tables.scratch.partitions.pg_scratch_1: partition name 'pg_scratch_1' starts with pg_, "
        "which PostgreSQL keeps for system objects (pg_catalog is searched first); rename it",
    ]


def test_a_partition_shares_the_relation_namespace_and_a_dropped_table_takes_none() -> None:
    assert problems(SPEC.replace("events_other: DEFAULT", "scratch: DEFAULT")) == [
        "schema.yaml:17:5: tables.scratch: name 'scratch' is used twice in one schema"
    ]
    dropped = SPEC.replace("  scratch:\n    unlogged: true\n", "  scratch:\n    drop: true\n    unlogged: true\n")
    assert any("a table with drop: true takes no other key" in p for p in problems(dropped))


def test_plain_tables_keep_their_fingerprints_and_revision_data() -> None:
    plain = SchemaModel((Table("t", (Column("a", "integer"),)),))
    assert fingerprint(plain) == "c6741db5918595d1"  # as before these fields existed
    assert "unlogged" not in model_to_dict(plain)[0] and "partitions" not in model_to_dict(plain)[0]
    kinds = SchemaModel((EVENTS, SCRATCH))
    assert model_from_dict(model_to_dict(kinds)) == kinds
    assert len({fingerprint(SchemaModel((t,))) for t in (SCRATCH, replace(SCRATCH, unlogged=False))}) == 2
    assert fingerprint(SchemaModel((replace(EVENTS, partitions=(OTHER, Y2026)),))) == fingerprint(
        SchemaModel((EVENTS,))
    )  # partitions by name, whatever their order


def test_create_table_writes_the_kind_and_the_partitions() -> None:
    assert CreateTable("events", EVENTS).sql("user_1") == [
        "CREATE TABLE user_1.events (\n    id bigint,\n    created_at date\n) PARTITION BY RANGE (created_at)",
        "CREATE INDEX idx_events_id ON user_1.events USING btree (id)",
        "CREATE TABLE user_1.events_2026 PARTITION OF user_1.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
        "CREATE TABLE user_1.events_other PARTITION OF user_1.events DEFAULT",
    ]
    assert CreateTable("scratch", SCRATCH).sql(None) == ["CREATE UNLOGGED TABLE scratch (\n    id integer\n)"]


def test_set_logged_and_unlogged_rewrite_and_reverse() -> None:
    off = SetLogged("scratch", True)
    assert off.sql("user_1") == ["ALTER TABLE user_1.scratch SET UNLOGGED"]
    assert off.hazards == ("access_exclusive", "not_crash_safe", "rewrites_table")
    assert off.reverse() == SetLogged("scratch", False) and off.reverse().reverse() == off
    assert off.reverse().hazards == ("access_exclusive", "rewrites_table")
    assert off.reverse().describe() == "set table scratch LOGGED (rewritten into the WAL)"


def test_partition_ops_reverse_and_carry_their_hazards() -> None:
    create = CreatePartition("events", Y2026)
    assert create.sql(None) == [
        "CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')"
    ]
    assert create.hazards == ("fails_on_existing_rows",)  # a DEFAULT partition's rows that belong to it
    assert CreatePartition("events", OTHER).hazards == ()
    assert create.reverse() == DropPartition("events", Y2026) and create.reverse().reverse() == create
    assert create.reverse().hazards == ("deletes_data", "irreversible")
    assert create.reverse().sql("u") == ["DROP TABLE u.events_2026"]
    assert losses((create.reverse(),)) == ["runtime.Loss('events_2026')"]


def test_the_diff_sets_the_kind_and_creates_missing_partitions_only() -> None:
    target = SchemaModel((EVENTS, SCRATCH))
    extra = Partition("events_2025", "FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')")
    live = SchemaModel((replace(EVENTS, partitions=(OTHER,)), replace(SCRATCH, unlogged=False)))
    ops = diff_schema(live, target)
    assert ops == [CreatePartition("events", Y2026), SetLogged("scratch", True)]
    assert reverse_ops(ops) == [SetLogged("scratch", False), DropPartition("events", Y2026)]
    assert diff_schema(SchemaModel((EVENTS, SCRATCH)), target) == []
    # a partition the spec does not name is never read; were it in the model, it would still be left alone
    assert diff_schema(SchemaModel((replace(EVENTS, partitions=(extra, Y2026, OTHER)), SCRATCH)), target) == []
    assert (
        diff_schema(SchemaModel((replace(SCRATCH, unlogged=False),)), SchemaModel((replace(SCRATCH, unlogged=False),)))
        == []
    )


def test_a_changed_index_of_a_partitioned_table_is_dropped_and_created_not_swapped() -> None:
    live = replace(EVENTS, indexes=(Index("idx_events_id", False, "USING btree (id DESC)"),))
    ops = diff_schema(SchemaModel((live,)), SchemaModel((EVENTS,)))
    assert ops == [DropIndex("events", live.indexes[0]), CreateIndex("events", IDX)]


def test_what_postgresql_cannot_change_in_place_is_refused_per_group() -> None:
    plain = replace(EVENTS, partition_by=None, partitions=())
    assert kind_problems(SchemaModel((plain,)), SchemaModel((EVENTS,)))[0][0] == (
        "events is not partitioned, the spec says PARTITION BY RANGE (created_at)"
    )
    other_bound = replace(
        EVENTS, partitions=(replace(Y2026, bound="FOR VALUES FROM ('2026-01-01') TO ('2026-02-01')"),)
    )
    assert kind_problems(SchemaModel((other_bound,)), SchemaModel((EVENTS,)))[0][0].startswith(
        "partition events_2026 of events is FOR VALUES FROM ('2026-01-01') TO ('2026-02-01'), the spec says"
    )
    with pytest.raises(SchemadiffError, match="partition key"):
        diff_schema(SchemaModel((plain,)), SchemaModel((EVENTS,)))
    groups = [
        Group("a", ("user_1", "user_3"), SchemaModel((plain,))),
        Group("b", ("user_2",), SchemaModel((EVENTS,))),
    ]
    with pytest.raises(SchemadiffError) as info:
        build_plan(groups, SchemaModel((EVENTS,)), template="public", pattern="^user_[0-9]+$")
    assert str(info.value).startswith(
        "plan refused: events is not partitioned, the spec says PARTITION BY RANGE (created_at) "
        "(in 2 schema(s): user_1, user_3). PostgreSQL cannot change a table's partition key in place"
    )


def test_a_partition_the_spec_declares_a_table_is_refused() -> None:
    live = SchemaModel((EVENTS,))
    target = SchemaModel((replace(EVENTS, partitions=(OTHER,)), Table("events_2026", COLUMNS)))
    assert kind_problems(live, target) == [
        (
            "events_2026 is a partition of events, the spec declares it a table",
            "a partition belongs to one table: detach it by hand, or name it where it belongs",
        )
    ]


def test_no_online_forms_on_a_partitioned_table() -> None:
    ops = [CreateIndex("events", IDX), DropIndex("events", IDX), CreateIndex("scratch", IDX)]
    online = make_online(ops, {"events", "scratch"}, {"idx_events_id"}, {"events"})
    assert online == [*ops[:2], replace(ops[2], online=True)]
    check = Constraint("ck", "c", "CHECK ((id > 0))")
    from schemadiff.core.constraint_ops import AddConstraint

    assert make_online([AddConstraint("events", check)], {"events"}, set(), {"events"}) == [
        AddConstraint("events", check)
    ]
    plan = build_plan(
        [Group("a", ("user_1",), SchemaModel((replace(EVENTS, indexes=()),)))],
        SchemaModel((EVENTS,)),
        template="public",
        pattern="^user_[0-9]+$",
        large_table_rows=0,
    )
    assert plan.groups[0].ops == (CreateIndex("events", IDX),)
    assert plan.tables == ("events", "events_2026", "events_other")  # what the runtime reads


def test_the_revision_renders_the_new_ops() -> None:
    assert recorded(SetLogged("scratch", True)) == ("ALTER TABLE scratch SET UNLOGGED",)
    assert recorded(CreatePartition("events", OTHER)) == ("CREATE TABLE events_other PARTITION OF events DEFAULT",)
    assert recorded(DropPartition("events", OTHER)) == ("DROP TABLE events_other",)
    assert recorded(CreateTable("scratch", SCRATCH)) == ("CREATE UNLOGGED TABLE scratch (\n    id integer\n)",)
