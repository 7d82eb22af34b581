"""output/'s twin: a second tree of the same files, so an update is swapped in whole.

A build that changes a few pages must not leave output/ a mix of two builds when
it is killed halfway. So the changed files are written into the twin (made as a
tree of hard links to output/'s own files: folders made again, no bytes copied), the twin
and output/ trade places in one atomic step, and the old tree is the next twin.
It lags behind by the files that changed (noted in twin.lag); the next update
brings those up to date as it goes: the old pages' own files overwritten with the
new bytes, anything else linked. Each build touches only what it and the last changed.
A build that changes one file alone renames it into output/ instead (rename_in): a reader
sees the old file or the new all the same, and the twin falls one more file behind.

The twin is .stepstone/twin when that is on output/'s disk (a rename cannot
cross disks), else beside output/. It is trusted only while its marker names the
build output/'s marker names, or the note says how it lags behind that build: a
twin left behind by a killed build is made again.
"""
from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path
from typing import Callable, Iterable

from .write import (MARKER, CopiedFile, OutputFile, create_file, exchange, make_folder_of, marker, output_id_of,
                    remove_empty_folders, remove_files, retire, safe_relative, update_in_progress, write_all)

TWIN = "twin"  # under .stepstone/


def twin_path(out: Path, cache_dir: Path) -> Path:
    """Where output folder `out` keeps its twin. One per site, whichever folder it is built into:
    the marker check makes it the twin of the one whose build it holds, and its files, never
    written through, may be shared by both."""
    out = out.resolve()
    same_disk = _disk(cache_dir) == _disk(out.parent) is not None
    return cache_dir / TWIN if same_disk else out.parent / f".{out.name}.stepstone-twin"


def _disk(folder: Path) -> int | None:
    """The device of a folder, or of the nearest one above it that exists yet."""
    for candidate in (folder, *folder.resolve().parents):
        try:
            return os.stat(candidate).st_dev
        except OSError:
            continue
    return None


def ready_twin(out: Path, twin: Path, trash: Path | None) -> tuple[str, ...] | None:
    """The paths where `twin` lags behind `out` (output/, or a new output about to take its place):
    () when it holds what `out` holds. A twin that is neither is made again. None where the disk
    cannot hard-link (output/ is then written whole on every build instead)."""
    lag = lagging(out, twin)
    if lag is not None:
        return lag
    making = start_twin(twin, trash)
    try:
        for folder, _, names in os.walk(out):  # links of the folder's files; symlinks are not the site's
            into = making / os.path.relpath(folder, out)
            into.mkdir(exist_ok=True)
            for name in names:
                file = os.path.join(folder, name)
                if not os.path.islink(file):
                    os.link(file, into / name)
    except OSError:
        abandon_twin(making)
        return None
    os.rename(making, twin)
    return ()


def lagging(out: Path, twin: Path) -> tuple[str, ...] | None:
    """The paths where `twin` lags behind `out` as its marker and note say, () when it holds what
    `out` holds, None when it is not to be trusted."""
    current = output_id_of(out)
    if twin.is_symlink() or not current:
        return None
    held = output_id_of(twin)
    if held == current:
        return ()
    base, target, paths = _read_lag(twin)
    return paths if base == held != "" and target == current else None


def start_twin(twin: Path, trash: Path | None) -> Path:
    """Begin a new twin for a build that writes output/ whole: the old twin (and its note) goes,
    and the folder returned receives a link to each file as the staging folder gets it, on
    every core (see `mirror`), so the twin costs no walk of the finished site."""
    if twin.is_symlink() or twin.exists():
        retire(twin, trash)
    _lag_file(twin).unlink(missing_ok=True)
    making = twin.with_name(twin.name + ".new")
    if making.is_symlink():
        making.unlink()
    elif making.exists():
        shutil.rmtree(making)
    making.mkdir(parents=True)
    return making


def mirror(making: Path, staging: Path, path: str) -> None:
    """Link the staging folder's file `path` into the twin being made (OSError where the disk
    cannot hard-link: the twin is then abandoned)."""
    target = os.path.join(making, path)
    make_folder_of(target)
    os.link(os.path.join(staging, path), target)


