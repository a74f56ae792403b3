"""A staged rollback over a fleet of shards on two real servers, as one rollback: a canary that fails
and stops the rollback before any other shard is touched, the pause after the canary and --continue,
--max-failures counted across shards stopping a wave, a subset named SHARD:SCHEMA, a rerun resuming
after each stop (also once a shard is done), and a fleet of one shard running as one database."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from schemadiff.workflow.apply import current_revision
from tests.integration.helpers import execute, fingerprints, make_project, run_cli, write_revision
from tests.integration.test_fleet import DOWN, _targets, second_server, shards  # noqa: F401 (fixtures)

TENANTS = ("public", "user_1", "user_2", "user_3")


class Fleet:
    """The shards at the head of one revision (every tenant upgraded by a plain fleet apply), and
    how to see which tenants a rollback took back."""

    def __init__(self, tmp: Path, monkeypatch: pytest.MonkeyPatch, urls: dict[str, str], spec: Path, dev: str) -> None:
        self.urls, self.spec = urls, spec
        project = make_project(tmp / "project")
        path = write_revision(project, spec, urls["eu"], dev)
        [self.head] = re.findall(r"^revision = '([0-9a-f]+)'$", path.read_text(), re.MULTILINE)
        self.ini = project / "alembic.ini"
        self.targets = _targets(tmp, monkeypatch, urls)
        self.start = {shard: fingerprints(url, spec) for shard, url in urls.items()}
        applied = run_cli("apply", "--spec", spec, "--config", self.ini, "--targets", self.targets, "--yes")
        assert applied.exit_code == 0, applied.stdout + applied.stderr
        self.upgraded = {shard: fingerprints(url, spec) for shard, url in urls.items()}
        assert self.back() == set()  # every tenant moved

    def rollback(self, *args: str):  # type: ignore[no-untyped-def]
        return run_cli("rollback", "--config", self.ini, "--targets", self.targets, "--yes", "--workers", "2", *args)

    def back(self) -> set[str]:
        """The ``SHARD:SCHEMA`` tenants in their starting state again (taken back), each checked to
        be either there or still at the revision's target."""
        found = set()
        for shard, url in self.urls.items():
            now = fingerprints(url, self.spec)
            for s in TENANTS:
                assert now[s] in (self.start[shard][s], self.upgraded[shard][s]), (shard, s)
                if now[s] == self.start[shard][s]:
                    found.add(f"{shard}:{s}")
        return found

    @property
    def every(self) -> set[str]:
        return {f"{shard}:{t}" for shard in self.urls for t in TENANTS}


@pytest.fixture
def fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shards: dict[str, str], server_url: str, spec_path: Path):  # type: ignore[no-untyped-def]  # noqa: F811
    return Fleet(tmp_path, monkeypatch, shards, spec_path, server_url)


def conflict(url: str, schema: str) -> None:
    """That tenant's downgrade fails: a view reads a column the downgrade drops."""
    execute(url, f"CREATE VIEW {schema}.task_order AS SELECT step_order FROM {schema}.marketplace_tasks")


def resolve(url: str, schema: str) -> None:
    execute(url, f"DROP VIEW {schema}.task_order")


