"""The runtime's decisions, without a database: which tenants run, skip or stop the run."""

from __future__ import annotations

from schemadiff.runner import Job, Options, Work, _classify_downgrade, _classify_upgrade, tenant_script

UP, DOWN = ("ALTER TABLE sdtenant__placeholder.t ADD COLUMN b int",), ("ALTER TABLE sdtenant__placeholder.t DROP COLUMN b",)


def job(direction: str) -> Job:
    return Job("rev1", direction, "public", "^user_[0-9]+$", ("t",), "TARGET", None,
               {"START_A": (UP, DOWN), "START_B": ((), ())})


def test_upgrade_runs_known_states_skips_done_and_stops_on_unknown() -> None:
    j = job("upgrade")
    assert _classify_upgrade(j, "user_1", "START_A", {}) == Work("user_1", "START_A", UP)
    assert _classify_upgrade(j, "user_2", "TARGET", {"user_2": ("upgrade", "START_A")}) == "skip"
    assert _classify_upgrade(j, "user_3", "TARGET", {}) == Work("user_3", "TARGET", ())  # ledger: needed nothing
    assert _classify_upgrade(j, "user_4", "OTHER", {}) is None


def test_downgrade_uses_the_ledger_and_treats_new_tenants_like_the_template() -> None:
    j = job("downgrade")
    ledger = {"public": ("upgrade", "START_A"), "user_1": ("upgrade", "START_B"), "user_2": ("downgrade", "START_A")}
    assert _classify_downgrade(j, "user_1", "TARGET", ledger) == Work("user_1", "START_B", ())
    assert _classify_downgrade(j, "public", "TARGET", ledger) == Work("public", "START_A", DOWN)
    assert _classify_downgrade(j, "user_2", "START_A", ledger) == "skip"  # already downgraded
    assert _classify_downgrade(j, "user_2", "TARGET", ledger) is None  # ledger and state disagree
    assert _classify_downgrade(j, "user_9", "TARGET", ledger) == Work("user_9", "START_A", DOWN)
    assert _classify_downgrade(j, "user_8", "START_B", ledger) == "skip"  # never upgraded
    assert _classify_downgrade(j, "user_7", "OTHER", ledger) is None


def test_tenant_script_pins_timeouts_search_path_and_ledger_in_one_transaction() -> None:
    script = tenant_script(job("upgrade"), Work("User_9", "START_A", UP), Options(lock_timeout="3s"))
    assert script.split(";\n") == [
        "SET LOCAL lock_timeout = '3s'",
        "SET LOCAL statement_timeout = '0'",
        "SET LOCAL synchronous_commit = 'off'",
        'SET LOCAL search_path = "User_9"',
        'ALTER TABLE "User_9".t ADD COLUMN b int',
        "INSERT INTO public.schemadiff_ledger (revision, schema_name, direction, from_fingerprint, to_fingerprint) "
        "VALUES ('rev1', 'User_9', 'upgrade', 'START_A', 'TARGET') ON CONFLICT (revision, schema_name) DO UPDATE "
        "SET direction = excluded.direction, from_fingerprint = excluded.from_fingerprint, "
        "to_fingerprint = excluded.to_fingerprint, applied_at = now()",
    ]
