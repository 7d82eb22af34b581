"""The build cache under .stepstone/: what the last build read and wrote, keyed by content hashes.

It is the one mutable object of a build, on purpose: the memory between builds
(and, under `serve`, kept in memory between rebuilds). Deleting .stepstone/ is
always safe; a different Stepstone version starts from an empty cache.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__

CACHE_DIR = ".stepstone"
CACHE_FILE = "build-cache.pickle"


@dataclass
class SourceEntry:
    stat: tuple[int, int]          # (mtime_ns, size): a shortcut to skip hashing unchanged files
    digest: str                    # hash of the file's bytes
    parsed: Any                    # SourceFile or None
    problems: list


@dataclass
class BuildCache:
    version: str = __version__
    sources: dict[str, SourceEntry] = field(default_factory=dict)     # content-relative path -> entry
    pages: dict[str, tuple[tuple, Any, list]] = field(default_factory=dict)   # page -> (key, Page, problems)
    bodies: dict[str, tuple[tuple, Any, list]] = field(default_factory=dict)  # page -> (key, Markup, problems)
    page_keys: dict[str, tuple] = field(default_factory=dict)        # page -> (inputs, deps, render key)
    plan: tuple[str, Any] | None = None                              # (key, Plan)
    outputs: dict[str, str] = field(default_factory=dict)            # output path -> render key
    extras: tuple[str, tuple[str, ...]] | None = None                # (key, paths) of tag pages and 404
    copies: dict[str, tuple[tuple[int, int], str]] = field(default_factory=dict)  # file -> (stat, hash)
    output_id: str = ""                                              # marker of the output it describes
    stats: dict[str, int] = field(default_factory=dict)              # this build: reused / rendered counts


def cache_path(site: Path) -> Path:
    return site / CACHE_DIR / CACHE_FILE


def load_cache(site: Path) -> BuildCache:
    """The cache of the last build, or an empty one (missing, unreadable or another version)."""
    try:
        with open(cache_path(site), "rb") as f:
            cache = pickle.load(f)
    except Exception:  # a cache is only ever a shortcut: anything wrong with it means start afresh
        return BuildCache()
    return cache if isinstance(cache, BuildCache) and cache.version == __version__ else BuildCache()


def save_cache(site: Path, cache: BuildCache) -> None:
    """Write the cache atomically; a failure to write it never fails the build."""
    path = cache_path(site)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not (path.parent / ".gitignore").exists():
            (path.parent / ".gitignore").write_text("# Stepstone's cache: safe to delete.\n*\n")
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        with open(tmp, "wb") as f:
            pickle.dump(cache, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        pass


def fingerprint(value: Any, seen: list | None = None) -> Any:
    """A small, hashable picture of what a template can see: a page by its name and metadata
    digest (its body is fingerprinted separately), plain data as itself. Pages met are added
    to `seen`, so a later build can tell whether any of them changed without looking again."""
    if hasattr(value, "meta_digest"):
        if seen is not None:
            seen.append((value.name, value.meta_digest))
        return ("page", value.name, value.meta_digest)
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    if isinstance(value, dict):
        return tuple(sorted((str(k), fingerprint(v, seen)) for k, v in value.items()))
    if isinstance(value, (list, tuple, set, frozenset)):
        return tuple(fingerprint(v, seen) for v in value)
    if dataclasses.is_dataclass(value):
        return (type(value).__name__,) + tuple(fingerprint(getattr(value, f.name), seen)
                                               for f in dataclasses.fields(value))
    if callable(value):
        return getattr(value, "__name__", type(value).__name__)
    return repr(value)


LAST_BUILD_FILE = "last-build.pickle"


@dataclass(frozen=True)
class LastBuild:
    """What a repeat build needs to know to do nothing: the inputs it saw and what it said."""

    signature: str
    output_id: str
    pages: int
    problems: tuple


def input_signature(site: Path, extra: tuple) -> str:
    """Every input file's path, size and time, with `extra` (options, date, version): cheap to compute."""
    entries = []

    def walk(folder: Path) -> None:
        try:
            scanned = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            return
        for entry in scanned:
            if entry.is_dir(follow_symlinks=True):
                walk(Path(entry.path))
            else:
                st = entry.stat()
                entries.append((entry.path, st.st_mtime_ns, st.st_size))

    for name in ("content", "static", "themes"):
        walk(site / name)
    config = site / "stepstone.toml"
    st = config.stat()
    entries.append((str(config), st.st_mtime_ns, st.st_size))
    return hashlib.blake2b(repr((__version__, extra, entries)).encode(), digest_size=16).hexdigest()


def load_last_build(site: Path) -> LastBuild | None:
    try:
        with open(site / CACHE_DIR / LAST_BUILD_FILE, "rb") as f:
            last = pickle.load(f)
    except Exception:  # no record, or an unreadable one: build as usual
        return None
    return last if isinstance(last, LastBuild) else None


def save_last_build(site: Path, last: LastBuild) -> None:
    path = site / CACHE_DIR / LAST_BUILD_FILE
    try:
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        with open(tmp, "wb") as f:
            pickle.dump(last, f)
        os.replace(tmp, path)
    except OSError:
        pass
