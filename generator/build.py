"""The pipeline: config → content → markup → funnel → render → write.

Everything is gathered and checked in memory first; only a build with no
errors touches the output folder, and then in one swap.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from jinja2 import Environment

from . import __version__, funnel, sitefiles
from .config import CONFIG_FILE, SiteConfig, base_url_problem, load_config
from .cache import (CACHE_DIR, BuildCache, LastBuild, fingerprint, input_signature, load_cache, load_last_build, save_cache,
                    save_last_build)
from .content import CONTENT_DIR, Content, Page, load_content
from .source import digest
from .errors import Location, Problem, SiteError, UsageError, has_errors, sorted_problems
from .markup import FastMarkdown, LinkTargets, Markup, make_markdown, render_body
from .render import (Site, Theme, find_theme, make_environment, output_path, page_context, render_extras,
                     render_pages, render_site, tag_slug, template_for)
from .workers import Progress, default_jobs, map_chunks
from .write import (CopiedFile, OutputFile, check_output_folder, output_id_of, plan_files, update_site, write_file,
                    write_site)

STATIC_DIR = "static"
OVERLAY_SCRIPT = Path(__file__).parent / "preview" / "overlay.js"  # `serve` previews only


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
    preview: bool = False  # for `serve`: pages carry the error overlay script
    progress: Callable[[str, int, int], None] | None = field(default=None, compare=False, repr=False)

    def stage(self, name: str) -> Progress | None:
        """A progress callback for one stage of the build, if anyone is listening."""
        report = self.progress
        return (lambda done, total: report(name, done, total)) if report else None

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


def analyse(options: BuildOptions, cache: BuildCache | None = None) -> Analysis:
    """Read config and content and apply the funnel rules, collecting every problem.

    Only a broken stepstone.toml stops here (SiteError): nothing can be judged without it.
    With a cache, unchanged files, bodies and funnel plans are taken from it.
    """
    cache = cache if cache is not None else BuildCache()
    _check_usage(options)
    config, config_problems = load_config(options.site)
    if options.base_url:
        config = config.with_base_url(options.base_url)
    theme, theme_problems = find_theme(options.site, config.theme, config.line("theme"))
    env = make_environment(theme, config.base_path)
    content = load_content(options.site, options.day, options.drafts, options.future, options.jobs, cache,
                           options.stage("Reading"))
    bodies, link_problems = _markup(config, content, options.jobs, cache, options.stage("Markdown"))
    menu = [funnel.MenuEntry(m.title, _menu_target(m.url, content.pages), Location(CONFIG_FILE, m.line))
            for m in config.menu]
    links = [link for body in bodies.values() for link in body.links]
    plan = _plan(config, content.pages, links, menu, options.day, cache)
    site = Site(config, content.pages, bodies, plan, options.day, options.preview)
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


@dataclass(frozen=True)
class BuildResult:
    pages: int
    problems: tuple[Problem, ...]   # warnings: errors raise SiteError
    stats: dict[str, int]           # pages rendered, pages reused, files read...
    site: Site | None = None        # None when nothing had changed and nothing was read


def build(options: BuildOptions, cache: BuildCache | None = None) -> BuildResult:
    """Check everything, then write only what changed since the last build.

    With no usable cache, or when most pages changed, the whole site is written into a
    staging folder on every core and swapped into place. Otherwise the changed files are
    rendered in memory first and then replaced one by one: a failed build writes nothing.
    `serve` passes its own cache, kept in memory; `build` loads and saves .stepstone/.
    """
    _check_usage(options)
    check_output_folder(options.site, options.output)
    persistent = cache is None
    if persistent:
        signature = input_signature(options.site, (options.base_url, options.drafts, options.future, options.day,
                                                   str(options.output.resolve())))
        last = load_last_build(options.site)
        if last and last.signature == signature and last.output_id == output_id_of(options.output) != "":
            problems = _stop_on_errors(list(last.problems), options.strict)
            return BuildResult(last.pages, tuple(problems), {"pages reused": last.pages})
    cache = load_cache(options.site) if persistent else cache
    cache.stats = {}
    analysis = analyse(options, cache)
    site, theme, env = analysis.site, analysis.theme, analysis.env
    problems = _stop_on_errors(list(analysis.problems), options.strict)
    everywhere = digest(repr((__version__, fingerprint(site.config), site.today, site.preview, theme_digest(theme))))
    current = output_id_of(options.output) == cache.output_id != ""
    extras_key = digest(repr((everywhere, [(p.name, p.meta_digest) for p in site.public_pages])))
    if current and cache.extras and cache.extras[0] == extras_key:  # tag pages and 404 as they are
        extras = [OutputFile(path, None, "theme") for path in cache.extras[1]]
    else:
        extras, render_problems = render_extras(site, env, theme)
        _stop_on_errors([*problems, *render_problems], options.strict)
    pages = {output_path(p.url): p for p in site.pages}
    preview = [OutputFile("_stepstone/overlay.js", OVERLAY_SCRIPT.read_bytes(), "serve"),
               OutputFile("_stepstone/errors.json", b"[]", "serve")] if options.preview else []
    files, collisions = plan_files([*(OutputFile(path, None, p.source) for path, p in pages.items()), *extras,
                                    *_site_files(site, site.bodies), *preview],
                                   _copies(options.site, theme.static_dirs, analysis.files))
    _stop_on_errors([*problems, *collisions], options.strict)
    keys = _output_keys(site, files, pages, everywhere, cache)
    output_id = digest(repr(sorted(keys.items())))
    changed = [path for path, key in keys.items() if cache.outputs.get(path) != key]
    changed_pages = [pages[path] for path in changed if path in pages]
    in_place = current and len(changed_pages) <= len(pages) // 2
    if not in_place and any(f.data is None for f in extras):  # a full write needs them after all
        extras, _ = render_extras(site, env, theme)
        files.update((f.path, f) for f in extras)
    cache.extras = (extras_key, tuple(f.path for f in extras))
    if in_place:
        _write_changes(options, site, theme, files, changed, sorted(set(cache.outputs) - set(keys)), output_id,
                       problems)
    else:
        _write_everything(options, site, theme, files, output_id, problems)
        changed_pages = list(site.pages)
    cache.outputs, cache.output_id = keys, output_id
    cache.stats["pages rendered"] = len(changed_pages)
    cache.stats["pages reused"] = len(site.pages) - len(changed_pages)
    if persistent:
        save_cache(options.site, cache)
        save_last_build(options.site, LastBuild(signature, output_id, len(site.pages), tuple(problems)))
    return BuildResult(len(site.pages), tuple(problems), dict(cache.stats), site)


def _write_changes(options: BuildOptions, site: Site, theme: Theme, files: dict, changed: list[str],
                   stale: list[str], output_id: str, problems: list[Problem]) -> None:
    """Render the changed pages in memory, then replace the changed files and remove stale ones."""
    position = {output_path(p.url): i for i, p in enumerate(site.pages)}
    rendered = map_chunks(_render_chunk, (site, theme, None), [position[path] for path in changed if path in position],
                          options.jobs)
    page_files = {f.path: f for chunk in rendered for f in chunk[0]}
    _stop_on_errors([*problems, *(p for chunk in rendered for p in chunk[1])], options.strict)
    update_site(options.output, {path: page_files.get(path, files[path]) for path in changed}, stale, output_id)


def _write_everything(options: BuildOptions, site: Site, theme: Theme, files: dict, output_id: str,
                      problems: list[Problem]) -> None:
    """Write the whole site into a staging folder, pages rendered on every core, and swap it in."""
    def render_pages_into(staging: Path) -> None:
        found = map_chunks(_render_chunk, (site, theme, staging), range(len(site.pages)), options.jobs,
                           options.stage("Writing pages"))
        _stop_on_errors([*problems, *(p for chunk in found for p in chunk[1])], options.strict)

    write_site(options.output, files, render_pages_into, output_id, options.site / CACHE_DIR / "trash")


def _output_keys(site: Site, files: dict, pages: dict[str, Page], everywhere: str,
                 cache: BuildCache) -> dict[str, str]:
    """What each output file is made from, as a digest: unchanged digest, unchanged file."""
    known, cache.page_keys = cache.page_keys, {}
    keys = {}
    for path, item in files.items():
        if path in pages:
            keys[path] = _page_key(site, pages[path], everywhere, cache.bodies[pages[path].name][3], known, cache)
        elif isinstance(item, CopiedFile):
            keys[path] = digest(repr((item.source, _file_digest(item.origin, cache))))
        elif item.data is None:  # not rendered this time because nothing it shows changed
            keys[path] = cache.outputs[path]
        else:
            keys[path] = digest(item.data)
    return keys


def _page_key(site: Site, page: Page, everywhere: str, body: str, known: dict, cache: BuildCache) -> str:
    """A page's render key. Last build's key stands when the page, its funnel decisions and every
    page its context showed are unchanged; listings, the home page, doors and pages with a form
    (whose context draws on more than the pages it shows) are always looked at again."""
    plan = site.plan
    inputs = (everywhere, page.meta_digest, body, plan.standing.get(page.name), plan.cta.get(page.name),
              plan.related.get(page.name))
    last = known.get(page.name)
    if last and last[0] == inputs and not (page.is_listing or page.is_home or page.is_door or page.form) \
            and all(name in site.by_name and site.by_name[name].meta_digest == meta for name, meta in last[1]):
        cache.page_keys[page.name] = last
        return last[2]
    seen: list = []
    context = {k: v for k, v in page_context(site, page).items() if k not in ("site", "funnel", "content")}
    key = digest(repr((everywhere, body, fingerprint(context, seen))))
    cache.page_keys[page.name] = (inputs, tuple(seen), key)
    return key


def _file_digest(path: Path, cache: BuildCache) -> str:
    """A copied file's content hash; its size and time say when it must be read again."""
    st = path.stat()
    stat = (st.st_mtime_ns, st.st_size)
    known = cache.copies.get(str(path))
    if known is None or known[0] != stat:
        known = (stat, digest(path.read_bytes()))
    cache.copies[str(path)] = known
    return known[1]


