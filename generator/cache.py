"""The build cache under .stepstone/: what the last build read and wrote, keyed by content hashes.

It is the one mutable object of a build, on purpose: the memory between builds
(and, under `serve`, kept in memory between rebuilds). Deleting .stepstone/ is
always safe; a different Stepstone version starts from an empty cache.
"""
from __future__ import annotations

import copy
import dataclasses
import gc
import hashlib
import os
import pickle
import secrets
import sqlite3
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from . import __version__

CACHE_DIR = ".stepstone"
CACHE_FILE = "build-cache.pickle"           # what was read: sources, pages, bodies
KEYS_FILE = "build-cache.keys.pickle"       # what was rendered: page_keys (a template edit changes it all)
DELTA_FILE = "build-cache.delta.pickle"     # what changed since those two were written, and the site's fields
PARTS = {CACHE_FILE: ("sources", "pages", "bodies"), KEYS_FILE: ("page_keys",)}  # each saved in full apart
ENTRY_KINDS = tuple(kind for kinds in PARTS.values() for kind in kinds)  # one entry per file or page
SITE_FIELDS = ("plan", "outputs", "extras", "copies", "output_id", "pdfs")  # the whole site's, small
DELTA_SHARE = 10  # past one entry in this many of a part changed since its full save, save it in full again
HTML_FILE = "html.sqlite"  # each body's HTML by its digest: read back only for pages rendered again
EMPTY_HTML = hashlib.blake2b(b"", digest_size=16).hexdigest()


@lru_cache(maxsize=1)
def cache_format() -> str:
    """The version and this package's own code: a cache written by other code is never trusted."""
    code = sorted((p.name, p.read_bytes()) for p in Path(__file__).parent.glob("*.py"))
    return hashlib.blake2b(repr((__version__, code)).encode(), digest_size=16).hexdigest()


@dataclass
class SourceEntry:
    stat: tuple[int, int]          # (mtime_ns, size): a shortcut to skip hashing unchanged files
    digest: str                    # hash of the file's bytes
    parsed: Any                    # SourceFile or None
    problems: list


@dataclass
class BuildCache:
    version: str = field(default_factory=cache_format)
    sources: dict[str, SourceEntry] = field(default_factory=dict)     # content-relative path -> entry
    pages: dict[str, tuple[tuple, Any, list]] = field(default_factory=dict)   # page -> (key, Page, problems)
    bodies: dict[str, tuple[tuple, Any, list]] = field(default_factory=dict)  # page -> (key, Markup, problems)
    page_keys: dict[str, tuple] = field(default_factory=dict)        # page -> (inputs, deps, render key)
    plan: tuple[str, Any] | None = None                              # (key, Plan)
    outputs: dict[str, str] = field(default_factory=dict)            # output path -> render key
    extras: tuple[str, tuple[str, ...]] | None = None                # (key, paths) of tag pages and 404
    copies: dict[str, tuple[tuple[int, int], str]] = field(default_factory=dict)  # file -> (stat, hash)
    output_id: str = ""                                              # marker of the output it describes
    pdfs: dict[str, tuple] = field(default_factory=dict)  # page -> (key, PdfFile, files used, refused); bytes in pdf/
    stats: dict[str, int] = field(default_factory=dict)              # this build: reused / rendered counts
    texts_on_disk: Path | None = None  # loaded from disk: page bodies left out, HTML in html.sqlite there
    last: Any = None  # in memory only, under `serve`: the last site built (incremental.LastSite)
    base_id: str = ""  # names the file this cache was saved to in full; a delta file names it too
    base: Any = None   # in memory only: the entries as the full files hold them, to save only what changed
    keys_id: str = ""  # names the full file of page_keys, as base_id does the other

    def html_of(self, digests: Iterable[str]) -> dict[str, str]:
        """Bodies' HTML by digest, from html.sqlite when the cache was loaded without it."""
        wanted = list(dict.fromkeys(digests))
        if self.texts_on_disk is None or not wanted:
            return {}
        found = {}
        with _connect(self.texts_on_disk) as db:
            for i in range(0, len(wanted), 900):  # SQLite's limit on parameters per statement
                part = wanted[i:i + 900]
                found.update(db.execute(f"SELECT key, html FROM html WHERE key IN ({','.join('?' * len(part))})",
                                        part).fetchall())
        return found


def cache_path(site: Path) -> Path:
    return site / CACHE_DIR / CACHE_FILE


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE IF NOT EXISTS html (key TEXT PRIMARY KEY, html TEXT NOT NULL)")
    return db


