"""The command line: thin Typer commands, one module per family (plan, run, inspect, tenant, db), on one root app.

Exit codes: 0 nothing to do / success · 1 error or refusal · 2 plan/check found changes.
"""

from __future__ import annotations

import sys

from schemadiff.cli import (  # noqa: F401  (register their commands)
    check_commands,
    db_commands,
    demo_commands,
    inspect_commands,
    models_commands,
    plan_commands,
    run_commands,
    tenant_commands,
)
from schemadiff.cli.common import _err, app

__all__ = ["app", "main"]


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        _err("interrupted")
        sys.exit(130)
