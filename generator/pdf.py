"""Lead magnets as branded PDFs: a page with `download:` printed through the theme's download.html.

The print HTML is made here from the page's body, purely. WeasyPrint (the optional extra
`stepstone[pdf]`) turns it into bytes and is imported only when a site asks for a PDF. It
fetches nothing from the network, only the site's own files by their address, so a PDF is the
same bytes on every build and opens the same way offline.
"""
from __future__ import annotations

import contextlib
import importlib.util
import re
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Mapping
from urllib.parse import urlsplit

from .errors import Problem, warning

if TYPE_CHECKING:  # (not imported to run: a build with nothing to do asks engine_missing alone)
    import logging

    from .config import SiteConfig
    from .content import Page

INSTALL = "pip install 'stepstone[pdf]'"
TEMPLATE = "download.html"
TOC_AFTER = 3  # a guide with more headings than this gets a table of contents
HEADING = re.compile(r'<h([23]) id="([^"]+)"[^>]*>(.*?)</h\1>', re.S)
TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class PdfFile:
    """A PDF as built, measured from its bytes: what the rooms offering it say about it."""

    name: str      # the page it was made from
    path: str      # in the output, beside the page: insider/welcome/welcome.pdf
    digest: str
    size: int      # bytes
    pages: int


@dataclass(frozen=True)
class DownloadLink:
    """A PDF as a thank-you room offers it: 'Download the checklist (PDF, 3 pages, 180 KB)'."""

    href: str
    title: str
    kind: str      # "checklist" or "guide": what the reader is told they get
    size: int
    pages: int
    digest: str

    @property
    def label(self) -> str:
        return f"Download the {self.kind}"

    @property
    def details(self) -> str:
        return f"PDF, {self.pages} page{'s' * (self.pages != 1)}, {human_size(self.size)}"


@dataclass(frozen=True)
class Heading:
    level: int
    anchor: str
    text: str


def pdf_path(url: str) -> str:
    """A page's PDF, beside its HTML and named after its slug: insider/welcome/welcome.pdf."""
    folder = url.strip("/")
    return f"{folder}/{folder.rsplit('/', 1)[-1]}.pdf" if folder else "home.pdf"


def human_size(size: int) -> str:
    """'180 KB', '1.4 MB': as file managers say it (1 KB = 1024 bytes)."""
    if size < 1000 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def kind_of(has_tasks: bool) -> str:
    return "checklist" if has_tasks else "guide"


# --- which pages make a PDF, and which rooms offer it ----------------------------------

def offered(pages: Iterable[Page], public: Callable[[Page], bool]) -> dict[str, tuple[str, ...]]:
    """Room name -> the pages whose PDF it offers: its own `download:`, and that of every door
    whose `thank_you:` is this room. Only gated rooms offer PDFs: a lead magnet is never linked
    where anyone browsing or searching could find it."""
    pages = list(pages)
    by_name = {p.name: p for p in pages}
    found: dict[str, list[str]] = {}
    for p in makes_pdf(pages, public):
        room = by_name.get(p.thank_you if p.is_door else p.name)
        if room is not None and not room.is_door and not public(room):
            found.setdefault(room.name, []).append(p.name)
    return {room: tuple(sorted(names)) for room, names in sorted(found.items())}


def makes_pdf(pages: Iterable[Page], public: Callable[[Page], bool]) -> list[Page]:
    """The pages whose PDF is built: gated pages with `download:`."""
    return [p for p in pages if p.download and not public(p)]


def download_problems(pages: Iterable[Page], public: Callable[[Page], bool]) -> list[Problem]:
    """`download:` where no visitor could get the PDF: on a public page, or a door with no thank-you room."""
    pages = list(pages)
    by_name = {p.name: p for p in pages}
    problems = []
    for p in pages:
        if not p.download:
            continue
        at = p.where("download")
        if public(p):
            problems.append(warning(at.path, at.line, f"download: makes a lead magnet, which sits behind a "
                                                      f"signup, but this page is public (step '{p.step}'): no "
                                                      f"PDF is made; move the page to a gated step"))
        elif p.is_door and (p.thank_you not in by_name or by_name[p.thank_you].is_door):
            problems.append(warning(at.path, at.line, "no page offers this PDF: give the door a thank_you: room, "
                                                      "where visitors land after signing up"))
    return problems


def engine_missing() -> bool:
    """Whether WeasyPrint is not installed (checked without importing it: that takes most of a second)."""
    try:
        return importlib.util.find_spec("weasyprint") is None
    except (ImportError, ValueError):
        return True