def finish_twin(staging: Path, making: Path, twin: Path, rest: Iterable[str]) -> bool:
    """Link the files of `staging` not mirrored yet (`rest`, and its marker), and put the twin in
    place: it holds what `staging` holds. False, and no twin, where the disk cannot hard-link."""
    try:
        for path in [*rest, MARKER]:
            mirror(making, staging, path)
        os.rename(making, twin)
    except OSError:
        abandon_twin(making)
        return False
    return True


def abandon_twin(making: Path) -> None:
    shutil.rmtree(making, ignore_errors=True)


def forget(twin: Path) -> None:
    """Untrust the twin before changing it: a build stopped meanwhile leaves a twin that the next
    build makes again. (Its marker is a link to output/'s: removed, never written through.)"""
    _lag_file(twin).unlink(missing_ok=True)
    (twin / MARKER).unlink(missing_ok=True)


def _lag_file(twin: Path) -> Path:
    return twin.with_name(twin.name + ".lag")


def _read_lag(twin: Path) -> tuple[str, str, tuple[str, ...]]:
    """(the build the twin holds, the build it lags behind, the paths that differ), or empty."""
    try:
        lag = json.loads(_lag_file(twin).read_text(encoding="utf-8"))
        return lag["base"], lag["target"], tuple(lag["paths"])
    except (OSError, ValueError, KeyError, TypeError):
        return "", "", ()


SMALL_FILE = 256 * 1024  # bytes: a lagging file up to this size is copied into the twin's own (catch_up)


def catch_up(out: Path, twin: Path, paths: Iterable[str]) -> None:
    """Bring the (untrusted) twin's files at `paths` to what output/ holds there. A file the twin
    alone holds (the old output's, after a swap) takes output/'s bytes in place when small: freeing
    a file already on disk costs ext4 over ten times as much as overwriting it (55 against 5 us),
    1.6 s for the 10,000 pages a template edit swapped in. Any other is linked to output/'s file,
    or removed with it."""
    for path in paths:
        safe = safe_relative(path)
        if safe is None or safe == MARKER:
            continue
        target, source = os.path.join(twin, safe), os.path.join(out, safe)
        try:
            held = os.lstat(source)
        except FileNotFoundError:
            held = None
        if held is None or not stat.S_ISREG(held.st_mode):  # gone from output/ (a symlink is not the site's)
            try:
                os.unlink(target)
            except FileNotFoundError:
                pass
            remove_empty_folders(Path(target).parent, twin)
            continue
        if held.st_size <= SMALL_FILE and _copy_into_own(source, target, held.st_size):
            continue
        try:
            os.unlink(target)
        except FileNotFoundError:
            make_folder_of(target)
        os.link(source, target)


def write_over(twin: Path, path: str, data: bytes) -> None:
    """Write a file of the (untrusted) twin. A file the twin alone holds is overwritten in place;
    one still linked to output/'s (or anything else) is unlinked first, so output/'s file is never
    written through. No rename, which costs a disk flush on ext4 when it replaces a file."""
    target = os.path.join(twin, path)
    if _overwrite_own(target, data):
        return
    try:
        os.unlink(target)  # then its folder is there: no mkdir to try
    except FileNotFoundError:
        make_folder_of(target)
    create_file(target, data)


def _overwrite_own(target: str, data: bytes) -> bool:
    """Overwrite `target` with `data` if it is a plain file that nothing else links to (see _own_file)."""
    return _own_file(target, len(data), lambda fd: write_all(fd, data))


def _copy_into_own(source: str, target: str, size: int) -> bool:
    """Overwrite `target` with the `size` bytes of `source`, as _overwrite_own does, copied by the
    kernel where it can."""
    def copy(fd: int) -> None:
        with open(source, "rb", buffering=0) as f:
            _copy_file(f.fileno(), fd, size)
    return _own_file(target, size, copy)


