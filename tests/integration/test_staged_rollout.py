"""Staged rollouts on a real PostgreSQL (issue 12): a subset, a canary that fails and stops the
rollout before the rest, --max-failures stopping a wave, resume after each finishing exactly what is
left, status mid-rollout, and alembic_version waiting until every tenant is done."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from schemadiff.spec.schema import load_spec
from schemadiff.workflow import demo

from .helpers import alembic, execute, fingerprints, make_project, query, run_cli, write_revision


def seed(url: str, spec: Path, tenants: int) -> list[str]:
    demo.seed_previous_state(url, load_spec(spec), tenants=tenants, rows=3, ignored=(), hand_fixed=None)
    return ["public"] + [f"user_{i}" for i in range(1, tenants + 1)]


def project_with_revision(tmp: Path, spec: Path, url: str, dev_url: str) -> tuple[Path, str]:
    project = make_project(tmp)
    path = write_revision(project, spec, url, dev_url)
    [revision] = re.findall(r"^revision = '([0-9a-f]+)'$", path.read_text(), re.MULTILINE)
    return project / "alembic.ini", revision


def alembic_version(url: str) -> list[str]:
    exists = query(url, "SELECT to_regclass('public.alembic_version') IS NOT NULL")[0][0]
    return [r[0] for r in query(url, "SELECT version_num FROM public.alembic_version")] if exists else []


def conflict(url: str, schema: str) -> None:
    """A relation named like the index the revision creates: that tenant's CREATE INDEX fails (the
    object is not part of the tenant's managed state, so the preflight does not see it)."""
    execute(url, f"CREATE TABLE {schema}.idx_marketplace_tasks_job_order (x integer)")


def resolve(url: str, schema: str) -> None:
    execute(url, f"DROP TABLE {schema}.idx_marketplace_tasks_job_order")


class Setup:
    def __init__(self, url: str, spec: Path, ini: Path, revision: str, schemas: list[str]) -> None:
        self.url, self.spec, self.ini, self.revision, self.schemas = url, spec, ini, revision, schemas
        self.start = fingerprints(url, spec)

    def apply(self, *args: str):  # type: ignore[no-untyped-def]
        return run_cli("apply", "--spec", self.spec, "--database-url", self.url, "--config", self.ini, "--yes", *args)

    def rollback(self, *args: str):  # type: ignore[no-untyped-def]
        return run_cli("rollback", "--database-url", self.url, "--config", self.ini, "--yes", *args)

    def status(self) -> str:
        result = run_cli("status", "--spec", self.spec, "--database-url", self.url, "--config", self.ini)
        assert result.exit_code in (0, 3, 4), result.stderr  # at the spec, pending, unknown
        return result.stdout

    def at_target(self) -> list[str]:
        """The schemas whose state changed from their start (the revision ran there)."""
        now = fingerprints(self.url, self.spec)
        return [s for s in self.schemas if now[s] != self.start[s]]

    def converged(self) -> bool:
        return run_cli("plan", "--spec", self.spec, "--database-url", self.url).exit_code == 0


