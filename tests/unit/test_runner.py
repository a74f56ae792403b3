"""The runtime's decisions, without a database: which tenants run, skip or stop the run."""

from __future__ import annotations

from schemadiff.core.statements import AFTER, BEFORE, INSIDE, Statement
from schemadiff.runtime.execute import State, classify_downgrade, classify_upgrade
from schemadiff.runtime.job import DONE, UNKNOWN, Direction, GroupSQL, Job, LedgerRow, Loss, Work
from schemadiff.runtime.legacy import AFTER_MARK, classify, inline
from schemadiff.runtime.recorder import Forms

UP = (Statement("ALTER TABLE t ADD COLUMN b int"),)
DOWN = (Statement("ALTER TABLE t DROP COLUMN b"),)
LOSS = (Loss("t", "b"),)


def way(statements: tuple[Statement, ...], deletes: tuple[Loss, ...] = ()) -> Direction:
    return Direction(Forms(statements, statements), deletes)


def job(direction: str) -> Job:
    groups = {"START_A": GroupSQL(way(UP), way(DOWN, LOSS)), "START_B": GroupSQL(way(()), way(()))}
    return Job("rev1", direction, "public", "^user_[0-9]+$", ("t",), "TARGET", None, groups)


def st(fp: str, ledger: tuple[str, str, bool] | None = None, mid: bool = False, assume_from: str = "") -> State:
    return State(fp, mid, LedgerRow(*ledger) if ledger else None, template_from="START_A", assume_from=assume_from)


def test_upgrade_runs_known_states_skips_done_and_stops_on_unknown() -> None:
    j = job("upgrade")
    assert classify_upgrade(j, "user_1", st("START_A")) == Work("user_1", "START_A", UP)
    assert classify_upgrade(j, "user_2", st("TARGET", ("upgrade", "START_A", True))) is DONE
    assert classify_upgrade(j, "user_3", st("TARGET")) == Work("user_3", "TARGET", ())  # ledger: needed nothing
    assert classify_upgrade(j, "user_4", st("OTHER")) is UNKNOWN


def test_upgrade_finishes_the_online_part_of_an_interrupted_tenant() -> None:
    j = job("upgrade")
    started = ("upgrade", "START_A", False)
    assert classify_upgrade(j, "user_1", st("TARGET", started)) == Work("user_1", "START_A", UP, post_only=True)
    assert classify_upgrade(j, "user_1", st("MID", started, mid=True)) == Work("user_1", "START_A", UP, post_only=True)
    assert classify_upgrade(j, "user_1", st("MID", None, mid=True)) is UNKNOWN  # no ledger row: not ours


def test_downgrade_uses_the_ledger_and_treats_new_tenants_like_the_template() -> None:
    j = job("downgrade")
    assert classify_downgrade(j, "user_1", st("TARGET", ("upgrade", "START_B", True))) == Work("user_1", "START_B", ())
    assert classify_downgrade(j, "public", st("TARGET", ("upgrade", "START_A", True))) == Work(
        "public", "START_A", DOWN, deletes=LOSS
    )
    assert classify_downgrade(j, "public", st("MID", ("upgrade", "START_A", False), mid=True)) == Work(
        "public", "START_A", DOWN, deletes=LOSS
    )
    assert classify_downgrade(j, "user_2", st("START_A", ("downgrade", "START_A", True))) is DONE  # already done
    assert classify_downgrade(j, "user_2", st("TARGET", ("downgrade", "START_A", True))) is UNKNOWN  # disagree
    assert classify_downgrade(j, "user_9", st("TARGET")) == Work("user_9", "START_A", DOWN, deletes=LOSS)
    assert classify_downgrade(j, "user_8", st("START_B")) is DONE  # never upgraded
    assert classify_downgrade(j, "user_7", st("OTHER")) is UNKNOWN


def test_a_lost_ledger_row_is_recovered_only_by_naming_the_start() -> None:
    j = job("downgrade")
    lost = State("TARGET", False, None, template_from="")
    assert classify_downgrade(j, "user_3", lost) is UNKNOWN
    assert classify_downgrade(j, "user_3", State("TARGET", False, None, "", assume_from="START_B")) == Work(
        "user_3", "START_B", ()
    )


def test_format_1_statements_get_their_phase_from_that_version_s_rules() -> None:
    assert classify("DROP INDEX CONCURRENTLY IF EXISTS s.old_ix") == Statement(
        "DROP INDEX CONCURRENTLY IF EXISTS s.old_ix", BEFORE, index="old_ix"
    )
    assert classify("ALTER TABLE s.t ADD COLUMN b int") == Statement("ALTER TABLE s.t ADD COLUMN b int", INSIDE)
    assert classify('CREATE INDEX CONCURRENTLY "Ix" ON s.t (b)') == Statement(
        'CREATE INDEX CONCURRENTLY "Ix" ON s.t (b)', AFTER, index="Ix"
    )
    assert classify("ALTER TABLE s.t VALIDATE CONSTRAINT ck") == Statement(
        "ALTER TABLE s.t VALIDATE CONSTRAINT ck", AFTER, validates="ck"
    )
    assert classify(f"{AFTER_MARK}ALTER TABLE s.t ALTER COLUMN b SET NOT NULL") == Statement(
        "ALTER TABLE s.t ALTER COLUMN b SET NOT NULL", AFTER, not_null=("t", "b")
    )
    assert inline('CREATE INDEX CONCURRENTLY "Ix" ON s.t (b)') == Statement('CREATE INDEX "Ix" ON s.t (b)')
