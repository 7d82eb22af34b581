"""Serve a built site from a sub-path on 127.0.0.1 and follow every internal link."""
from __future__ import annotations

import functools
import http.server
import threading
import urllib.error
import urllib.request
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@contextmanager
def serve(root: Path):
    """Serve folder `root` at http://127.0.0.1:PORT/ for the duration of the block."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(QuietHandler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src", "action") and value:
                self.links.append(value)
            if name == "value" and value and value.startswith(("/", "http://127.0.0.1")):
                self.links.append(value)  # redirect fields of forms


def crawl(origin: str, start: str) -> tuple[set[str], dict[str, str]]:
    """Every same-origin URL reachable from `start`: (visited, {broken url: found on page})."""
    seen, broken, queue = set(), {}, [(origin + start, "start")]
    while queue:
        url, referrer = queue.pop()
        url = urldefrag(url)[0]
        if url in seen:
            continue
        seen.add(url)
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                body = response.read()
                kind = response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as exc:
            broken[url] = f"{exc.code} (linked from {referrer})"
            continue
        if "html" not in kind:
            continue
        parser = _Links()
        parser.feed(body.decode("utf-8"))
        for link in parser.links:
            target = urljoin(url, link)
            if urlsplit(target).netloc == urlsplit(origin).netloc and urlsplit(target).scheme.startswith("http"):
                queue.append((target, url))
    return seen, broken
