"""Pages → HTML through Jinja2 templates: the site's theme first, then the built-in default."""
from __future__ import annotations

import datetime as dt
import posixpath
import re
import traceback
from functools import cached_property, lru_cache
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Mapping

import jinja2
import jinja2.meta
import jinja2.nodes
from jinja2.compiler import CodeGenerator
from markupsafe import Markup as SafeHTML

from .config import MenuItem, SiteConfig
from .content import Page
from .errors import Problem, did_you_mean, error
from .forms import FormSpec, form_spec, preview_form
from .funnel import Plan
from .markup import Markup
from .offers import qr_svg
from .templatecode import FastCodeGenerator, FastContext, fits_this_jinja
from .write import OutputFile

BUILTIN_THEMES = Path(__file__).parent / "themes"
DEFAULT_THEME = "default"


@dataclass(frozen=True)
class Theme:
    """Where templates and static files come from, most specific first."""

    name: str
    folders: tuple[Path, ...]       # theme roots, site's first
    labels: tuple[str, ...]         # the same, as the owner would name them

    @property
    def template_dirs(self) -> list[Path]:
        return [f / "templates" for f in self.folders if (f / "templates").is_dir()]

    @property
    def static_dirs(self) -> list[Path]:
        """Static folders, built-in first, so the site's theme overwrites its files."""
        return [f / "static" for f in reversed(self.folders) if (f / "static").is_dir()]


def find_theme(site: Path, name: str, line: int = 0) -> tuple[Theme, list[Problem]]:
    """The theme `name`: the site's own folder, over the built-in default (the default alone if missing)."""
    folders, labels, problems = [], [], []
    own = site / "themes" / name
    if own.is_dir():
        folders.append(own)
    elif (BUILTIN_THEMES / name).is_dir() and name != DEFAULT_THEME:
        folders.append(BUILTIN_THEMES / name)
    elif name != DEFAULT_THEME:
        have = sorted(p.name for p in (site / "themes").iterdir()) if (site / "themes").is_dir() else []
        problems.append(error("stepstone.toml", line,
                              f"theme '{name}' not found: looked in themes/{name}/ and the built-in "
                              f"themes{did_you_mean(name, have + [DEFAULT_THEME])}"))
    labels.append(f"themes/{name}/templates/")
    folders.append(BUILTIN_THEMES / DEFAULT_THEME)
    labels.append("the built-in default theme")
    return Theme(name, tuple(folders), tuple(labels)), problems


MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")


def long_date(value: dt.date | None) -> str:
    """'2 November 2026': unambiguous for readers everywhere."""
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}" if value else ""