def load_cache(site: Path) -> BuildCache:
    """The cache of the last build, or an empty one (missing, unreadable or another version).

    It comes without the text of page bodies (read again from content/ when needed) and
    without their HTML (fetched from html.sqlite for the pages rendered again): a third
    of the size, so a build that changes little starts fast."""
    folder = site / CACHE_DIR
    cache = _read_pickle(folder / CACHE_FILE)
    if not isinstance(cache, BuildCache) or cache.version != cache_format() or not (folder / HTML_FILE).is_file():
        return BuildCache()
    keys = _read_pickle(folder / KEYS_FILE)
    if isinstance(keys, dict) and keys.get("version") == cache.version:  # else every page is rendered again
        cache.page_keys, cache.keys_id = keys["page_keys"], keys["keys_id"]
    cache.texts_on_disk = folder / HTML_FILE
    cache.base = {kind: dict(getattr(cache, kind)) for kind in ENTRY_KINDS}
    delta = _read_pickle(folder / DELTA_FILE)  # none, or an unreadable one: the full files alone are valid
    if isinstance(delta, dict) and delta.get("base_id") == cache.base_id != "":
        for kind in ENTRY_KINDS:
            if kind == "page_keys" and delta.get("keys_id") != cache.keys_id:
                continue  # saved in full after this delta was written: it holds these changes already
            entries = getattr(cache, kind)
            entries.update(delta["changed"][kind])
            for key in delta["removed"][kind]:
                entries.pop(key, None)
        for name in SITE_FIELDS:
            setattr(cache, name, delta["site"][name])
    return cache


def _read_pickle(path: Path) -> Any:
    """What a cache file holds, or None: a cache is only ever a shortcut, so anything wrong with it
    means starting afresh. Read without the collector (much faster for many small objects), which
    need never look at it again: it is not garbage."""
    gc.disable()
    try:
        with open(path, "rb") as f:
            return pickle.load(f)
    except Exception:
        return None
    finally:
        gc.enable()
        gc.freeze()


def store_html(site: Path, cache: BuildCache) -> set[str]:
    """Add the bodies' HTML that html.sqlite lacks (keyed by its digest, so never wrong for an
    older cache: a build does this while its pages render), and return the digests it holds.
    A failure never fails the build: a body whose HTML is missing is rendered again."""
    folder = cache_path(site).parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / ".gitignore").exists():
            (folder / ".gitignore").write_text("# Stepstone's cache: safe to delete.\n*\n")
        html = {entry[3]: entry[1].html for entry in cache.bodies.values()
                if entry[1].html or entry[3] == EMPTY_HTML or cache.texts_on_disk is None}
        with _connect(folder / HTML_FILE) as db:
            stored = {key for key, in db.execute("SELECT key FROM html")}
            added = [(k, v) for k, v in html.items() if k not in stored]
            db.executemany("INSERT INTO html VALUES (?, ?)", added)
    except (OSError, sqlite3.Error):
        return set()
    return stored.union(k for k, _ in added)


def save_cache(site: Path, cache: BuildCache) -> None:
    """Write the cache atomically, bodies' HTML into html.sqlite; a failure never fails the build.

    A part (PARTS) is written in full when much of it changed since its last full save, else
    only its changes go into the delta file, with the site's fields. Full files are written
    first: killed before the delta, the older delta names an older full file and is left out
    where it does, and what is loaded is still a cache of some build."""
    path = cache_path(site)
    try:
        stored = store_html(site, cache)
        wanted = {entry[3] for entry in cache.bodies.values()}
        with _connect(path.parent / HTML_FILE) as db:
            db.executemany("DELETE FROM html WHERE key = ?", [(k,) for k in stored - wanted])
        changed, removed = _changes(cache)
        in_full = {part for part, kinds in PARTS.items() if not set(kinds) <= changed.keys()}
        if CACHE_FILE in in_full or not cache.base_id:
            slim = _without_texts(cache)
            _write_pickle(path, slim)
            cache.base_id = slim.base_id
            in_full.add(CACHE_FILE)
        if KEYS_FILE in in_full or not cache.keys_id:
            cache.keys_id = secrets.token_hex(8)
            _write_pickle(path.parent / KEYS_FILE, {"version": cache.version, "keys_id": cache.keys_id,
                                                    "page_keys": cache.page_keys})
            in_full.add(KEYS_FILE)
        cache.base = cache.base or {}
        for part in in_full:  # the full files now hold these entries: no change since
            for kind in PARTS[part]:
                changed[kind], removed[kind] = {}, set()
                cache.base[kind] = dict(getattr(cache, kind))
        if in_full == set(PARTS):  # the site's fields are in the full file too
            (path.parent / DELTA_FILE).unlink(missing_ok=True)
            return
        _write_pickle(path.parent / DELTA_FILE, {
            "base_id": cache.base_id, "keys_id": cache.keys_id, "changed": changed, "removed": removed,
            "site": {name: getattr(cache, name) for name in SITE_FIELDS}})
    except (OSError, sqlite3.Error):
        pass


