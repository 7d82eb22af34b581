"""What a build is asked to do, and what it answers.

Kept apart from the pipeline, with only small imports, so that a build with
nothing to do (generator/repeat.py) answers without loading Jinja or Markdown.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .config import CONFIG_FILE, base_url_problem
from .errors import Problem, UsageError

if TYPE_CHECKING:
    from .render import Site
    from .workers import Progress


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


@dataclass(frozen=True)
class BuildOptions:
    site: Path
    out: Path | None = None
    base_url: str | None = None
    drafts: bool = False
    future: bool = False
    strict: bool = False
    jobs: int = field(default_factory=default_jobs)
    today: dt.date | None = None
    preview: bool = False  # for `serve`: pages carry the error overlay script
    progress: Callable[[str, int, int], None] | None = field(default=None, compare=False, repr=False)

    def stage(self, name: str) -> Progress | None:
        """A progress callback for one stage of the build, if anyone is listening."""
        report = self.progress
        return (lambda done, total: report(name, done, total)) if report else None

    @property
    def output(self) -> Path:
        return self.out if self.out is not None else self.site / "output"

    @property
    def day(self) -> dt.date:
        return self.today or dt.date.today()


@dataclass(frozen=True)
class BuildResult:
    pages: int
    problems: tuple[Problem, ...]   # warnings: errors raise SiteError
    stats: dict[str, int]           # pages rendered, pages reused, files read...
    site: Site | None = None        # None when nothing had changed and nothing was read
    # What the build made, for its caller to drop: the `stepstone` program leaves the process
    # instead, which is faster than Python freeing it object by object (cli.leave_process).
    made: tuple = field(default=(), repr=False, compare=False)


def check_usage(options: BuildOptions) -> None:
    """Mistakes on the command line, said before anything is read."""
    if not (options.site / CONFIG_FILE).is_file():
        raise UsageError(f"no {CONFIG_FILE} in {options.site}: run 'stepstone new DIR' to start a "
                         f"site, or pass --site DIR")
    if options.base_url and base_url_problem(options.base_url):
        raise UsageError(f"--base-url: {base_url_problem(options.base_url)}")