def event_time(start: dt.datetime, end: dt.datetime | None = None) -> str:
    """'Saturday 5 December 2026, 18:00–19:00 (UTC−05:00)': the event's own clock, its zone said
    (the page's script turns it into the reader's own time zone and words)."""
    offset = start.utcoffset()
    zone = ""
    if offset is not None:
        minutes = int(offset.total_seconds() // 60)
        zone = f" (UTC{'+' if minutes >= 0 else '−'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d})"
    until = f"–{end:%H:%M}" if end and end.date() == start.date() else \
        f" to {end:%A} {end.day} {end:%B %Y, %H:%M}" if end else ""
    return f"{start:%A} {start.day} {start:%B %Y, %H:%M}{until}{zone}"


class SiteEnvironment(jinja2.Environment):
    """Jinja's environment, each template's globals one plain dict instead of a ChainMap over the
    environment's: Jinja copies them into every context (five per page, with the includes), and
    a ChainMap is walked in Python. The same names: nothing changes env.globals once templates
    load. (A fifth of the time Jinja takes per page.) Templates compile to templatecode.py's
    faster Python, for the same text."""

    code_generator_class = FastCodeGenerator if fits_this_jinja() else CodeGenerator
    context_class = FastContext

    def make_globals(self, d: Mapping[str, Any] | None) -> dict[str, Any]:  # type: ignore[override]
        return {**self.globals, **(d or {})}

    def get_template(self, name: Any, parent: str | None = None,  # type: ignore[override]
                     globals: Mapping[str, Any] | None = None) -> jinja2.Template:
        """Jinja's, remembered by (name, parent) in a plain dict: every include of every page asks
        (six a page), and this environment never reloads or forgets a template (make_environment)."""
        if globals is None and type(name) is str:
            known = self.__dict__.setdefault("_loaded", {})
            template = known.get((name, parent))
            if template is None:
                template = known[(name, parent)] = super().get_template(name, parent)
            return template
        return super().get_template(name, parent, globals)


def make_environment(theme: Theme, base_path: str) -> jinja2.Environment:
    env = SiteEnvironment(
        loader=jinja2.FileSystemLoader([str(d) for d in theme.template_dirs]),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # a build sees one version of each template: no stat() per include
        cache_size=-1,  # and keeps every one, in a plain dict: no LRU bookkeeping per include
    )
    env.filters["long_date"] = long_date
    env.filters["event_time"] = event_time
    env.filters["url"] = lambda target: base_path + str(getattr(target, "url", target)).lstrip("/")
    return env


def template_for(env: jinja2.Environment, theme: Theme, wanted: str,
                 source: str, line: int) -> tuple[jinja2.Template | None, Problem | None]:
    """The named template, or a problem that lists every folder searched."""
    try:
        return env.get_template(wanted), None
    except jinja2.TemplateNotFound:
        have = {n[:-5] for n in env.list_templates(extensions=["html"])}
        looked = " and ".join(theme.labels)
        hint = did_you_mean(wanted[:-5], have)
        return None, error(source, line, f"layout '{wanted[:-5]}' has no template{hint}: looked for "
                                         f"{wanted} in {looked}; add {theme.labels[0]}{wanted} "
                                         f"or remove the layout line")
    except jinja2.TemplateSyntaxError as exc:
        return None, template_problem(exc, theme)


def template_problem(exc: Exception, theme: Theme) -> Problem:
    """A template mistake, reported at the template's own file and line."""
    filename, line = getattr(exc, "filename", None) or "", getattr(exc, "lineno", 0) or 0
    if not filename:  # an error while rendering: the innermost template frame says where
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith(".html")]
        if frames:
            filename, line = frames[-1].filename, frames[-1].lineno or 0
    where = filename
    for folder in theme.folders:
        if Path(filename).is_relative_to(folder):
            where = f"themes/{folder.name}/{Path(filename).relative_to(folder).as_posix()}"
            break
    message = getattr(exc, "message", None) or str(exc)
    if isinstance(exc, jinja2.TemplateSyntaxError):
        message += " (check that every '{{' on this line is closed by '}}' and every '{%' by '%}')"
    return error(where or "theme", line, f"template error: {message}")




# --- the site as templates see it ----------------------------------------------------

@dataclass(frozen=True)
class Site:
    """Everything the build knows once the funnel has decided: the input of rendering."""

    config: SiteConfig
    pages: tuple[Page, ...]
    bodies: Mapping[str, Markup]
    plan: Plan
    today: dt.date
    preview: bool = False  # built for `serve`
    assets: Mapping[str, str] = field(default_factory=dict)  # "assets/style.css" -> its fingerprinted name
    downloads: Mapping[str, tuple] = field(default_factory=dict)  # room -> the PDFs it offers (pdf.DownloadLink)

    def page(self, name: str) -> Page:
        return self.by_name[name]

    def with_bodies(self, bodies: Mapping[str, Markup]) -> Site:
        """The same site with other bodies. What was worked out from its pages so far (the indexes
        below, the CTA blocks) stands: none of it reads a body."""
        site = replace(self, bodies=bodies)
        site.__dict__.update((name, self.__dict__[name]) for name in _FROM_PAGES if name in self.__dict__)
        return site

    @cached_property
    def by_name(self) -> dict[str, Page]:
        return {p.name: p for p in self.pages}

    @cached_property
    def by_url(self) -> dict[str, Page]:
        return {p.url: p for p in self.pages}

    def is_public(self, page: Page) -> bool:
        return self.config.funnel.is_public(page.step)

    @cached_property
    def public_pages(self) -> list[Page]:
        return [p for p in self.pages if self.is_public(p)]

    @cached_property
    def candidates(self) -> dict[str, Cta]:
        """Door name -> its CTA with the block for the per-visitor script, filled as pages are rendered."""
        return {}

    @cached_property
    def ctas(self) -> dict[tuple[str, bool], Cta]:
        """(door name, whether the page is that door) -> the page's CTA, filled as pages are rendered:
        the same for every page that shows the door."""
        return {}

    @cached_property
    def common(self) -> dict[str, Any]:
        """What every page's context holds, whatever the page (see _common)."""
        return {
            "site": self.config,
            "base_path": self.config.base_path,
            "funnel": self.config.funnel,
            "year": self.today.year,
            "preview": self.preview,
            "remember_progress": self.config.remember_progress,
            "step_ids": " ".join(self.config.funnel.ids),
            "asset": lambda path: self.config.base_path + self.assets.get(path, path),
        }

    @cached_property
    def menu(self) -> tuple[MenuItem, ...]:
        """The menu entries of stepstone.toml that pages show: every page's menu is made of these.
        Not those leading to gated pages, which are reached by walking the funnel, never from a menu."""
        shown = []
        for item in self.config.menu:
            target = self.by_url.get(item.url if item.url.endswith("/") else item.url + "/")
            if target is None or self.is_public(target):
                shown.append(item)
        return tuple(shown)

    @cached_property
    def sections(self) -> dict[str, list[Page]]:
        """Folder -> the public pages directly in it and the listings of its subfolders, as listed."""
        found: dict[str, list[Page]] = {}
        for p in self.public_pages:
            if not p.is_home:
                folder = posixpath.dirname(posixpath.dirname(p.name) if p.is_listing else p.name)
                found.setdefault(folder, []).append(p)
        return {folder: listing_order(pages) for folder, pages in found.items()}