def theme_digest(theme: Theme) -> str:
    """The templates of the theme and its fallback: a change to any re-renders every page."""
    parts = []
    for folder in theme.template_dirs:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                parts.append((path.relative_to(folder).as_posix(), digest(path.read_bytes())))
    return digest(repr(parts))


def _render_chunk(state: tuple[Site, Theme, Path | None], indexes: list[int]
                  ) -> tuple[list[OutputFile], list[Problem]]:
    """Render pages[i] for i in indexes: into the staging folder if given, else returned."""
    site, theme, staging = state
    env = make_environment(theme, site.config.base_path)
    files, problems = render_pages(site, env, theme, (site.pages[i] for i in indexes))
    if staging is None:
        return files, problems
    for f in files:
        write_file(staging, f.path, f.data)
    return [], problems


def _check_usage(options: BuildOptions) -> None:
    if not (options.site / CONFIG_FILE).is_file():
        raise UsageError(f"no {CONFIG_FILE} in {options.site}: run 'stepstone new DIR' to start a "
                         f"site, or pass --site DIR")
    if options.base_url and base_url_problem(options.base_url):
        raise UsageError(f"--base-url: {base_url_problem(options.base_url)}")


def _stop_on_errors(problems: list[Problem], strict: bool) -> list[Problem]:
    if strict:
        problems = [replace(p, severity="error") for p in problems]
    if has_errors(problems):
        raise SiteError(problems)
    return sorted_problems(problems)


