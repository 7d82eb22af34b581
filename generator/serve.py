"""`stepstone serve`: build a preview, serve it with live reload, rebuild on every change.

A broken edit never stops the server: the problems are printed and the last
good output stays served until the files are fixed.
"""
from __future__ import annotations

import logging
import socket
import time
from pathlib import Path

import click

from .build import BuildOptions, build
from .errors import SiteError, UsageError

WATCHED = ("content", "themes", "static", "stepstone.toml")
PREVIEW_DIR = ".stepstone/preview"


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def rebuild(options: BuildOptions) -> bool:
    """One build, reported in the terminal; False when the owner's files have errors."""
    started = time.perf_counter()
    try:
        result = build(options)
    except SiteError as exc:
        for p in exc.problems:
            click.echo(str(p), err=True)
        click.echo("stepstone: the last good site is still served; fix the lines above and save", err=True)
        return False
    for p in result.problems:
        click.echo(str(p), err=True)
    click.echo(f"Rebuilt {result.pages} pages in {(time.perf_counter() - started) * 1000:.0f} ms")
    return True


def serve_site(site: Path, host: str, port: int, drafts: bool = False, future: bool = False) -> None:
    from livereload import Server
    from livereload.handlers import LiveReloadHandler

    if not _port_free(host, port):
        raise UsageError(f"port {port} on {host} is already in use: pass another, e.g. --port {port + 1}")
    # Like Hugo's server: a preview at this address, in its own folder, so output/ stays
    # the site to upload and a sub-path base_url still previews at the root.
    options = BuildOptions(site=site, out=site / PREVIEW_DIR, base_url=f"http://{host}:{port}/",
                           drafts=drafts, future=future)
    rebuild(options)
    LiveReloadHandler.DEFAULT_RELOAD_TIME = 0  # livereload drops reloads within 3 s of the last one
    logging.getLogger("livereload").setLevel(logging.WARNING)
    server = Server()
    for name in WATCHED:
        if (site / name).exists():
            server.watch(str(site / name), lambda: rebuild(options))
    click.echo(f"Serving {site.resolve()} at http://{host}:{port}/  (Ctrl-C to stop)")
    try:
        server.serve(host=host, port=port, root=str(options.output), restart_delay="forever",
                     open_url_delay=None)
    except KeyboardInterrupt:
        click.echo("Stopped.")
