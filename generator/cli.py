"""The `stepstone` command: new, build, serve, check.

Exit codes: 0 ok, 1 content or config errors, 2 usage errors. Problems go to
stderr as `path:line: error: message`; a traceback only with --debug.
"""
from __future__ import annotations

import errno
import gc
import os
import sys
import time
import traceback
from dataclasses import replace
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING

import click

from . import __version__
from .errors import Problem, SiteError, UsageError, has_errors, sorted_problems
from .options import BuildOptions, default_jobs
from .repeat import look_back, repeated
from .scaffold import new_site, starter_names

if TYPE_CHECKING:
    from .render import Site

# The pipeline (Jinja, the Markdown engines, PyYAML) is imported by the commands that use it:
# a build with nothing to do answers from generator/repeat.py in a fraction of that time.

SITE_HELP = "the site folder (holding stepstone.toml); default: the current folder"


def _report(problems: list[Problem] | tuple[Problem, ...]) -> None:
    for p in problems:
        click.echo(str(p), err=True)


def _count(problems) -> str:
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    return f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"


def disk_problem(exc: OSError) -> str:
    """`path:1: error: …` for a file Stepstone could not read or write, with what to do about it."""
    where = exc.filename or "output"
    try:
        where = os.path.relpath(where)
    except ValueError:
        pass
    advice = {errno.ENOSPC: "the disk is full: free some space and build again",
              errno.EDQUOT: "the disk quota is used up: free some space and build again",
              errno.EROFS: "the folder is on a read-only disk: choose another with --out",
              errno.EACCES: "permission denied: check who owns this folder, or choose another with --out",
              errno.EPERM: "permission denied: check who owns this folder, or choose another with --out",
              errno.ENOENT: "it disappeared while building (moved or deleted?): build again"}
    reason = advice.get(exc.errno, f"{exc.strerror or exc}: check the disk and build again")
    return f"{where}:1: error: cannot read or write this file: {reason}"


def handles_errors(command):
    """Turn SiteError and UsageError into messages and exit codes; keep tracebacks for --debug."""
    @wraps(command)
    def run(*args, debug: bool = False, **kwargs):
        try:
            return command(*args, **kwargs)
        except SiteError as exc:
            _report(exc.problems)
            click.echo(f"stepstone: stopped: {_count(exc.problems)}; nothing was written", err=True)
            sys.exit(1)
        except UsageError as exc:
            click.echo(f"stepstone: error: {exc}", err=True)
            sys.exit(2)
        except (KeyboardInterrupt, click.exceptions.Exit, click.ClickException):
            raise
        except BrokenPipeError:  # `stepstone check | head`: the reader has all it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        except OSError as exc:  # the disk, not the owner's files: full, read-only, a file gone mid-build
            click.echo(f"{disk_problem(exc)}\nstepstone: stopped: the last good output was left as it was", err=True)
            sys.exit(1)
        except Exception as exc:  # a bug in Stepstone, not in the owner's files
            if debug:
                traceback.print_exc()
            else:
                click.echo(f"stepstone: internal error: {exc.__class__.__name__}: {exc} "
                           f"(run again with --debug for details, and please report it)", err=True)
            sys.exit(1)
    return click.option("--debug", is_flag=True, help="show Python tracebacks")(run)


@click.group()
@click.version_option(__version__, prog_name="stepstone")
def main() -> None:
    """Stepstone: Markdown to a static site that offers every visitor only the next step."""
    # A build makes hundreds of thousands of objects that live to its end (pages, bodies, the
    # cache) and almost no cycles: the collector's default pace spends over a second of a
    # 10,000-page build walking them. Collect young objects 70 times less often.
    gc.set_threshold(50_000, 20, 100)


@main.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--funnel", type=click.Choice(starter_names()), default="relationship", show_default=True,
              help="the funnel to start with")
@handles_errors
def new(directory: Path, funnel: str) -> None:
    """Write a starter site into DIRECTORY."""
    files = new_site(directory, funnel)
    click.echo(f"Created {directory} ({len(files)} files, {funnel} funnel). Next:")
    click.echo(f"  cd {directory}\n  stepstone serve")


class ProgressBar:
    """A bar on the terminal for builds that take over a second; silent when not on a terminal."""

    def __init__(self, delay: float = 1.0):
        self.started = time.perf_counter()
        self.delay = delay
        self.shown = False

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not sys.stderr.isatty() or time.perf_counter() - self.started < self.delay:
            return
        width = 30
        filled = width * done // max(total, 1)
        click.echo(f"\r{stage:<14} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}  ", err=True, nl=False)
        self.shown = True

    def close(self) -> None:
        if self.shown:
            click.echo("\r" + " " * 70 + "\r", err=True, nl=False)


def _build_options(site, out, base_url, drafts, future, strict, jobs, progress=None) -> BuildOptions:
    return BuildOptions(site=site, out=out, base_url=base_url, drafts=drafts, future=future,
                        strict=strict, jobs=jobs or default_jobs(), progress=progress)


site_option = click.option("--site", type=click.Path(path_type=Path, file_okay=False), default=".",
                           help=SITE_HELP)