def test_a_fleet_rollback_canary_fails_stops_before_the_rest_then_pauses_and_continue_finishes(
    fleet: Fleet,
) -> None:
    # the canary spread over the fleet (eu and us get one each); eu's fails: the rollback stops, and
    # no other shard (ap) and no other tenant is touched
    conflict(fleet.urls["eu"], "user_1")
    failed = fleet.rollback("--canary", "2")
    assert failed.exit_code == 1, failed.stdout + failed.stderr
    assert "the fleet's canary failed on 1 shard(s), so no other shard was touched: eu:" in failed.stderr
    assert fleet.back() == {"us:user_1"}
    assert all(current_revision(url) == fleet.head for url in fleet.urls.values())

    # fixed: the rerun runs eu's canary again (us's is paused already) and pauses on both (no
    # terminal: exit 3); a rerun without --continue changes nothing and exits 3 again, as does a
    # plain rollback; status shows the pause on each canary shard
    resolve(fleet.urls["eu"], "user_1")
    paused = fleet.rollback("--canary", "2")
    assert paused.exit_code == 3, paused.stdout + paused.stderr
    assert "the fleet's rollback is paused after its canary on 2 shard(s) (eu, us); 10 schema(s) wait" in paused.stdout
    assert fleet.back() == {"eu:user_1", "us:user_1"}
    again = fleet.rollback("--canary", "2")
    assert again.exit_code == 3 and fleet.back() == {"eu:user_1", "us:user_1"}, again.stdout + again.stderr
    plain = fleet.rollback()
    assert plain.exit_code == 3 and "the fleet's rollback is paused" in plain.stdout, plain.stdout + plain.stderr
    assert fleet.back() == {"eu:user_1", "us:user_1"}
    status = run_cli("status", "--spec", fleet.spec, "--config", fleet.ini, "--targets", fleet.targets)
    assert status.stdout.count(f"rollback of {fleet.head} paused after its canary") == 2, status.stdout

    # --continue: the rest, and alembic_version goes back on every shard
    done = fleet.rollback("--continue")
    assert done.exit_code == 0, done.stdout + done.stderr
    assert f"every schema on every shard is back before {fleet.head}" in done.stdout
    assert fleet.back() == fleet.every
    assert all(current_revision(url) is None for url in fleet.urls.values())


def test_max_failures_counted_across_shards_stops_a_fleet_rollback_and_a_rerun_resumes(fleet: Fleet) -> None:
    # waves of 3 across the fleet (each shard's template first, interleaved shard by shard): wave 2
    # is user_1 of eu, us and ap; eu's and us's fail: one each is within each shard's budget, two
    # across the fleet are more than --max-failures 1, so waves 3 and 4 do not start
    conflict(fleet.urls["eu"], "user_1")
    conflict(fleet.urls["us"], "user_1")
    stopped = fleet.rollback("--wave-size", "3", "--max-failures", "1")
    assert stopped.exit_code == 1, stopped.stdout + stopped.stderr
    assert "the fleet's rollback stopped in wave 2 of 4: 2 schema(s) failed across the fleet" in stopped.stderr
    assert "more than --max-failures 1" in stopped.stderr and "eu:user_1" in stopped.stderr
    assert "6 schema(s) of later waves were not started" in stopped.stderr
    assert fleet.back() == {"eu:public", "us:public", "ap:public", "ap:user_1"}
    assert all(current_revision(url) == fleet.head for url in fleet.urls.values())

    # fixed: the rerun finishes exactly what is left, and alembic_version goes back everywhere
    resolve(fleet.urls["eu"], "user_1")
    resolve(fleet.urls["us"], "user_1")
    done = fleet.rollback("--wave-size", "3")
    assert done.exit_code == 0, done.stdout + done.stderr
    assert "wave 1 of 3" in done.stdout and "wave 3 of 3" in done.stdout  # 8 left: 3, 3, 2
    assert fleet.back() == fleet.every
    assert all(current_revision(url) is None for url in fleet.urls.values())


def test_a_fleet_rollback_of_a_subset_named_shard_and_schema_then_the_rest_resumes(fleet: Fleet) -> None:
    # a name found on no shard is an error before any change; SHARD:SCHEMA names one shard's tenant,
    # a plain name every shard's
    wrong = fleet.rollback("--tenants", "ap:user_1,user_9")
    assert wrong.exit_code == 1 and "user_9 matches no tenant on any shard" in wrong.stderr, wrong.stderr
    assert fleet.back() == set()
    subset = fleet.rollback("--tenants", "ap:user_1,eu:user_2,user_3")
    assert subset.exit_code == 0, subset.stdout + subset.stderr
    assert fleet.back() == {"ap:user_1", "eu:user_2", "eu:user_3", "us:user_3", "ap:user_3"}
    assert f"7 schema(s) outside it still need the rollback of {fleet.head}" in subset.stdout
    assert all(current_revision(url) == fleet.head for url in fleet.urls.values())

    # every tenant of ap: ap is done and its alembic_version goes back, the others wait
    ap = fleet.rollback("--tenants", "ap:*")
    assert ap.exit_code == 0, ap.stdout + ap.stderr
    assert current_revision(fleet.urls["ap"]) is None
    assert current_revision(fleet.urls["eu"]) == current_revision(fleet.urls["us"]) == fleet.head

    # the rerun takes back the same revision on the shards still holding it (ap is left alone)
    rest = fleet.rollback("--canary", "1", "--continue")
    assert rest.exit_code == 0, rest.stdout + rest.stderr
    assert "ap" not in re.findall(r"│ (\w+) +│", rest.stdout), rest.stdout
    assert fleet.back() == fleet.every
    assert all(current_revision(url) is None for url in fleet.urls.values())
    nothing = fleet.rollback("--canary", "1")
    assert nothing.exit_code == 0 and "nothing to roll back" in nothing.stdout, nothing.stdout + nothing.stderr