def _write_pickle(path: Path, value: Any) -> None:
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    with open(tmp, "wb") as f:
        pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)


def _changes(cache: BuildCache) -> tuple[dict[str, dict], dict[str, set]]:
    """The entries changed and removed since the full files were written (those reused are the
    very same objects), for the parts where they are few: a part left out is saved in full."""
    changed, removed = {}, {}
    for kinds in PARTS.values():
        now = {kind: getattr(cache, kind) for kind in kinds}
        base = {kind: cache.base[kind] if cache.base is not None else {} for kind in kinds}
        limit = max(50, sum(map(len, now.values())) // DELTA_SHARE)
        found = {kind: {key: entry for key, entry in now[kind].items() if not _same(entry, base[kind].get(key))}
                 for kind in kinds}
        gone = {kind: set(base[kind]) - set(now[kind]) for kind in kinds}
        if cache.base is not None and sum(len(found[k]) + len(gone[k]) for k in kinds) <= limit:
            changed.update((kind, {key: _slim(kind, entry) for key, entry in found[kind].items()})
                           for kind in kinds)
            removed.update(gone)
    return changed, removed


def _same(entry: Any, before: Any) -> bool:
    if entry is before:
        return True
    return type(entry) is tuple and type(before) is tuple and len(entry) == len(before) and \
        all(a is b or a == b for a, b in zip(entry, before, strict=True))


def _slim(kind: str, entry: Any) -> Any:
    """An entry as the cache files keep it: no body text, no HTML (that is in html.sqlite)."""
    if kind == "sources":
        return _without(entry, "parsed", "body")
    if kind == "pages":
        key, page, found = entry
        return key, page and _without(page, "body"), found
    if kind == "bodies":
        key, body, *rest = entry
        return (key, _without(body, "html"), *rest)
    return entry


def _without(item: Any, name: str, inner: str = "") -> Any:
    """`item` with its text attribute `name` (or `name`.`inner`) emptied; itself if it already is.
    (A shallow copy: dataclasses.replace would check every field again, 10,000 times over.)"""
    value = getattr(item, name)
    if inner:
        return item if value is None or not getattr(value, inner) else _with(item, name, _without(value, inner))
    return _with(item, name, "") if value else item


def _with(item: Any, name: str, value: Any) -> Any:
    new = copy.copy(item)
    object.__setattr__(new, name, value)  # frozen dataclasses: this copy is ours alone
    return new


def _without_texts(cache: BuildCache) -> BuildCache:
    """A copy of the cache's part in CACHE_FILE, with no body text and no HTML, under a new base id."""
    return replace(cache, **{kind: {key: _slim(kind, entry) for key, entry in getattr(cache, kind).items()}
                             for kind in PARTS[CACHE_FILE]},
                   page_keys={}, stats={}, texts_on_disk=None, last=None, base=None,
                   base_id=secrets.token_hex(8), keys_id="")


def fingerprint(value: Any) -> Any:
    """A small, hashable picture of plain data (the config): what every page's HTML depends on."""
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    if isinstance(value, dict):
        return tuple(sorted((str(k), fingerprint(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple, set, frozenset)):
        return tuple(fingerprint(v) for v in value)
    if dataclasses.is_dataclass(value):
        return (type(value).__name__,) + tuple(fingerprint(getattr(value, f.name)) for f in dataclasses.fields(value))
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
    return hashlib.blake2b(repr((cache_format(), extra, entries)).encode(), digest_size=16).hexdigest()


def load_last_build(site: Path) -> LastBuild | None:
    try:
        with open(site / CACHE_DIR / LAST_BUILD_FILE, "rb") as f:
            last = pickle.load(f)
    except Exception:  # no record, or an unreadable one: build as usual
        return None
    return last if isinstance(last, LastBuild) else None


def save_last_build(site: Path, last: LastBuild) -> None:
    try:
        _write_pickle(site / CACHE_DIR / LAST_BUILD_FILE, last)
    except OSError:
        pass
