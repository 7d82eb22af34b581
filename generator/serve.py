"""`stepstone serve`: build a preview, serve it with live reload, rebuild on every save.

Like Hugo's server, the preview has its own address and folder (.stepstone/preview/), so
output/ stays the site to upload. The build cache is kept in memory between rebuilds, so a
save re-renders only what it touches. A broken edit never stops the server: the problems
are printed, shown over the page in the browser, and the last good pages stay served.

livereload only serves and reloads browsers here; watchfiles (inotify) notices saves. That
avoids livereload's pitfalls: its 800 ms polling of every file, its 3-second reload throttle
and the reload it sends at start-up (see shared/TOOLCHAIN.md). One save, one reload.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import click

from .build import OVERLAY_SCRIPT, BuildOptions, build
from .cache import CACHE_DIR, BuildCache
from .errors import Problem, SiteError, UsageError
from .forms import LOCAL_ENDPOINT
from .funnelmap import map_page
from .render import Site
from .write import MARKER, marker

WATCHED = ("content", "themes", "static", "stepstone.toml")
LOOK_EVERY = 0.1  # seconds: how often the watcher looks whether what there is to watch changed
SUBMISSIONS_FILE = f"{CACHE_DIR}/submissions.jsonl"
MAX_SUBMISSION = 64 * 1024  # bytes: a signup is a few hundred
PREVIEW_DIR = f"{CACHE_DIR}/preview"
ERRORS_FILE = "_stepstone/errors.json"
MAP_PATH = r"/_stepstone/(?:index\.html)?"  # the funnel map: only under serve, never built


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def show_errors(preview: Path, lines: list[str]) -> None:
    """Tell the browser overlay what is wrong (an empty list hides it)."""
    replace_file(preview / ERRORS_FILE, json.dumps(lines))
    if not (preview / MARKER).exists():  # the very first build failed: give the browser a page
        (preview / MARKER).write_bytes(marker(""))
        (preview / "index.html").write_text(
            "<!doctype html><html><head><meta charset=utf-8><title>Stepstone</title></head><body>"
            "<p>The site could not be built yet.</p><script src=\"/_stepstone/overlay.js\"></script>"
            "</body></html>\n", encoding="utf-8")
        (preview / "_stepstone" / "overlay.js").write_bytes(OVERLAY_SCRIPT.read_bytes())


def replace_file(target: Path, text: str) -> None:
    """Write a preview file whole: the browser never reads half of one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, target)


class LastGoodSite:
    """The site as the last good build left it, and its problems: what the funnel map shows. The
    map is drawn when the owner opens it, not after every save (at 10,000 pages drawing it takes
    longer than rebuilding the page that was saved)."""

    def __init__(self) -> None:
        self.drawn: tuple[Site, tuple[Problem, ...]] | None = None

    def map_html(self) -> str | None:
        drawn = self.drawn  # one read: a rebuild may replace it meanwhile
        return map_page(*drawn) if drawn is not None else None


def rebuild(options: BuildOptions, cache: BuildCache, changed: set[str] | None = None,
            last_good: LastGoodSite | None = None) -> bool:
    """One build, reported in the terminal with its time; False when the owner's files have errors."""
    started = time.perf_counter()
    try:
        result = build(options, cache, changed)
    except SiteError as exc:
        lines = [str(p) for p in exc.problems]
        for line in lines:
            click.echo(line, err=True)
        click.echo("stepstone: the last good pages are still served; fix the lines above and save", err=True)
        show_errors(options.output, lines)
        return False
    show_errors(options.output, [])
    if result.site is not None and last_good is not None:
        last_good.drawn = (result.site, result.problems)
    for p in result.problems:
        click.echo(str(p), err=True)
    written = result.stats.get("pages rendered", result.pages)
    click.echo(f"Rebuilt in {(time.perf_counter() - started) * 1000:.0f} ms: "
               f"{written} of {result.pages} pages written")
    return True


def changed_paths(site: Path, changes: set[tuple[Any, str]]) -> set[str] | None:
    """The files saved in place, relative to the site; None when a file was added or deleted
    (or renamed over, as some editors save): only the full build can tell what that touches."""
    import watchfiles

    found = set()
    for change, path in changes:
        if change != watchfiles.Change.modified:
            return None
        try:
            found.add(Path(path).resolve().relative_to(site.resolve()).as_posix())
        except ValueError:
            return None
    return found


def record_submission(log: Path, fields: dict[str, list[bytes]]) -> str:
    """Append one local form submission to `log`; the local path to go on to (the thank-you page)."""
    values = {name: [v.decode("utf-8", "replace") for v in items] for name, items in fields.items()}
    form = values.pop("_stepstone_form", [""])[0]
    after = values.pop("_stepstone_next", ["/"])[0]
    record = {"received": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "form": form,
              "fields": {name: items[0] if len(items) == 1 else items for name, items in values.items()}}
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a", encoding="utf-8") as f:
        f.write(json.dumps(record, ensure_ascii=False) + "\n")
    return after if after.startswith("/") and not after.startswith("//") else "/"


