"""Put the built site on disk: staged beside output/, then swapped into place.

A build that fails before the swap leaves the last good output/ exactly as it
was. Every path is checked to stay inside the output folder, two sources for
one file is an error, and an output folder that holds the owner's own files
is refused rather than replaced.
"""
from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable, Iterator

from .errors import Problem, SiteError, UsageError, error

MARKER = ".stepstone-output"
MARKER_TEXT = b"This folder is written by Stepstone: every build replaces what changed and removes the rest.\n"


@dataclass(frozen=True)
class OutputFile:
    path: str           # relative to the output folder, "/"-separated
    data: bytes | None  # None: written later by a page renderer
    source: str = ""    # what made it, for collision messages
    yields: bool = False  # an owner's static file of the same path replaces it


@dataclass(frozen=True)
class CopiedFile:
    path: str           # relative to the output folder
    origin: Path        # absolute file to copy
    source: str         # as the owner names it: "static/favicon.svg"


def check_output_folder(site: Path, out: Path) -> None:
    """Refuse an output folder that would overwrite or swallow the owner's sources."""
    site, out = site.resolve(), out.resolve()
    protected = [site, site / "content", site / "themes", site / "static"]
    for folder in protected:
        if out == folder or folder.is_relative_to(out) or out.is_relative_to(folder) and folder != site:
            label = "the site folder" if folder == site else f"{folder.name}/"
            raise UsageError(f"refusing to build into {out}: it is, contains or is inside {label}, "
                             f"which holds your own files; choose another --out folder")
    if out.exists() and not out.is_dir():
        raise UsageError(f"refusing to build into {out}: it is a file, not a folder")
    if out.is_dir() and not os.access(out, os.W_OK | os.X_OK):  # made read-only: said, not replaced
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(out))
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise UsageError(f"refusing to build into {out}: it is not empty and was not made by Stepstone; "
                         f"choose an empty or new folder (Stepstone replaces its output folder whole)")


def safe_relative(path: str) -> str | None:
    """The path if it stays inside the output folder (as a POSIX path reads it), else None."""
    parts = path.split("/")
    if "" in parts or "." in parts:  # "a//b", "./a", "a/": read as pathlib reads them
        if path.startswith("/"):
            return None
        parts = [part for part in parts if part not in ("", ".")]
    if not parts or ".." in parts or "\\" in path or ":" in parts[0]:
        return None
    return "/".join(parts)


def plan_files(generated: Iterable[OutputFile], copies: Iterable[CopiedFile]
               ) -> tuple[dict[str, OutputFile | CopiedFile], list[Problem]]:
    """One entry per output path; copies later in order override earlier (site over theme)."""
    problems: list[Problem] = []
    files: dict[str, OutputFile | CopiedFile] = {}
    for c in copies:
        files[c.path] = c
    for f in generated:
        path = safe_relative(f.path)
        line = 1 if f.source.endswith(".md") else 0
        if path is None:
            problems.append(error(f.source, line, f"would be written outside the output folder "
                                                  f"({f.path}): rename it"))
            continue
        other = files.get(path)
        if other is not None and f.yields:
            continue  # the owner's own file wins over one Stepstone makes (robots.txt)
        if other is not None:
            problems.append(error(f.source, line,
                                  f"this and {other.source} would both be written to output/{path}: "
                                  f"rename or move one of them"))
            continue
        files[path] = f
    return files, problems + _folder_clashes(files)


def _folder_clashes(files: dict[str, OutputFile | CopiedFile]) -> list[Problem]:
    """A file where another file needs a folder (static/guide beside content/guide/x.md)."""
    problems = []
    for path, entry in files.items():
        folder = path
        while (cut := folder.rfind("/")) > 0:  # every folder above it, nearest first
            folder = folder[:cut]
            other = files.get(folder)
            if other is not None:
                mine = entry.source
                problems.append(error(mine, 1 if mine.endswith(".md") else 0,
                                      f"output/{path} needs a folder output/{folder}/, but {other.source} is "
                                      f"written as a file there: rename or move one of them"))
                break
    return problems


def marker(output_id: str) -> bytes:
    return MARKER_TEXT + f"build {output_id}\n".encode() if output_id else MARKER_TEXT


def output_id_of(out: Path) -> str:
    """The build id in an output folder's marker: which build wrote what is there now."""
    try:
        last = (out / MARKER).read_text(encoding="utf-8").splitlines()[-1]
    except (OSError, IndexError, UnicodeDecodeError):
        return ""
    return last.removeprefix("build ") if last.startswith("build ") else ""


def update_site(out: Path, changed: dict[str, OutputFile | CopiedFile], stale: Iterable[str],
                output_id: str) -> None:
    """Replace the changed files of a built site one by one (each atomically) and remove stale ones.

    Everything was rendered and checked before this is called, so it cannot fail halfway
    for a reason in the owner's files.
    """
    for path in sorted(changed):
        item = changed[path]
        target, temporary = out / path, _beside(out, path)
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(item, CopiedFile):
            shutil.copyfile(item.origin, temporary)
        else:
            temporary.write_bytes(item.data)
        os.replace(temporary, target)
    remove_files(out, stale)
    (out / MARKER).write_bytes(marker(output_id))


def remove_files(out: Path, paths: Iterable[str]) -> None:
    """Remove files of a built folder (a link is removed, never followed), and folders left empty."""
    for path in paths:
        safe = safe_relative(path)
        if safe and ((out / safe).is_file() or (out / safe).is_symlink()):
            (out / safe).unlink()
            remove_empty_folders((out / safe).parent, out)


PENDING = ".stepstone-pending"  # in output/ while files are being replaced in place


