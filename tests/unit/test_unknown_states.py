"""The stop on states a revision does not know, without a database: grouped by state, the nearest
known state's difference first, one line saying what to do; how plain Alembic shows it."""

from __future__ import annotations

import json

from alembic.util import CommandError

from schemadiff.core.fingerprint import fingerprint
from schemadiff.core.model import Column, SchemaModel, Table, model_to_dict
from schemadiff.errors import SchemadiffError
from schemadiff.runtime.command_errors import RunStopped, stopped
from schemadiff.runtime.job import Direction, GroupSQL, Job, LedgerRow, TenantState
from schemadiff.runtime.recorder import Forms
from schemadiff.runtime.unknown_states import UnknownStates, known_states, unknown_states

NOTHING = Direction(Forms((), ()))


def model(*columns: Column) -> SchemaModel:
    return SchemaModel((Table("t", (Column("id", "bigint", False), *columns)),))


START = model()  # the revision's one starting state
TARGET = model(Column("b", "integer"))
HAND_MADE = model(Column("hand_made", "text"))  # START plus a column added by hand
COMMENTED = model(Column("note", "text"), Column("other", "text"))  # two columns added by hand


def job(direction: str = "upgrade", carries_starts: bool = True) -> Job:
    starts = {fingerprint(START): json.dumps(model_to_dict(START))} if carries_starts else {}
    groups = {fingerprint(START): GroupSQL(NOTHING, NOTHING)}
    target = fingerprint(TARGET)
    return Job("rev1", direction, "public", "^user_[0-9]+$", ("t",), target, TARGET, groups, start_models=starts)


def state(m: SchemaModel) -> TenantState:
    return TenantState(fingerprint(m), m)


STATES = {
    "public": state(START),
    "user_1": state(START),
    "user_3": state(HAND_MADE),
    "user_4": state(HAND_MADE),
    "user_5": state(COMMENTED),
}


def test_schemas_are_grouped_by_state_with_the_nearest_known_state_first() -> None:
    error = unknown_states(job(), ["user_3", "user_4", "user_5"], STATES, {})
    assert isinstance(error, UnknownStates)
    assert error.summary == "3 schema(s) in 2 state(s) that revision rev1 does not know; nothing was changed"
    assert error.details == [
        f"  2 schema(s) in state {fingerprint(HAND_MADE)}: user_3, user_4",
        f"    nearest known state: {fingerprint(START)}, the starting state of group 1; "
        "to match it: drop column t.hand_made",
        "    to match the spec: 2 change(s) (`schemadiff plan` lists them)",
        f"  1 schema(s) in state {fingerprint(COMMENTED)}: user_5",
        f"    nearest known state: {fingerprint(START)}, the starting state of group 1; "
        "to match it: drop column t.note; drop column t.other",
        "    to match the spec: 3 change(s) (`schemadiff plan` lists them)",
    ]
    assert error.advice.startswith("To go on: plan a revision that knows these states (`schemadiff plan -m")
    assert "\n" not in error.advice and str(error).splitlines()[-1] == error.advice


def test_the_target_is_a_known_state_and_when_nearest_the_spec_line_is_not_repeated() -> None:
    almost = model(Column("b", "integer"), Column("x", "text"))
    error = unknown_states(job(), ["user_9"], {**STATES, "user_9": state(almost)}, {})
    assert isinstance(error, UnknownStates)
    assert error.details == [
        f"  1 schema(s) in state {fingerprint(almost)}: user_9",
        f"    nearest known state: {fingerprint(TARGET)}, the target (the spec); to match it: drop column t.x",
    ]


def test_a_revision_without_start_models_finds_them_in_schemas_still_in_that_state() -> None:
    older = job(carries_starts=False)
    assert [k.model for k in known_states(older, STATES)] == [START, TARGET]
    assert [k.model for k in known_states(older, {"user_3": state(HAND_MADE)})] == [TARGET]  # none left in it
    assert [k.model for k in known_states(job("downgrade"), STATES)] == [
        TARGET,
        START,
    ]  # a downgrade expects its target


def test_a_lost_ledger_row_is_still_its_own_message() -> None:
    error = unknown_states(job("downgrade"), ["user_1"], {"user_1": state(TARGET)}, {})
    assert not isinstance(error, UnknownStates)
    assert "have no ledger row" in str(error) and "assume_from=FINGERPRINT" in str(error)
    ledger = {"user_1": LedgerRow("upgrade", "OTHER", True)}
    assert isinstance(unknown_states(job("downgrade"), ["user_1"], {"user_1": state(TARGET)}, ledger), UnknownStates)


def test_plain_alembic_gets_the_details_on_stderr_and_one_failed_line(capsys) -> None:  # type: ignore[no-untyped-def]
    error = unknown_states(job(), ["user_3", "user_4", "user_5"], STATES, {})
    assert isinstance(error, UnknownStates)
    failed = stopped(error)
    assert isinstance(failed, CommandError) and isinstance(failed, RunStopped)
    assert str(failed) == f"{error.summary} (listed above). {error.advice}"
    assert "\n" not in str(failed)
    assert capsys.readouterr().err.splitlines() == [f"schemadiff: {error.summary}:", *error.details]
    assert str(stopped(RunStopped("x"))) == "x"
    assert str(stopped(SchemadiffError("a\nb"))) == "a b"  # one line, whatever it was
