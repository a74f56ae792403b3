"""A fleet of shards on several real servers: one plan for every shard, one apply that goes on when
a shard is down and finishes on the rerun, status and check per shard, plain alembic on one shard."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from schemadiff.pg import embedded_server
from schemadiff.spec.schema import load_spec
from schemadiff.workflow import demo
from schemadiff.workflow.apply import current_revision
from tests.databases import create_database, drop_database, new_name
from tests.integration.helpers import alembic, make_project, run_cli

DOWN = "postgresql://fleet:s3cret-pw@127.0.0.1:1/gone"  # nothing listens on port 1


@pytest.fixture(scope="module")
def second_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Another embedded PostgreSQL on its own port, for this module's shards."""
    home = tmp_path_factory.mktemp("pg-shard")
    yield embedded_server.server_url(home)
    embedded_server.stop(home)


@pytest.fixture
def shards(
    server_url: str, second_server: str, new_database: Callable[..., str], spec_path: Path
) -> Iterator[dict[str, str]]:
    """Three shards on two servers (eu and ap on the test server, us on the second one), each with
    the demo's previous state: public + user_1..user_3, user_2 fixed by hand."""
    us_name = new_name("us")
    urls = {
        "eu": new_database("eu"),
        "us": create_database(second_server, us_name),
        "ap": new_database("ap"),
    }
    for url in urls.values():
        demo.seed_previous_state(url, load_spec(spec_path), tenants=3, rows=1, ignored=(), hand_fixed="user_2")
    yield urls
    drop_database(second_server, us_name)


def _targets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, urls: dict[str, str]) -> Path:
    for name, url in urls.items():
        monkeypatch.setenv(f"SD_FLEET_{name.upper()}", url)
    path = tmp_path / "targets.yaml"
    path.write_text("targets:\n" + "".join(f"  {n}: {{url_env: SD_FLEET_{n.upper()}}}\n" for n in urls))
    return path


def test_one_plan_one_apply_for_the_fleet_with_a_shard_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shards: dict[str, str], server_url: str, spec_path: Path
) -> None:
    project = make_project(tmp_path / "project")
    targets = _targets(tmp_path, monkeypatch, shards)
    common = ("--spec", spec_path, "--config", project / "alembic.ini", "--targets", targets)
    versions = project / "migrations" / "versions"

    # plan with a shard down: reported with its error (password hidden), exit 1, nothing written
    monkeypatch.setenv("SD_FLEET_US", DOWN)
    down = run_cli("plan", *common, "--dev-url", server_url, "-m", "add columns")
    assert down.exit_code == 1, down.stdout + down.stderr
    assert "shard us: cannot read it" in down.stderr and "s3cret-pw" not in down.stdout + down.stderr
    assert "no revision written" in down.stderr and not list(versions.glob("*.py"))

    # every shard up: one plan, each state planned once across the three shards
    monkeypatch.setenv("SD_FLEET_US", shards["us"])
    planned = run_cli("plan", *common, "--dev-url", server_url, "-m", "add columns")
    assert planned.exit_code == 2, planned.stdout + planned.stderr
    assert "12 schemas" in planned.stdout and "2 group(s) with changes" in planned.stdout
    assert "3 schema(s) in state" in planned.stdout  # user_2 of eu, us and ap: one group
    assert ": ap:user_2, eu:user_2, us:user_2" in planned.stdout
    assert "ALTER TABLE public.marketplace_tasks" in planned.stdout  # the SQL names the schema alone
    [revision_file] = versions.glob("*.py")
    head = revision_file.read_text().split("revision = ")[1].split("\n")[0].strip("'\"")

    # apply with us down: eu and ap finish, us is reported, exit 1
    monkeypatch.setenv("SD_FLEET_US", DOWN)
    applied = run_cli("apply", *common, "--yes", "--workers", "2")
    assert applied.exit_code == 1, applied.stdout + applied.stderr
    assert "shard us: upgrade failed" in applied.stderr and "s3cret-pw" not in applied.stdout + applied.stderr
    assert current_revision(shards["eu"]) == head and current_revision(shards["ap"]) == head
    assert current_revision(shards["us"]) is None

    # status sees us pending (3), check fails (2); the rerun finishes only us
    monkeypatch.setenv("SD_FLEET_US", shards["us"])
    status = run_cli("status", *common)
    assert status.exit_code == 3, status.stdout + status.stderr
    assert "shard us:" in status.stdout and "pending:          4" in status.stdout
    assert run_cli("check", *common).exit_code == 2
    rerun = run_cli("apply", *common, "--yes")
    assert rerun.exit_code == 0, rerun.stdout + rerun.stderr
    assert rerun.stdout.count("nothing to do (at head)") == 2 and "every schema on every shard" in rerun.stdout
    assert all(current_revision(url) == head for url in shards.values())
    assert run_cli("status", *common).exit_code == 0
    checked = run_cli("check", *common, "--format", "json")
    assert checked.exit_code == 0 and '"ok": true' in checked.stdout

    # rollback on every shard, then plain alembic on one shard still works
    back = run_cli("rollback", *common[2:], "--yes")
    assert back.exit_code == 0, back.stdout + back.stderr
    assert all(current_revision(url) is None for url in shards.values())
    done = alembic(project, shards["ap"], "upgrade", "head")
    assert done.returncode == 0, done.stderr
    assert current_revision(shards["ap"]) == head and current_revision(shards["eu"]) is None


def test_repeated_database_url_names_each_shard(shards: dict[str, str], spec_path: Path, tmp_path: Path) -> None:
    project = make_project(tmp_path / "project")
    result = run_cli(
        "status",
        "--spec",
        spec_path,
        "--config",
        project / "alembic.ini",
        "--database-url",
        shards["eu"],
        "--database-url",
        shards["us"],
        "--format",
        "json",
    )
    assert result.exit_code == 4, result.stdout + result.stderr  # no revision: every tenant unknown
    names = [line.strip() for line in result.stdout.splitlines() if line.strip().startswith('"name"')]
    assert len(names) == 2 and names[0].endswith('_eu",') and names[1].endswith('_us",'), names
