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
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from . import __version__

CACHE_DIR = ".stepstone"
DELTA_FILE = "build-cache.delta.pickle"  # what changed in each part since its file was written in full
DELTA_SHARE = 10  # past one entry in this many of a part changed since its full save, save it in full again
HTML_FILE = "html.sqlite"  # each body's HTML by its digest: read back only for pages rendered again
STORE_MAPPED = 1 << 30  # bytes of html.sqlite read from memory where the kernel keeps it, not copied
# page by page: fetching the HTML of 5,000 bodies takes 2.5 µs each instead of 4 (and in key order)


def digest(data: bytes | str) -> str:
    """A content hash: what the build cache is keyed by. (SHA-256, cut to 128 bits: processors
    compute it in hardware, twice as fast as blake2b here, and a build hashes every page it writes.)"""
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()[:32]


EMPTY_HTML = digest("")


@dataclass(frozen=True)
class CachePart:
    """A share of the cache with a file of its own, written in full when much of it changed,
    else only its changes go into the delta file. Each is loaded whole or not at all."""

    file: str
    kinds: tuple[str, ...]   # entries, one per file or page: in the delta only those that changed
    fields: tuple[str, ...]  # the whole site's: in the delta when changed since the full save


# What was read, each entry checked against its key when used: entries of different builds mix safely.
READ = CachePart("build-cache.pickle", ("sources", "pages", "bodies"), ("plan", "copies", "pdfs"))
# What output/ holds, each page's render key and the output's id: always all of one build.
WRITTEN = CachePart("build-cache.output.pickle", ("page_keys", "outputs"), ("extras", "output_id", "metas"))
PARTS = (READ, WRITTEN)


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
    metas: dict[str, str] = field(default_factory=dict)  # page -> its metadata digest, as page_keys' deps hold it
    plan: tuple[str, Any] | None = None                              # (key, Plan)
    outputs: dict[str, str] = field(default_factory=dict)            # output path -> render key
    extras: tuple[str, dict[str, str]] | None = None  # (key of them all, path -> key of each) of tag pages and 404
    copies: dict[str, tuple[tuple[int, int], str]] = field(default_factory=dict)  # file -> (stat, hash)
    output_id: str = ""                                              # marker of the output it describes
    pdfs: dict[str, tuple] = field(default_factory=dict)  # page -> (key, PdfFile, files used, refused); bytes in pdf/
    stats: dict[str, int] = field(default_factory=dict)              # this build: reused / rendered counts
    texts_on_disk: Path | None = None  # loaded from disk: page bodies left out, HTML in html.sqlite there
    last: Any = None  # in memory only, under `serve`: the last site built (incremental.LastSite)
    compiled: Any = None  # in memory only, under `serve`: its templates compiled (build.TemplatesInMemory)
    saved_ids: dict[str, str] = field(default_factory=dict)  # part's file -> id of its full save (the delta names it)
    base: dict[str, dict] = field(default_factory=dict)  # in memory only: entries as the full files hold them

    def html_of(self, digests: Iterable[str]) -> dict[str, str]:
        """Bodies' HTML by digest, from html.sqlite when the cache was loaded without it."""
        return stored_html(self.texts_on_disk, digests)


def stored_html(store: Path | None, digests: Iterable[str]) -> dict[str, str]:
    """Bodies' HTML by digest, as html.sqlite (`store`) holds them: those it lacks are left out."""
    wanted = sorted(set(digests))  # in the order of the store's index: fewer of its pages visited
    if store is None or not wanted:
        return {}
    found = {}
    with _connect(store) as db:
        db.execute(f"PRAGMA mmap_size = {STORE_MAPPED}")
        for i in range(0, len(wanted), 900):  # SQLite's limit on parameters per statement
            part = wanted[i:i + 900]
            found.update(db.execute(f"SELECT key, html FROM html WHERE key IN ({','.join('?' * len(part))})",
                                    part).fetchall())
    return found


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE IF NOT EXISTS html (key TEXT PRIMARY KEY, html TEXT NOT NULL)")
    return db


