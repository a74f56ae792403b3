"""A staged rollout over a fleet as data: the tenants each shard takes, the canaries spread over
the shards, and the waves interleaved across them."""

from __future__ import annotations

from schemadiff.core.fleet_stages import choose_fleet, fleet_waves, split_canary
from schemadiff.core.rollout import Canary, Selection, parse_canary, parse_selection, parse_share

FLEET = {
    "eu": ["public", "user_1", "user_2", "user_10"],
    "us": ["public", "user_1", "user_3"],
    "ap": ["public"],
}


def test_shard_qualified_names_match_on_their_shard_and_plain_names_everywhere() -> None:
    chosen, missing = choose_fleet(parse_selection("us:user_*,user_1*"), FLEET)
    assert chosen == {"eu": ["user_1", "user_10"], "us": ["user_1", "user_3"], "ap": []}
    assert missing == []
    _, missing = choose_fleet(parse_selection("ap:user_1,user_9,nowhere:user_1"), FLEET)
    assert missing == ["ap:user_1", "user_9", "nowhere:user_1"]  # a shard that is not one: a plain name


def test_a_file_names_tenants_exactly_and_everything_is_every_tenant() -> None:
    chosen, missing = choose_fleet(Selection(file="t.txt", names=("eu:user_1", "user_3", "user_1*")), FLEET)
    assert chosen == {"eu": ["user_1"], "us": ["user_3"], "ap": []} and missing == ["user_1*"]
    everything, _ = choose_fleet(Selection(), FLEET)
    assert everything == FLEET


def test_a_canary_count_is_spread_round_robin_over_shards_with_room() -> None:
    spread, _ = split_canary(parse_canary("5"), FLEET, "public")
    assert spread == {"eu": Canary(count=3), "us": Canary(count=2)}  # ap holds only its template
    spread, _ = split_canary(parse_canary("2"), FLEET, "public")
    assert spread == {"eu": Canary(count=1), "us": Canary(count=1)}
    spread, _ = split_canary(parse_canary("50"), FLEET, "public")
    assert spread == {"eu": Canary(count=3), "us": Canary(count=2)}  # no more than there are


def test_named_canaries_go_to_the_shards_that_hold_them() -> None:
    named, missing = split_canary(parse_canary("eu:user_2,user_1,user_9"), FLEET, "public")
    assert named == {"eu": Canary(names=("user_2", "user_1")), "us": Canary(names=("user_1",))}
    assert missing == ["user_9"]


def test_waves_interleave_the_shards_and_count_a_percentage_of_the_whole_fleet() -> None:
    pending = {"eu": ["public", "user_1", "user_2"], "us": ["public", "user_3"], "ap": []}
    waves = fleet_waves(pending, 10, parse_share("2"))
    assert [w.parts for w in waves] == [
        {"eu": ("public",), "us": ("public",)},
        {"eu": ("user_1",), "us": ("user_3",)},
        {"eu": ("user_2",)},
    ]
    assert [w.size for w in fleet_waves(pending, 10, parse_share("30%"))] == [3, 2]  # 30 % of 10 tenants
    [one] = fleet_waves(pending, 10, parse_share("100%"))
    assert one.size == 5 and fleet_waves({"eu": []}, 1, parse_share("1")) == []
