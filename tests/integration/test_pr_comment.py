"""The GitHub Action's script (``python -m schemadiff.cli.pr_comment``) run for real: `check` and
`plan --format markdown` against a real database through a read-only role, the comment created
and then updated through GitHub's REST API — played by a small local HTTP server that records
every request (GitHub cannot be reached from a test) — and the exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from schemadiff.cli.pr_comment import MARKER

from .helpers import execute, make_project, run_cli, write_revision
from .test_check import read_only_role
from .test_revision_e2e import seed

ROOT = Path(__file__).resolve().parents[2]
REPO, PR, TOKEN = "acme/shop", 7, "ghs_test_token"


@dataclass
class FakeGitHub:
    """The issue-comments endpoints of GitHub's REST API, 100 comments a page, recording requests."""

    comments: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, str, dict[str, Any] | None, str]] = field(default_factory=list)
    url: str = ""

    def handle(self, method: str, path: str, body: dict[str, Any] | None, auth: str) -> tuple[int, Any, str]:
        self.requests.append((method, path, body, auth))
        parts = urlsplit(path)
        listing = f"/repos/{REPO}/issues/{PR}/comments"
        if method == "GET" and parts.path == listing:
            page = int(parse_qs(parts.query).get("page", ["1"])[0])
            more = len(self.comments) > page * 100
            link = f'<{self.url}{listing}?per_page=100&page={page + 1}>; rel="next"' if more else ""
            return 200, self.comments[(page - 1) * 100 : page * 100], link
        if method == "POST" and parts.path == listing and body:
            comment = {
                "id": 1000 + len(self.comments),
                "body": body["body"],
                "html_url": f"https://github.test/c{len(self.comments)}",
            }
            self.comments.append(comment)
            return 201, comment, ""
        prefix = f"/repos/{REPO}/issues/comments/"
        if method == "PATCH" and parts.path.startswith(prefix) and body:
            [comment] = [c for c in self.comments if str(c["id"]) == parts.path[len(prefix) :]]
            comment["body"] = body["body"]
            return 200, comment, ""
        return 404, {"message": "Not Found"}, ""

    def sent(self, method: str) -> list[tuple[str, str, dict[str, Any] | None, str]]:
        return [r for r in self.requests if r[0] == method]


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            status, payload, link = fake.handle(self.command, self.path, body, self.headers.get("Authorization", ""))
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if link:
                self.send_header("Link", link)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = _serve

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def run_bot(project: Path, url: str, dev_url: str, github: FakeGitHub, *args: str) -> subprocess.CompletedProcess[str]:
    event = project / "event.json"
    event.write_text(json.dumps({"action": "synchronize", "number": PR, "pull_request": {"number": PR}}))
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "GITHUB_STEP_SUMMARY")},
        "PYTHONPATH": str(ROOT),
        "SCHEMADIFF_DATABASE_URL": url,
        "GITHUB_API_URL": github.url,
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_OUTPUT": str(project / "github_output"),
    }
    return subprocess.run(
        [sys.executable, "-m", "schemadiff.cli.pr_comment", "--dev-url", dev_url, *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_action_script_posts_then_updates_one_comment(
    fresh_db: str, spec_path: Path, server_url: str, tmp_path: Path, github: FakeGitHub
) -> None:
    seed(fresh_db, spec_path, tenants=4, hand_fixed="user_3")
    project = make_project(tmp_path)
    (project / "schema.yaml").write_text(spec_path.read_text())
    github.comments += [{"id": n, "body": f"looks good {n}", "html_url": ""} for n in range(120)]  # a busy PR
    with read_only_role(server_url, fresh_db) as role:
        ro_url, password = role.url, role.password
        first = run_bot(project, ro_url, server_url, github, "--allow-pending")
        assert first.returncode == 2, first.stderr  # no revision captures the spec yet
        [(_, path, body, auth)] = github.sent("POST")
        assert path == f"/repos/{REPO}/issues/{PR}/comments" and auth == f"Bearer {TOKEN}"
        text = body["body"] if body else ""
        assert text.startswith(MARKER + "\n### schemadiff check: failed (exit 2)")
        assert "no revision captures the spec" in text
        assert "## schemadiff plan: `schema.yaml`" in text and "| 1 `" in text  # the plan's markdown, its groups
        assert "add column marketplace_tasks.step_type" in text and "user_3" in text
        assert "plan exit 2" in text and password not in text and password not in first.stdout + first.stderr
        assert text == first.stdout  # printed as posted
        assert "check-exit-code=2\nplan-exit-code=2\n" in (project / "github_output").read_text()

        write_revision(project, project / "schema.yaml", fresh_db, server_url)
        second = run_bot(project, ro_url, server_url, github, "--allow-pending")
        assert second.returncode == 0, second.stdout + second.stderr
        assert len(github.sent("POST")) == 1, "one sticky comment, never a second"
        [(_, path, body, _)] = github.sent("PATCH")
        assert path == f"/repos/{REPO}/issues/comments/1120"  # found on the second page of comments
        updated = github.comments[-1]["body"]
        assert updated == (body or {}).get("body") and updated.startswith(MARKER + "\n### schemadiff check: passed")
        assert "0 schema(s) at the spec · 5 pending · 0 unknown" in updated
        assert "pending: revision(s)" in updated  # the notes say why pending tenants pass
        assert "updated the schemadiff comment on pull request #7" in second.stderr

        strict = run_bot(project, ro_url, server_url, github)  # every tenant must be at the spec
        assert strict.returncode == 2
        assert len(github.sent("PATCH")) == 2 and github.comments[-1]["body"].startswith(
            MARKER + "\n### schemadiff check: failed (exit 2)"
        )

        applied = run_cli("apply", "--database-url", fresh_db, "--config", project / "alembic.ini", "--yes",
                          "--spec", project / "schema.yaml")  # fmt: skip
        assert applied.exit_code == 0, applied.stderr
        execute(fresh_db, f"GRANT SELECT ON public.alembic_version TO {role.name}")  # created by the first upgrade
        done = run_bot(project, ro_url, server_url, github)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "No changes: every schema is at the spec." in github.comments[-1]["body"]


def test_without_a_pull_request_the_comment_is_printed(tmp_path: Path, server_url: str, github: FakeGitHub) -> None:
    project = make_project(tmp_path)
    (project / "schema.yaml").write_text("version: 1\ntables: {t: {columns: {id: {type: integr}}}}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_") and k not in ("DATABASE_URL",)}
    env.update(PYTHONPATH=str(ROOT), SCHEMADIFF_DATABASE_URL=server_url)
    done = subprocess.run(
        [sys.executable, "-m", "schemadiff.cli.pr_comment", "--dev-url", server_url],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1  # a bad spec is an error of the check (and of the plan)
    assert done.stdout.startswith(MARKER + "\n### schemadiff check: error (exit 1)")
    assert "schema.yaml:1:" in done.stdout and "unknown column type 'integr'" in done.stdout
    assert "the comment is printed, not posted" in done.stderr and github.requests == []
