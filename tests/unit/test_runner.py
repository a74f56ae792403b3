"""The runtime's decisions, without a database: which tenants run, skip or stop the run."""

from __future__ import annotations

from schemadiff.runner import Job, Options, State, Work, classify_downgrade, classify_upgrade
from schemadiff.tenant import tenant_script

UP, DOWN = ("ALTER TABLE sdtenant__placeholder.t ADD COLUMN b int",), ("ALTER TABLE sdtenant__placeholder.t DROP COLUMN b",)


def job(direction: str) -> Job:
    return Job("rev1", direction, "public", "^user_[0-9]+$", ("t",), "TARGET", None,
               {"START_A": (UP, DOWN), "START_B": ((), ())})


def st(fp: str, ledger: tuple[str, str, bool] | None = None, mid: bool = False) -> State:
    return State(fp, mid, ledger, template_from="START_A")


def test_upgrade_runs_known_states_skips_done_and_stops_on_unknown() -> None:
    j = job("upgrade")
    assert classify_upgrade(j, "user_1", st("START_A")) == Work("user_1", "START_A", UP)
    assert classify_upgrade(j, "user_2", st("TARGET", ("upgrade", "START_A", True))) == "skip"
    assert classify_upgrade(j, "user_3", st("TARGET")) == Work("user_3", "TARGET", ())  # ledger: needed nothing
    assert classify_upgrade(j, "user_4", st("OTHER")) is None


def test_upgrade_finishes_the_online_part_of_an_interrupted_tenant() -> None:
    j = job("upgrade")
    started = ("upgrade", "START_A", False)
    assert classify_upgrade(j, "user_1", st("TARGET", started)) == Work("user_1", "START_A", UP, post_only=True)
    assert classify_upgrade(j, "user_1", st("MID", started, mid=True)) == Work("user_1", "START_A", UP, post_only=True)
    assert classify_upgrade(j, "user_1", st("MID", None, mid=True)) is None  # no ledger row: not ours


def test_downgrade_uses_the_ledger_and_treats_new_tenants_like_the_template() -> None:
    j = job("downgrade")
    assert classify_downgrade(j, "user_1", st("TARGET", ("upgrade", "START_B", True))) == Work("user_1", "START_B", ())
    assert classify_downgrade(j, "public", st("TARGET", ("upgrade", "START_A", True))) == Work("public", "START_A", DOWN)
    assert classify_downgrade(j, "public", st("MID", ("upgrade", "START_A", False), mid=True)) == Work("public", "START_A", DOWN)
    assert classify_downgrade(j, "user_2", st("START_A", ("downgrade", "START_A", True))) == "skip"  # already done
    assert classify_downgrade(j, "user_2", st("TARGET", ("downgrade", "START_A", True))) is None  # disagree
    assert classify_downgrade(j, "user_9", st("TARGET")) == Work("user_9", "START_A", DOWN)
    assert classify_downgrade(j, "user_8", st("START_B")) == "skip"  # never upgraded
    assert classify_downgrade(j, "user_7", st("OTHER")) is None


def test_tenant_script_pins_timeouts_search_path_and_ledger_in_one_transaction() -> None:
    script = tenant_script(job("upgrade"), Work("User_9", "START_A", UP), Options(lock_timeout="3s"), UP, True)
    assert script.split("\n;\n") == [
        "SET LOCAL lock_timeout = '3s'",
        "SET LOCAL statement_timeout = '0'",
        "SET LOCAL synchronous_commit = 'off'",
        'SET LOCAL search_path = "User_9"',
        'ALTER TABLE "User_9".t ADD COLUMN b int',
        "INSERT INTO public.schemadiff_ledger (revision, schema_name, direction, from_fingerprint, to_fingerprint, "
        "complete) VALUES ('rev1', 'User_9', 'upgrade', 'START_A', 'TARGET', true) ON CONFLICT (revision, "
        "schema_name) DO UPDATE SET direction = excluded.direction, from_fingerprint = excluded.from_fingerprint, "
        "to_fingerprint = excluded.to_fingerprint, complete = excluded.complete, applied_at = now()",
    ]


def test_online_statements_are_split_into_phases() -> None:
    from schemadiff.online import online_names, split_phases

    statements = ("DROP INDEX CONCURRENTLY IF EXISTS s.old_ix", "ALTER TABLE s.t ADD COLUMN b int",
                  "ALTER TABLE s.t ADD CONSTRAINT ck CHECK (b > 0) NOT VALID", 'CREATE INDEX CONCURRENTLY "Ix" ON s.t (b)',
                  "ALTER TABLE s.t VALIDATE CONSTRAINT ck", "COMMENT ON TABLE s.t IS 'x'")
    assert split_phases(statements) == (
        ("DROP INDEX CONCURRENTLY IF EXISTS s.old_ix",),
        ("ALTER TABLE s.t ADD COLUMN b int", "ALTER TABLE s.t ADD CONSTRAINT ck CHECK (b > 0) NOT VALID",
         "COMMENT ON TABLE s.t IS 'x'"),
        ('CREATE INDEX CONCURRENTLY "Ix" ON s.t (b)', "ALTER TABLE s.t VALIDATE CONSTRAINT ck"),
    )
    assert online_names(list(statements)) == (frozenset({"old_ix", "Ix"}), frozenset({"ck"}))


def test_small_tenants_run_the_online_form_plainly_in_order() -> None:
    from schemadiff.ops import AFTER_MARK
    from schemadiff.tenant import inline_statements

    statements = ("DROP INDEX CONCURRENTLY IF EXISTS s.old_ix", "ALTER TABLE s.t ADD CONSTRAINT ck CHECK (b > 0) NOT VALID",
                  "ALTER TABLE s.t VALIDATE CONSTRAINT ck", "CREATE UNIQUE INDEX CONCURRENTLY ix ON s.t (b)",
                  f"{AFTER_MARK}ALTER TABLE s.t ALTER COLUMN b SET NOT NULL")
    assert inline_statements(statements) == (
        "DROP INDEX IF EXISTS s.old_ix", "ALTER TABLE s.t ADD CONSTRAINT ck CHECK (b > 0) NOT VALID",
        "ALTER TABLE s.t VALIDATE CONSTRAINT ck", "CREATE UNIQUE INDEX ix ON s.t (b)",
        "ALTER TABLE s.t ALTER COLUMN b SET NOT NULL")
