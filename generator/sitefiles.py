"""sitemap.xml, feed.xml and robots.txt: public pages only, no build timestamps."""
from __future__ import annotations

from typing import Callable, Sequence

from .config import SiteConfig
from .content import Page

FEED_SIZE = 20


def escape(text: str, entities: dict[str, str] | None = None) -> str:
    """XML text: &, < and > escaped (and `entities` too), as xml.sax.saxutils does, without
    importing it (it pulls in urllib and http: a tenth of the start-up time of a build)."""
    text = text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")
    for char, entity in (entities or {}).items():
        text = text.replace(char, entity)
    return text


def absolute(config: SiteConfig, url: str) -> str:
    return config.base_url + url.lstrip("/")


def sitemap(config: SiteConfig, pages: Sequence[Page], extra_urls: Sequence[str]) -> str:
    """Every public page and tag page; `lastmod` only where a page has a date."""
    rows = []
    entries = sorted([(p.url, p.date) for p in pages] + [(u, None) for u in extra_urls])
    for url, date in entries:
        lastmod = f"<lastmod>{date.isoformat()}</lastmod>" if date else ""
        rows.append(f"  <url><loc>{escape(absolute(config, url))}</loc>{lastmod}</url>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            + "\n".join(rows) + "\n</urlset>\n")


def feed(config: SiteConfig, pages: Sequence[Page], summary: Callable[[Page], str]) -> str:
    """An Atom feed of the newest dated public pages; 'updated' is the newest page's date.
    (`summary` is asked only of the pages the feed lists.)"""
    dated = sorted((p for p in pages if p.date and not p.is_listing and not p.is_home),
                   key=lambda p: (p.date, p.name), reverse=True)[:FEED_SIZE]
    updated = dated[0].date.isoformat() if dated else "1970-01-01"
    home = absolute(config, "/")
    entries = []
    for p in dated:
        link = escape(absolute(config, p.url), {'"': "&quot;"})
        entries.append(
            "  <entry>\n"
            f"    <title>{escape(p.title)}</title>\n"
            f'    <link href="{link}"/>\n'
            f"    <id>{link}</id>\n"
            f"    <updated>{p.date.isoformat()}T00:00:00Z</updated>\n"
            f"    <summary>{escape(summary(p))}</summary>\n"
            "  </entry>")
    author = escape(config.author or config.title)
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{escape(config.language)}">\n'
            f"  <title>{escape(config.title)}</title>\n"
            + (f"  <subtitle>{escape(config.description)}</subtitle>\n" if config.description else "")
            + f'  <link href="{escape(home)}"/>\n'
            f'  <link rel="self" href="{escape(absolute(config, "/feed.xml"))}"/>\n'
            f"  <id>{escape(home)}</id>\n"
            f"  <updated>{updated}T00:00:00Z</updated>\n"
            f"  <author><name>{author}</name></author>\n"
            + "".join(e + "\n" for e in entries)
            + "</feed>\n")


def robots(config: SiteConfig) -> str:
    return f"User-agent: *\nAllow: /\n\nSitemap: {absolute(config, '/sitemap.xml')}\n"
