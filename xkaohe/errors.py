"""One exception tree for everything a user can get wrong.

::

    XkaoheError                 exit status 2: the user's input or usage
    ├── PlanError               params/plan-*.yaml: a wrong key or value
    ├── InputError              a data file: missing, unreadable, or bad rows
    │   └── VerificationError   a re-derived draw differs from the one on disk
    └── RuleError               a roster or frame makes a hard rule impossible

Anything else that escapes is a bug (exit status 1). Messages are written for
the person who has to fix the file: which file, row, column, what was expected
and what was found.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one cell, row or file.

    ``row`` is the 1-based line number as a spreadsheet shows it (the header
    is line 1), or ``None`` when the problem is about the whole file or column.
    """

    file: str
    row: int | None
    column: str | None
    expected: str
    found: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column '{self.column}'"
        return f"{where}: expected {self.expected}; found {self.found}"


class XkaoheError(Exception):
    """Base class: a problem the user can fix. The CLI exits 2 on it."""


class PlanError(XkaoheError):
    """The plan file has a wrong key or value."""


class InputError(XkaoheError):
    """One or more problems in the user's data files, all reported at once."""

    def __init__(self, problems: list[Problem] | Problem | str, limit: int = 50) -> None:
        if isinstance(problems, str):
            self.problems: list[Problem] = []
            super().__init__(problems)
            return
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        lines = [str(p) for p in self.problems[:limit]]
        extra = len(self.problems) - limit
        if extra > 0:
            lines.append(f"... and {extra} more problems")
        head = f"{len(self.problems)} problem(s) in the input:" if len(self.problems) > 1 else ""
        super().__init__("\n".join([head, *lines]) if head else lines[0])


class VerificationError(InputError):
    """A re-derived draw differs from the one on disk."""


class RuleError(XkaoheError):
    """The input makes one of the plan's hard rules impossible to satisfy."""
