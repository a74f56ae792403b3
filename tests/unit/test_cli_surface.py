"""What the command line shows before any database: every command's --help, the progress bar."""

from __future__ import annotations

import re

import pytest
from rich.console import Console
from typer.main import get_command
from typer.testing import CliRunner

from schemadiff.cli import app, run_progress


def command_paths() -> list[list[str]]:
    """[] for the root, then every command and subcommand by its names."""
    paths: list[list[str]] = [[]]
    pending = [([], get_command(app))]
    while pending:
        path, group = pending.pop()
        for name, command in sorted(getattr(group, "commands", {}).items()):
            paths.append([*path, name])
            pending.append(([*path, name], command))
    return paths


def test_every_command_is_listed() -> None:
    names = {" ".join(p) for p in command_paths()}
    assert {"", "plan", "apply", "rollback", "init", "demo", "db", "db stop", "db url"} <= names


TYPE_NAMES = re.compile(r"<(?:str|bool|int|float|list|path|file|text|datetime|uuid|tuple)\b[^>]*>|<[a-z]+\|[a-z|]+>")


@pytest.mark.parametrize("path", command_paths(), ids=lambda p: " ".join(p) or "root")
def test_help_shows_metavars_not_python_types(path: list[str]) -> None:
    """typer would show ``<list[str]>`` beside --allow, ``<str>`` beside a URL and ``<bool>`` beside a
    flag; every command's help shows a metavar (URL, HAZARD, TEXT, PATH, [text|json]) or nothing."""
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"}, terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "--help" in result.output and "Show this message and exit." in result.output
    assert TYPE_NAMES.findall(result.output) == [], result.output
    [help_line] = [line for line in result.output.splitlines() if "--help " in line]
    assert re.search(r"--help\s+Show this message", help_line), help_line  # a flag: no metavar between


@pytest.mark.parametrize(
    ("path", "option", "metavar"),
    [
        (["plan"], "--allow", "HAZARD"),
        (["plan"], "--database-url", "URL"),
        (["plan"], "--dev-url", "URL"),
        (["plan"], "--spec", "PATH"),
        (["plan"], "--format", "[text|sql|json|markdown]"),
        (["apply"], "--workers", "INTEGER"),
        (["inspect"], "--tables", "TABLE"),
        (["tenant", "create"], "--lock-timeout", "TEXT"),
        (["apply"], "--tenants", "NAMES|@FILE"),
        (["rollback"], "--tenants", "NAMES|@FILE"),
    ],
)
def test_an_option_that_takes_a_value_shows_its_metavar(path: list[str], option: str, metavar: str) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"}, terminal_width=200)
    [line] = [line for line in result.output.splitlines() if re.match(rf"\W*{option}\s", line)]
    assert re.search(rf"{re.escape(option)}\s+(-\w\s+)?{re.escape(metavar)}(\s|$)", line), line


def test_no_progress_bar_is_drawn_before_there_is_work(capsys: pytest.CaptureFixture[str]) -> None:
    with run_progress.Progress("upgrade") as progress:
        progress.report("public", 0, 0)  # nothing to do: no bar
    assert capsys.readouterr().err == ""
    with run_progress.Progress("upgrade") as progress:
        assert progress._bar is None  # nothing drawn until the runtime reports a tenant
        progress.report("public", 1, 2)
        progress.report("user_1", 2, 2)
    shown = capsys.readouterr().err
    assert "2/2" in shown and "?" not in shown


def test_the_bar_goes_to_stderr() -> None:
    with run_progress.Progress("upgrade") as progress:
        progress.report("public", 1, 1)
        assert progress._bar is not None
        console: Console = progress._bar.console
        assert console.stderr