@pytest.fixture
def setup_of(fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    def make(tenants: int) -> Setup:
        schemas = seed(fresh_db, spec_path, tenants)
        ini, revision = project_with_revision(tmp_path, spec_path, fresh_db, server_url)
        return Setup(fresh_db, spec_path, ini, revision, schemas)

    return make


def test_a_subset_then_a_file_then_the_rest_and_alembic_version_moves_only_at_the_end(setup_of, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    s = setup_of(6)
    first = s.apply("--tenants", "user_[12]")
    assert first.exit_code == 0, first.stderr
    assert "2 applied, 0 skipped, 0 failed" in first.stdout
    assert f"the rollout of {s.revision} is in progress: 2 of 7 schema(s) at {s.revision}" in first.stdout
    assert "5 schema(s) outside --tenants user_[12] still need it" in first.stdout
    assert "every schema matches the spec" not in first.stdout
    assert s.at_target() == ["user_1", "user_2"]
    assert alembic_version(s.url) == []
    assert (
        f"rollout of {s.revision} in progress: 2 of 7 schema(s) at {s.revision} (the run for --tenants user_[12] is done)"
        in s.status()
    )

    names = tmp_path / "wave.txt"
    names.write_text("# the next ones\nuser_3\n\nuser_1  # done already\n")
    second = s.apply("--tenants", f"@{names}")
    assert second.exit_code == 0, second.stderr
    assert "1 applied, 1 skipped, 0 failed" in second.stdout and "3 of 7 schema(s)" in second.stdout
    assert s.at_target() == ["user_1", "user_2", "user_3"]
    assert alembic_version(s.url) == []

    plain = alembic(s.ini.parent, s.url, "-x", "tenants=user_4", "upgrade", "head")  # plain Alembic: same option
    said = plain.stdout + plain.stderr  # Alembic prints its FAILED line on stdout
    assert plain.returncode != 0 and "FAILED:" in said and "4 of 7 schema(s)" in said, said
    assert "Traceback" not in said
    assert s.at_target() == ["user_1", "user_2", "user_3", "user_4"]
    assert alembic_version(s.url) == []

    rest = s.apply()
    assert rest.exit_code == 0, rest.stderr
    assert "3 applied, 4 skipped, 0 failed" in rest.stdout and "every schema matches the spec" in rest.stdout
    assert alembic_version(s.url) == [s.revision]
    assert s.converged()
    assert f"rollout of {s.revision}" not in s.status()


def test_a_selection_that_names_no_tenant_is_one_error_and_changes_nothing(setup_of, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    s = setup_of(3)
    typo = s.apply("--tenants", "usr_*")
    assert typo.exit_code == 1
    [error] = [line for line in typo.stderr.splitlines() if line.startswith("error:")]
    assert error.startswith(
        f"error: --tenants usr_*: usr_* matches no tenant of revision {s.revision} (public and schemas "
        "matching ^user_[0-9]+$); did you mean 'user_"
    )
    assert error.endswith("'?; nothing was changed")
    missing = s.apply("--tenants", f"@{tmp_path / 'nope.txt'}")
    assert missing.exit_code == 1
    assert f"error: --tenants @{tmp_path / 'nope.txt'}: cannot read it (No such file or directory)" in missing.stderr
    bad = s.apply("--wave-size", "0")
    assert bad.exit_code == 1 and "--wave-size" in bad.stderr
    not_chosen = s.apply("--tenants", "user_1", "--canary", "user_2")
    assert not_chosen.exit_code == 1 and "--canary user_2: not among --tenants user_1" in not_chosen.stderr
    assert s.at_target() == [] and alembic_version(s.url) == []


def test_a_failing_canary_stops_before_the_rest_then_resume_pauses_and_continue_finishes(setup_of) -> None:  # type: ignore[no-untyped-def]
    s = setup_of(6)
    conflict(s.url, "user_2")
    failed = s.apply("--canary", "2")
    assert failed.exit_code == 1
    assert "1 applied, 0 skipped, 1 failed in" in failed.stdout and "5 not started" in failed.stdout
    assert f"the canary of the rollout of {s.revision} failed for 1 of 2 schema(s): user_2:" in failed.stderr
    assert "the other 5 schema(s) were not touched" in failed.stderr
    assert s.at_target() == ["user_1"]  # the canaries were user_1 and user_2; the others untouched
    assert alembic_version(s.url) == []
    status = s.status()
    assert (
        f"rollout of {s.revision} in progress: 1 of 7 schema(s) at {s.revision}, the canary stopped after 1 failure(s) (user_2)"
        in status
    )

    resolve(s.url, "user_2")
    paused = s.apply("--canary", "2")  # no terminal: the rest waits for --continue
    assert paused.exit_code == 3, paused.stdout + paused.stderr
    assert "1 applied, 1 skipped, 0 failed" in paused.stdout
    assert f"canary done: 2 schema(s) at {s.revision} and verified (user_1, user_2); 5 schema(s) wait" in paused.stdout
    assert "rerun with --continue" in paused.stdout
    assert s.at_target() == ["user_1", "user_2"] and alembic_version(s.url) == []
    assert (
        f"rollout of {s.revision} paused after its canary (user_1, user_2): 2 of 7 schema(s) at {s.revision}"
        in s.status()
    )

    plain = s.apply()  # a paused rollout goes on only with --continue
    assert plain.exit_code == 3 and "paused after its canary" in plain.stdout and "nothing was changed" in plain.stdout
    assert s.at_target() == ["user_1", "user_2"]

    rest = s.apply("--continue")
    assert rest.exit_code == 0, rest.stderr
    assert "5 applied, 2 skipped, 0 failed" in rest.stdout and "every schema matches the spec" in rest.stdout
    assert alembic_version(s.url) == [s.revision] and s.converged()


def test_canary_and_continue_under_plain_alembic(setup_of) -> None:  # type: ignore[no-untyped-def]
    s = setup_of(4)
    project = s.ini.parent
    canary = alembic(project, s.url, "-x", "canary=user_3", "upgrade", "head")
    said = canary.stdout + canary.stderr
    assert canary.returncode != 0
    assert f"FAILED: canary done: 1 schema(s) at {s.revision} and verified (user_3)" in said
    assert "-x continue=yes" in said and "Traceback" not in said
    assert s.at_target() == ["user_3"] and alembic_version(s.url) == []
    rest = alembic(project, s.url, "-x", "continue=yes", "upgrade", "head")
    assert rest.returncode == 0, rest.stderr
    assert alembic_version(s.url) == [s.revision] and s.converged()


def test_max_failures_stops_a_wave_and_a_rerun_finishes_what_is_left(setup_of) -> None:  # type: ignore[no-untyped-def]
    s = setup_of(10)
    conflict(s.url, "user_2")
    conflict(s.url, "user_3")
    staged = ("--wave-size", "3", "--max-failures", "1", "--workers", "1")
    stopped = s.apply(*staged)
    assert stopped.exit_code == 1
    # waves of 3 over public, user_1 … user_10: user_2 fails in wave 1 (1, not more than 1), user_3 in wave 2
    assert (
        f"the rollout of {s.revision} stopped in wave 2 of 4: 2 schema(s) failed, more than --max-failures 1"
        in stopped.stderr
    )
    assert "7 were not started" in stopped.stderr
    assert "2 applied, 0 skipped, 2 failed" in stopped.stdout and "7 not started" in stopped.stdout
    assert s.at_target() == ["public", "user_1"]
    assert alembic_version(s.url) == []
    status = s.status()
    assert (
        f"rollout of {s.revision} in progress: 2 of 11 schema(s) at {s.revision}, wave 2 of 4 stopped after "
        "2 failure(s) (user_2, user_3), more than --max-failures 1" in status
    )

    resolve(s.url, "user_2")
    resolve(s.url, "user_3")
    rerun = s.apply(*staged)
    assert rerun.exit_code == 0, rerun.stderr
    assert "9 applied, 2 skipped, 0 failed" in rerun.stdout
    assert alembic_version(s.url) == [s.revision] and s.converged()
    assert f"rollout of {s.revision}" not in s.status()


def test_without_max_failures_a_wave_goes_on_and_the_failure_is_reported(setup_of) -> None:  # type: ignore[no-untyped-def]
    s = setup_of(4)
    conflict(s.url, "user_1")
    result = s.apply("--wave-size", "50%")
    assert result.exit_code == 1 and "4 applied, 0 skipped, 1 failed" in result.stdout
    assert "user_1:" in result.stderr and alembic_version(s.url) == []
    assert "1 schema(s) failed in the last run (user_1)" in s.status()


def test_a_tenant_in_an_unknown_state_outside_the_subset_does_not_stop_it(setup_of) -> None:  # type: ignore[no-untyped-def]
    s = setup_of(3)
    execute(s.url, "ALTER TABLE user_3.marketplace_tasks ADD COLUMN note text")  # a state the revision does not know
    s.start = fingerprints(s.url, s.spec)
    subset = s.apply("--tenants", "user_1")
    assert subset.exit_code == 0, subset.stderr
    assert (
        "2 schema(s) outside --tenants user_1 still need it, and 1 are in a state it does not know (user_3"
        in subset.stdout
    )
    assert s.at_target() == ["user_1"]
    everything = alembic(s.ini.parent, s.url, "upgrade", "head")  # the run that takes user_3 stops before any change
    said = everything.stdout + everything.stderr
    assert everything.returncode != 0 and f"1 schema(s) in 1 state(s) that revision {s.revision} does not know" in said
    assert s.at_target() == ["user_1"] and alembic_version(s.url) == []


def test_a_subset_rollback_then_apply_brings_those_tenants_back(setup_of) -> None:  # type: ignore[no-untyped-def]
    s = setup_of(4)
    assert s.apply().exit_code == 0
    back = s.rollback("--tenants", "user_2,user_4")
    assert back.exit_code == 0, back.stderr
    assert f"the rollback of {s.revision} is in progress: 2 of 5 schema(s) back before {s.revision}" in back.stdout
    assert sorted(set(s.schemas) - set(s.at_target())) == ["user_2", "user_4"]
    assert alembic_version(s.url) == [s.revision]  # not every tenant went back
    status = s.status()
    assert f"rollback of {s.revision} in progress: 2 of 5 schema(s) back before {s.revision}" in status
    assert re.search(r"pending:\s+2  user_2, user_4", status) and re.search(r"unknown:\s+0", status)  # apply takes them
    again = s.apply()  # the database names the head, but two tenants left it: apply brings them back
    assert again.exit_code == 0, again.stderr
    assert "2 applied, 3 skipped, 0 failed" in again.stdout
    assert alembic_version(s.url) == [s.revision] and s.converged()


def test_rollback_takes_back_a_canary_of_a_revision_alembic_version_does_not_name_yet(setup_of) -> None:  # type: ignore[no-untyped-def]
    s = setup_of(4)
    assert s.apply("--canary", "user_2").exit_code == 3
    assert s.at_target() == ["user_2"] and alembic_version(s.url) == []
    execute(s.url, "INSERT INTO user_2.marketplace_tasks (job_id, status, side_effects) VALUES (1, 'x', '{}')")
    refused = s.rollback()  # it would delete what the canary tenant wrote: nothing changes
    assert refused.exit_code == 1 and "would delete data" in refused.stderr
    assert alembic_version(s.url) == []  # named the revision for the rollback, then the previous one again
    execute(s.url, "DELETE FROM user_2.marketplace_tasks WHERE status = 'x'")
    back = s.rollback()
    assert back.exit_code == 0, back.stderr
    assert "downgrade" in back.stdout and "1 applied" in back.stdout
    assert s.at_target() == [] and alembic_version(s.url) == []
    assert fingerprints(s.url, s.spec) == s.start


@pytest.mark.parametrize(
    "args,spread",
    [(("--max-rate", "5/s"), 1.0), (("--delay", "250ms", "--workers", "1"), 1.0)],
    ids=["max-rate", "delay"],
)
def test_a_throttle_spreads_the_tenants(setup_of, args: tuple[str, ...], spread: float) -> None:  # type: ignore[no-untyped-def]
    s = setup_of(5)
    result = s.apply(*args)
    assert result.exit_code == 0, result.stderr
    # each tenant's ledger row is written at its transaction's start: 6 starts paced 0.2 s apart on the
    # client's clock, seen on the server's one round trip later each (a few ms either way: 0.9998 s was
    # seen); unthrottled, the 6 take a few hundredths of a second
    [(seconds,)] = query(
        s.url, "SELECT extract(epoch FROM max(applied_at) - min(applied_at))::float8 FROM public.schemadiff_ledger"
    )
    assert seconds >= spread * 0.9


def test_replication_lag_without_standbys_never_pauses(setup_of) -> None:  # type: ignore[no-untyped-def]
    from schemadiff.core.options import Options
    from schemadiff.runtime.pacing import Pacing

    s = setup_of(3)
    pacing = Pacing(s.url, Options(max_replication_lag=0.0), lambda line: None)
    try:
        assert pacing.replication_lag() == (0, 0.0, "")
    finally:
        pacing.close()
    result = s.apply("--max-replication-lag", "1s")
    assert result.exit_code == 0, result.stderr
    assert "paused" not in result.stderr and alembic_version(s.url) == [s.revision]


def _on_a_terminal(args: list[str], answer: str, timeout: float = 180) -> tuple[int, str]:
    """Run the command line on a pseudo-terminal; answer the canary's question; (exit code, output)."""
    import os
    import pty
    import select
    import subprocess
    import sys
    import time

    main, other = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "schemadiff.cli", *args], stdin=other, stdout=other, stderr=other, close_fds=True
    )
    os.close(other)
    seen, answered, deadline = b"", False, time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(main, 4096)
            except OSError:  # the other end closed: the process ended
                break
            seen += chunk
        if not answered and b"Go on with the other" in seen:
            os.write(main, answer.encode() + b"\n")
            answered = True
        if proc.poll() is not None and not ready:
            break
    os.close(main)
    return proc.wait(timeout=30), seen.decode(errors="replace")


@pytest.mark.parametrize("answer,code", [("y", 0), ("n", 3)])
def test_on_a_terminal_the_canary_asks_before_the_rest(setup_of, answer: str, code: int) -> None:  # type: ignore[no-untyped-def]
    s = setup_of(3)
    args = ["apply", "--spec", str(s.spec), "--database-url", s.url, "--config", str(s.ini), "--yes", "--canary", "1"]
    exit_code, output = _on_a_terminal(args, answer)
    assert "Canary done: 1 schema(s) verified (user_1). Go on with the other 3?" in output, output
    assert exit_code == code, output
    if answer == "y":
        assert alembic_version(s.url) == [s.revision] and s.converged()
    else:
        assert s.at_target() == ["user_1"] and alembic_version(s.url) == []
        assert "rerun with --continue" in output