# What a Site works out from all but its bodies: with_bodies keeps it.
_FROM_PAGES = ("by_name", "by_url", "public_pages", "candidates", "ctas", "common", "menu", "sections")


@dataclass(frozen=True)
class Cta:
    """The primary call to action of a page: a link to a door, or the door's own offer."""

    kind: str           # "link" (to a door), "form", "coupon" or "button" (to offer.url)
    step: str           # the step of the door offered
    door: Page
    href: str
    form: FormSpec | None = None
    html: str = ""      # a candidate for the per-visitor script: the CTA block, rendered once per door


@dataclass(frozen=True)
class MenuLink:
    title: str
    href: str
    active: bool


NOT_IN_SLUG = re.compile(r"[^a-z0-9_-]+")


@lru_cache(maxsize=4096)  # a site has few tags, each asked for on many pages
def tag_slug(tag: str) -> str:
    slug = NOT_IN_SLUG.sub("-", tag.lower()).strip("-")
    return slug or "tag"


def output_path(url: str) -> str:
    return url.strip("/") + "/index.html" if url.strip("/") else "index.html"


def ics_path(url: str) -> str:
    """An event's calendar file, beside its page and named after it: events/workshop/workshop.ics."""
    folder = url.strip("/")
    return f"{folder}/{folder.rsplit('/', 1)[-1]}.ics" if folder else "event.ics"


def listing_order(pages: Iterable[Page]) -> list[Page]:
    """Newest first, then by weight and title: what readers of a blog expect."""
    return sorted(pages, key=lambda p: (-(p.date.toordinal() if p.date else 0), p.weight,
                                        p.title.lower(), p.name))


def _cta(site: Site, page: Page) -> Cta | None:
    door_name = site.plan.cta.get(page.name)
    if not door_name:
        return None
    key = (door_name, door_name == page.name)
    made = site.ctas.get(key)
    if made is None:
        made = site.ctas[key] = _door_cta(site, door_name, page.name)
    return made


def _door_cta(site: Site, door_name: str, page_name: str) -> Cta:
    door = site.page(door_name)
    base = site.config.base_path
    if door_name != page_name:
        spec = _form(site, door.form, door.thank_you) if door.form and door.offer and door.offer.embed_form else None
        if spec is not None:
            return Cta("form", door.step, door, spec.action, spec)
        return Cta("link", door.step, door, base + door.url.lstrip("/"))
    if door.form:
        spec = _form(site, door.form, door.thank_you)
        return Cta("form", door.step, door, spec.action if spec else "", spec)
    if door.coupon:
        return Cta("coupon", door.step, door, door.coupon.redeem_url)
    return Cta("button", door.step, door, door.offer.url if door.offer else "")


def _coupon_qr(coupon: Any) -> SafeHTML | None:
    return SafeHTML(qr_svg(coupon.redeem_url)) if coupon and coupon.redeem_url else None


def _absolute(site: Site, address: str) -> str:
    """An image address as social networks need it: absolute, under the site's base URL."""
    if not address or "://" in address:
        return address
    return site.config.base_url + address.lstrip("/")


def _later(site: Site, page: Page) -> list[Cta]:
    """The doors the per-visitor script may show instead of the CTA, one per step past the next.
    (A door's is the same on every page: once _candidate has rendered its block, that one is reused.)"""
    base, made = site.config.base_path, site.candidates
    return [made.get(door) or Cta("link", step, site.page(door), base + site.page(door).url.lstrip("/"))
            for step, door in site.plan.later.get(page.name, ())]