def engine_version() -> str:
    """WeasyPrint's version, part of every PDF's cache key: a new engine draws anew."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("weasyprint")
    except PackageNotFoundError:
        return ""


def engine_broken() -> str:
    """Why WeasyPrint cannot be imported (its system libraries, Pango, missing), or "" when it can.
    Imported here, before the workers start, so they inherit it instead of each importing it."""
    try:
        import weasyprint  # noqa: F401
    except Exception as exc:  # an OSError from a missing libpango, an ImportError from a broken install
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'cannot import it'}"
    return ""


def missing_engine_warning(pages: list[Page], reason: str = "") -> Problem:
    """One warning for the whole build, at the first page that asks for a PDF."""
    at = pages[0].where("download")
    others = f" (and {len(pages) - 1} more page{'s' * (len(pages) > 2)})" if len(pages) > 1 else ""
    why = f" ({reason})" if reason else ""
    return warning(at.path, at.line, f"PDF downloads need WeasyPrint{why}: run {INSTALL}; this page{others} "
                                     f"is built without its PDF")


def refused_warning(page: Page, refused: tuple[str, ...]) -> Problem:
    at = page.where("download")
    shown = ", ".join(refused[:3]) + (f" and {len(refused) - 3} more" if len(refused) > 3 else "")
    return warning(at.path, at.line, f"the PDF leaves out {shown}: a PDF shows only the site's own files, "
                                     f"never fetched from the internet")


def link_to(page: Page, made: PdfFile, base_path: str, has_tasks: bool) -> DownloadLink:
    """How a room offers the PDF of `page`, with its size and page count as built."""
    return DownloadLink(base_path + made.path, page.download.title, kind_of(has_tasks), made.size, made.pages,
                        made.digest)


# --- the print HTML --------------------------------------------------------------------

def headings(html: str) -> list[Heading]:
    """The body's ## and ### headings with their anchors: the table of contents."""
    return [Heading(int(level), anchor, unescape(TAG.sub("", text)).strip())
            for level, anchor, text in HEADING.findall(html)]


def site_address(config: SiteConfig) -> str:
    """The site as people type it: 'example.com', 'me.github.io/couch'."""
    parts = urlsplit(config.base_url)
    return (parts.netloc + parts.path).rstrip("/") or config.base_url


def print_context(config: SiteConfig, page: Page, body_html: str, has_tasks: bool) -> dict:
    """What download.html gets: the cover's words, the body, its contents and the site's address."""
    found = headings(body_html)
    return {
        "site": config,
        "page": page,
        "title": page.download.title,
        "subtitle": page.download.subtitle,
        "paper": page.download.paper,
        "kind": kind_of(has_tasks),
        "content": body_html,
        "toc": found if len(found) > TOC_AFTER else [],
        "address": site_address(config),
        "home": config.base_url,
        "logo": config.logo,
    }


def print_html(env, config: SiteConfig, page: Page, body_html: str, has_tasks: bool) -> str:
    """The page as the theme's download.html prints it."""
    return env.get_template(TEMPLATE).render(print_context(config, page, body_html, has_tasks))


# --- WeasyPrint ------------------------------------------------------------------------

def local_path(url: str, base_url: str) -> str | None:
    """The site-relative path of an address under base_url ('https://example.com/logo.svg' -> 'logo.svg')."""
    if not url.startswith(base_url):
        return None
    return urlsplit(url[len(base_url):]).path


def write_pdf(html: str, base_url: str, files: Mapping[str, Path]) -> tuple[bytes, int, tuple[str, ...], list[str]]:
    """The PDF of `html`: (bytes, pages, site files it used, addresses it refused to fetch).

    Relative and root-relative addresses resolve under base_url, so links in the PDF lead back
    to the site; images and stylesheets come only from `files` (site path -> file on disk)."""
    import logging  # (with mimetypes: only for the sites that make PDFs)
    import mimetypes

    import weasyprint  # the optional extra: only sites with downloads pay for it
    used: list[str] = []
    refused: list[str] = []

    def fetch(url: str) -> tuple[bytes, str]:
        rel = local_path(url, base_url)
        if rel is None or rel not in files:
            refused.append(url)
            raise ValueError(f"not a file of this site: {url}")
        used.append(rel)
        return files[rel].read_bytes(), mimetypes.guess_type(rel)[0] or "application/octet-stream"

    with _quiet(logging.getLogger("weasyprint")):
        document = weasyprint.HTML(string=html, base_url=base_url, url_fetcher=_fetcher(weasyprint, fetch)).render()
        data = document.write_pdf()
    return data, len(document.pages), tuple(sorted(set(used))), refused


def _fetcher(weasyprint, fetch: Callable[[str], tuple[bytes, str]]):
    """`fetch` as this WeasyPrint wants it: a URLFetcher (from 68) or a function returning a dict."""
    urls = weasyprint.urls
    if hasattr(urls, "URLFetcher"):
        class SiteFiles(urls.URLFetcher):
            def fetch(self, url, headers=None):
                data, mime = fetch(url)
                return urls.URLFetcherResponse(url, data, {"Content-Type": mime})
        return SiteFiles()

    def old_style(url: str, timeout: int = 10, ssl_context=None) -> dict:
        data, mime = fetch(url)
        return {"string": data, "mime_type": mime, "redirected_url": url}
    return old_style


@contextlib.contextmanager
def _quiet(logger: logging.Logger) -> Iterator[None]:
    """WeasyPrint logs what it leaves out; the build reports refused addresses itself, once."""
    import logging
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.CRITICAL)
    logger.propagate = False
    try:
        yield
    finally:
        logger.setLevel(level)
        logger.propagate = propagate