def load_cache(site: Path) -> BuildCache:
    """The cache of the last build, or an empty one (missing, unreadable or another version).

    It comes without the text of page bodies (read again from content/ when needed) and
    without their HTML (fetched from html.sqlite for the pages rendered again): a third
    of the size, so a build that changes little starts fast. A part whose changes in the
    delta file name another full save than its file holds (a build killed between the two)
    is taken as its file holds it: what was saved in full is never older than the delta."""
    folder = site / CACHE_DIR
    cache = BuildCache()
    if not (folder / HTML_FILE).is_file():
        return cache
    delta = _read_pickle(folder / DELTA_FILE)  # none, or an unreadable one: the full files alone are valid
    updates = delta["parts"] if isinstance(delta, dict) and delta.get("version") == cache.version else {}
    for part in PARTS:
        saved = _read_pickle(folder / part.file)
        if not isinstance(saved, dict) or saved.get("version") != cache.version:
            continue  # this part starts afresh
        for kind in part.kinds:
            setattr(cache, kind, saved["entries"][kind])
            cache.base[kind] = dict(saved["entries"][kind])
        for name in part.fields:
            setattr(cache, name, saved["fields"][name])
            cache.base[name] = _snapshot(saved["fields"][name])
        cache.saved_ids[part.file] = saved["id"]
        update = updates.get(part.file)
        if update is not None and update["id"] == saved["id"]:
            for kind, entries in update["changed"].items():
                getattr(cache, kind).update(entries)
            for kind, keys in update["removed"].items():
                for key in keys:
                    getattr(cache, kind).pop(key, None)
            for name, value in update["fields"].items():
                setattr(cache, name, value)
    cache.texts_on_disk = folder / HTML_FILE
    return cache


