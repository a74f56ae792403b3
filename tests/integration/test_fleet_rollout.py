"""A staged rollout over a fleet of shards on two real servers, as one rollout: a subset named
SHARD:SCHEMA, a canary that fails and stops the rollout before any other shard is touched, the pause
after the canary, --max-failures counted across shards stopping a wave, and a rerun finishing what
is left after each stop."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from schemadiff.workflow.apply import current_revision
from tests.integration.helpers import execute, fingerprints, make_project, run_cli, write_revision
from tests.integration.test_fleet import _targets, second_server, shards  # noqa: F401 (fixtures)

TENANTS = ("public", "user_1", "user_2", "user_3")


def changed(urls: dict[str, str], spec: Path, start: dict[str, dict[str, str]]) -> set[str]:
    """The ``SHARD:SCHEMA`` tenants whose state moved from their start (the revision ran there)."""
    moved = set()
    for shard, url in urls.items():
        now = fingerprints(url, spec)
        moved |= {f"{shard}:{s}" for s in TENANTS if now[s] != start[shard][s]}
    return moved


def conflict(url: str, schema: str) -> None:
    """That tenant's CREATE INDEX fails: a relation already holds the index's name."""
    execute(url, f"CREATE TABLE {schema}.idx_marketplace_tasks_job_order (x integer)")


def resolve(url: str, schema: str) -> None:
    execute(url, f"DROP TABLE {schema}.idx_marketplace_tasks_job_order")


def test_a_fleet_rollout_canary_pause_waves_and_resume(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    shards: dict[str, str],  # noqa: F811
    server_url: str,
    spec_path: Path,
) -> None:
    project = make_project(tmp_path / "project")
    path = write_revision(project, spec_path, shards["eu"], server_url)
    [head] = re.findall(r"^revision = '([0-9a-f]+)'$", path.read_text(), re.MULTILINE)
    targets = _targets(tmp_path, monkeypatch, shards)
    common = ("--spec", spec_path, "--config", project / "alembic.ini", "--targets", targets, "--yes")
    start = {shard: fingerprints(url, spec_path) for shard, url in shards.items()}

    def apply(*args: str):  # type: ignore[no-untyped-def]
        return run_cli("apply", *common, "--workers", "2", *args)

    # a subset across the fleet: SHARD:SCHEMA names one shard's tenant; a name found nowhere is an error
    wrong = apply("--tenants", "ap:user_1,user_9")
    assert wrong.exit_code == 1 and "user_9 matches no tenant on any shard" in wrong.stderr, wrong.stderr
    subset = apply("--tenants", "ap:user_1")
    assert subset.exit_code == 0, subset.stdout + subset.stderr
    assert changed(shards, spec_path, start) == {"ap:user_1"}
    assert "11 schema(s) outside it still need the revision" in subset.stdout

    # the canary spread over the fleet (eu and us get one each); eu's fails: the rollout stops, and no
    # other shard (ap) and no other tenant is touched
    conflict(shards["eu"], "user_1")
    failed = apply("--canary", "2")
    assert failed.exit_code == 1, failed.stdout + failed.stderr
    assert "the fleet's canary failed on 1 shard(s), so no other shard was touched: eu:" in failed.stderr
    assert changed(shards, spec_path, start) == {"ap:user_1", "us:user_1"}

    # a rollback over the fleet takes back what the rollout in progress did (us's canary, ap's subset)
    back = run_cli("rollback", *common[2:], "--workers", "2")
    assert back.exit_code == 0, back.stdout + back.stderr
    assert changed(shards, spec_path, start) == set()

    # fixed: the rerun runs the canary again and pauses (no terminal: exit 3); a rerun without
    # --continue changes nothing and exits 3 again; status shows the pause on each canary shard
    resolve(shards["eu"], "user_1")
    paused = apply("--canary", "2")
    assert paused.exit_code == 3, paused.stdout + paused.stderr
    assert "paused after its canary on 2 shard(s) (eu, us)" in paused.stdout
    assert changed(shards, spec_path, start) == {"eu:user_1", "us:user_1"}
    again = apply()
    assert again.exit_code == 3 and changed(shards, spec_path, start) == {"eu:user_1", "us:user_1"}
    status = run_cli("status", *common[:-1])
    assert status.stdout.count("paused after its canary") == 2, status.stdout

    # waves of 4 across the fleet (the pending tenants interleaved shard by shard): wave 2 holds
    # eu:user_3 and us:user_3, which fail; one failure each is within each shard's budget, two across
    # the fleet are more than --max-failures 1: the rollout stops before wave 3 (ap:user_2, ap:user_3)
    conflict(shards["eu"], "user_3")
    conflict(shards["us"], "user_3")
    stopped = apply("--continue", "--wave-size", "4", "--max-failures", "1")
    assert stopped.exit_code == 1, stopped.stdout + stopped.stderr
    assert "stopped in wave 2 of 3: 2 schema(s) failed across the fleet, more than --max-failures 1" in stopped.stderr
    assert "2 schema(s) of later waves were not started" in stopped.stderr
    every = {f"{s}:{t}" for s in shards for t in TENANTS}
    assert changed(shards, spec_path, start) == every - {"eu:user_3", "us:user_3", "ap:user_2", "ap:user_3"}
    assert all(current_revision(url) is None for url in shards.values())  # no shard is done yet

    # fixed: the rerun finishes exactly what is left, and alembic_version moves on every shard
    resolve(shards["eu"], "user_3")
    resolve(shards["us"], "user_3")
    done = apply("--continue", "--wave-size", "4")
    assert done.exit_code == 0, done.stdout + done.stderr
    assert "every schema on every shard matches the spec" in done.stdout
    assert changed(shards, spec_path, start) == every
    assert all(current_revision(url) == head for url in shards.values())
    assert run_cli("status", *common[:-1]).exit_code == 0


def test_the_pull_request_report_of_a_fleet_names_shard_and_schema(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    shards: dict[str, str],  # noqa: F811
    server_url: str,
    spec_path: Path,
) -> None:
    project = make_project(tmp_path / "project")
    targets = _targets(tmp_path, monkeypatch, shards)
    common = ("--spec", spec_path, "--config", project / "alembic.ini", "--targets", targets, "--dev-url", server_url)
    report = run_cli("plan", *common, "--format", "markdown")
    assert report.exit_code == 2, report.stdout + report.stderr
    text = report.stdout
    assert "**12** schemas on **3** shards" in text
    assert "| `eu` |" in text and "| `us` |" in text and "| `ap` |" in text
    assert re.search(r"\| `us` \| `[^`]+` \| 4 \|", text), text  # each shard's database and its schemas
    assert "schema(s) — ap:user_2, eu:user_2, us:user_2" in text  # the hand-fixed state, once for three shards
    assert "shown for <code>user_2</code>" in text and "ALTER TABLE user_2.marketplace_tasks" in text
    assert "eu:user_2.marketplace" not in text and '"eu:' not in text  # SQL names the schema alone

    script = run_cli("plan", *common, "--format", "sql")
    assert script.exit_code == 1 and "--format sql is a script for one database" in script.stderr
    assert script.stdout == "" and len(script.stderr.strip().splitlines()) == 1


def test_each_shard_reports_its_progress_and_its_throttle_and_no_bar_is_drawn_without_a_terminal(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    shards: dict[str, str],  # noqa: F811
    server_url: str,
    spec_path: Path,
) -> None:
    from schemadiff.core.options import Options
    from schemadiff.pg.targets import resolve_targets
    from schemadiff.workflow.fleet import fleet_run

    project = make_project(tmp_path / "project")
    write_revision(project, spec_path, shards["eu"], server_url)
    targets = _targets(tmp_path, monkeypatch, shards)
    fleet = resolve_targets(None, targets)
    eu_us = [t for t in fleet if t.name != "ap"]
    seen: dict[str, list[tuple[int, int]]] = {}
    results = fleet_run(
        "upgrade",
        eu_us,
        project / "alembic.ini",
        spec_path,
        Options(workers=1, delay=0.25),  # the throttle reaches each shard's run: 4 tenants, 0.25 s after each
        progress=lambda shard, done, total: seen.setdefault(shard, []).append((done, total)),
    )
    assert all(r.error is None and r.value is not None and r.value.error is None for r in results), results
    assert all(r.value is not None and r.value.reports[0]["seconds"] >= 1.0 for r in results), results
    assert sorted(seen) == ["eu", "us"]
    for reports in seen.values():  # every tenant reported once, in order, of the shard's total
        assert [done for done, _ in reports] == [1, 2, 3, 4] and {total for _, total in reports} == {4}

    # the command without a terminal: the table at the end, no bar
    applied = run_cli("apply", "--spec", spec_path, "--config", project / "alembic.ini", "--targets", targets, "--yes")
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    assert "━" not in applied.stderr and "all shards" not in applied.stderr + applied.stdout
    assert re.search(r"│ ap +│ +4 │ +0 │ +0 │", applied.stdout), applied.stdout
    assert applied.stdout.count("nothing to do (at head)") == 2
