"""``schemadiff models`` on the command line (no database): it writes the file, ``--check`` exits 1
with one line naming the file once the spec changed and 0 after regenerating, a file only laid out
otherwise stays current (and is left as it is), a bad spec writes nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from schemadiff.cli import app

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["models", *map(str, args)])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def project(tmp_path: Path) -> tuple[Path, Path]:
    spec = tmp_path / "schema.yaml"
    spec.write_text((ROOT / "schema.yaml").read_text())
    return spec, tmp_path / "app" / "models.py"


def test_check_fails_after_the_spec_changes_and_passes_after_regenerating(tmp_path: Path) -> None:
    spec, out = project(tmp_path)
    code, _stdout, stderr = run("--spec", spec, "--out", out)
    assert code == 0 and stderr == f"wrote {out}: 1 model(s), 0 Core table(s), 0 enum type(s) from {spec}\n"
    assert "class MarketplaceTasks(Base):" in out.read_text()
    assert run("--spec", spec, "--out", out, "--check") == (0, f"{out} is up to date with {spec}\n", "")
    added = "      priority:      {type: smallint, nullable: false, default: 0}\n    indexes:\n"
    spec.write_text(spec.read_text().replace("    indexes:\n", added))
    code, stdout, stderr = run("--spec", spec, "--out", out, "--check")
    assert (code, stdout) == (1, "")
    assert stderr == f"{out} is out of date with {spec}; run: schemadiff models --spec {spec} --out {out}\n"
    assert "priority" not in out.read_text()  # --check writes nothing
    assert run("--spec", spec, "--out", out)[0] == 0
    assert "priority: Mapped[int] = mapped_column(" in out.read_text()
    assert run("--spec", spec, "--out", out, "--check")[0] == 0


def test_a_missing_file_is_out_of_date(tmp_path: Path) -> None:
    spec, out = project(tmp_path)
    code, _stdout, stderr = run("--spec", spec, "--out", out, "--check")
    assert code == 1
    assert stderr.splitlines() == [
        f"{out} does not exist; it is generated from {spec}; run: schemadiff models --spec {spec} --out {out}"
    ]


def test_a_file_laid_out_otherwise_is_current_and_an_edited_one_is_not(tmp_path: Path) -> None:
    spec, out = project(tmp_path)
    run("--spec", spec, "--out", out)
    ruff = [
        sys.executable,
        "-m",
        "ruff",
        "format",
        "--isolated",
        "--line-length",
        "120",
        "--config",
        "format.quote-style='single'",
        "--config",
        "format.skip-magic-trailing-comma=true",
    ]
    subprocess.run([*ruff, str(out)], check=True, capture_output=True)
    reformatted = out.read_text()
    assert "__tablename__ = 'marketplace_tasks'" in reformatted  # ruff did change it
    assert "mapped_column(sa.String(20), server_default=sa.text(\"'pending'\"))" in reformatted
    assert run("--spec", spec, "--out", out, "--check")[0] == 0
    assert run("--spec", spec, "--out", out) == (0, "", f"{out} is up to date with {spec}\n")
    assert out.read_text() == reformatted  # left as the formatter made it
    out.write_text(reformatted.replace("sa.String(20)", "sa.String(30)"))
    assert run("--spec", spec, "--out", out, "--check")[0] == 1
    out.write_text(reformatted.replace("# Tenants:", "# Tenant:"))  # comments count too
    assert run("--spec", spec, "--out", out, "--check")[0] == 1


def test_a_bad_spec_is_reported_at_its_line_and_writes_nothing(tmp_path: Path) -> None:
    spec, out = project(tmp_path)
    spec.write_text(spec.read_text().replace("type: integer, nullable: false}", "type: integr, nullable: false}", 1))
    code, _stdout, stderr = run("--spec", spec, "--out", out)
    assert code == 1
    assert f"{spec}:11:" in stderr and "unknown column type 'integr'; did you mean 'integer'?" in stderr
    assert not out.exists()


def test_dash_prints_the_module_and_cannot_be_checked(tmp_path: Path) -> None:
    spec, _out = project(tmp_path)
    code, stdout, _stderr = run("--spec", spec, "--out", "-")
    assert code == 0 and stdout == (ROOT / "models.py").read_text()
    assert run("--spec", spec, "--out", "-", "--check") == (1, "", "error: --check needs a file: give --out PATH\n")
