"""The pull-request bot behind ``action.yml``: run ``schemadiff check`` and ``schemadiff plan --format
markdown``, build one comment, and create it on the pull request or update the one posted before
(found by its hidden marker), through GitHub's REST API.

    python -m schemadiff.cli.pr_comment [--spec schema.yaml] [--config alembic.ini] [--allow-pending]

Read from the environment, as GitHub Actions sets it: ``SCHEMADIFF_DATABASE_URL`` (never an
argument, so it shows in no process list), ``GITHUB_TOKEN``, ``GITHUB_REPOSITORY``,
``GITHUB_EVENT_PATH`` (the pull request's number; ``SCHEMADIFF_PR_NUMBER`` overrides it),
``GITHUB_API_URL`` (``https://api.github.com`` by default), ``GITHUB_STEP_SUMMARY`` and
``GITHUB_OUTPUT`` when set. Without a pull request or a token the comment is printed, not posted.

Exit code: the check's when it failed (2) or erred (1), else 1 when the plan erred or was
refused, else 0 (a plan with changes is what a pull request is for). The comment is posted first
either way; a failure to post it exits 1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from schemadiff import __version__

MARKER = "<!-- schemadiff -->"
COMMENT_LIMIT = 65_536
SHOWN_FINDINGS = 30


@dataclass(frozen=True)
class Ran:
    """One schemadiff command: its exit code and output."""

    code: int
    stdout: str
    stderr: str


def run_schemadiff(*args: str) -> Ran:
    done = subprocess.run([sys.executable, "-m", "schemadiff.cli", *args], capture_output=True, text=True, check=False)
    return Ran(done.returncode, done.stdout, done.stderr)


def _fenced(text: str) -> list[str]:
    return ["```", text.strip().replace("```", "'''"), "```"]


def _findings(title: str, items: list[dict[str, str]]) -> list[str]:
    if not items:
        return []
    lines = ["", f"**{title}**", ""]
    lines += [f"- {item['message']}" for item in items[:SHOWN_FINDINGS]]
    if len(items) > SHOWN_FINDINGS:
        lines.append(f"- … and {len(items) - SHOWN_FINDINGS} more (`schemadiff check` lists them all)")
    return lines


def check_section(check: Ran) -> list[str]:
    """The check's verdict and findings, from its JSON (its text without the database's address)."""
    try:
        result: dict[str, Any] = json.loads(check.stdout)
    except json.JSONDecodeError:
        return [f"### schemadiff check: error (exit {check.code})", "", *_fenced(check.stderr or check.stdout)]
    verdict = "passed" if result["ok"] else f"failed (exit {check.code})"
    lines = [f"### schemadiff check: {verdict}", ""]
    lines.append(f"- spec `{result['spec']['path']}`: target state `{result['spec']['target']}`")
    head = result["head"]
    if head:
        lines.append(f"- head revision `{head['revision']}` (`{head['path']}`): target state `{head['target']}`")
    db = result["database"]
    if db:
        counts = db["counts"]
        lines.append(
            f"- database at revision `{db['revision'] or '(none)'}`, head `{db['head'] or '(none)'}`: "
            f"{counts['at_spec']} schema(s) at the spec · {counts['pending']} pending · {counts['unknown']} unknown"
        )
    else:
        lines.append("- no database checked")
    lines += _findings("Problems", result["problems"])
    lines += _findings("Warnings", result["warnings"])
    lines += _findings("Notes", result["notes"])
    return lines


def plan_section(plan: Ran | None) -> list[str]:
    if plan is None:
        return ["No database URL (the secret is not available, e.g. to a pull request from a fork): plan skipped."]
    if plan.code == 1:
        return ["### schemadiff plan: error or refused (exit 1)", "", *_fenced(plan.stderr), "", plan.stdout.strip()]
    return [plan.stdout.strip()]


def comment_body(check: Ran, plan: Ran | None) -> str:
    """One comment: the marker, the check, the plan, a footer; under GitHub's comment limit."""
    lines = [MARKER, *check_section(check), "", *plan_section(plan), ""]
    footer = f"<sub>schemadiff {__version__} · check exit {check.code} · plan exit {'-' if plan is None else plan.code}</sub>"
    body = "\n".join(lines).strip() + "\n"
    room = COMMENT_LIMIT - len(footer) - 200
    if len(body) > room:
        body = body[:room] + "\n\n_… cut to stay under GitHub's comment limit; run schemadiff locally for all._\n"
    return body + "\n" + footer + "\n"


def exit_code(check: Ran, plan: Ran | None) -> int:
    if check.code != 0:
        return check.code
    return 1 if plan is not None and plan.code == 1 else 0