def _form(site: Site, name: str, thank_you: str) -> FormSpec | None:
    """The form `name` of stepstone.toml, sending the visitor to page `thank_you` where it can."""
    form = site.config.form(name)
    if form is None:
        return None
    thanks = site.by_name[thank_you].url.lstrip("/") if thank_you in site.by_name else ""
    spec = form_spec(form, site.config.base_url + thanks if thanks else "",
                     site.config.base_path + thanks if thanks else "")
    return preview_form(spec, name, site.config.base_path + thanks) if site.preview else spec


def _inline_form(site: Site, page: Page) -> FormSpec | None:
    """A room's own `form:`: sends to its own thank_you, else to that of the door owning the form."""
    if not page.form or page.is_door:
        return None
    owner = next((p for p in site.pages if p.is_door and p.form == page.form and p.thank_you), None)
    return _form(site, page.form, page.thank_you or (owner.thank_you if owner else ""))


def _children(site: Site, listing: Page) -> list[Page]:
    """Public pages directly in a listing's folder, and the listings of its subfolders."""
    return [p for p in site.sections.get(listing.section if not listing.is_home else "", ()) if p is not listing]


def _menu(site: Site, current_url: str) -> list[MenuLink]:
    base = site.config.base_path
    links = []
    for item in site.menu:
        href = base + item.url.lstrip("/") if item.url.startswith("/") else item.url
        active = item.url.startswith("/") and item.url != "/" and current_url.startswith(item.url) \
            or item.url == "/" and current_url == "/"
        links.append(MenuLink(item.title, href, active))
    return links


def _common(site: Site, current_url: str, public: bool) -> dict[str, Any]:
    return {
        **site.common,
        "menu": _menu(site, current_url),
        "canonical": site.config.base_url + current_url.lstrip("/") if public else "",
        "noindex": not public,
    }


def page_context(site: Site, page: Page) -> dict[str, Any]:
    body = site.bodies[page.name]
    public = site.is_public(page)
    return {
        **_common(site, page.url, public),
        "page": page,
        "step": site.config.funnel.step(page.step),
        "content": SafeHTML(body.html),
        "summary": page.summary or body.first_paragraph,
        "share_image": _absolute(site, page.image or site.config.image),
        "has_tasks": body.has_tasks,
        "downloads": site.downloads.get(page.name, ()),
        "cta": _cta(site, page),
        "stand": site.plan.standing.get(page.name, page.step),
        "later": _later(site, page) if site.config.remember_progress else [],
        "coupon_qr": _coupon_qr(page.coupon),
        "coupon_over": bool(page.coupon and page.coupon.expires and page.coupon.expires < site.today),
        "event_over": bool(page.event and (page.event.end or page.event.start).date() < site.today),
        "ics_href": site.config.base_path + ics_path(page.url) if page.event else "",
        "inline_form": _inline_form(site, page),
        "inline_form_step": next((p.step for p in site.pages if p.is_door and p.form == page.form), "")
        if page.form and not page.is_door else "",
        "related": [site.page(n) for n in site.plan.related.get(page.name, ())],
        "cross_sell": [site.page(n) for n in page.cross_sell if n in site.by_name],
        "children": _children(site, page) if page.is_listing else [],
        "recent": listing_order(p for p in site.public_pages if p.date and not p.is_listing)[:3]
        if page.is_home else [],
        "tag_slug": tag_slug,
    }


def choose_template(page: Page) -> str:
    if page.layout:
        return f"{page.layout}.html"
    return "home.html" if page.is_home else "section.html" if page.is_listing else "page.html"


def _emit(env: jinja2.Environment, theme: Theme, path: str, template_name: str, context: dict,
          source: str, line: int) -> tuple[OutputFile | None, Problem | None]:
    template, problem = template_for(env, theme, template_name, source, line)
    if problem:
        return None, problem
    try:
        return OutputFile(path, template.render(context).encode("utf-8"), source), None
    except Exception as exc:  # anything a theme's template raises is the theme's mistake
        return None, template_problem(exc, theme)


def _collect(results) -> tuple[list[OutputFile], list[Problem]]:
    results = list(results)
    return [f for f, _ in results if f], [p for _, p in results if p]


def render_pages(site: Site, env: jinja2.Environment, theme: Theme,
                 pages: Iterable[Page]) -> tuple[list[OutputFile], list[Problem]]:
    """The HTML of some content pages (a worker renders its share of the site)."""
    return _collect(render_page(site, env, theme, page)[:2] for page in pages)