def pending_update(out: Path) -> bool:
    """Whether a build was stopped while replacing files in place: output/ may then be a mix of
    two builds, so the next build writes a whole new one instead."""
    return (out / PENDING).exists()


@contextmanager
def update_in_progress(out: Path) -> Iterator[None]:
    """Mark output/ as being updated in place for as long as that lasts (a failed build that
    changed nothing clears the mark too; only a killed one leaves it)."""
    (out / PENDING).write_bytes(b"Stepstone is updating this folder; if this file stays, the next build redoes it.\n")
    try:
        yield
    except SiteError:
        (out / PENDING).unlink(missing_ok=True)
        raise
    (out / PENDING).unlink(missing_ok=True)


def abandon_update(out: Path, paths: Iterable[str]) -> None:
    """Undo an in-place update stopped before any file was swapped: output/ is the old site again."""
    discard_beside(out, paths)
    (out / PENDING).unlink(missing_ok=True)


def _beside(out: Path, path: str) -> Path:
    target = out / path
    return target.with_name(f".{target.name}.stepstone-tmp")


def write_beside(out: Path, path: str, data: bytes) -> None:
    """Write a new version of output file `path` next to it, to be swapped in by commit_beside."""
    temporary = _beside(out, path)
    temporary.parent.mkdir(parents=True, exist_ok=True)
    temporary.write_bytes(data)


def commit_beside(out: Path, paths: Iterable[str]) -> None:
    for path in paths:
        os.replace(_beside(out, path), out / path)  # each file swapped whole


def discard_beside(out: Path, paths: Iterable[str]) -> None:
    for path in paths:
        _beside(out, path).unlink(missing_ok=True)


def remove_empty_folders(folder: Path, top: Path) -> None:
    while folder != top and folder.is_relative_to(top):
        try:
            folder.rmdir()
        except OSError:  # not empty
            return
        folder = folder.parent


def write_file(root: Path, path: str, data: bytes) -> None:
    """Write one file of a fresh staging folder."""
    target = os.path.join(root, path)
    make_folder_of(target)
    create_file(target, data)


def create_file(target: str, data: bytes) -> None:
    """Write a new file (or over one) without Python's buffered file object: a third of the CPU
    of open() for the 10,000 small files of a build."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    try:
        write_all(fd, data)
    finally:
        os.close(fd)


def write_all(fd: int, data: bytes) -> None:
    """os.write may take less than it is given (a signal, a nearly full disk): write the rest too."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def make_folder_of(target: str) -> None:
    """Make the folder a new file goes in, first (most pages have their own): a failed open costs
    as much as a mkdir on slow disks."""
    folder = os.path.dirname(target)
    try:
        os.mkdir(folder)
    except FileExistsError:
        pass
    except FileNotFoundError:
        os.makedirs(folder, exist_ok=True)


def write_site(out: Path, files: dict[str, OutputFile | CopiedFile],
               fill: Callable[[Path], str] | None = None, output_id: str = "", trash: Path | None = None,
               before_swap: Callable[[Path], object] | None = None) -> None:
    """Write everything into a staging folder beside `out`, then swap it into place.

    Files whose data is None are left to `fill(staging)` (the page renderers), which returns
    the build's id when only it can know it; if it raises, the staging folder is removed and
    `out` is untouched. `before_swap(staging)` sees the finished folder (to make its twin).
    """
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.stepstone-new"
    if staging.exists():  # from a build that was killed; ours by name
        shutil.rmtree(staging)
    staging.mkdir()
    try:
        ours = [p for p, item in files.items() if isinstance(item, CopiedFile) or item.data is not None]
        for folder in sorted({str(PurePosixPath(p).parent) for p in ours} - {"."}):  # fill() makes its own
            (staging / folder).mkdir(parents=True, exist_ok=True)
        for path in sorted(files):
            item = files[path]
            if isinstance(item, CopiedFile):
                shutil.copyfile(item.origin, staging / path)
            elif item.data is not None:
                write_file(staging, path, item.data)
        if fill is not None:
            output_id = fill(staging) or output_id
        (staging / MARKER).write_bytes(marker(output_id))
        if before_swap is not None:
            before_swap(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if out.exists() and exchange(staging, out):  # one step: output/ is the old site or the new one
        retire(staging, trash)
        return
    if out.exists():
        retire(out, trash)
    os.rename(staging, out)


def exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one atomic step (Linux renameat2 RENAME_EXCHANGE), so that a build killed
    at that instant leaves the old output or the new, never none; False where the system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_cwd, rename_exchange = -100, 2
    return renameat2(at_cwd, os.fsencode(a), at_cwd, os.fsencode(b), rename_exchange) == 0


def retire(out: Path, trash: Path | None) -> None:
    """Move the old output out of the way at once; delete it without making the build wait.

    It goes to `trash` (Stepstone's own .stepstone/trash/) when that is on the same disk, and is
    removed there in the background: thousands of files take seconds to delete.
    """
    if trash is not None:
        trash.mkdir(parents=True, exist_ok=True)
        retired = trash / f"output-{os.getpid()}-{time.monotonic_ns()}"
        try:
            os.rename(out, retired)
        except OSError:  # another disk: delete it here, the slow way
            trash = None
        else:
            if os.name == "posix" and shutil.which("sh"):  # the shell returns at once; rm goes on alone
                subprocess.run(["sh", "-c", 'rm -rf -- "$1" >/dev/null 2>&1 &', "sh", str(retired)],
                               stdin=subprocess.DEVNULL, check=False)
            else:
                shutil.rmtree(retired, ignore_errors=True)
            return
    retired = out.parent / f".{out.name}.stepstone-old"
    os.rename(out, retired)
    shutil.rmtree(retired, ignore_errors=True)