def _read_pickle(path: Path) -> Any:
    """What a cache file holds, or None: a cache is only ever a shortcut, so anything wrong with it
    means starting afresh. Read without the collector (much faster for many small objects), which
    need never look at it again: it is not garbage."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        with open(path, "rb") as f:
            return pickle.load(f)
    except Exception:
        return None
    finally:
        if collecting:
            gc.enable()
        gc.freeze()


def store_html(site: Path, cache: BuildCache) -> set[str]:
    """Add the bodies' HTML that html.sqlite lacks (keyed by its digest, so never wrong for an
    older cache), and return the digests it holds.
    A failure never fails the build: a body whose HTML is missing is rendered again."""
    folder = site / CACHE_DIR
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


def save_what_was_read(site: Path, cache: BuildCache) -> None:
    """The bodies' HTML, and what was read when it is due in full: a build does this while its
    pages render, leaving less for save_cache after them. (Safe before the output is written:
    each of those entries is checked against its key.)"""
    store_html(site, cache)
    try:
        if _changes(cache, READ) is None:
            _save_in_full(site / CACHE_DIR, cache, READ)
    except OSError:
        pass


def save_cache(site: Path, cache: BuildCache) -> None:
    """Write the cache atomically, bodies' HTML into html.sqlite; a failure never fails the build.

    The parts due in full are written first, then the delta with the others' changes: killed
    in between, the older delta names older full saves of those parts and is left out there."""
    folder = site / CACHE_DIR
    try:
        stored = store_html(site, cache)
        wanted = {entry[3] for entry in cache.bodies.values()}
        with _connect(folder / HTML_FILE) as db:
            db.executemany("DELETE FROM html WHERE key = ?", [(k,) for k in stored - wanted])
        updates = {}
        for part in PARTS:
            changes = _changes(cache, part)
            if changes is None:
                _save_in_full(folder, cache, part)
            elif any(changes.values()):
                updates[part.file] = {"id": cache.saved_ids[part.file], **changes}
        if updates:
            _write_pickle(folder / DELTA_FILE, {"version": cache.version, "parts": updates})
        else:
            (folder / DELTA_FILE).unlink(missing_ok=True)
    except (OSError, sqlite3.Error):
        pass


def _save_in_full(folder: Path, cache: BuildCache, part: CachePart) -> None:
    """Write `part` whole, without body text or HTML, under a new id: its changes start anew."""
    saved_id = secrets.token_hex(8)
    _write_pickle(folder / part.file, {
        "version": cache.version, "id": saved_id,
        "entries": {kind: {key: _slim(kind, entry) for key, entry in getattr(cache, kind).items()}
                    for kind in part.kinds},
        "fields": {name: getattr(cache, name) for name in part.fields}})
    cache.saved_ids[part.file] = saved_id
    for kind in part.kinds:
        cache.base[kind] = dict(getattr(cache, kind))
    for name in part.fields:
        cache.base[name] = _snapshot(getattr(cache, name))


def save_written(site: Path, written: BuildCache) -> str:
    """Save what output/ holds (`written`'s WRITTEN part) in full, for a build that read nothing,
    and return the id of that save ('' if it failed). The delta's changes to it, named after the
    save before, are left out from now on; those to what was read stand."""
    try:
        _save_in_full(site / CACHE_DIR, written, WRITTEN)
    except OSError:
        return ""
    return written.saved_ids[WRITTEN.file]


def note_outputs(site: Path, written_id: str, outputs: dict[str, str], output_id: str) -> None:
    """Add to the delta that output/ holds new files (path -> key) under a new id, for a build that
    changed only those (generator/splice.py): the next full build loads them with the rest.
    Noted against the full save `written_id` of what output/ holds: any other is left as it is
    (and output/'s new id, unknown to it, makes the next build write output/ whole)."""
    folder = site / CACHE_DIR
    delta = _read_pickle(folder / DELTA_FILE)
    if not isinstance(delta, dict) or delta.get("version") != cache_format():
        delta = {"version": cache_format(), "parts": {}}
    update = delta["parts"].get(WRITTEN.file)
    if update is None or update["id"] != written_id:
        update = delta["parts"][WRITTEN.file] = {"id": written_id, "changed": {}, "removed": {}, "fields": {}}
    update["changed"].setdefault("outputs", {}).update(outputs)
    update["removed"].get("outputs", set()).difference_update(outputs)
    update["fields"]["output_id"] = output_id
    try:
        _write_pickle(folder / DELTA_FILE, delta)
    except OSError:
        pass


def load_record(site: Path, file: str) -> Any:
    """What a build left in .stepstone/`file` for the next (written by this Stepstone), or None."""
    saved = _read_pickle(site / CACHE_DIR / file)
    return saved[1] if isinstance(saved, tuple) and len(saved) == 2 and saved[0] == cache_format() else None


def save_record(site: Path, file: str, value: Any) -> None:
    """Keep `value` in .stepstone/`file` for the next build; a failure never fails this one."""
    try:
        _write_pickle(site / CACHE_DIR / file, (cache_format(), value))
    except OSError:
        pass


def _write_pickle(path: Path, value: Any) -> None:
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    with open(tmp, "wb") as f:
        pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)


def _snapshot(value: Any) -> Any:
    """A field as saved: its dicts are updated in place later (their values are not)."""
    return dict(value) if isinstance(value, dict) else value


def _changes(cache: BuildCache, part: CachePart) -> dict[str, dict] | None:
    """The entries of `part` changed and removed since its full save (those reused are the very
    same objects), and its fields changed, or None when it must be saved in full: never saved,
    or too many entries changed."""
    if part.file not in cache.saved_ids:
        return None
    limit = max(50, sum(len(getattr(cache, kind)) for kind in part.kinds) // DELTA_SHARE)
    changed, removed, count = {}, {}, 0
    for kind in part.kinds:
        base, now = cache.base[kind], getattr(cache, kind)
        changed[kind] = {key: entry for key, entry in now.items()  # (_same, inlined: 30,000 entries)
                         if entry is not (before := base.get(key)) and entry != before}
        removed[kind] = set(base) - set(now)
        count += len(changed[kind]) + len(removed[kind])
        if count > limit:
            return None
    fields = {name: getattr(cache, name) for name in part.fields
              if not _same(getattr(cache, name), cache.base[name])}
    return {"changed": {kind: {key: _slim(kind, entry) for key, entry in entries.items()}
                        for kind, entries in changed.items() if entries},
            "removed": {kind: keys for kind, keys in removed.items() if keys}, "fields": fields}


def _same(entry: Any, before: Any) -> bool:
    """Unchanged: mostly the very same object (an entry reused), else equal (tuples compare
    their items by identity first)."""
    return entry is before or entry == before


def _slim(kind: str, entry: Any) -> Any:
    """An entry as the cache files keep it: no body text, no HTML (that is in html.sqlite)."""
    if kind == "sources":
        return without_text(entry, "parsed", "body")
    if kind == "bodies":
        key, body, *rest = entry
        return (key, without_text(body, "html"), *rest)
    return entry


def without_text(item: Any, name: str, inner: str = "") -> Any:
    """`item` with its text attribute `name` (or `name`.`inner`) emptied; itself if it already is.
    (A shallow copy: dataclasses.replace would check every field again, 10,000 times over.)"""
    value = getattr(item, name)
    if inner:
        if value is None or not getattr(value, inner):
            return item
        return copied_with(item, name, without_text(value, inner))
    return copied_with(item, name, "") if value else item


def copied_with(item: Any, name: str, value: Any) -> Any:
    """A shallow copy of `item` with `name` set to `value` (frozen dataclasses: the copy is ours
    alone), made from its attributes: copy.copy goes through pickling's protocol."""
    if not hasattr(item, "__dict__"):
        new = copy.copy(item)
        object.__setattr__(new, name, value)
        return new
    new = type(item).__new__(type(item))  # as copy.copy makes it
    new.__dict__.update(item.__dict__)
    new.__dict__[name] = value
    return new


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


def input_stats(site: Path) -> dict[str, tuple[int, int]]:
    """Every input file's (mtime_ns, size), by path: what tells a build what may have changed."""
    found: dict[str, tuple[int, int]] = {}

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
                found[entry.path] = (st.st_mtime_ns, st.st_size)

    for name in ("content", "static", "themes"):
        walk(site / name)
    config = site / "stepstone.toml"
    st = config.stat()
    found[str(config)] = (st.st_mtime_ns, st.st_size)
    return found


def input_signature(stats: dict[str, tuple[int, int]], extra: tuple) -> str:
    """The input files' paths, sizes and times, with `extra` (options, date, version): cheap to compute."""
    return hashlib.blake2b(repr((cache_format(), extra, list(stats.items()))).encode(), digest_size=16).hexdigest()


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
