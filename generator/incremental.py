"""`serve`'s shortcut for the commonest save: the body of one page changed, nothing else.

The watcher says which files changed. When every one is a page whose front matter is
exactly as before, nothing another page shows of it has changed (title, summary, step,
tags and offer live in the front matter), so only that page's HTML is made again: no
walk over the site, no funnel plan. Anything else (a new file, a front matter edit, a
first paragraph that the feed quotes) returns None, and the full build decides.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jinja2 import Environment

from . import funnel
from .cache import BuildCache, digest
from .errors import Problem, SiteError, has_errors, sorted_problems
from .markup import BodyRenderer, LinkTargets, Markup
from .render import Site, Theme, render_page
from .write import update_site


@dataclass
class LastSite:
    """What a full in-memory build leaves for the shortcut (never saved to disk)."""

    options: Any                    # the BuildOptions it was built with
    site: Site
    theme: Theme
    env: Environment
    targets: LinkTargets
    problems: tuple[Problem, ...]   # every problem found, severities as found
    keys: dict[str, str]            # output path -> digest of the file written
    by_source: dict[str, str] = field(init=False)                  # "content/a.md" -> page name
    markup_problems: dict[str, tuple[Problem, ...]] = field(default_factory=dict)  # bodies redone here

    def __post_init__(self) -> None:
        """What the next save looks up, worked out with the full build rather than on that save."""
        self.by_source = {p.source: p.name for p in self.site.pages}
        self.site.by_name  # noqa: B018 (computed and kept by the site)


def rebuild_bodies(options: Any, cache: BuildCache, changed: set[str]) -> tuple[Site, list[Problem], int] | None:
    """Re-render the pages whose bodies alone changed (`changed`: paths relative to the site).

    Returns (site, problems, pages written), None when the change needs a full build, or
    raises SiteError when the new bodies have errors (the output is then left as it was)."""
    last: LastSite | None = cache.last
    if last is None or not changed or last.options != options:
        return None
    site = last.site
    edits = []
    for rel in sorted(changed):
        name = last.by_source.get(rel)
        entry = cache.sources.get(rel.removeprefix("content/"))
        if name is None or entry is None or entry.parsed is None:
            return None
        try:
            raw = (options.site / rel).read_bytes()
        except OSError:
            return None
        from .source import parse_source  # (YAML's parser: imported where front matter is read)
        parsed, found = parse_source(raw, name, rel)
        if parsed is None or found or parsed.front_digest != entry.parsed.front_digest \
                or parsed.body_start != entry.parsed.body_start or site.page(name).download:
            return None  # (a page with a PDF: the full build makes it again)
        edits.append((site.page(name), parsed.body))
    renderer = BodyRenderer(site.config.unsafe_html)
    bodies = dict(site.bodies)
    problems = set(last.problems)
    for page, text in edits:
        body, found = renderer.render(text, page.name, page.source, page.body_start, last.targets)
        old = bodies[page.name]
        if body.first_paragraph != old.first_paragraph and not page.summary and site.is_public(page):
            return None  # the feed quotes it
        problems -= set(last.markup_problems.get(page.name, _markup_problems(cache, page.name)))
        problems -= set(_link_problems(site, old))
        problems |= set(found) | set(_link_problems(site, body))
        last.markup_problems[page.name] = tuple(found)
        bodies[page.name] = body
    site = site.with_bodies(bodies)
    last.site, last.problems = site, tuple(problems)
    current = sorted_problems(problems)
    if has_errors(current):
        raise SiteError(current)
    rendered = {}
    for page, _ in edits:
        file, problem, _ = render_page(site, last.env, last.theme, page)
        if problem is not None:
            raise SiteError(sorted_problems([*current, problem]))
        rendered[file.path] = file
    changed_files = {path: f for path, f in rendered.items() if last.keys.get(path) != digest(f.data)}
    last.keys.update((path, digest(f.data)) for path, f in changed_files.items())
    output_id = digest(repr(sorted(last.keys.items())))
    update_site(options.output, changed_files, [], output_id)
    cache.outputs, cache.output_id = dict(last.keys), output_id
    return site, current, len(changed_files)


def _markup_problems(cache: BuildCache, name: str) -> tuple[Problem, ...]:
    entry = cache.bodies.get(name)
    return tuple(entry[2]) if entry else ()


def _link_problems(site: Site, body: Markup) -> list[Problem]:
    """The link problems of one body: judged on the pages its links join (not all 10,000)."""
    joined = {name for link in body.links for name in (link.source, link.target)}
    pages = [site.by_name[name] for name in joined if name in site.by_name]
    return funnel.link_problems(site.config.funnel, pages, site.plan.standing, body.links)