@main.command("build")
@site_option
@click.option("--out", type=click.Path(path_type=Path), default=None, help="output folder; default SITE/output")
@click.option("--base-url", default=None, help="override base_url, e.g. for a preview deploy")
@click.option("--drafts", is_flag=True, help="include pages with draft: true")
@click.option("--future", is_flag=True, help="include pages dated in the future")
@click.option("--strict", is_flag=True, help="treat warnings as errors")
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="worker processes (default: all cores)")
@handles_errors
def build_command(site, out, base_url, drafts, future, strict, jobs) -> None:
    """Build the site into the output folder."""
    started = time.perf_counter()
    bar = ProgressBar()
    options = _build_options(site, out, base_url, drafts, future, strict, jobs, bar)
    # A one-off build makes about one reference cycle per page (a few MB at 10,000 pages), while
    # even the slowed collector spends half a second walking objects that live to the end: none
    # runs (nor in the workers, which inherit this). `serve`, which runs for hours, keeps it.
    collecting = gc.isenabled()
    gc.disable()
    try:
        looked = look_back(options)
        result = repeated(options, looked)
        if result is None:  # only bodies changed: no Jinja, no walk over the pages
            from .splice import last_record, spliced
            record = last_record(options)
            result = spliced(options, looked, record)
        if result is None:  # only templates changed: no content read, no cache loaded
            from .restyle import restyled
            result = restyled(options, looked, record)
        if result is None:
            from .build import build
            result = build(options, looked=looked)
    finally:
        if collecting:
            gc.enable()
        bar.close()
    _report(result.problems)
    reused = result.stats.get("pages reused", 0)
    click.echo(f"Built {result.pages} page{'s' * (result.pages != 1)} into {options.output}: "
               f"{result.pages - reused} written, {reused} unchanged, in {time.perf_counter() - started:.2f} s "
               f"({_count(result.problems)})")
    if click.get_current_context().find_root().obj == LEAVE_WHEN_DONE:
        leave_process(0)  # with the build's objects still held: none is freed one by one


@main.command()
@site_option
@click.option("--strict", is_flag=True, help="treat warnings as errors (exit 1)")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: the map and every problem as one JSON object, for scripts and CI")
@handles_errors
def check(site, strict, output_format) -> None:
    """Print the funnel map and every problem; write nothing."""
    from .build import analyse, assemble
    from .funnelmap import map_json
    options = _build_options(site, None, None, False, False, strict, None)
    analysis = analyse(options)
    if output_format == "text":
        click.echo(format_map(analysis.site))
    problems = list(analysis.problems)
    if not has_errors(problems):  # templates can only be tried on a consistent site
        try:
            problems = list(assemble(options, analysis).problems)
        except SiteError as exc:
            problems = exc.problems
    if strict:
        problems = [replace(p, severity="error") for p in problems]
    if output_format == "json":
        click.echo(map_json(analysis.site, sorted_problems(problems)), nl=False)
        sys.exit(1 if has_errors(problems) else 0)
    if has_errors(problems):
        raise SiteError(problems)  # reported like a failed build: the lines, then the count
    _report(problems)
    click.echo(_count(problems))


def format_map(site: Site) -> str:
    """The funnel map as text: each step, public or gated, its doors and rooms with their CTA."""
    from .funnel import funnel_map
    rows = funnel_map(site.config.funnel, site.pages, site.plan)
    width = max(len(r.step.id) for r in rows)
    lines = [f"Funnel of {site.config.title}: {len(rows)} steps, {len(site.pages)} pages", ""]
    last = rows[-1].step.id if rows else ""
    for i, row in enumerate(rows, 1):
        access = "public" if row.step.public else "gated"
        lines.append(f"{i}. {row.step.id:<{width}}  {row.step.name} ({access})")
        if row.doors:
            for door in row.doors:
                offer = "its own offer" if site.plan.cta.get(door) == door else "no button (its page is the offer)"
                lines.append(f"     door  {door}  [{offer}]")
        elif i > 1:
            lines.append("     door  (none)")
        for room, cta in row.rooms:
            shown = f"→ {cta}" if cta else ("(last step)" if row.step.id == last else "→ (no door: gap)")
            lines.append(f"     room  {room}  {shown}")
        if not row.doors and not row.rooms:
            lines.append("     (no pages)")
    return "\n".join(lines) + "\n"


@main.command()
@site_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--drafts", is_flag=True, help="include pages with draft: true")
@click.option("--future", is_flag=True, help="include pages dated in the future")
@handles_errors
def serve(site, host, port, drafts, future) -> None:
    """Build a preview, serve it with live reload, and rebuild on every change."""
    from .serve import serve_site
    serve_site(site, host, port, drafts=drafts, future=future)


LEAVE_WHEN_DONE = "leave when done"  # main's context object when it runs as the `stepstone` program


def run_program() -> None:
    """The `stepstone` command: `main`, then out of the process at once (see leave_process)."""
    try:
        main(obj=LEAVE_WHEN_DONE)
        code = 0
    except SystemExit as exc:  # how click ends every command
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    leave_process(code)


def leave_process(code: int) -> None:
    """Exit with `code` without Python's clean-up: a build leaves hundreds of thousands of objects,
    which Python would free one by one (70 ms after a cold build of 10,000 pages, which has
    written and closed every file by then, its worker pools gone)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can reach the reader
            pass
    os._exit(code)


if __name__ == "__main__":
    run_program()