def test_a_staged_fleet_rollback_takes_back_one_revision_and_needs_every_shard(
    fleet: Fleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = fleet.rollback("--canary", "1", "--steps", "2")
    assert refused.exit_code == 1 and "takes back one revision" in refused.stderr, refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and fleet.back() == set()

    # a shard that cannot be read stops a staged rollback before any change (its password hidden)
    monkeypatch.setenv("SD_FLEET_US", DOWN)
    down = fleet.rollback("--canary", "1", "--continue")
    assert down.exit_code == 1, down.stdout + down.stderr
    assert "a staged rollback reads every shard first; 1 of 3 shard(s) cannot be read (us:" in down.stderr
    assert "nothing was changed" in down.stderr and "s3cret-pw" not in down.stdout + down.stderr
    assert fleet.back() == set()


def test_a_fleet_of_one_shard_rolls_back_in_stages_as_one_database(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    shards: dict[str, str],  # noqa: F811
    server_url: str,
    spec_path: Path,
) -> None:
    one = Fleet(tmp_path, monkeypatch, {"eu": shards["eu"]}, spec_path, server_url)
    paused = one.rollback("--canary", "1")
    assert paused.exit_code == 3, paused.stdout + paused.stderr
    assert "the fleet" not in paused.stdout + paused.stderr  # the one-database run and its words
    assert f"canary done: 1 schema(s) back before {one.head} and verified (user_1); 3 schema(s) wait" in paused.stdout
    assert one.back() == {"eu:user_1"}
    done = one.rollback("--continue", "--max-failures", "0")
    assert done.exit_code == 0, done.stdout + done.stderr
    assert one.back() == one.every and current_revision(shards["eu"]) is None


def test_a_rerun_takes_back_the_same_revision_once_a_shard_is_done_with_it(
    fleet: Fleet, tmp_path: Path, server_url: str
) -> None:
    # a second revision on every shard
    step_order = "      step_order:    {type: integer, nullable: false, default: 1}\n"
    spec = tmp_path / "schema.yaml"
    spec.write_text(fleet.spec.read_text().replace(step_order, step_order + "      note: {type: text}\n"))
    write_revision(fleet.ini.parent, spec, fleet.urls["eu"], server_url, "add a note")
    [path] = (fleet.ini.parent / "migrations" / "versions").glob("*add_a_note*.py")
    [second] = re.findall(r"^revision = '([0-9a-f]+)'$", path.read_text(), re.MULTILINE)
    applied = run_cli("apply", "--spec", spec, "--config", fleet.ini, "--targets", fleet.targets, "--yes")
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    assert all(current_revision(url) == second for url in fleet.urls.values())

    # ap's tenants all taken back: ap is at the first revision again, the others still at the second
    ap = fleet.rollback("--tenants", "ap:*")
    assert ap.exit_code == 0, ap.stdout + ap.stderr
    assert [current_revision(url) for url in fleet.urls.values()] == [second, second, fleet.head]

    # the rerun takes back the second revision where a shard still has it, never the first on ap
    rest = fleet.rollback("--canary", "1", "--continue")
    assert rest.exit_code == 0, rest.stdout + rest.stderr
    assert f"every schema on every shard is back before {second}" in rest.stdout
    assert all(current_revision(url) == fleet.head for url in fleet.urls.values())
    assert all(fingerprints(url, fleet.spec) == fleet.upgraded[shard] for shard, url in fleet.urls.items())
