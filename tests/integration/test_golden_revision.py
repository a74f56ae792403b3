"""The runtime API is a compatibility promise: a revision written by an earlier schemadiff (the
committed tests/golden/revision_v1.py, generated from schema.yaml for the demo database) must
keep upgrading and downgrading with the current code."""

from __future__ import annotations

import shutil
from pathlib import Path

from schemadiff.spec.schema import load_spec
from schemadiff.workflow import demo

from .helpers import alembic, fingerprints, make_project, run_cli

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "revision_v1.py"


def test_a_revision_from_an_earlier_version_still_runs(fresh_db: str, spec_path: Path, tmp_path: Path) -> None:
    demo.seed_previous_state(fresh_db, load_spec(spec_path), tenants=8, rows=3)
    start = fingerprints(fresh_db, spec_path)
    project = make_project(tmp_path)
    shutil.copy(GOLDEN, project / "migrations" / "versions" / GOLDEN.name)
    up = alembic(project, fresh_db, "upgrade", "head")
    assert up.returncode == 0, up.stderr
    assert run_cli("plan", "--spec", spec_path, "--database-url", fresh_db).exit_code == 0
    down = alembic(project, fresh_db, "downgrade", "base")
    assert down.returncode == 0, down.stderr
    assert fingerprints(fresh_db, spec_path) == start