def render_page(site: Site, env: jinja2.Environment, theme: Theme, page: Page
                ) -> tuple[OutputFile | None, Problem | None, tuple[tuple[str, str], ...]]:
    """One content page, and the other pages its template was shown, as (name, metadata digest):
    while none of those change, nor the page itself, its HTML stays the same."""
    context = page_context(site, page)
    try:
        context["later"] = [_candidate(site, env, cta) for cta in context["later"]]
    except Exception as exc:  # partials/cta.html is the theme's: its mistakes are reported as such
        return None, template_problem(exc, theme), ()
    file, problem = _emit(env, theme, output_path(page.url), choose_template(page), context,
                          page.source, page.where("layout").line if page.layout else 1)
    shown: list[tuple[str, str]] = []
    for key in SHOWING_PAGES:
        _pages_in(context[key], shown)
    return file, problem, tuple(shown)


def compile_with_includes(env: jinja2.Environment, names: Iterable[str]) -> None:
    """Compile `names` and every template they extend, include or import by name, now: forked
    workers then inherit them compiled, and so do `serve`'s later saves. One that does not
    compile is left for rendering to report."""
    todo, seen = list(names), set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            env.get_template(name)
            tree = env.parse(env.loader.get_source(env, name)[0])
        except jinja2.TemplateError:
            continue
        todo.extend(other for other in jinja2.meta.find_referenced_templates(tree) if other)


# Where a template may show a page's body only as it is, once (see fixed_body_templates).
_CAPTURING = (jinja2.nodes.FilterBlock, jinja2.nodes.AssignBlock, jinja2.nodes.Macro, jinja2.nodes.CallBlock)


def fixed_body_templates(env: jinja2.Environment, names: Iterable[str]) -> frozenset[str]:
    """Those of the templates `names` whose HTML holds a page's body untouched: they and all they
    extend, include or import show `content` only as `{{ content }}` (or `|safe`), nothing of it
    otherwise (no filter, test or variable), and no page's Markdown text. A body edit that keeps
    the page's summary and task lists then changes that one slice of its HTML (generator/splice.py)."""
    verdicts: dict[str, bool] = {}

    def fixed(name: str) -> bool:
        if name not in verdicts:
            verdicts[name] = False  # a template that includes itself is not looked at twice
            try:
                tree = env.parse(env.loader.get_source(env, name)[0])
            except jinja2.TemplateError:
                return False
            referenced = list(jinja2.meta.find_referenced_templates(tree))
            verdicts[name] = _shows_body_as_is(tree, ()) and None not in referenced \
                and all(fixed(other) for other in referenced)
        return verdicts[name]

    return frozenset(name for name in names if fixed(name))


def _shows_body_as_is(node: jinja2.nodes.Node, outer: tuple[jinja2.nodes.Node, ...]) -> bool:
    nodes = jinja2.nodes
    if isinstance(node, nodes.Name) and node.name == "content":
        parent = outer[-1] if outer else None
        if isinstance(parent, nodes.Filter) and parent.name == "safe" and parent.node is node:
            parent = outer[-2] if len(outer) > 1 else None
        return node.ctx == "load" and isinstance(parent, nodes.Output) \
            and not any(isinstance(n, _CAPTURING) for n in outer)
    if (isinstance(node, nodes.Getattr) and node.attr == "body") \
            or (isinstance(node, nodes.Const) and node.value == "body"):
        return False  # a page's Markdown text (page.body, page["body"], page|attr("body"))
    inner = (*outer, node)
    return all(_shows_body_as_is(child, inner) for child in node.iter_child_nodes())


SLOT_HEAD = 64  # bytes of a body looked for first: a short needle is found faster than the whole body


def body_slot(html: bytes, body: str) -> tuple[int, int] | None:
    """Where a page's body HTML stands in its page, if there once and only once. (Found by its
    first bytes, then compared whole: searching for kilobytes at once costs three times as much.
    Every place the body stands starts with those bytes, so where they stand once, so does it.)"""
    if not body:
        return None
    found = body.encode("utf-8")
    head = found[:SLOT_HEAD]
    start = html.find(head)
    if start >= 0 and html[start:start + len(found)] != found:
        start = html.find(found, start + 1)
    if start < 0 or html.find(head, start + 1) >= 0 and html.find(found, start + 1) >= 0:
        return None
    return start, start + len(found)