def _markup(config: SiteConfig, content: Content, jobs: int, cache: BuildCache,
            progress: Progress | None = None) -> tuple[dict[str, Markup], list[Problem]]:
    """Every body as HTML; a body is rendered again only if it, or what its links point to, changed."""
    targets = LinkTargets(
        base_path=config.base_path,
        urls={p.name: p.url for p in content.pages},
        by_url={p.url: p.name for p in content.pages},
        skipped=content.skipped,
        files=frozenset(content.files),
    )
    targets_digest = digest(repr((targets.base_path, sorted(targets.urls.items()),
                                  sorted(targets.skipped.items()), sorted(targets.files))))
    keys = {p.name: (digest(p.body), p.source, p.body_start, targets_digest) for p in content.pages}
    known = {name: entry for name, entry in cache.bodies.items() if keys.get(name) == entry[0]}
    todo = [i for i, p in enumerate(content.pages) if p.name not in known]
    for chunk in map_chunks(_markup_chunk, (targets, content.pages), todo, jobs, progress):
        for name, body, found in chunk:
            known[name] = (keys[name], body, found, digest(body.html))
    cache.bodies = known
    cache.stats["bodies rendered"] = len(todo)
    bodies = {p.name: known[p.name][1] for p in content.pages}
    return bodies, [problem for entry in known.values() for problem in entry[2]]


def _plan(config: SiteConfig, pages: tuple[Page, ...], links: list, menu: list, today: dt.date,
          cache: BuildCache) -> funnel.Plan:
    """The funnel's decisions; the same as last time when no page's metadata or link changed."""
    key = digest(repr((config.funnel, config.forms, menu, today, [(p.name, p.meta_digest) for p in pages],
                       links)))
    if cache.plan is None or cache.plan[0] != key:
        cache.plan = (key, funnel.plan(config.funnel, pages, links, menu, {f.name for f in config.forms},
                                       today))
    return cache.plan[1]


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
