"""Screenshots of every page type at phone and desktop widths, to look at before a release.

    python scripts/screenshots.py [--site .] [--out screenshots/]

Builds the site into a temporary folder, serves it on 127.0.0.1 and saves
PNGs (not committed) with Debian's Chromium driven by Playwright.
"""
from __future__ import annotations

import argparse
import functools
import http.server
import tempfile
import threading
from pathlib import Path

from generator.build import BuildOptions, build
from generator.cache import BuildCache

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WIDTHS = {"phone": 375, "desktop": 1280}


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def page_types(output: Path) -> list[str]:
    """One URL per kind of page: home, listing, article, each door kind, a room, tags, 404."""
    wanted = ["", "guides/", "guides/stain-basics/", "insider/checklist/", "insider/welcome/",
              "trial/first-couch-coupon/", "delight/stain-clinic/", "core/annual-plan/", "tags/", "404.html"]
    return [u for u in wanted if (output / u / "index.html").exists() or (output / u).is_file()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=Path("."))
    parser.add_argument("--out", type=Path, default=Path("screenshots"))
    parser.add_argument("--dark", action="store_true", help="also take dark-mode shots")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        output = Path(tmp) / "output"
        build(BuildOptions(site=args.site, out=output), BuildCache())
        handler = functools.partial(QuietHandler, directory=str(output))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        args.out.mkdir(parents=True, exist_ok=True)
        schemes = ["light", "dark"] if args.dark else ["light"]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            for scheme in schemes:
                for label, width in WIDTHS.items():
                    page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
                    for url in page_types(output):
                        page.goto(base + url)
                        name = (url.strip("/").replace("/", "-").replace(".html", "") or "home")
                        path = args.out / f"{name}-{label}{'-dark' if scheme == 'dark' else ''}.png"
                        page.screenshot(path=str(path), full_page=True)
                        print(path)
                    page.close()
            browser.close()
        server.shutdown()


if __name__ == "__main__":
    main()
