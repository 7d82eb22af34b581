"""Problems with the user's files, and how they are reported.

Every stage collects `Problem`s instead of stopping at the first one, so a
build reports everything that is wrong in one run. A stage that cannot go on
raises `SiteError` holding all the problems it found.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, replace
from typing import Iterable, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Location:
    """Where a problem is: a path relative to the site folder, and a 1-based line (0 = the whole
    file, shown as its first line so that every problem reads `path:line:`)."""

    path: str
    line: int = 0

    def __str__(self) -> str:
        return f"{one_line(self.path)}:{self.line or 1}"


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the user's files, worded for a business owner."""

    location: Location
    severity: Severity
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.severity}: {one_line(self.message)}"


def one_line(text: str) -> str:
    """`text` with what a terminal would break or hide (a user's U+0085 or U+2028 quoted in a message,
    a control character in a file name) written as an escape: one problem, one line."""
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def error(path: str, line: int, message: str) -> Problem:
    return Problem(Location(path, line), "error", message)


def warning(path: str, line: int, message: str) -> Problem:
    return Problem(Location(path, line), "warning", message)


def has_errors(problems: Iterable[Problem]) -> bool:
    return any(p.severity == "error" for p in problems)


def sorted_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Unique problems in file order, so output is the same on every run."""
    return sorted(set(problems))


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest choice, or '' when none is close."""
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


class SiteError(Exception):
    """The site cannot be built; `problems` says every reason found."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = sorted_problems(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class UsageError(Exception):
    """The command was called wrongly (exit code 2): a missing site, a bad output folder."""


def stop_on_errors(problems: list[Problem], strict: bool) -> list[Problem]:
    """The problems sorted, or SiteError with them all if any is an error (with `strict`, any at all)."""
    if strict:
        problems = [replace(p, severity="error") for p in problems]
    if has_errors(problems):
        raise SiteError(problems)
    return sorted_problems(problems)
