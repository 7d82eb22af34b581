"""The site as a full build judged it, kept for a build after only templates changed (restyle.py)."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Mapping

from .cache import copied_with

if TYPE_CHECKING:
    from .errors import Problem
    from .markup import LinkTargets
    from .render import Site, Theme

SITE_FILE = "site.pickle"  # under .stepstone/


@dataclass(frozen=True)
class SiteSnapshot:
    """What rendering a site's pages takes, but for their bodies' HTML (in html.sqlite) and the templates."""

    id: str                        # the splice record of the build that made it names it (splice.SpliceRecord.site)
    site: Site                     # bodies without their HTML and links, pages without their keys' lines
    theme: Theme
    problems: tuple[Problem, ...]  # every problem found before rendering: the build reported them
    targets: LinkTargets | None    # what links in bodies may point to: to render a body the store lost
    html: Mapping[str, str]        # page name -> digest of its body's HTML


def new_site_id() -> str:
    return secrets.token_hex(8)


def snapshot_of(site_id: str, site: Site, theme: Theme, problems: tuple[Problem, ...], targets: LinkTargets | None,
                html: Mapping[str, str]) -> SiteSnapshot:
    """The snapshot of `site` (whose pages carry no Markdown text): its bodies without their HTML,
    which rendering takes from html.sqlite, nor their links, which it does not show (the funnel judged them);
    its pages without the line of each key, which only a problem shows: a restyle that meets one leaves
    the build to the full one, which reports it (a third less time to load the pages)."""
    bodies = {name: replace(body, html="", links=()) for name, body in site.bodies.items()}
    pages = tuple(copied_with(page, "origins", ()) for page in site.pages)
    return SiteSnapshot(site_id, replace(site, pages=pages, bodies=bodies), theme, problems, targets, dict(html))
