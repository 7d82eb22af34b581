"""The demo site works when served from the root and from a sub-path, by a plain file server."""
import re

import pytest

from conftest import REPO, TODAY
from generator.build import BuildOptions, build
from generator.cache import BuildCache
from sitecrawl import crawl, serve


@pytest.mark.parametrize("sub_path", ["/", "/couch/", "/shop/fresh-couch/"])
def test_every_internal_link_resolves(tmp_path, sub_path):
    root = tmp_path / "www"
    out = root / sub_path.strip("/") if sub_path != "/" else root
    build(BuildOptions(site=REPO, out=out, base_url=f"https://example.com{sub_path}", today=TODAY), BuildCache())
    pages = sorted(out.rglob("index.html"))
    with serve(root) as origin:
        seen, broken = crawl(origin, sub_path)
        public_reach = len(seen)
        # gated pages are reached by walking the funnel, not by links: start from each one too
        for page in pages + [out / "404.html"]:
            rel = page.relative_to(out).as_posix().removesuffix("index.html")
            more_seen, more_broken = crawl(origin, sub_path + rel)
            seen |= more_seen
            broken.update(more_broken)
    assert broken == {}
    assert public_reach >= 15  # home, about, services, guides, articles, tags...
    assert all(url.startswith(origin + sub_path) for url in seen)
    assert len(seen) >= len(pages)

def test_sitemap_and_feed_use_the_sub_path(tmp_path):
    out = tmp_path / "out"
    build(BuildOptions(site=REPO, out=out, base_url="https://me.github.io/couch/", today=TODAY), BuildCache())
    locs = re.findall(r"<loc>(.*?)</loc>", (out / "sitemap.xml").read_text())
    assert locs and all(loc.startswith("https://me.github.io/couch/") for loc in locs)
    for loc in locs:
        path = loc.removeprefix("https://me.github.io/couch/")
        assert (out / path / "index.html").is_file(), loc
    assert "https://me.github.io/couch/sitemap.xml" in (out / "robots.txt").read_text()
    feed = (out / "feed.xml").read_text()
    assert re.findall(r'<link href="([^"]+)"/>', feed)[0] == "https://me.github.io/couch/"


@pytest.mark.parametrize("sub_path", ["/", "/couch/"])
def test_the_404_page_works_served_at_any_depth(tmp_path, sub_path):
    """Hosts serve 404.html in place of any missing address: its links must not be relative."""
    import urllib.request
    from urllib.parse import urljoin

    from sitecrawl import _Links
    root = tmp_path / "www"
    out = root / sub_path.strip("/") if sub_path != "/" else root
    build(BuildOptions(site=REPO, out=out, base_url=f"https://example.com{sub_path}", today=TODAY), BuildCache())
    parser = _Links()
    parser.feed((out / "404.html").read_text())
    assert any(link.endswith(".css") for link in parser.links)
    with serve(root) as origin:
        missing = origin + sub_path + "guides/no/such/page/"
        for link in parser.links:
            target = urljoin(missing, link)
            if target.startswith(origin) and not link.startswith("#"):
                with urllib.request.urlopen(target, timeout=5) as response:
                    assert response.status == 200, target