def preview_server(site: Path, last_good: LastGoodSite):
    """livereload's server, with the local endpoint that signup forms post to under `serve`, and
    the funnel map drawn from the last good build."""
    from livereload import Server
    from livereload.handlers import StaticFileHandler
    from tornado import web

    class WholeFileHandler(StaticFileHandler):
        """Sends each file from one open handle: a page swapped by a rebuild mid-request is
        never sent with the old file's length and the new file's bytes."""

        def validate_absolute_path(self, root: str, absolute_path: str) -> str | None:
            path = super().validate_absolute_path(root, absolute_path)
            if path is not None:
                self._file = open(path, "rb")
                self._stat_result = os.fstat(self._file.fileno())
            return path

        def compute_etag(self) -> None:
            return None  # a preview is never cached: every reload gets the page as it is now

        def get_content(self, abspath: str, start: int | None = None, end: int | None = None) -> bytes:
            self._file.seek(start or 0)
            return self._file.read(None if end is None else end - (start or 0))

        def on_finish(self) -> None:
            if getattr(self, "_file", None) is not None:
                self._file.close()

    class Submission(web.RequestHandler):
        def post(self) -> None:
            if len(self.request.body) > MAX_SUBMISSION:
                self.set_status(413)
                self.finish("This form sent more than a signup needs.")
                return
            after = record_submission(site / SUBMISSIONS_FILE, self.request.body_arguments)
            click.echo(f"Form submission kept in {SUBMISSIONS_FILE}; going on to {after}")
            self.redirect(after, status=303)

    class FunnelMap(web.RequestHandler):
        def get(self) -> None:
            html = last_good.map_html()
            self.set_header("Cache-Control", "no-store")
            if html is None:
                self.set_status(404)
                self.finish("The site could not be built yet: see the terminal.")
                return
            self.set_header("Content-Type", "text/html; charset=utf-8")  # livereload's script goes in
            self.finish(html)

    class PreviewServer(Server):
        def get_web_handlers(self, script):
            self.SFH = WholeFileHandler
            return [(LOCAL_ENDPOINT, Submission), (MAP_PATH, FunnelMap), *super().get_web_handlers(script)]

    return PreviewServer()


def watched_layout(site: Path) -> tuple[tuple[str, int, int], ...]:
    """What there is to watch: each of WATCHED that exists, with its device and inode. A folder
    made or removed, or a file saved by renaming a new one over it (as vim and many editors save),
    changes it: a watch set up before follows the old file, or was never set on the new folder."""
    found = []
    for name in WATCHED:
        try:
            st = os.stat(site / name)
        except OSError:
            continue
        found.append((name, st.st_dev, st.st_ino))
    return tuple(found)


def watch_and_rebuild(site: Path, rebuild_now, reload_url: str, ready: threading.Event,
                      stop: threading.Event) -> None:
    """Rebuild and reload the browser after every save; `ready` is set once saves are being watched.
    When what there is to watch changes, it is watched again as it now is, and the whole site is
    rebuilt once (that change, and any save meanwhile, in one rebuild and one reload)."""
    import watchfiles

    whole = False  # the site is to be rebuilt whole, once it is watched again
    while not stop.is_set():
        layout = watched_layout(site)
        paths = [str(site / name) for name, _, _ in layout]
        batches = watchfiles.watch(*paths, stop_event=stop, debounce=50, step=20, raise_interrupt=False,
                                   yield_on_timeout=True, rust_timeout=int(LOOK_EVERY * 1000)) \
            if paths else _nothing_saved(stop)
        for changes in batches:  # every LOOK_EVERY seconds at least, with the saves since (if any)
            ready.set()
            if watched_layout(site) != layout:
                whole = True
                break
            if not changes and not whole:
                continue
            rebuild_now(None if whole else changed_paths(site, changes))
            whole = False
            try:
                urllib.request.urlopen(reload_url, timeout=2).read()
            except OSError:
                pass  # no browser connected yet, or the server is stopping
        batches.close()  # the old watch ends here, not whenever it is collected


def _nothing_saved(stop: threading.Event):
    """An empty batch of saves every LOOK_EVERY seconds, until `stop`: for a site with nothing to watch yet."""
    while not stop.wait(LOOK_EVERY):
        yield set()


def serve_site(site: Path, host: str, port: int, drafts: bool = False, future: bool = False) -> None:
    from livereload.handlers import LiveReloadHandler

    if not port_free(host, port):
        raise UsageError(f"port {port} on {host} is already in use: pass another, e.g. --port {port + 1}")
    options = BuildOptions(site=site, out=site / PREVIEW_DIR, base_url=f"http://{host}:{port}/",
                           drafts=drafts, future=future, preview=True)
    cache, lock, last_good = BuildCache(), threading.Lock(), LastGoodSite()

    def rebuild_now(changed: set[str] | None = None) -> None:
        with lock:  # one build at a time: they share the cache
            rebuild(options, cache, changed, last_good)

    ready, stop = threading.Event(), threading.Event()
    threading.Thread(target=watch_and_rebuild, daemon=True,
                     args=(site, rebuild_now, f"http://{host}:{port}/forcereload", ready, stop)).start()
    ready.wait(timeout=10)  # watching before the first build: no save is missed
    rebuild_now()
    LiveReloadHandler.DEFAULT_RELOAD_TIME = 0  # its throttle would drop a save made soon after another
    for name in ("livereload", "tornado.access", "tornado.application", "tornado.general"):
        logging.getLogger(name).setLevel(logging.WARNING)
    server = preview_server(site, last_good)
    server.watch(str(site / CACHE_DIR / "nothing-to-watch"))  # saves are watched by watchfiles instead
    click.echo(f"Serving {site.resolve()} at http://{host}:{port}/  (Ctrl-C to stop)")
    try:
        server.serve(host=host, port=port, root=str(options.output), restart_delay="forever",
                     open_url_delay=None)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        click.echo("Stopped.")
