"""One error base class; every subclass carries a message that names the fix."""

from __future__ import annotations

from dataclasses import dataclass


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (driver errors carry DETAIL/HINT lines after it)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class SchemadiffError(Exception):
    """Base of every error the CLI turns into one line and exit code 1."""


@dataclass(frozen=True)
class SpecProblem:
    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.file}:{self.line}:{self.column}: {where}{self.message}"


class SpecError(SchemadiffError):
    """The spec is invalid; carries every problem found, sorted by position."""

    def __init__(self, problems: list[SpecProblem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.line, p.column, p.path))
        super().__init__("\n".join(str(p) for p in self.problems))


class DatabaseError(SchemadiffError):
    """Connecting to or reading the database failed."""


class PolicyRefused(SchemadiffError):
    """The plan holds hazards that were not allowed by name."""

    def __init__(self, message: str, hazards: tuple[str, ...]) -> None:
        self.hazards = hazards
        super().__init__(message)
