"""How a run fails under plain ``alembic``: as Alembic's own ``CommandError``, which its command
line prints as one ``FAILED: …`` line instead of a traceback. In their own module: the command line,
which imports the runtime's ``Options``, does not load Alembic to start."""

from __future__ import annotations

import sys

from alembic.util import CommandError

from schemadiff.errors import SchemadiffError
from schemadiff.runtime.unknown_states import UnknownStates


class OptionError(SchemadiffError, CommandError):
    """A bad run option given to plain Alembic."""


class RunStopped(SchemadiffError, CommandError):
    """A run that stopped (a refusal before any change, a failed tenant, the lock held elsewhere)."""


def stopped(exc: SchemadiffError) -> CommandError:
    """``exc`` as plain Alembic shows it: the lines that say what was found go to stderr first (a
    terminal would fold them into one paragraph inside FAILED), then FAILED says the gist and what
    to do on one line."""
    if isinstance(exc, CommandError):
        return exc
    if not isinstance(exc, UnknownStates):
        return RunStopped(" ".join(str(exc).split("\n")))
    print(f"schemadiff: {exc.summary}:", file=sys.stderr)
    for line in exc.details:
        print(line, file=sys.stderr)
    sys.stderr.flush()
    return RunStopped(f"{exc.summary} (listed above). {exc.advice}")