# The keys of page_context that show other pages (a guard test checks that no other key does).
SHOWING_PAGES = ("cta", "later", "related", "cross_sell", "children", "recent")


def _candidate(site: Site, env: jinja2.Environment, cta: Cta) -> Cta:
    """The CTA block of a door as the per-visitor script may show it: the same on every page, so
    rendered once per door (partials/cta.html sees only `cta`, `site` and `base_path` here)."""
    memo = site.candidates
    if cta.door.name not in memo:
        html = env.get_template("partials/cta.html").render(cta=cta, site=site.config,
                                                            base_path=site.config.base_path)
        memo[cta.door.name] = replace(cta, html=SafeHTML(html))
    return memo[cta.door.name]


def _pages_in(value: Page | Cta | list | tuple | None, found: list[tuple[str, str]]) -> None:
    """(name, metadata digest) of each page `value` shows: a page, a CTA (its door), or a list of them."""
    for item in value if isinstance(value, (list, tuple)) else (value,):
        page = item.door if isinstance(item, Cta) else item
        if page is not None:
            found.append((page.name, page.meta_digest))


@dataclass(frozen=True)
class ExtraPage:
    """A page Stepstone makes itself: a tag page, the tag index or the 404 page."""

    path: str
    template: str
    context: dict[str, Any]
    shows: str = ""  # its own values (other pages by name and metadata digest): the same, the same HTML


def _extra(site: Site, path: str, template: str, url: str, public: bool, own: dict[str, Any]) -> ExtraPage:
    """An extra page whose context is what every page has (the config's, the theme's) and `own`."""
    return ExtraPage(path, template, {**_common(site, url, public), **own}, repr(_picture(own)))


def _picture(value: Any) -> Any:
    """`value` as it may show in HTML: a page by its name and metadata digest, a function by name."""
    if isinstance(value, Page):
        return value.name, value.meta_digest
    if isinstance(value, dict):
        return tuple((key, _picture(item)) for key, item in sorted(value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_picture(item) for item in value)
    return value.__name__ if callable(value) else value


def _tagged(site: Site) -> dict[str, list[Page]]:
    """The public pages under each tag: each tag has a page of its own."""
    tags: dict[str, list[Page]] = {}
    for p in site.public_pages:
        for t in p.tags:
            tags.setdefault(t, []).append(p)
    return tags


def extra_page_paths(site: Site) -> list[str]:
    """Where extra_pages(site) go, in its order, without making them (a tenth of the time)."""
    tags = _tagged(site)
    return [*(["tags/index.html"] if tags else []), *(output_path(f"/tags/{tag_slug(tag)}/") for tag in sorted(tags)),
            "404.html"]


def extra_pages(site: Site) -> list[ExtraPage]:
    """The pages Stepstone makes itself, ready to render: their paths are known before their HTML."""
    tags = _tagged(site)
    made = []
    if tags:
        tag_list = [(t, tag_slug(t), len(ps)) for t, ps in sorted(tags.items(), key=lambda kv: kv[0].lower())]
        made.append(_extra(site, "tags/index.html", "tags.html", "/tags/", True,
                           {"tags": tag_list, "title": "Tags", "tag_slug": tag_slug}))
    for tag, pages in sorted(tags.items()):
        url = f"/tags/{tag_slug(tag)}/"
        made.append(_extra(site, output_path(url), "tag.html", url, True,
                           {"tag": tag, "title": f"Tagged “{tag}”", "pages": listing_order(pages),
                            "tag_slug": tag_slug}))
    made.append(_extra(site, "404.html", "404.html", "/404.html", False,
                       {"title": "Page not found",
                        "recent": listing_order(p for p in site.public_pages if not p.is_home)[:5]}))
    return made


def render_extras(site: Site, env: jinja2.Environment, theme: Theme, extras: list[ExtraPage] | None = None
                  ) -> tuple[list[OutputFile], list[Problem]]:
    """The HTML of the pages Stepstone makes itself (`extras`, when extra_pages made them already)."""
    extras = extra_pages(site) if extras is None else extras
    return _collect(_emit(env, theme, e.path, e.template, e.context, "theme", 0) for e in extras)


def render_site(site: Site, env: jinja2.Environment, theme: Theme) -> tuple[list[OutputFile], list[Problem]]:
    """Every HTML page of the site, in memory: content pages, tag pages and the 404 page."""
    pages, page_problems = render_pages(site, env, theme, site.pages)
    extras, extra_problems = render_extras(site, env, theme)
    return pages + extras, page_problems + extra_problems
