"""The error of a bad ``-x``/``SCHEMADIFF_*`` option, in its own module: it subclasses Alembic's
``CommandError`` (so plain ``alembic`` prints it as one ``FAILED:`` line instead of a traceback),
and the command line, which imports the runtime's ``Options``, does not load Alembic to start."""

from __future__ import annotations

from alembic.util import CommandError

from schemadiff.errors import SchemadiffError


class OptionError(SchemadiffError, CommandError):
    """A bad run option given to plain Alembic."""
