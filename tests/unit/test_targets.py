"""The targets file: shards named, URLs from environment variables only, errors located."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemadiff.core.shards import qualify, schema_of
from schemadiff.errors import SchemadiffError, SpecError
from schemadiff.pg.targets import load_targets, resolve_targets


def test_shards_come_from_environment_variables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EU_URL", "postgresql+psycopg://u:pw@eu.internal/app")
    monkeypatch.setenv("US_URL", "postgresql://u:pw@us.internal/app")
    path = tmp_path / "targets.yaml"
    path.write_text("targets:\n  eu: {url_env: EU_URL}\n  us: {url_env: US_URL}\n")
    targets = load_targets(path)
    assert [(t.name, t.url) for t in targets] == [
        ("eu", "postgresql://u:pw@eu.internal/app"),
        ("us", "postgresql://u:pw@us.internal/app"),
    ]
    assert targets[0].shown == "postgresql://u:***@eu.internal/app"


def test_a_url_in_the_file_or_an_unset_variable_is_a_located_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    path = tmp_path / "targets.yaml"
    path.write_text("targets:\n  eu: {url: 'postgresql://u:pw@h/db'}\n  us: {url_env: NOT_SET_ANYWHERE}\n")
    with pytest.raises(SpecError) as caught:
        load_targets(path)
    lines = [str(p) for p in caught.value.problems]
    assert lines[0].startswith(f"{path}:2:7: targets.eu: ") and "environment variable" in lines[0]
    assert lines[1] == f"{path}:3:17: targets.us.url_env: environment variable NOT_SET_ANYWHERE is not set"


def test_one_url_is_no_fleet_and_two_are_named_by_host() -> None:
    assert resolve_targets(["postgresql://u:pw@h/db"], None) == []
    assert resolve_targets(None, None) == []
    fleet = resolve_targets(["postgresql://u:pw@a:5433/db", "postgresql://b/db"], None)
    assert [t.name for t in fleet] == ["a:5433/db", "b/db"]
    with pytest.raises(SchemadiffError, match="twice"):
        resolve_targets(["postgresql://a/db", "postgresql://x:y@a/db"], None)
    with pytest.raises(SchemadiffError, match="not both"):
        resolve_targets(["postgresql://a/db"], Path("t.yaml"))


def test_a_fleet_tenant_is_shard_and_schema() -> None:
    assert qualify("eu", "user_1") == "eu:user_1"
    assert schema_of("eu:user_1") == "user_1" and schema_of("public") == "public"


def test_a_shards_options_survive_the_json_that_carries_them_to_its_process() -> None:
    """Each shard runs in a process of its own and gets the run's options as JSON: the records of a
    staged rollout must come back as records (a mapping in their place broke every shard's run)."""
    import json

    from schemadiff.core.options import Options
    from schemadiff.core.rollout import Canary, Selection, Share
    from schemadiff.workflow.shard_run import options_data, options_from

    for options in (
        Options(allow=frozenset({"deletes_data"}), assume_from="abc", workers=2),
        Options(selection=Selection(patterns=("user_1*",)), canary=Canary(names=("user_3",)), wave_size=Share(count=5)),
    ):
        assert options_from(json.loads(json.dumps(options_data(options)))) == options
