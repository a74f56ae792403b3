"""The pull-request comment's body and exit code from the commands' outputs (the script's real run on
a database is tests/integration/test_pr_comment.py)."""

from __future__ import annotations

import json

from schemadiff.cli.pr_comment import (
    COMMENT_LIMIT,
    MARKER,
    Ran,
    _next_page,
    comment_body,
    exit_code,
    pull_request_number,
)

CHECK = {
    "ok": True,
    "spec": {"path": "schema.yaml", "target": "t1"},
    "head": {"revision": "r1", "path": "migrations/versions/r1.py", "target": "t1"},
    "database": None,
    "problems": [],
    "warnings": [{"kind": "no_checksum", "message": "old.py: revision r0 records no checksum", "path": "old.py"}],
    "notes": [],
}


def test_the_body_carries_the_marker_the_verdict_and_the_plan() -> None:
    body = comment_body(Ran(0, json.dumps(CHECK), ""), Ran(2, "## schemadiff plan: `schema.yaml`\n\n1 group\n", ""))
    assert body.startswith(MARKER + "\n### schemadiff check: passed\n")
    assert "- head revision `r1` (`migrations/versions/r1.py`): target state `t1`" in body
    assert "**Warnings**\n\n- old.py: revision r0 records no checksum" in body
    assert "## schemadiff plan: `schema.yaml`\n\n1 group" in body and body.endswith("plan exit 2</sub>\n")


def test_a_huge_body_stays_under_the_comment_limit() -> None:
    many = {**CHECK, "ok": False, "problems": [{"kind": "k", "message": "m" * 500, "path": ""}] * 500}
    body = comment_body(Ran(2, json.dumps(many), ""), Ran(2, "x" * 70_000, ""))
    assert len(body) < COMMENT_LIMIT and "… and 470 more" in body and "cut to stay under" in body


def test_errors_show_their_lines_and_decide_the_exit_code() -> None:
    check, plan = Ran(1, "", "error: database error: boom\n"), Ran(1, "", "error: plan refused: x\n")
    body = comment_body(check, plan)
    assert "### schemadiff check: error (exit 1)\n\n```\nerror: database error: boom\n```" in body
    assert "### schemadiff plan: error or refused (exit 1)" in body and "error: plan refused: x" in body
    assert exit_code(check, plan) == 1
    assert exit_code(Ran(2, "", ""), Ran(2, "", "")) == 2
    assert exit_code(Ran(0, "", ""), Ran(2, "", "")) == 0  # changes are what a pull request is for
    assert exit_code(Ran(0, "", ""), Ran(1, "", "")) == 1  # a refused plan fails the job
    assert exit_code(Ran(0, "", ""), None) == 0
    assert "plan skipped" in comment_body(Ran(0, json.dumps(CHECK), ""), None)


def test_the_pull_request_and_the_next_page(tmp_path) -> None:  # type: ignore[no-untyped-def]
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 42}}))
    assert pull_request_number({"GITHUB_EVENT_PATH": str(event)}) == 42
    assert pull_request_number({"GITHUB_EVENT_PATH": str(event), "SCHEMADIFF_PR_NUMBER": "5"}) == 5
    assert pull_request_number({}) is None
    link = '<https://api.github.com/x?page=2>; rel="next", <https://api.github.com/x?page=9>; rel="last"'
    assert _next_page(link) == "https://api.github.com/x?page=2" and _next_page("") is None