def _own_file(target: str, size: int, write: Callable[[int], object]) -> bool:
    """`write` the `size` new bytes over `target` if it is a plain file
    that nothing else links to: no inode freed and made again, which on ext4 costs a tenth of
    replacing it (0.25 against 2.6 s of CPU for 10,000 pages). False, and nothing touched, for
    anything else (missing, linked, a symlink, a folder)."""
    try:
        fd = os.open(target, os.O_WRONLY | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        st = os.fstat(fd)
        if st.st_nlink != 1 or not stat.S_ISREG(st.st_mode):
            return False
        write(fd)
        if st.st_size > size:  # the old file's tail (a truncate that cuts nothing costs as much)
            os.ftruncate(fd, size)
        return True
    finally:
        os.close(fd)


def _copy_file(source: int, target: int, size: int) -> None:
    """Copy `size` bytes from the start of open file `source` over the start of `target`."""
    copied = 0
    try:
        while copied < size and (chunk := os.copy_file_range(source, target, size - copied)):
            copied += chunk
    except (OSError, AttributeError):  # no in-kernel copy here (another OS, an old kernel): by hand
        os.lseek(source, copied, os.SEEK_SET)
        os.lseek(target, copied, os.SEEK_SET)
    while copied < size and (data := os.read(source, size - copied)):
        write_all(target, data)
        copied += len(data)


def update_twin(twin: Path, changed: dict[str, OutputFile | CopiedFile], removed: Iterable[str],
                output_id: str) -> None:
    """The rest of an update, after the pages: other changed files, files gone, the marker."""
    for path in sorted(changed):
        item = changed[path]
        if isinstance(item, CopiedFile):
            (twin / path).unlink(missing_ok=True)
            (twin / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(item.origin, twin / path)
        else:
            write_over(twin, path, item.data)
    remove_files(twin, removed)
    (twin / MARKER).write_bytes(marker(output_id))


def swap_in(out: Path, twin: Path, changed: Iterable[str], removed: Iterable[str]) -> None:
    """Trade the updated twin for output/ in one step. The old folder is the next twin: it lags
    behind by the files that changed, which the next update links in (or writes anew) as it goes,
    so a build that rewrites every page does not also link every page twice."""
    held = output_id_of(out)
    if not exchange(twin, out):  # no atomic exchange here: two renames, output/ briefly missing
        old = twin.with_name(twin.name + ".old")
        os.rename(out, old)
        os.rename(twin, out)
        os.rename(old, twin)
    _note_lag(twin, held, output_id_of(out), {*changed, *removed})


def rename_in(out: Path, twin: Path, path: str, data: bytes, output_id: str) -> bool:
    """Put one changed file in output/ by a rename over the old one, which the twin keeps: it falls
    one more file behind (no catch-up of what it lagged by, 10,000 pages after a template edit).
    A reader of output/ sees the old page or the new. Output/ is marked meanwhile (pending_update),
    so a build stopped before its marker names the new build writes a whole new output instead.
    False, with nothing written, where a link in output/ leads the path elsewhere."""
    folder = os.path.dirname(path)
    if os.path.realpath(os.path.join(out, folder)) != os.path.join(os.path.realpath(out), folder).rstrip("/"):
        return False  # (a link planted in output/: never followed to write)
    lag = lagging(out, twin)  # as it lags behind output/ now
    temporary = twin.with_name(twin.name + ".file")  # on output/'s disk (see twin_path): never in output/
    create_file(str(temporary), data)
    with update_in_progress(out):
        os.replace(temporary, out / path)
        create_file(str(temporary), marker(output_id))  # replaced, not written: the twin may share it
        os.replace(temporary, out / MARKER)
        if lag is not None:
            _note_lag(twin, output_id_of(twin), output_id, {*lag, path})
    return True


def _note_lag(twin: Path, base: str, target: str, paths: Iterable[str]) -> None:
    """Say that `twin`, holding build `base`, lags behind output/'s build `target` at `paths`."""
    lag = {"base": base, "target": target, "paths": sorted(paths)}
    try:
        temporary = _lag_file(twin).with_suffix(".tmp")
        temporary.write_text(json.dumps(lag), encoding="utf-8")
        os.replace(temporary, _lag_file(twin))
    except OSError:  # output/ is the new site already; without the note, the next build makes a twin
        pass