class GitHub:
    """The few REST calls the sticky comment needs (``GITHUB_API_URL`` makes the base injectable)."""

    def __init__(self, api_url: str, repository: str, token: str) -> None:
        self.api_url = api_url.rstrip("/")
        self.repository = repository
        self.token = token

    def _request(self, method: str, url: str, body: dict[str, str] | None = None) -> tuple[Any, str]:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        request.add_header("Accept", "application/vnd.github+json")
        request.add_header("X-GitHub-Api-Version", "2022-11-28")
        request.add_header("User-Agent", f"schemadiff/{__version__}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null"), response.headers.get("Link", "")

    def find_comment(self, number: int) -> dict[str, Any] | None:
        """The comment carrying the marker, following the pages of the pull request's comments."""
        url: str | None = f"{self.api_url}/repos/{self.repository}/issues/{number}/comments?per_page=100"
        while url:
            comments, link = self._request("GET", url)
            for comment in comments:
                if MARKER in (comment.get("body") or ""):
                    return dict(comment)
            url = _next_page(link)
        return None

    def upsert(self, number: int, body: str) -> tuple[str, str]:
        """Update the marked comment, else create one; ("updated" | "created", its URL)."""
        found = self.find_comment(number)
        if found is not None:
            comment, _ = self._request(
                "PATCH", f"{self.api_url}/repos/{self.repository}/issues/comments/{found['id']}", {"body": body}
            )
            return "updated", str(comment.get("html_url", ""))
        comment, _ = self._request(
            "POST", f"{self.api_url}/repos/{self.repository}/issues/{number}/comments", {"body": body}
        )
        return "created", str(comment.get("html_url", ""))


def _next_page(link: str) -> str | None:
    match = re.search(r'<([^>]+)>;\s*rel="next"', link)
    return match[1] if match else None


def pull_request_number(env: dict[str, str]) -> int | None:
    if env.get("SCHEMADIFF_PR_NUMBER"):
        return int(env["SCHEMADIFF_PR_NUMBER"])
    path = env.get("GITHUB_EVENT_PATH")
    if not path or not Path(path).exists():
        return None
    event = json.loads(Path(path).read_text())
    number = (event.get("pull_request") or {}).get("number") or event.get("number")
    return int(number) if number else None


def _append(variable: str, text: str, env: dict[str, str]) -> None:
    if env.get(variable):
        with open(env[variable], "a", encoding="utf-8") as out:
            out.write(text)


def main(argv: list[str] | None = None, env: dict[str, str] | None = None) -> int:
    env = dict(os.environ) if env is None else env
    parser = argparse.ArgumentParser(prog="python -m schemadiff.cli.pr_comment", description=__doc__.splitlines()[0])
    parser.add_argument("--spec", default="schema.yaml")
    parser.add_argument("--config", default="alembic.ini")
    parser.add_argument("--dev-url", default=None, help="Dev database for normalizing the spec (embedded by default).")
    parser.add_argument("--allow-pending", action="store_true", help="Pass --allow-pending to check.")
    args = parser.parse_args(argv)
    dev = ["--dev-url", args.dev_url] if args.dev_url else []
    check = run_schemadiff(
        "check", "--spec", args.spec, "--config", args.config, "--format", "json", *dev,
        *(["--allow-pending"] if args.allow_pending else []),
    )  # fmt: skip
    has_database = bool(env.get("SCHEMADIFF_DATABASE_URL") or env.get("DATABASE_URL"))
    plan = run_schemadiff("plan", "--spec", args.spec, "--format", "markdown", *dev) if has_database else None
    body = comment_body(check, plan)
    code = exit_code(check, plan)
    sys.stdout.write(body)
    _append("GITHUB_STEP_SUMMARY", body, env)
    _append("GITHUB_OUTPUT", f"check-exit-code={check.code}\nplan-exit-code={'' if plan is None else plan.code}\n", env)
    number, token = pull_request_number(env), env.get("GITHUB_TOKEN", "")
    if number is None or not token or not env.get("GITHUB_REPOSITORY"):
        sys.stderr.write("note: no pull request or token: the comment is printed, not posted\n")
        return code
    github = GitHub(env.get("GITHUB_API_URL", "https://api.github.com"), env["GITHUB_REPOSITORY"], token)
    try:
        action, url = github.upsert(number, body)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        sys.stderr.write(f"error: could not post the comment on pull request #{number}: {exc}\n")
        return 1
    sys.stderr.write(f"{action} the schemadiff comment on pull request #{number}: {url}\n")
    _append("GITHUB_OUTPUT", f"comment-url={url}\n", env)
    return code


if __name__ == "__main__":
    sys.exit(main())
