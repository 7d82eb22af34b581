"""The pipeline: config → content → markup → funnel → render → write.

Everything is gathered and checked in memory first; only a build with no
errors touches the output folder, and then in one swap.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit
from typing import Callable, Iterable, Mapping

import jinja2
from jinja2 import Environment

from . import __version__, funnel, pdf, sitefiles
from .config import CONFIG_FILE, SiteConfig, load_config
from .cache import (CACHE_DIR, EMPTY_HTML, BuildCache, LastBuild, cache_format, digest, fingerprint, load_cache,
                    load_record, save_cache, save_last_build, save_record, save_what_was_read)
from .content import CONTENT_DIR, Content, Page, linked_folder_warning, load_content, read_body
from .twin import (abandon_twin, catch_up, finish_twin, forget, mirror, ready_twin, start_twin, swap_in, twin_path,
                   update_twin, write_over)
from .incremental import LastSite, rebuild_bodies
from .errors import Location, Problem, SiteError, error, sorted_problems, stop_on_errors
from .markup import BodyRenderer, LinkTargets, Markup
from .offers import event_ics
from .render import (ExtraPage, Site, Theme, body_slot, choose_template, compile_with_includes, extra_page_paths,
                     extra_pages, find_theme, fixed_body_templates, ics_path, make_environment, output_path,
                     render_extras, render_page, render_site, tag_slug, template_for, template_problem)
from .options import BuildOptions, BuildResult, check_usage
from .repeat import LookBack, look_back, repeated
from .snapshot import SITE_FILE, new_site_id, snapshot_of
from .splice import RECORD_FILE, SpliceRecord, last_record, record_of, spliced
from .workers import Progress, map_chunks
from .write import (CopiedFile, OutputFile, abandon_update, check_output_folder, commit_beside, discard_beside,
                    output_id_of, pending_update, plan_files, update_in_progress, update_site, write_beside,
                    write_file, write_site)

STATIC_DIR = "static"
# Where the workers find the HTML of bodies a cache loaded from disk left out: the link targets (to
# render one the store lost), each body's digest by page name, and the HTML of digests in the store.
HtmlFrom = tuple[LinkTargets | None, Mapping[str, str], Callable[[Iterable[str]], dict[str, str]]]
OVERLAY_SCRIPT = Path(__file__).parent / "preview" / "overlay.js"  # `serve` previews only


@dataclass(frozen=True)
class Analysis:
    """The site as read and judged, before rendering: what `check` reports."""

    site: Site
    problems: tuple[Problem, ...]  # errors and warnings, as found
    theme: Theme
    env: Environment
    files: tuple[str, ...] = ()    # other files under content/, copied beside the pages
    targets: LinkTargets | None = None  # what links in bodies may point to
    copies: tuple[CopiedFile, ...] = ()  # static files, the stylesheets and scripts also under hashed names
    link_warnings: tuple[Problem, ...] = ()  # the funnel's about links in bodies (in `problems` too)


@dataclass(frozen=True)
class Assembled:
    """A site fully built in memory: what `build` writes."""

    site: Site
    files: dict
    problems: tuple[Problem, ...]  # warnings only: errors raise SiteError


def analyse(options: BuildOptions, cache: BuildCache | None = None,
            stats: dict[str, tuple[int, int]] | None = None,
            prepare: Callable[[Environment, tuple[Page, ...]], object] | None = None) -> Analysis:
    """Read config and content and apply the funnel rules, collecting every problem.

    Only a broken stepstone.toml stops here (SiteError): nothing can be judged without it.
    With a cache, unchanged files, bodies and funnel plans are taken from it. (`stats`: the input
    files' (mtime_ns, size) by path, as look_back found them: not asked of the disk again.
    `prepare(env, pages)`: the caller's work on the templates, done while the bodies render.)
    """
    cache = cache if cache is not None else BuildCache()
    check_usage(options)
    config, config_problems = load_config(options.site)
    if options.base_url:
        config = config.with_base_url(options.base_url)
    theme, theme_problems = find_theme(options.site, config.theme, config.line("theme"))
    env = make_environment(theme, config.base_path)
    content = load_content(options.site, options.day, options.drafts, options.future, options.jobs, cache,
                           options.stage("Reading"), stats)
    menu = [funnel.MenuEntry(m.title, _menu_target(m.url, content.pages), Location(CONFIG_FILE, m.line))
            for m in config.menu]
    decided = []  # the funnel's decisions need no body: made while the workers render them

    def meanwhile() -> None:
        decided.append(_decide(config, content.pages, menu, options.day, cache))
        if prepare is not None:
            prepare(env, content.pages)

    bodies, link_problems, targets = _markup(
        options.site, config, content, options.jobs, cache, options.stage("Markdown"), meanwhile=meanwhile)
    links = [link for body in bodies.values() for link in body.links]
    link_warnings = tuple(funnel.link_problems(config.funnel, content.pages, decided[0].standing, links))
    plan = replace(decided[0], problems=decided[0].problems + link_warnings)
    copies, copy_problems = _copies(options.site, theme.static_dirs, content.files)
    assets = _fingerprinted(copies)
    copies += [CopiedFile(hashed, item.origin, item.source) for item in copies
               if (hashed := assets.get(item.path)) is not None]
    site = Site(config, content.pages, bodies, plan, options.day, options.preview, assets)
    layouts = [template_for(env, theme, f"{p.layout}.html", p.source, p.where("layout").line)[1]
               for p in content.pages if p.layout]
    problems = sorted_problems([*config_problems, *theme_problems, *content.problems, *link_problems,
                                *plan.problems, *filter(None, layouts), *_download_problems(site), *copy_problems])
    return Analysis(site, tuple(problems), theme, env, content.files, targets, tuple(copies), link_warnings)


def _download_problems(site: Site) -> list[Problem]:
    """`download:` no visitor could use, and, once for the whole site, a missing PDF engine."""
    found = pdf.download_problems(site.pages, site.is_public)
    wanted = pdf.makes_pdf(site.pages, site.is_public)
    if wanted and pdf.engine_missing():
        found.append(pdf.missing_engine_warning(wanted))
    return found


def assemble(options: BuildOptions, analysis: Analysis | None = None) -> Assembled:
    """Build the whole site in memory; raise SiteError with every problem if any is an error."""
    analysis = analysis or analyse(options)
    site = analysis.site
    problems = stop_on_errors(list(analysis.problems), options.strict)
    theme = analysis.theme
    pages, render_problems = render_site(site, analysis.env, theme)
    stop_on_errors([*problems, *render_problems], options.strict)
    files, collisions = plan_files([*pages, *_site_files(site, site.bodies)],
                                   list(analysis.copies))
    stop_on_errors([*problems, *collisions], options.strict)
    return Assembled(site, files, tuple(problems))


Update = tuple[Path, dict, Callable[[Path, str, bytes], None]]  # (folder, path -> key it holds, writer)


def build(options: BuildOptions, cache: BuildCache | None = None, changed: set[str] | None = None,
          looked: LookBack | None = None) -> BuildResult:
    """Check everything, then write only what changed since the last build.

    When output/ is not the one the cache describes, the whole site is written into a staging
    folder on every core and swapped into place. Otherwise the pages whose inputs changed are
    rendered on every core into output/'s twin (generator/twin.py), which then trades places with
    output/ in one step: killed or failed, a build leaves the old site or the new, never a mix.
    (The preview of `serve` is updated file by file, each swapped in whole, marked meanwhile.)
    `serve` passes its own cache, kept in memory; `build` loads and saves .stepstone/.
    `changed` (from `serve`'s watcher: paths relative to the site) allows a shortcut when only
    bodies of pages changed. `looked`: look_back(options), when the caller has it already and has
    tried the shortcuts with it: `repeated` (nothing changed) and `spliced` (only bodies did).
    """
    persistent = cache is None
    if persistent and looked is None:
        looked = look_back(options)
        result = repeated(options, looked)
        if result is None:
            record = last_record(options)
            result = spliced(options, looked, record)
        if result is None:
            from .restyle import restyled  # which renders pages as this module does
            result = restyled(options, looked, record)
        if result is not None:
            return result
    else:
        check_usage(options)
        check_output_folder(options.site, options.output)
    if cache is not None and changed:
        quick = rebuild_bodies(options, cache, changed)
        if quick is not None:
            site, found, written = quick
            stats = {"pages rendered": written, "pages reused": len(site.pages) - written}
            return BuildResult(len(site.pages), tuple(stop_on_errors(found, options.strict)), stats, site)
    cache = load_cache(options.site) if persistent else cache
    cache.stats, cache.last = {}, None
    slotted: frozenset[str] = frozenset()  # where a page's body sits in its HTML, for the next build

    def prepare(env: Environment, pages: tuple[Page, ...]) -> None:
        """The templates compiled, and those that show a body as it is found, while the bodies render."""
        nonlocal slotted
        if persistent:
            env.bytecode_cache = compiled_templates(options.site)
        else:  # `serve`: each template compiled once, not on every save that takes the full build
            cache.compiled = cache.compiled or TemplatesInMemory()
            env.bytecode_cache = cache.compiled
        names = {choose_template(p) for p in pages}
        compile_with_includes(env, names)
        if persistent:
            slotted = fixed_body_templates(env, names)

    analysis = analyse(options, cache, looked.stats if looked else None, prepare)
    site, theme, env = analysis.site, analysis.theme, analysis.env
    problems = stop_on_errors(list(analysis.problems), options.strict)
    themes = theme_digest(theme)
    everywhere = everywhere_key(site, themes)
    # PDFs first: the rooms that offer one say its size and page count.
    site, pdf_files, pdf_problems = _downloads(options, analysis, site, themes, cache)
    problems = stop_on_errors([*problems, *pdf_problems], options.strict)
    current = output_id_of(options.output) == cache.output_id != ""
    in_place = current and not pending_update(options.output)
    started_from = cache.output_id if in_place else ""  # output/'s build, whose pages stay unless rendered
    extras_key = digest(repr((everywhere, [(p.name, p.meta_digest) for p in site.public_pages])))
    extra_jobs: list[ExtraPage] = []  # the tag pages and 404 to render while the pages are
    extra_keys: dict[str, str] = {}  # what each of them shows, as a digest
    if in_place and cache.extras and cache.extras[0] == extras_key:  # tag pages and 404 as they are
        extra_keys = cache.extras[1]
    elif in_place:  # each again only if what it shows changed: a page's new title, only on its own tags' pages
        jobs = extra_pages(site)
        extra_keys = {job.path: extra_key(everywhere, job) for job in jobs}
        before = cache.extras[1] if cache.extras else {}
        extra_jobs = [job for job in jobs if before.get(job.path) != extra_keys[job.path]]
    # (else, for a whole new output, all of them: what each shows is worked out while the pages render)
    extras = [OutputFile(path, None, "theme") for path in (extra_keys or extra_page_paths(site))]
    pages = {output_path(p.url): p for p in site.pages}
    preview = [OutputFile("_stepstone/overlay.js", OVERLAY_SCRIPT.read_bytes(), "serve"),
               OutputFile("_stepstone/errors.json", b"[]", "serve")] if options.preview else []
    files, collisions = plan_files([*(OutputFile(path, None, p.source) for path, p in pages.items()), *extras,
                                    *_site_files(site, site.bodies), *preview, *pdf_files],
                                   list(analysis.copies))
    stop_on_errors([*problems, *collisions], options.strict)
    html = {name: entry[3] for name, entry in cache.bodies.items()}  # each body's HTML, by its digest
    inputs: dict[str, tuple] = {}  # what each page's HTML is made of (for a whole new output: worked out meanwhile)
    known = cache.page_keys
    metas = {p.name: p.meta_digest for p in site.pages}
    shown_as_before = metas == cache.metas  # no page's metadata changed: nor what any page shows of others
    todo = list(pages)
    if in_place:
        inputs.update(pages_inputs(site, everywhere, html))
        todo = [path for path, p in pages.items() if not _unchanged(
            metas, p, inputs[p.name], known.get(p.name), shown_as_before, cache.outputs.get(path))]
    again = {pages[path].name for path in todo}  # by name: hashing a Page hashes every field
    page_keys = {p.name: known[p.name] for p in pages.values() if p.name not in again}
    trash = options.site / CACHE_DIR / "trash"
    twin = None if options.preview else twin_path(options.output, options.site / CACHE_DIR)
    lag = ready_twin(options.output, twin, trash) if in_place and twin is not None else ()
    if lag is None:
        twin, in_place = None, False  # a disk without hard links: output/ is written whole every time
    where = twin or options.output  # an update is written into the twin, then swapped in whole
    if not in_place:
        todo = list(pages)
    # A build that renders every page (the first, or after a template edit) leaves the site as judged
    # for the next template edit (restyle.py); one that makes PDFs does not (their templates changed).
    site_id = new_site_id() if persistent and not pdf_files and len(todo) == len(pages) else ""

    def render_into(staging: Path | None) -> str:
        """Render the pages to do (into `staging` on a full write, else into the twin, or beside the
        files they replace), then name the whole output."""
        nonlocal keys, output_id
        update = None if staging else (where, cache.outputs, write_over if twin else write_beside)
        # a whole new output has every one of them: extra_jobs, unless it left out those unchanged
        late = extra_jobs if extra_keys and (staging is None or len(extra_jobs) == len(extra_keys)) else None
        found = list(problems)  # with the problems of the extras, reported with the pages' own
        made: list[OutputFile] = []

        def meanwhile() -> None:
            if not inputs:
                inputs.update(pages_inputs(site, everywhere, html))
            if persistent:
                save_what_was_read(options.site, cache)
            if site_id:
                save_record(options.site, SITE_FILE,
                            snapshot_of(site_id, site, theme, tuple(problems), analysis.targets, html))
            if late is None or late:  # tag pages and 404: changed, or for a whole new output
                jobs = late or extra_pages(site)
                if not extra_keys:
                    extra_keys.update((job.path, extra_key(everywhere, job)) for job in jobs)
                extra_files, extra_problems = render_extras(site, env, theme, jobs)
                made.extend(extra_files)
                found.extend(extra_problems)

        done, unmirrored = render_on_cores(
            options, site, theme, env, [pages[path] for path in todo], found, staging, update,
            options.stage("Writing pages") if staging or len(todo) > 1000 else None, making if staging else None,
            meanwhile=meanwhile, slotted=slotted, html_from=(analysis.targets, html, cache.html_of), compiled=True)
        for extra in made:  # in place, those that differ are written with the other files
            if staging is not None:
                write_file(staging, extra.path, extra.data)
            files[extra.path] = extra
        rendered.update(done)
        mirrored.update(set(done).difference(unmirrored))
        for path, (_, shown, key, _) in rendered.items():
            page_keys[pages[path].name] = (inputs[pages[path].name], shown, key)
        keys = _output_keys(files, pages, page_keys, cache)
        output_id = digest(repr(sorted(keys.items())))
        return output_id

    rendered: dict[str, tuple[bytes | None, tuple, str, tuple[int, int] | None]] = {}
    mirrored: set[str] = set()  # pages the workers linked into the new twin as they wrote them
    making = None
    keys, output_id = {}, ""
    if in_place and twin is not None:  # written into the twin (untrusted meanwhile), then swapped in whole
        forget(twin)
        render_into(None)
        differing = [path for path, key in keys.items() if cache.outputs.get(path) != key]
        stale = sorted(set(cache.outputs) - set(keys))
        catch_up(options.output, twin, set(lag).difference(differing, stale))
        update_twin(twin, {path: files[path] for path in differing if path not in rendered}, stale, output_id)
        swap_in(options.output, twin, differing, stale)
    elif in_place:  # the preview, or a disk without hard links: file by file, marked meanwhile
        with update_in_progress(options.output):
            try:
                render_into(None)
            except BaseException:  # a full disk, a worker's error: nothing swapped yet, so leave no trace
                abandon_update(options.output, todo)
                raise
            differing = [path for path, key in keys.items() if cache.outputs.get(path) != key]
            commit_beside(options.output, [path for path in differing if path in rendered])
            update_site(options.output, {path: files[path] for path in differing if path not in rendered},
                        sorted(set(cache.outputs) - set(keys)), output_id)
    else:  # a new twin is linked file by file as the staging folder is written
        making = None if twin is None else start_twin(twin, trash)
        try:
            write_site(options.output, files, render_into, trash=trash,
                       before_swap=None if making is None else
                       lambda staging: finish_twin(staging, making, twin, [p for p in files if p not in mirrored]))
        except BaseException:
            if making is not None:
                abandon_twin(making)
            raise
    # Only now, with the output written, does the cache describe it.
    cache.outputs, cache.output_id, cache.page_keys, cache.metas = keys, output_id, page_keys, metas
    cache.extras = (extras_key, extra_keys)
    if not persistent:
        cache.last = LastSite(options, site, theme, env, analysis.targets, analysis.problems, keys)
    cache.stats["pages rendered"] = len(todo)
    cache.stats["pages reused"] = len(site.pages) - len(todo)
    if persistent:
        save_cache(options.site, cache)
        # the last record keeps the slots of the pages not rendered again, if there are any
        last = load_record(options.site, RECORD_FILE) if started_from and len(todo) < len(pages) else None
        save_record(options.site, RECORD_FILE, record_of(
            looked.options_key, looked.stats, output_id, keys, cache, tuple(problems), site, pages, analysis.targets,
            analysis.link_warnings, {path: entry[3] for path, entry in rendered.items()},
            last if isinstance(last, SpliceRecord) and last.output_id == started_from else None,
            site_id))
        save_last_build(options.site, LastBuild(looked.signature, output_id, len(site.pages), tuple(problems)))
    return BuildResult(len(site.pages), tuple(problems), dict(cache.stats), site,
                       (cache, analysis, rendered, files, inputs, keys, page_keys, pages))


def compiled_templates(site: Path) -> jinja2.FileSystemBytecodeCache:
    """Compiled templates, kept between builds: Jinja checks each against its source, and the name
    says which Stepstone compiled it (its code generator is Stepstone's: templatecode.py)."""
    folder = site / CACHE_DIR / "templates"
    folder.mkdir(parents=True, exist_ok=True)
    ours = cache_format()[:16]
    for old in folder.glob("*.cache"):
        if not old.name.startswith(ours):
            old.unlink(missing_ok=True)
    return jinja2.FileSystemBytecodeCache(str(folder), f"{ours}-%s.cache")


class TemplatesInMemory(jinja2.BytecodeCache):
    """Compiled templates kept in memory between the builds of `serve`: Jinja checks each against
    its source, so an edited template is compiled again."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


PDF_STORE = "pdf"  # under .stepstone/: each PDF built, by the digest of its bytes


def _downloads(options: BuildOptions, analysis: Analysis, site: Site, themes: str, cache: BuildCache
               ) -> tuple[Site, list[OutputFile], list[Problem]]:
    """Every PDF of the site, and the site with the links of the rooms that offer them.

    A PDF is made again only when its page's front matter or body, the theme, the config or
    a file it shows changed (on every core when there are several); otherwise its bytes come
    from .stepstone/pdf/. Without WeasyPrint there are no PDFs and no links (analyse warned)."""
    wanted = pdf.makes_pdf(site.pages, site.is_public)
    if not wanted or pdf.engine_missing():
        cache.pdfs = {}
        return site, [], []
    store = options.site / CACHE_DIR / PDF_STORE
    files = {item.path: item.origin for item in analysis.copies}
    version = pdf.engine_version()
    keys = {p.name: digest(repr((__version__, fingerprint(site.config), themes, version, p.meta_digest,
                                 cache.bodies[p.name][3]))) for p in wanted}
    made = {p.name: entry for p in wanted if _pdf_current(entry := cache.pdfs.get(p.name), keys[p.name],
                                                          files, store, cache, site.config.base_url)}
    todo = [p for p in wanted if p.name not in made]
    problems: list[Problem] = []
    if todo:
        reason = pdf.engine_broken()
        if reason:
            cache.pdfs = {}
            return site, [], [pdf.missing_engine_warning(wanted, reason)]
        store.mkdir(parents=True, exist_ok=True)
        with_html = _with_html(options, site, todo, analysis.targets,
                               {p.name: cache.bodies[p.name][3] for p in todo}, cache.html_of)
        position = {p.name: i for i, p in enumerate(site.pages)}
        for chunk in map_chunks(_pdf_chunk, (with_html, analysis.env, analysis.theme, files),
                                [position[p.name] for p in todo], options.jobs, min_items=2, per_job=1):
            for name, made_pdf, problem in chunk:
                if problem is not None:
                    problems.append(problem)
                    continue
                data, pages, used, refused = made_pdf
                page = site.page(name)
                info = pdf.PdfFile(name, pdf.pdf_path(page.url), digest(data), len(data), pages)
                (store / f"{info.digest}.pdf").write_bytes(data)
                made[name] = (keys[name], info, tuple((rel, _file_digest(files[rel], cache)) for rel in used),
                              tuple(refused))
    cache.pdfs = made
    cache.stats["PDFs made"] = len(todo)
    _forget_pdfs(store, {entry[1].digest for entry in made.values()})
    problems += [pdf.refused_warning(site.page(name), entry[3]) for name, entry in made.items() if entry[3]]
    outputs = [OutputFile(entry[1].path, (store / f"{entry[1].digest}.pdf").read_bytes(), site.page(name).source)
               for name, entry in sorted(made.items())]
    links = {room: tuple(pdf.link_to(site.page(name), made[name][1], site.config.base_path,
                                     site.bodies[name].has_tasks) for name in names if name in made)
             for room, names in pdf.offered(site.pages, site.is_public).items()}
    return replace(site, downloads=links), outputs, problems


def _forget_pdfs(store: Path, kept: set[str]) -> None:
    """PDFs of earlier builds that no page makes any more leave the store."""
    for path in store.glob("*.pdf") if store.is_dir() else []:
        if path.stem not in kept:
            path.unlink(missing_ok=True)


def _pdf_current(entry: tuple | None, key: str, files: dict, store: Path, cache: BuildCache, base_url: str) -> bool:
    """Whether a PDF of the last build stands: same inputs, same files shown, bytes still stored, and
    none of the addresses it left out is a file of the site now (a logo put back)."""
    return entry is not None and entry[0] == key and (store / f"{entry[1].digest}.pdf").is_file() and \
        all(rel in files and _file_digest(files[rel], cache) == known for rel, known in entry[2]) and \
        not any(pdf.local_path(url, base_url) in files for url in entry[3])


def _pdf_chunk(state: tuple[Site, Environment, Theme, dict], indexes: list[int]) -> list[tuple]:
    """PDFs of pages[i] for i in indexes: (name, (bytes, pages, files used, refused) or None, problem)."""
    site, env, theme, files = state
    done = []
    for i in indexes:
        page = site.pages[i]
        body = site.bodies[page.name]
        try:
            html = pdf.print_html(env, site.config, page, body.html, body.has_tasks)
        except Exception as exc:  # download.html is the theme's: its mistakes are reported as such
            done.append((page.name, None, template_problem(exc, theme)))
            continue
        try:
            done.append((page.name, pdf.write_pdf(html, site.config.base_url, files), None))
        except Exception as exc:  # the engine's failure on this page: said at the page, the build stops
            at = page.where("download")
            done.append((page.name, None, error(at.path, at.line, f"could not make the PDF: "
                                                                  f"{type(exc).__name__}: {exc}")))
    return done


def everywhere_key(site: Site, themes: str) -> str:
    """What every page shows (Stepstone's version, the config, the day, the templates, the
    stylesheets' names and the menu): when it changes, every page is rendered again."""
    return digest(repr((__version__, fingerprint(site.config), site.today, site.preview, themes,
                        sorted(site.assets.items()), site.menu)))


def extra_key(everywhere: str, job: ExtraPage) -> str:
    """What a tag page or the 404 page shows, as a digest: its HTML stays while that does."""
    return digest(repr((everywhere, job.template, job.shows)))


def pages_inputs(site: Site, everywhere: str, html: Mapping[str, str]) -> dict[str, tuple]:
    """page_inputs of every page, by name (`html`: each body's digest, by page name)."""
    return {page.name: page_inputs(site, page, everywhere, html[page.name]) for page in site.pages}


def page_inputs(site: Site, page: Page, everywhere: str, html: str) -> tuple:
    """What a page's HTML is made of, but for the other pages it shows (`html`: its body's digest)."""
    plan = site.plan
    return (everywhere, page.meta_digest, html, plan.standing.get(page.name),
            plan.cta.get(page.name), plan.related.get(page.name), plan.later.get(page.name),
            site.downloads.get(page.name))


def _unchanged(metas: dict[str, str], page: Page, inputs: tuple, last: tuple | None, shown_as_before: bool,
               held: str | None) -> bool:
    """Whether last build's HTML of a page stands: the page, its funnel decisions and every page its
    template was shown are unchanged, and output/ holds that HTML (`held`: the key of its file there;
    a body edit spliced in since, or saved under `serve`, wrote other HTML without a new entry).
    Listings, the home page, doors and pages with a form (whose context draws on more than the
    pages it shows) are always rendered again. (`metas`: each page's meta_digest; `shown_as_before`:
    they are all as the last build's, which every entry's deps match.)"""
    return bool(last) and last[0] == inputs and last[2] == held \
        and not (page.is_listing or page.is_home or page.is_door or page.form) \
        and (shown_as_before or all(metas.get(name) == meta for name, meta in last[1]))


def _with_html(options: BuildOptions, site: Site, pages: list[Page], targets: LinkTargets | None,
               html: Mapping[str, str], stored: Callable[[Iterable[str]], dict[str, str]]) -> Site:
    """The site with the HTML of `pages` in memory: a cache loaded from disk left it in html.sqlite
    (`html`: each body's digest; `stored`: the HTML of digests, as the store has them) and, should
    that have lost any, the body is rendered again."""
    bodies = site.bodies
    wanted = {p.name: html[p.name] for p in pages if not bodies[p.name].html and html[p.name] != EMPTY_HTML}
    if not wanted:
        return site
    found = stored(wanted.values())
    bodies = dict(bodies)
    lost = []
    for name, key in wanted.items():
        if key in found:
            bodies[name] = replace(bodies[name], html=found[key])
        else:
            lost.append(name)
    if lost:  # rendered again exactly as _markup would: same link targets, text read from the file
        state = (targets, site.pages, options.site, {}, site.config.unsafe_html)  # each read from its file
        again = set(lost)
        positions = [i for i, p in enumerate(site.pages) if p.name in again]
        for name, body, _ in _markup_chunk(state, positions):
            bodies[name] = replace(bodies[name], html=body.html)
    return site.with_bodies(bodies)


def render_on_cores(options: BuildOptions, site: Site, theme: Theme, env: Environment, todo: list[Page],
            problems: list[Problem], staging: Path | None, update: Update | None,
            progress: Progress | None, making: Path | None = None, meanwhile: Callable[[], object] | None = None,
            slotted: frozenset[str] = frozenset(), html_from: HtmlFrom | None = None, compiled: bool = False
            ) -> tuple[dict[str, tuple[bytes | None, tuple, str, tuple[int, int] | None]], list[str]]:
    """Render `todo` on every core: output path -> (HTML or None, pages its template was shown,
    digest of the HTML, where the body sits in it if the template is one of `slotted`), and the
    pages not linked into `making`. Written into `staging` if given
    (and linked into the twin being made); with `update` (a folder, what it holds, and how to
    write there), each page that differs is written: next to the file it will replace in output/,
    for commit_beside (and removed again if the build fails), or over it in the twin; else kept
    in memory. (`meanwhile()` runs while they render.) The bodies' HTML the site lacks is read
    from the store by the core that renders them (`html_from`: the link targets, each body's digest,
    and the HTML of digests as the store has them; `compiled`: their templates are compiled already)."""
    if not compiled:
        compile_with_includes(env, {choose_template(p) for p in todo})  # once here, not in every worker
    position = {p.name: i for i, p in enumerate(site.pages)}
    done = map_chunks(_render_chunk, (site, theme, staging, env, update, making, slotted, options, html_from,
                                      position),
                      [position[p.name] for p in todo],
                      options.jobs, progress, meanwhile=meanwhile)
    # The pages each page was shown come back as positions: each (name, metadata digest) is then one
    # object for every page that shows it, which the cache files keep once (40% smaller, written in half the time).
    shown_as = [(p.name, p.meta_digest) for p in site.pages]
    rendered = {path: (data, tuple([shown_as[i] for i in shown]), key, slot)
                for chunk in done for path, (data, shown, key, slot) in chunk[0]}
    try:
        stop_on_errors([*problems, *(p for chunk in done for p in chunk[1])], options.strict)
    except SiteError:
        if update is not None and update[2] is write_beside:
            discard_beside(update[0], [path for path, entry in rendered.items() if entry[2] != update[1].get(path)])
        raise
    return rendered, [path for chunk in done for path in chunk[2]]


def _output_keys(files: dict, pages: dict[str, Page], page_keys: dict[str, tuple], cache: BuildCache
                 ) -> dict[str, str]:
    """What each output file holds, as a digest: unchanged digest, unchanged file."""
    keys = {}
    for path, item in files.items():
        if path in pages:
            keys[path] = page_keys[pages[path].name][2]
        elif isinstance(item, CopiedFile):
            keys[path] = digest(repr((item.source, _file_digest(item.origin, cache))))
        elif item.data is None:  # not rendered this time because nothing it shows changed
            keys[path] = cache.outputs[path]
        else:
            keys[path] = digest(item.data)
    return keys


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


def _render_chunk(state: tuple[Site, Theme, Path | None, Environment, Update | None, Path | None, frozenset[str],
                               BuildOptions, HtmlFrom | None, Mapping[str, int]],
                  indexes: list[int]
                  ) -> tuple[list[tuple[str, tuple[bytes | None, tuple, str, tuple[int, int] | None]]],
                             list[Problem], list[str]]:
    """Render pages[i] for i in indexes, each with the pages its template was shown (their positions,
    by `position`) and the digest of its HTML; written into the staging folder (and linked into the
    twin being made: the pages not linked are returned), or (as `update` says) to replace the file
    it differs from (the HTML then stays here)."""
    site, theme, staging, env, update, making, slotted, options, html_from, position = state
    if html_from is not None:
        site = _with_html(options, site, [site.pages[i] for i in indexes], *html_from)
    done, problems, unmirrored = [], [], []
    for i in indexes:
        page = site.pages[i]
        file, problem, shown = render_page(site, env, theme, page)
        if problem is not None:
            problems.append(problem)
        if file is None:
            continue
        key = digest(file.data)
        if staging is not None:
            write_file(staging, file.path, file.data)
            if making is not None:
                try:
                    mirror(making, staging, file.path)
                except OSError:  # no hard links here (or the twin's disk is full): left to finish_twin
                    making = None
            if making is None:
                unmirrored.append(file.path)
        elif update is not None and update[1].get(file.path) != key:
            update[2](update[0], file.path, file.data)
        slot = body_slot(file.data, site.bodies[page.name].html) if choose_template(page) in slotted else None
        shown_at = tuple([position[name] for name, _ in shown])
        done.append((file.path, (None if staging or update else file.data, shown_at, key, slot)))
    return done, problems, unmirrored


def _markup(site: Path, config: SiteConfig, content: Content, jobs: int, cache: BuildCache,
            progress: Progress | None = None, meanwhile: Callable[[], object] | None = None
            ) -> tuple[dict[str, Markup], list[Problem], LinkTargets]:
    """Every body as HTML; a body is rendered again only if it, or what its links point to, changed.
    (`meanwhile()` runs while they are rendered.)"""
    targets = LinkTargets(
        base_path=config.base_path,
        urls={p.name: p.url for p in content.pages},
        by_url={p.url: p.name for p in content.pages},
        skipped=content.skipped,
        files=frozenset(content.files),
    )
    targets_digest = digest(repr((targets.base_path, sorted(targets.urls.items()),
                                  sorted(targets.skipped.items()), sorted(targets.files))))
    keys = {p.name: (content.digests[p.name], p.source, p.body_start, targets_digest, config.unsafe_html)
            for p in content.pages}
    known = {name: entry for name, entry in cache.bodies.items() if keys.get(name) == entry[0]}
    todo = [i for i, p in enumerate(content.pages) if p.name not in known]
    state = (targets, content.pages, site, content.texts, config.unsafe_html)
    for chunk in map_chunks(_markup_chunk, state, todo, jobs, progress, meanwhile=meanwhile):
        for name, body, found in chunk:
            known[name] = (keys[name], body, found, digest(body.html))
    cache.bodies = known
    cache.stats["bodies rendered"] = len(todo)
    bodies = {p.name: known[p.name][1] for p in content.pages}
    return bodies, [problem for entry in known.values() for problem in entry[2]], targets


def _decide(config: SiteConfig, pages: tuple[Page, ...], menu: list, today: dt.date, cache: BuildCache
            ) -> funnel.Plan:
    """The funnel's decisions: the same as last time when no page's metadata changed (links in
    bodies are judged every time, after: cheap, and a body edit moves their lines)."""
    key = digest(repr((config.funnel, config.forms, menu, today, [(p.name, p.meta_digest) for p in pages])))
    if cache.plan is None or cache.plan[0] != key:
        cache.plan = (key, funnel.decide(config.funnel, pages, menu, {f.name for f in config.forms}, today))
    return cache.plan[1]


def _markup_chunk(state: tuple[LinkTargets, tuple[Page, ...], Path, Mapping[str, str], bool], indexes: list[int]
                  ) -> list[tuple[str, Markup, list[Problem]]]:
    """Bodies of pages[i] for i in indexes: the fast engine where it gives the same HTML.
    Pages without their text in `texts` came from the cache without it: their files are read again."""
    targets, pages, site, texts_read, raw_html = state
    chunk = [pages[i] for i in indexes]
    texts = [texts_read[page.name] if page.name in texts_read else read_body(site, page) for page in chunk]
    done = BodyRenderer(raw_html).render_all(
        [(text, page.name, page.source, page.body_start) for text, page in zip(texts, chunk, strict=True)], targets)
    return [(page.name, body, found) for page, (body, found) in zip(chunk, done, strict=True)]


def _menu_target(url: str, pages: tuple[Page, ...]) -> str:
    path = url if url.endswith("/") else url + "/"
    return next((p.name for p in pages if p.url == path), "")


def _site_files(site: Site, bodies: dict[str, Markup]) -> list[OutputFile]:
    public = site.public_pages
    tags = sorted({f"/tags/{tag_slug(t)}/" for t in {t for p in public for t in p.tags}})
    return [
        OutputFile("sitemap.xml", sitefiles.sitemap(site.config, public, tags).encode(), "sitemap"),
        OutputFile("feed.xml", sitefiles.feed(site.config, public, lambda p: p.summary or bodies[p.name].first_paragraph).encode(), "feed"),
        OutputFile("robots.txt", sitefiles.robots(site.config).encode(), "robots.txt", yields=True),
        *(_calendar_file(site, p) for p in site.pages if p.event),
    ]


def _calendar_file(site: Site, page: Page) -> OutputFile:
    """An event's .ics, stamped with the page's date (else the build's): the same bytes every build."""
    event, config = page.event, site.config
    day = page.date or site.today
    stamp = dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)
    uid = f"{page.name.replace('/', '-')}@{urlsplit(config.base_url).hostname or 'stepstone'}"
    data = event_ics(uid, page.title, event.start, event.end, event.location,
                     config.base_url + page.url.lstrip("/"), stamp)
    return OutputFile(ics_path(page.url), data, page.source)


FINGERPRINTED = (".css", ".js")


def _fingerprinted(copies: list[CopiedFile]) -> dict[str, str]:
    """Stylesheets and scripts under a name that holds their content hash (assets/style.3f2a1c9e.css):
    hosts may cache them forever, and a deploy never leaves a page with yesterday's CSS."""
    found = {}
    for item in copies:
        stem, dot, ext = item.path.rpartition(".")
        if dot and f".{ext}" in FINGERPRINTED and item.path.startswith("assets/"):
            named = hashlib.blake2b(item.origin.read_bytes(), digest_size=16).hexdigest()[:10]  # as ever
            found[item.path] = f"{stem}.{named}.{ext}"
    return found


def _copies(site: Path, theme_static: list[Path], content: tuple[str, ...]
            ) -> tuple[list[CopiedFile], list[Problem]]:
    """Theme static files, then the site's static/ over them, then files beside the pages (a link to
    a file is copied as the file; a link to a folder is not followed, and said so)."""
    copies, problems = [], []
    for folder, label in [*((d, "theme") for d in theme_static), (site / STATIC_DIR, STATIC_DIR)]:
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            rel = path.relative_to(folder).as_posix()
            if any(part.startswith(".") for part in rel.split("/")):
                continue
            if path.is_file():
                copies.append(CopiedFile(rel, path, f"{label}/{rel}"))
            elif path.is_symlink() and path.is_dir():
                problems.append(linked_folder_warning(path, f"{label}/{rel}"))
    copies += [CopiedFile(rel, site / CONTENT_DIR / rel, f"{CONTENT_DIR}/{rel}") for rel in content]
    return copies, problems
