"""Staged rollouts as pure data (core.rollout): which tenants a run takes, which go first, the
waves of the rest; and their text forms through the one parser of run options."""

from __future__ import annotations

import pytest

from schemadiff.core.options import Options
from schemadiff.core.rollout import (
    Canary,
    Selection,
    Share,
    choose_canaries,
    parse_canary,
    parse_rate,
    parse_selection,
    parse_share,
    plan_stages,
)
from schemadiff.errors import SchemadiffError

TENANTS = ["public", "user_1", "user_2", "user_3", "user_10", "user_11", "admin_1"]


def test_globs_match_whole_names_case_sensitively_and_report_what_matched_nothing() -> None:
    selection = parse_selection("user_1*, user_3,User_2,nobody_*")
    assert selection == Selection(patterns=("user_1*", "user_3", "User_2", "nobody_*"))
    chosen, missing = selection.choose(TENANTS)
    assert chosen == ["user_1", "user_3", "user_10", "user_11"]
    assert missing == ["User_2", "nobody_*"]
    assert parse_selection("user_[12]").choose(TENANTS) == (["user_1", "user_2"], [])


def test_a_file_names_one_schema_a_line_and_keeps_the_run_s_order() -> None:
    selection = parse_selection("@wave1.txt")
    assert selection == Selection(file="wave1.txt") and not selection.everything
    read = selection.with_file_text("# first wave\nuser_3\n\n  user_1  # the oldest customer\nuser_3\nuser_99\n")
    assert read.names == ("user_3", "user_1", "user_99")
    assert read.choose(TENANTS) == (["user_1", "user_3"], ["user_99"])  # the tenants' order, not the file's
    assert str(read) == "@wave1.txt"
    with pytest.raises(ValueError, match="names no schema"):
        selection.with_file_text("# nothing\n\n")


def test_no_selection_takes_every_tenant() -> None:
    assert Options().selection.everything
    assert Options().selection.choose(TENANTS) == (TENANTS, [])
    assert not Options().staged


@pytest.mark.parametrize("text", ["", " ", "user_1,,user_2", "@", "@ "])
def test_a_bad_selection_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_selection(text)


def test_canary_by_count_takes_one_tenant_of_each_starting_state_first_and_never_the_template() -> None:
    chosen = ["public", "user_1", "user_2", "user_3", "user_4", "user_5", "user_6"]
    starts = {"public": "a", "user_1": "a", "user_2": "a", "user_3": "b", "user_4": "a", "user_5": "c", "user_6": "c"}
    # states by size: a (user_1, user_2, user_4), c (user_5, user_6), b (user_3)
    assert choose_canaries(Canary(count=1), chosen, starts, "public") == ("user_1",)
    assert choose_canaries(Canary(count=2), chosen, starts, "public") == ("user_1", "user_5")
    assert choose_canaries(Canary(count=3), chosen, starts, "public") == ("user_1", "user_3", "user_5")
    assert choose_canaries(Canary(count=4), chosen, starts, "public") == ("user_1", "user_2", "user_3", "user_5")
    assert choose_canaries(Canary(count=99), chosen, starts, "public") == tuple(chosen[1:])


def test_named_canaries_are_taken_as_named_in_the_run_s_order() -> None:
    assert choose_canaries(Canary(names=("user_3", "public")), TENANTS, {}, "public") == ("public", "user_3")


def test_stages_run_the_pending_canaries_then_waves_of_the_rest_in_order() -> None:
    chosen = ["public", "user_1", "user_2", "user_3", "user_4", "user_5", "user_6"]
    pending = set(chosen) - {"user_2", "user_5"}  # done by an earlier run
    stages = plan_stages(chosen, pending, ("user_1", "user_2"), Share(count=2))
    assert stages.canaries == ("user_1", "user_2") and stages.canary == ("user_1",)
    assert stages.waves == (("public", "user_3"), ("user_4", "user_6"))
    # 30 % of the 7 tenants taken, rounded up: waves of 3
    assert plan_stages(chosen, set(chosen), (), Share(percent=30)).waves == (
        ("public", "user_1", "user_2"),
        ("user_3", "user_4", "user_5"),
        ("user_6",),
    )
    assert plan_stages(chosen, set(chosen), (), Share()).waves == (tuple(chosen),)  # one wave: as always
    assert plan_stages(chosen, set(), (), Share(count=2)).waves == ()


def test_wave_sizes_and_rates_in_their_text_forms() -> None:
    assert parse_share("50") == Share(count=50) and parse_share("12.5%") == Share(percent=12.5)
    assert Share(percent=1).size(10) == 1 and Share(percent=25).size(10) == 3 and Share(count=4).size(10) == 4
    assert parse_rate("50/s") == 50 and parse_rate("600/min") == 10 and parse_rate("2") == 2
    assert parse_canary("2") == Canary(count=2) and parse_canary("user_1, user_7") == Canary(names=("user_1", "user_7"))
    for bad in ("0", "0%", "101%", "-1", "ten", "5 %%"):
        with pytest.raises(ValueError):
            parse_share(bad)
    for bad in ("0/s", "fast", "5/day", "-1"):
        with pytest.raises(ValueError):
            parse_rate(bad)
    with pytest.raises(ValueError):
        parse_canary("user_1,")


def test_the_rollout_options_travel_as_text_like_every_other_option() -> None:
    strings = Options.strings(
        {"tenants": "@wave.txt", "continue": "yes", "wave_size": "10%", "max_failures": "3"},
        {"SCHEMADIFF_CANARY": "2", "SCHEMADIFF_MAX_RATE": "600/min", "SCHEMADIFF_DELAY": "100ms"},
    )
    options = Options.from_strings({**strings, "max_replication_lag": "10s"})
    assert options == Options(
        selection=Selection(file="wave.txt"),
        canary=Canary(count=2),
        proceed=True,
        wave_size=Share(percent=10),
        max_failures=3,
        max_rate=10.0,
        delay=0.1,
        max_replication_lag=10.0,
    )
    assert options.staged


@pytest.mark.parametrize(
    "key,field,value,why",
    [
        ("tenants", "selection", "a,,b", "is not a comma-separated list of schema names or globs"),
        ("canary", "canary", "a,", "is not a number of tenants or a comma-separated list of schema names"),
        ("continue", "proceed", "maybe", "is not one of yes, no"),
        ("wave_size", "wave_size", "0", "is not a number of tenants (1 or more) or a percentage"),
        ("max_failures", "max_failures", "-1", "is not an integer from 0 to"),
        ("max_rate", "max_rate", "fast", "is not a rate above 0 such as 50/s"),
        ("delay", "delay", "soon", "is not a duration"),
        ("max_replication_lag", "max_replication_lag", "10 seconds", "is not a duration"),
    ],
)
def test_a_bad_rollout_option_names_its_key(key: str, field: str, value: str, why: str) -> None:
    with pytest.raises(SchemadiffError) as caught:
        Options.from_strings({field: value})
    assert str(caught.value).startswith(f"bad schemadiff option: {key}={value!r} ") and why in str(caught.value)
