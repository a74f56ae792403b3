"""`schemadiff check` without a database: the revision checksum, revision files read without running
them, tenants classified through the pending revisions, the gate's findings, and the JSON shapes."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from schemadiff.core.gate import gate
from schemadiff.core.tenant_states import (
    AT_SPEC,
    PENDING,
    STATUS_EXIT,
    UNKNOWN,
    RevisionInfo,
    tenant_states,
)
from schemadiff.errors import SchemadiffError
from schemadiff.render.check_report import check_dict, render_check_text, status_dict
from schemadiff.render.revision_checksum import operations_checksum, recorded_checksum
from schemadiff.render.revision_file import RevisionInfo as RenderInfo
from schemadiff.render.revision_file import render_revision
from schemadiff.workflow.versions import read_chain, read_revision

from .test_plan_render import demo_plan

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
INFO = RenderInfo("0123456789ab", None, "add task orchestration columns", "why", datetime(2026, 1, 15, 14, 30))


@pytest.fixture(scope="module")
def revision() -> str:
    return render_revision(demo_plan(3), INFO)


def test_a_written_revision_records_the_checksum_of_its_operations(revision: str) -> None:
    assert recorded_checksum(revision) == operations_checksum(revision)
    assert len(recorded_checksum(revision) or "") == 64
    assert recorded_checksum((GOLDEN / "revision_v1.py").read_text()) is None  # written before checksums


def _ruff_format(text: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--isolated", "--line-length", "100", "-"],
        input=text,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(_ruff_format, id="ruff format (quotes, line breaks, trailing commas)"),
        pytest.param(lambda t: t.replace("from alembic import op\n", "") + "\nfrom alembic import op\n", id="imports"),
        pytest.param(lambda t: t.replace("Why: why", "Why: the reason, reworded"), id="module docstring"),
        pytest.param(lambda t: t.replace(") → target.", ") → the target."), id="a function's docstring"),
        pytest.param(
            lambda t: t.replace("\ndef upgrade() -> None:", "\n# a comment\ndef upgrade() -> None:"), id="comment"
        ),
    ],
)
def test_the_checksum_ignores_what_changes_nothing(revision: str, edit) -> None:  # type: ignore[no-untyped-def]
    edited = edit(revision)
    assert edited != revision
    assert operations_checksum(edited) == operations_checksum(revision)
    assert recorded_checksum(edited) == operations_checksum(edited)


@pytest.mark.parametrize(
    "old,new",
    [
        ("server_default=runtime.verbatim('1')", "server_default=runtime.verbatim('2')"),  # an op's argument
        (
            "    op.drop_column('marketplace_tasks', 'step_order')",
            "    pass  # op.drop_column('marketplace_tasks', 'step_order')",
        ),  # an op gone
        ("TARGET = '", "TARGET = 'f"),
        ("down_revision = None", "down_revision = 'abc'"),
        ("downgrade_deletes=(runtime.Loss(", "downgrade_deletes=(runtime.Loss('x'), runtime.Loss("),
        ("from schemadiff import runtime", "from evil import runtime"),
    ],
)
def test_the_checksum_changes_with_the_operations(revision: str, old: str, new: str) -> None:
    assert old in revision
    edited = revision.replace(old, new, 1)
    assert operations_checksum(edited) != recorded_checksum(edited)


def _write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text)
    return path


def test_a_revision_is_read_without_running_it(tmp_path: Path, revision: str) -> None:
    trap = revision.replace(
        "from __future__ import annotations\n", "from __future__ import annotations\nraise SystemExit(9)\n"
    )
    info = read_revision(_write(tmp_path, "r.py", trap))
    assert info is not None and info.revision == "0123456789ab" and info.down == ()
    assert info.target == demo_plan(3).target_fingerprint
    assert info.starts == tuple(g.fingerprint for g in demo_plan(3).groups)
    assert info.recorded is not None and info.recorded != info.actual  # the trap is an edit too
    golden = read_revision(GOLDEN / "revision_v1.py")
    assert golden is not None and golden.target == "0afbcd0afbf7c182" and len(golden.starts) == 2
    assert golden.recorded is None


def _revision(rev: str, down: str | None, target: str | None = "t", starts: tuple[str, ...] = ("s",)) -> str:
    managed = f"TARGET = {target!r}\nGROUPS = [{', '.join(f'runtime.Group({s!r}, u, d)' for s in starts)}]\n"
    return f"revision = {rev!r}\ndown_revision: str | None = {down!r}\n" + (managed if target else "")


def test_the_chain_is_ordered_oldest_first_and_checked(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    _write(versions, "c.py", _revision("c", "b", "t3", ("t2",)))
    _write(versions, "a.py", _revision("a", None, "t1", ("t0",)))
    _write(versions, "b.py", _revision("b", "a", None))  # hand-written
    _write(versions, "__init__.py", "")
    _write(versions, "notes.py", "x = 1\n")
    chain = read_chain(versions)
    assert [r.revision for r in chain] == ["a", "b", "c"]
    assert [r.managed for r in chain] == [True, False, True]
    _write(versions, "d.py", _revision("d", "b"))
    with pytest.raises(SchemadiffError, match="2 heads"):
        read_chain(versions)
    (versions / "d.py").unlink()
    _write(versions, "e.py", _revision("e", "zzz"))
    with pytest.raises(SchemadiffError, match=r"e\.py: revision e revises zzz"):
        read_chain(versions)
    (versions / "e.py").write_text("revision = 'e'\ndef broken(:\n")
    with pytest.raises(SchemadiffError, match=r"e.py:2: not valid Python"):
        read_chain(versions)


R1 = RevisionInfo("r1", "v/r1.py", (), "T1", ("S0", "S0b"))
R2 = RevisionInfo("r2", "v/r2.py", ("r1",), "T2", ("T1",))
HAND = RevisionInfo("h", "v/h.py", ("r2",))


def test_tenants_are_followed_through_the_pending_revisions() -> None:
    groups = [("T2", ("public",)), ("S0", ("user_1",)), ("T1", ("user_2",)), ("X", ("user_3",))]
    states = tenant_states(groups, [R1, R2, HAND], None, "T2")
    by_schema = {g.schemas[0]: g for g in states.groups}
    assert by_schema["public"].state == AT_SPEC
    assert (by_schema["user_1"].state, by_schema["user_1"].via) == (PENDING, ("r1", "r2"))
    assert (by_schema["user_2"].state, by_schema["user_2"].via) == (PENDING, ("r2",))  # r1 skips it
    assert by_schema["user_3"].state == UNKNOWN and "revision r1 does not know" in by_schema["user_3"].reason
    assert states.head == "h" and states.verdict == UNKNOWN and STATUS_EXIT[states.verdict] == 4
    at_r1 = tenant_states([("T1", ("user_2",))], [R1, R2], "r1", "T2")
    assert at_r1.groups[0].via == ("r2",) and at_r1.verdict == PENDING and STATUS_EXIT[PENDING] == 3
    at_head = tenant_states([("T1", ("user_2",))], [R1, R2], "r2", "T2")  # drifted back after the upgrade
    assert at_head.groups[0].state == UNKNOWN and "the database is at the head and no" in at_head.groups[0].reason
    spec_moved = tenant_states([("S0", ("user_1",)), ("T1", ("user_2",))], [R1], None, "T9")
    assert [g.reason for g in spec_moved.groups] == [
        "the pending revision(s) take it to the head revision's target T1, not to the spec's T9: the spec changed "
        "and no revision captures it yet",
        "it is at the head revision's target T1, not at the spec's T9: the spec changed and no revision captures it yet",
    ]
    done = tenant_states([("T2", ("public", "user_1"))], [R1, R2], "r2", "T2")
    assert done.verdict == AT_SPEC and STATUS_EXIT[done.verdict] == 0
    behind = tenant_states([("T2", ("public",))], [R1, R2], "r1", "T2")
    assert behind.verdict == PENDING  # every tenant at the spec, the database not at the head


def test_the_gate_fails_on_an_uncaptured_spec_and_edited_revisions() -> None:
    edited = RevisionInfo("r2", "v/r2.py", ("r1",), "T2", ("T1",), recorded="aa", actual="bb")
    result = gate("schema.yaml", "T2", (R1, edited))
    assert [f.kind for f in result.problems] == ["revision_edited"]
    assert result.problems[0].message.startswith("v/r2.py: revision r2 was edited after it was written")
    assert [f.kind for f in result.warnings] == ["no_checksum"] and "v/r1.py" in result.warnings[0].message
    moved = gate("schema.yaml", "T3", (R1, R2))
    assert [f.kind for f in moved.problems] == ["spec_not_captured"] and not moved.ok
    assert "target state T3 is not the head revision's (r2 in v/r2.py, target T2)" in moved.problems[0].message
    assert gate("schema.yaml", "T2", (R1, R2, HAND)).ok  # a hand-written revision on top carries no target
    none = gate("schema.yaml", "T1", ())
    assert "no revision captures the spec" in none.problems[0].message and "--database-url" in none.problems[0].message
    signed = RevisionInfo("r1", "v/r1.py", (), "T1", ("S0",), recorded="aa", actual="aa")
    removed = gate("schema.yaml", "T2", (signed, R2))
    assert [f.kind for f in removed.problems] == ["checksum_removed"] and not removed.warnings


def test_the_gate_with_tenants() -> None:
    pending = tenant_states([("T2", ("public",)), ("T1", ("user_1", "user_2"))], [R1, R2], "r1", "T2")
    failed = gate("schema.yaml", "T2", (R1, R2), pending, "postgresql://db")
    assert [f.kind for f in failed.problems] == ["tenants_pending"]
    assert (
        "2 schema(s) in state T1 (user_1, user_2): pending: revision(s) r2 not applied yet"
        in failed.problems[0].message
    )
    allowed = gate("schema.yaml", "T2", (R1, R2), pending, "postgresql://db", allow_pending=True)
    assert allowed.ok and [f.kind for f in allowed.notes] == ["tenants_pending"]
    drifted = tenant_states([("X", ("user_3",))], [R1, R2], "r2", "T2")
    unknown = gate("schema.yaml", "T2", (R1, R2), drifted, allow_pending=True)
    assert [f.kind for f in unknown.problems] == ["tenants_unknown"] and "user_3" in unknown.problems[0].message
    adopted = tenant_states([("T1", ("public", "user_1"))], [], None, "T1")  # no revision, already at the spec
    result = gate("schema.yaml", "T1", (), adopted)
    assert result.ok and [f.kind for f in result.notes] == ["spec_not_captured"]


def test_json_shapes() -> None:
    states = tenant_states([("T2", ("public",)), ("T1", ("user_1",))], [R1, R2], "r1", "T2")
    result = gate("schema.yaml", "T2", (R1, R2), states, "postgresql://u:***@h/db")
    data = json.loads(json.dumps(check_dict(result)))
    assert set(data) == {"ok", "exit_code", "spec", "head", "revisions", "problems", "warnings", "notes", "database"}
    assert (data["ok"], data["exit_code"]) == (False, 2)
    assert data["head"] == {"revision": "r2", "path": "v/r2.py", "target": "T2"}
    assert data["revisions"][0] == {
        "revision": "r1",
        "path": "v/r1.py",
        "down_revisions": [],
        "schemadiff": True,
        "target": "T1",
        "checksum": "absent",
    }
    assert data["problems"][0]["kind"] == "tenants_pending"
    db = data["database"]
    assert db == status_dict(states, "postgresql://u:***@h/db")
    assert (db["verdict"], db["exit_code"], db["counts"]) == ("pending", 3, {"at_spec": 1, "pending": 1, "unknown": 0})
    assert db["groups"][1] == {
        "fingerprint": "T1",
        "state": "pending",
        "schema_count": 1,
        "schemas": ["user_1"],
        "via": ["r2"],
        "reason": "",
    }
    text = render_check_text(result)
    assert text.endswith("check failed: 1 problem(s)\n") and "problem: 1 schema(s) in state T1" in text
