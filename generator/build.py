"""The pipeline: config → content → markup → funnel → render → write.

Everything is gathered and checked in memory first; only a build with no
errors touches the output folder, and then in one swap.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path

from jinja2 import Environment

from . import funnel, sitefiles
from .config import CONFIG_FILE, SiteConfig, base_url_problem, load_config
from .content import CONTENT_DIR, Content, Page, load_content
from .errors import Location, Problem, SiteError, UsageError, has_errors, sorted_problems
from .markup import FastMarkdown, LinkTargets, Markup, make_markdown, render_body
from .render import (Site, Theme, find_theme, make_environment, output_path, render_extras, render_pages,
                     render_site, tag_slug, template_for)
from .workers import default_jobs, map_chunks
from .write import CopiedFile, OutputFile, check_output_folder, plan_files, write_file, write_site

STATIC_DIR = "static"


@dataclass(frozen=True)
class BuildOptions:
    site: Path
    out: Path | None = None
    base_url: str | None = None
    drafts: bool = False
    future: bool = False
    strict: bool = False
    jobs: int = field(default_factory=default_jobs)
    today: dt.date | None = None

    @property
    def output(self) -> Path:
        return self.out if self.out is not None else self.site / "output"

    @property
    def day(self) -> dt.date:
        return self.today or dt.date.today()


@dataclass(frozen=True)
class Analysis:
    """The site as read and judged, before rendering: what `check` reports."""

    site: Site
    problems: tuple[Problem, ...]  # errors and warnings, as found
    theme: Theme
    env: Environment
    files: tuple[str, ...] = ()    # other files under content/, copied beside the pages


@dataclass(frozen=True)
class Assembled:
    """A site fully built in memory: what `build` writes."""

    site: Site
    files: dict
    problems: tuple[Problem, ...]  # warnings only: errors raise SiteError


def analyse(options: BuildOptions) -> Analysis:
    """Read config and content and apply the funnel rules, collecting every problem.

    Only a broken stepstone.toml stops here (SiteError): nothing can be judged without it.
    """
    if not (options.site / CONFIG_FILE).is_file():
        raise UsageError(f"no {CONFIG_FILE} in {options.site}: run 'stepstone new DIR' to start a "
                         f"site, or pass --site DIR")
    if options.base_url and base_url_problem(options.base_url):
        raise UsageError(f"--base-url: {base_url_problem(options.base_url)}")
    config, config_problems = load_config(options.site)
    if options.base_url:
        config = config.with_base_url(options.base_url)
    theme, theme_problems = find_theme(options.site, config.theme, config.line("theme"))
    env = make_environment(theme, config.base_path)
    content = load_content(options.site, options.day, options.drafts, options.future, options.jobs)
    bodies, link_problems = _markup(config, content, options.jobs)
    menu = [funnel.MenuEntry(m.title, _menu_target(m.url, content.pages), Location(CONFIG_FILE, m.line))
            for m in config.menu]
    links = [link for body in bodies.values() for link in body.links]
    plan = funnel.plan(config.funnel, content.pages, links, menu, {f.name for f in config.forms},
                       options.day)
    site = Site(config, content.pages, bodies, plan, options.day)
    layouts = [template_for(env, theme, f"{p.layout}.html", p.source, p.where("layout").line)[1]
               for p in content.pages if p.layout]
    problems = sorted_problems([*config_problems, *theme_problems, *content.problems, *link_problems,
                                *plan.problems, *filter(None, layouts)])
    return Analysis(site, tuple(problems), theme, env, content.files)


def assemble(options: BuildOptions, analysis: Analysis | None = None) -> Assembled:
    """Build the whole site in memory; raise SiteError with every problem if any is an error."""
    analysis = analysis or analyse(options)
    site = analysis.site
    problems = _stop_on_errors(list(analysis.problems), options.strict)
    theme = analysis.theme
    pages, render_problems = render_site(site, analysis.env, theme)
    _stop_on_errors([*problems, *render_problems], options.strict)
    files, collisions = plan_files([*pages, *_site_files(site, site.bodies)],
                                   _copies(options.site, theme.static_dirs, analysis.files))
    _stop_on_errors([*problems, *collisions], options.strict)
    return Assembled(site, files, tuple(problems))


def build(options: BuildOptions) -> Analysis:
    """Check everything, then write the output folder in one swap; pages are rendered on every core."""
    check_output_folder(options.site, options.output)
    analysis = analyse(options)
    site, theme, env = analysis.site, analysis.theme, analysis.env
    problems = _stop_on_errors(list(analysis.problems), options.strict)
    extras, render_problems = render_extras(site, env, theme)
    _stop_on_errors([*problems, *render_problems], options.strict)
    pages = [OutputFile(output_path(p.url), None, p.source) for p in site.pages]
    files, collisions = plan_files([*pages, *extras, *_site_files(site, site.bodies)],
                                   _copies(options.site, theme.static_dirs, analysis.files))
    _stop_on_errors([*problems, *collisions], options.strict)

    def render_pages_into(staging: Path) -> None:
        found = map_chunks(_render_chunk, (site, theme, staging), range(len(site.pages)), options.jobs)
        _stop_on_errors([*problems, *(p for chunk in found for p in chunk)], options.strict)

    write_site(options.output, files, render_pages_into)
    return replace(analysis, problems=tuple(problems))


def _render_chunk(state: tuple[Site, Theme, Path], indexes: list[int]) -> list[Problem]:
    """Render pages[i] for i in indexes and write them into the staging folder."""
    site, theme, staging = state
    env = make_environment(theme, site.config.base_path)
    files, problems = render_pages(site, env, theme, (site.pages[i] for i in indexes))
    for f in files:
        write_file(staging, f.path, f.data)
    return problems


def _stop_on_errors(problems: list[Problem], strict: bool) -> list[Problem]:
    if strict:
        problems = [replace(p, severity="error") for p in problems]
    if has_errors(problems):
        raise SiteError(problems)
    return sorted_problems(problems)


def _markup(config: SiteConfig, content: Content, jobs: int) -> tuple[dict[str, Markup], list[Problem]]:
    targets = LinkTargets(
        base_path=config.base_path,
        urls={p.name: p.url for p in content.pages},
        by_url={p.url: p.name for p in content.pages},
        skipped=content.skipped,
        files=frozenset(content.files),
    )
    bodies, problems = {}, []
    for chunk in map_chunks(_markup_chunk, (targets, content.pages), range(len(content.pages)), jobs):
        for name, body, found in chunk:
            bodies[name] = body
            problems += found
    return bodies, problems


def _markup_chunk(state: tuple[LinkTargets, tuple[Page, ...]], indexes: list[int]
                  ) -> list[tuple[str, Markup, list[Problem]]]:
    """Bodies of pages[i] for i in indexes: the fast engine where it gives the same HTML."""
    targets, pages = state
    md = make_markdown()
    fast = FastMarkdown() if FastMarkdown.available() else None
    done = []
    for page in (pages[i] for i in indexes):
        args = (page.body, page.name, page.source, page.body_start, targets)
        body, found = fast.render(*args) if fast and fast.handles(page.body) else render_body(md, *args)
        done.append((page.name, body, found))
    return done


def _menu_target(url: str, pages: tuple[Page, ...]) -> str:
    path = url if url.endswith("/") else url + "/"
    return next((p.name for p in pages if p.url == path), "")


def _site_files(site: Site, bodies: dict[str, Markup]) -> list[OutputFile]:
    public = site.public_pages
    tags = sorted({f"/tags/{tag_slug(t)}/" for p in public for t in p.tags})
    summaries = {p.name: p.summary or bodies[p.name].first_paragraph for p in public}
    return [
        OutputFile("sitemap.xml", sitefiles.sitemap(site.config, public, tags).encode(), "sitemap"),
        OutputFile("feed.xml", sitefiles.feed(site.config, public, summaries).encode(), "feed"),
        OutputFile("robots.txt", sitefiles.robots(site.config).encode(), "robots.txt", yields=True),
    ]


def _copies(site: Path, theme_static: list[Path], content: tuple[str, ...]) -> list[CopiedFile]:
    """Theme static files, then the site's static/ over them, then files beside the pages."""
    copies = []
    for folder, label in [*((d, "theme") for d in theme_static), (site / STATIC_DIR, STATIC_DIR)]:
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            rel = path.relative_to(folder).as_posix()
            if path.is_file() and not any(part.startswith(".") for part in rel.split("/")):
                copies.append(CopiedFile(rel, path, f"{label}/{rel}"))
    copies += [CopiedFile(rel, site / CONTENT_DIR / rel, f"{CONTENT_DIR}/{rel}") for rel in content]
    return copies
