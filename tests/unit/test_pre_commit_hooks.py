""".pre-commit-hooks.yaml: valid for pre-commit itself (its own manifest schema), each hook's entry is
the installed ``schemadiff`` command and exits as the README says when run as pre-commit runs it
(a subprocess in the repository, no file names), and the README's .pre-commit-config.yaml example is
a valid pre-commit configuration naming these hooks."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

from pre_commit.clientlib import load_config, load_manifest

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / ".pre-commit-hooks.yaml"


def hooks() -> dict[str, dict[str, object]]:
    return {h["id"]: h for h in load_manifest(str(MANIFEST))}  # raises on anything pre-commit refuses


def run_entry(hook: dict[str, object], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The hook's entry as pre-commit runs it, ``schemadiff`` being this checkout's command."""
    command, *rest = shlex.split(str(hook["entry"]))
    assert command == "schemadiff"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "schemadiff.cli", *rest, *args], cwd=cwd, env=env, capture_output=True, text=True
    )


def test_the_manifest_offers_both_hooks_as_python_commands_without_file_names() -> None:
    found = hooks()
    assert list(found) == ["schemadiff-validate", "schemadiff-models"]
    assert [h["entry"] for h in found.values()] == ["schemadiff validate", "schemadiff models --check"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["schemadiff"] == "schemadiff.cli:main"  # what `language: python` installs
    for hook in found.values():
        assert hook["language"] == "python" and hook["pass_filenames"] is False


def test_each_hook_runs_when_the_spec_or_the_models_change() -> None:
    found = hooks()
    runs_on = {i: re.compile(str(h["files"])) for i, h in found.items()}
    assert all(runs_on[i].search(p) for i in found for p in ("schema.yaml", "db/schema.yml"))
    assert all(runs_on["schemadiff-models"].search(p) for p in ("models.py", "app/models.py"))
    assert not any(runs_on[i].search(p) for i in found for p in ("myschema.yaml", "app/mymodels.py", "README.md"))
    assert not runs_on["schemadiff-validate"].search("models.py")


def test_the_entries_exit_as_documented(tmp_path: Path) -> None:
    validate, models = hooks()["schemadiff-validate"], hooks()["schemadiff-models"]
    spec = tmp_path / "schema.yaml"
    spec.write_text((ROOT / "schema.yaml").read_text())
    ok = run_entry(validate, tmp_path)
    assert (ok.returncode, ok.stdout) == (0, "schema.yaml: valid (1 table(s): marketplace_tasks)\n")
    missing = run_entry(models, tmp_path)
    assert missing.returncode == 1 and missing.stderr.startswith("models.py does not exist")
    written = subprocess.run(
        [sys.executable, "-m", "schemadiff.cli", "models"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
    )
    assert written.returncode == 0, written.stderr
    assert run_entry(models, tmp_path).returncode == 0
    spec.write_text(spec.read_text().replace("varchar(20)", "varchar(30)"))
    stale = run_entry(models, tmp_path)
    assert (stale.returncode, len(stale.stderr.splitlines())) == (1, 1)
    assert stale.stderr.startswith("models.py is out of date with schema.yaml")
    spec.write_text(spec.read_text().replace("type: integer, nullable: false}", "type: integr, nullable: false}", 1))
    bad = run_entry(validate, tmp_path)
    assert bad.returncode == 1 and "schema.yaml:11:" in bad.stderr
    moved = tmp_path / "db"  # args as the README shows them
    moved.mkdir()
    spec.rename(moved / "schema.yaml")
    (tmp_path / "models.py").rename(tmp_path / "app_models.py")
    elsewhere = run_entry(models, tmp_path, "--spec", "db/schema.yaml", "--out", "app_models.py")
    assert elsewhere.returncode == 1 and elsewhere.stderr.startswith("db/schema.yaml:11:")


def test_the_readme_example_is_a_valid_config_using_these_hooks(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    [example] = re.findall(r"```yaml\n(# \.pre-commit-config\.yaml\n.*?)```", readme, re.S)
    path = tmp_path / ".pre-commit-config.yaml"
    path.write_text(example)
    config = load_config(str(path))  # raises on anything pre-commit refuses
    used = [h["id"] for repo in config["repos"] for h in repo["hooks"]]
    assert used == list(hooks())
