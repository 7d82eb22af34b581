"""content/**.md → `Page`s: front matter checked key by key, with the line of every key.

Knows nothing of the funnel or HTML: a page's step is kept as written, and
the funnel module decides whether it exists.
"""
from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from .errors import Location, Problem, did_you_mean, error, warning
from .cache import BuildCache, SourceEntry, digest
from .urls import url_problem
from .workers import Progress, map_chunks

# source.py (and YAML's parser with it: 10 ms to import) is imported where a file is read: a build
# after a template edit reads no front matter.
if TYPE_CHECKING:
    from .source import SourceFile

CONTENT_DIR = "content"
SLUG = re.compile(r"^[A-Za-z0-9_-]+$")
URL_UNSAFE = set(':#?%"<>\\^`{|}')  # in a page's file or folder name, these would break its address
PLAIN_NAME = re.compile(r"[A-Za-z0-9_./ -]*")  # a name with none of those (nor unprintable ones): most
KNOWN_KEYS = {"title", "step", "date", "summary", "tags", "draft", "slug", "weight", "layout", "next",
              "offer", "form", "thank_you", "coupon", "event", "cross_sell", "cascade", "image",
              "description", "download"}
OFFER_KEYS = {"headline", "text", "button", "url", "embed_form"}
COUPON_KEYS = {"code", "price", "expires", "terms", "redeem_url"}
EVENT_KEYS = {"start", "end", "location"}
DOWNLOAD_KEYS = {"title", "subtitle", "paper"}
PAPERS = ("a4", "letter")


@dataclass(frozen=True)
class Offer:
    headline: str
    text: str = ""
    button: str = ""
    url: str = ""
    embed_form: bool = False  # rooms of the step before show the door's form in their CTA, not a link


@dataclass(frozen=True)
class Coupon:
    code: str
    price: str = ""
    expires: dt.date | None = None
    terms: str = ""
    redeem_url: str = ""


@dataclass(frozen=True)
class Event:
    start: dt.datetime
    end: dt.datetime | None = None
    location: str = ""


@dataclass(frozen=True)
class Download:
    """`download:` on a page: build a PDF of it (a lead magnet), with its cover's words and paper."""

    title: str
    subtitle: str = ""
    paper: str = "a4"


@dataclass(frozen=True)
class Page:
    """One Markdown file, its front matter checked and cascaded. (Its body's text is Content.texts'.)"""

    name: str                 # path under content/ without .md: "insider/welcome", "guides/_index", "index"
    source: str               # path relative to the site folder: "content/insider/welcome.md"
    url: str                  # site URL without the base path: "/insider/welcome/"
    title: str
    step: str
    body_start: int           # file line of body line 0
    date: dt.date | None = None
    summary: str = ""
    tags: tuple[str, ...] = ()
    draft: bool = False
    weight: int = 0
    layout: str = ""
    next: str = ""
    offer: Offer | None = None
    form: str = ""
    thank_you: str = ""
    coupon: Coupon | None = None
    event: Event | None = None
    download: Download | None = None
    cross_sell: tuple[str, ...] = ()
    image: str = ""
    params: tuple[tuple[str, Any], ...] = field(default=(), hash=False)  # the owner's own keys: lists too
    origins: tuple[tuple[str, str, int], ...] = ()  # (key, file, line) where each was written (own or cascade)
    meta_digest: str = ""  # hash of everything but the body: what other pages' HTML may show of it

    @property
    def is_home(self) -> bool:
        return self.name == "index" or self.name == "_index"

    @property
    def is_listing(self) -> bool:
        return self.name.endswith("_index") and not self.is_home

    @property
    def section(self) -> str:
        """The folder the page lists (listings) or sits in (other pages): "" at the top."""
        parent = str(PurePosixPath(self.name).parent)
        return "" if parent == "." else parent

    @property
    def is_door(self) -> bool:
        return self.offer is not None

    @property
    def has_own_offer(self) -> bool:
        return bool(self.form or self.coupon or (self.offer and self.offer.url))

    @property
    def coupon_expires(self) -> dt.date | None:
        return self.coupon.expires if self.coupon else None

    def where(self, key: str) -> Location:
        """Where a key was written (as plain tuples, kept by the cache: a third faster to load)."""
        for name, path, line in self.origins:
            if name == key:
                return Location(path, line)
        return Location(self.source, 1)


@dataclass(frozen=True)
class Content:
    """Every page that will be built, every problem found, and what exists but is not built."""

    pages: tuple[Page, ...]
    problems: tuple[Problem, ...]
    skipped: Mapping[str, str] = field(default_factory=dict)  # name -> why (draft, future, broken)
    files: tuple[str, ...] = ()  # non-Markdown files under content/, relative to it
    digests: Mapping[str, str] = field(default_factory=dict)  # page name -> hash of its file's bytes
    texts: Mapping[str, str] = field(default_factory=dict)  # page name -> its body's Markdown, if read:
    #                         not for pages taken from a cache loaded without it (read_body reads them)


# --- checking values -------------------------------------------------------------

class _Checker:
    def __init__(self, parsed: SourceFile, origins: dict[str, Location]):
        self.p = parsed
        self.origins = origins
        self.problems: list[Problem] = []

    def at(self, key: str) -> Location:
        return self.origins.get(key, Location(self.p.source, 1))

    def fail(self, key: str, message: str) -> None:
        loc = self.at(key)
        self.problems.append(error(loc.path, loc.line, message))

    def text(self, data: dict, key: str, what: str = "text") -> str:
        value = data.get(key)
        if value is None:
            return ""
        if isinstance(value, (int, float, dt.date)) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str):
            self.fail(key, f"'{key}' must be {what}, not a list or a block")
            return ""
        return value

    def date(self, value: Any, key: str) -> dt.date | None:
        if value is None or value == "":
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value).strip()[:10])
        except ValueError:
            self.fail(key, f"'{value}' is not a date: write it as YYYY-MM-DD, like 2026-11-02")
            return None

    def datetime(self, value: Any, key: str) -> dt.datetime | None:
        if isinstance(value, dt.datetime):
            return value
        if isinstance(value, dt.date):
            return dt.datetime(value.year, value.month, value.day)
        try:
            return dt.datetime.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(key, f"'{value}' is not a date and time: write it like 2026-12-05T18:00:00-05:00")
            return None

    def names(self, value: Any, key: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",")] if "," in value else [value]
        if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
            self.fail(key, f"'{key}' must be a list, like {key}: [one, two]")
            return ()
        return tuple(str(v).strip() for v in value if str(v).strip())

    def block(self, data: dict, key: str, known: set[str]) -> dict | None:
        value = data.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.fail(key, f"'{key}' must be a block of indented 'key: value' lines")
            return None
        for sub in sorted(set(value) - known):
            self.fail(key, f"unknown key '{sub}' in {key}:{did_you_mean(str(sub), known)}")
        return value


def _name_and_url(name: str, slug: str) -> tuple[str, str]:
    """A page's name (its path under content/ without .md, '/'-separated) and its URL."""
    parts = name.split("/")
    if parts in (["index"], ["_index"]):
        return name, "/"
    if parts[-1] == "_index":
        return name, "/" + "/".join(parts[:-1]) + "/"
    if slug:
        parts[-1] = slug
    return name, "/" + "/".join(parts) + "/"


def check_page(parsed: SourceFile, cascade: Mapping[str, tuple[Any, Location]]
               ) -> tuple[Page | None, list[Problem]]:
    """Front matter → Page, with cascaded keys filled in and every problem collected."""
    own = parsed.data
    origins = {k: Location(parsed.source, line) for k, line in parsed.lines.items()}
    data = dict(own)
    for key, (value, loc) in cascade.items():
        if key not in own:
            data[key] = value
            origins[key] = loc
    c = _Checker(parsed, origins)
    for key in sorted(set(own) - KNOWN_KEYS):
        hint = did_you_mean(key, KNOWN_KEYS)
        if hint:
            c.problems.append(warning(parsed.source, parsed.lines.get(key, 1),
                                      f"unknown key '{key}'{hint}"))
    title = c.text(data, "title").strip()
    if data.get("title") in (None, "") or isinstance(data["title"], str) and not title:
        c.fail("title", "every page needs a title: add a line like 'title: My page' to the front matter"
               if "title" not in data else "the title is empty")
    step = c.text(data, "step", "one step name, like step: free").strip()
    if data.get("step") in (None, ""):
        c.problems.append(error(parsed.source, 1 if "step" not in data else origins["step"].line,
                                "every page needs a step of the funnel: add a line like 'step: free' "
                                "(or set 'cascade: {step: free}' in the section's _index.md)"))
    slug = c.text(data, "slug").strip()
    if slug and not SLUG.match(slug):
        c.fail("slug", f"slug '{slug}' may contain only letters, digits, '-' and '_' (no spaces or slashes)")
        slug = ""
    in_address = parsed.name if not slug else parsed.name.rpartition("/")[0]
    unsafe = sorted({ch for ch in in_address if not ch.isprintable() or ch in URL_UNSAFE}) \
        if not PLAIN_NAME.fullmatch(in_address) else ()
    if unsafe:
        shown = ", ".join(repr(ch) for ch in unsafe)
        c.problems.append(error(parsed.source, 1, f"the file or folder name holds {shown}, which cannot be part "
                                                  f"of a web address: rename it using letters, digits, '-' and '_'"))
    weight = data.get("weight", 0)
    if not isinstance(weight, int) or isinstance(weight, bool):
        c.fail("weight", "weight must be a whole number, like weight: 10")
        weight = 0
    draft = data.get("draft", False)
    if not isinstance(draft, bool):
        c.fail("draft", "draft must be true or false")
        draft = False
    offer = coupon = event = None
    if (o := c.block(data, "offer", OFFER_KEYS)) is not None:
        embed = o.get("embed_form", False)
        if not isinstance(embed, bool):
            c.fail("offer", "embed_form must be true or false")
            embed = False
        offer = Offer(headline=str(o.get("headline") or title), text=str(o.get("text") or ""),
                      button=str(o.get("button") or "Yes, please"), url=str(o.get("url") or ""),
                      embed_form=embed)
    if (k := c.block(data, "coupon", COUPON_KEYS)) is not None:
        if not k.get("code"):
            c.fail("coupon", "a coupon needs a code: add 'code: YOURCODE' under coupon:")
        coupon = Coupon(code=str(k.get("code") or ""), price=str(k.get("price") or ""),
                        expires=c.date(k.get("expires"), "coupon"), terms=str(k.get("terms") or ""),
                        redeem_url=str(k.get("redeem_url") or ""))
    for key, url in (("offer.url", offer.url if offer else ""), ("image", c.text(data, "image").strip()),
                     ("coupon.redeem_url", coupon.redeem_url if coupon else "")):
        if url and (problem := url_problem(url, key)):
            c.fail(key if key in c.origins else key.partition(".")[0], problem)
    if (e := c.block(data, "event", EVENT_KEYS)) is not None:
        start = c.datetime(e.get("start"), "event") if e.get("start") else None
        if e.get("start") is None:
            c.fail("event", "an event needs a start, like start: 2026-12-05T18:00:00-05:00")
        end = c.datetime(e["end"], "event") if e.get("end") else None
        zoned = [t for t in (start, end) if t is not None and t.tzinfo is not None]
        if start and len(zoned) != len([t for t in (start, end) if t is not None]):
            c.fail("event", "give the event's times with their time zone, like 2026-12-05T18:00:00-05:00 "
                            "(-05:00 is New York in winter), so visitors elsewhere see the right time")
        elif start and end and end < start:
            c.fail("event", "the event ends before it starts: check 'end:'")
        elif start:
            event = Event(start, end, str(e.get("location") or ""))
    download = _download(c, data, title, str(data.get("summary") or ""))
    if "cascade" in own and not parsed.name.endswith("_index"):
        c.problems.append(warning(parsed.source, parsed.lines.get("cascade", 1),
                                  "cascade: works only in a section's _index.md; it is ignored here"))
    if "date" in data and isinstance(data["date"], str) and not data["date"].strip():
        data.pop("date")
    name, url = _name_and_url(parsed.name, slug)
    page = Page(
        name=name, source=parsed.source, url=url, title=title, step=step, body_start=parsed.body_start, date=c.date(data.get("date"), "date"),
        summary=c.text(data, "summary") or c.text(data, "description"),
        tags=tuple(sorted(set(c.names(data.get("tags"), "tags")))), draft=draft, weight=weight,
        layout=c.text(data, "layout").strip(), next=_ref(c.text(data, "next")), offer=offer,
        form=c.text(data, "form").strip(), thank_you=_ref(c.text(data, "thank_you")), coupon=coupon,
        event=event, download=download, cross_sell=tuple(_ref(n) for n in c.names(data.get("cross_sell"), "cross_sell")),
        image=c.text(data, "image").strip(),
        params=tuple(sorted((k, v) for k, v in own.items() if k not in KNOWN_KEYS)),
        origins=tuple((key, loc.path, loc.line) for key, loc in sorted(origins.items())),
        meta_digest=digest(parsed.name + parsed.front_digest + repr(sorted(
            (k, repr(v)) for k, (v, _) in cascade.items() if k not in own))),
    )
    if c.problems and any(p.severity == "error" for p in c.problems):
        return None, c.problems
    return page, c.problems


def _download(c: _Checker, data: dict, title: str, summary: str) -> Download | None:
    """`download: pdf`, or a block with the cover's title and subtitle and the paper size."""
    value = data.get("download")
    if value is None or value is False:
        return None
    if isinstance(value, str):
        if value.strip().lower() != "pdf":
            c.fail("download", f"download: '{value}' is not a format Stepstone makes: write 'download: pdf' "
                               f"(or a block with title, subtitle and paper)")
            return None
        return Download(title, summary)
    block = c.block(data, "download", DOWNLOAD_KEYS)
    if block is None:
        return None
    paper = str(block.get("paper") or "a4").strip().lower()
    if paper not in PAPERS:
        c.fail("download", f"paper: '{paper}' is not a paper size Stepstone knows: use a4 or letter")
        paper = "a4"
    return Download(str(block.get("title") or title), str(block.get("subtitle") or summary), paper)


def _ref(ref: str) -> str:
    """A page reference as written ('/trial/coupon.md', 'guides/') → a page name."""
    ref = ref.strip().strip("/")
    return ref[:-3] if ref.endswith(".md") else ref


def _cascades(parsed: Iterable[SourceFile]) -> tuple[dict[str, dict[str, tuple[Any, Location]]], list[Problem]]:
    """Section folder → its _index.md's cascade keys with where each was written."""
    found, problems = {}, []
    for p in parsed:
        if not p.name.endswith("_index") or "cascade" not in p.data:
            continue
        cascade = p.data["cascade"]
        if not isinstance(cascade, dict):
            problems.append(error(p.source, p.lines.get("cascade", 1),
                                  "cascade: must be a block of keys, like cascade: {step: free}"))
            continue
        section = str(PurePosixPath(p.name).parent)
        found["" if section == "." else section] = {
            str(k): (v, Location(p.source, p.lines.get(f"cascade.{k}", p.lines.get("cascade", 1))))
            for k, v in cascade.items() if str(k) != "cascade"}
    return found, problems


def _cascade_for(folder: str, cascades: Mapping[str, dict]) -> dict[str, tuple[Any, Location]]:
    """The cascaded keys for pages in `folder` ("" at the top): outermost first, nearest section wins."""
    merged: dict[str, tuple[Any, Location]] = dict(cascades.get("", {}))
    parts = folder.split("/") if folder else []
    for depth in range(1, len(parts) + 1):
        merged.update(cascades.get("/".join(parts[:depth]), {}))
    return merged


def content_files(root: Path) -> tuple[list[str], list[str]]:
    """Every file under `root` but hidden ones, as sorted '/'-separated paths (os.walk: fast at 10,000),
    and the links to folders found there, which are not followed."""
    found, linked = [], []
    for folder, folders, names in os.walk(root):
        here = os.path.relpath(folder, root).replace(os.sep, "/")
        prefix = "" if here == "." else f"{here}/"
        folders[:] = [f for f in folders if not f.startswith(".")]
        linked += [prefix + f for f in folders if os.path.islink(os.path.join(folder, f))]
        found += [prefix + name for name in names if not name.startswith(".")]
    return sorted(found, key=lambda rel: rel.split("/")), sorted(linked)


def linked_folder_warning(path: Path, label: str) -> Problem:
    """A link to a folder is not followed: a build never reaches outside the site through one."""
    return warning(label, 1, f"this is a link to the folder {os.path.realpath(path)}, and Stepstone does not "
                             f"follow links to folders, so nothing in it is published: copy the folder here instead")


def _read_chunk(state: tuple[Path, dict[str, dict] | None], rels: list[tuple[str, tuple[int, int]]]
                ) -> list[tuple[str, SourceEntry, tuple[Page | None, list[Problem]] | None]]:
    """Read and parse files; with the sections' cascades, check each page too (None if broken)."""
    from .source import parse_source
    root, cascades = state
    done = []
    for rel, stat in rels:
        with open(os.path.join(root, rel), "rb") as f:
            raw = f.read()
        entry = SourceEntry(stat, digest(raw), *parse_source(raw, rel[:-3], f"{CONTENT_DIR}/{rel}"))
        checked = None
        if cascades is not None and entry.parsed is not None:
            checked = check_page(entry.parsed, _cascade_for(rel.rpartition("/")[0], cascades))
        done.append((rel, entry, checked))
    return done


def _is_section_index(rel: str) -> bool:
    """Whether a file may set a cascade: the same test _cascades makes of its page name."""
    return rel[:-3].endswith("_index")


def read_sources(root: Path, markdown: list[str], jobs: int, cache: BuildCache, progress: Progress | None = None,
                 stats: Mapping[str, tuple[int, int]] | None = None
                 ) -> tuple[dict[str, SourceEntry], set[str], dict[str, tuple[Page | None, list[Problem]]]]:
    """Every Markdown file parsed: from the cache when its size and time are unchanged, else read.
    Sections' _index.md come first: the cascades they set let every other page read be checked
    on the core that read it. Returns those checks too, by page name.
    (`stats`: each file's (mtime_ns, size) by path, when the build has them already.)"""
    entries, to_read = {}, []
    stats = stats or {}
    for rel in markdown:
        path = os.path.join(root, rel)
        stat = stats.get(path)
        if stat is None:
            st = os.stat(path)
            stat = (st.st_mtime_ns, st.st_size)
        known = cache.sources.get(rel)
        if known is not None and known.stat == stat:
            entries[rel] = known
        else:
            to_read.append((rel, stat))
    indexes = [item for item in to_read if _is_section_index(item[0])]
    entries.update((rel, entry) for rel, entry, _ in _read_chunk((root, None), indexes))
    cascades, _ = _cascades(entry.parsed for rel, entry in entries.items()
                            if _is_section_index(rel) and entry.parsed is not None)
    checks = {}
    pages = [item for item in to_read if not _is_section_index(item[0])]
    for chunk in map_chunks(_read_chunk, (root, cascades), pages, jobs, progress):
        for rel, entry, checked in chunk:
            entries[rel] = entry
            if checked is not None:
                checks[rel[:-3]] = checked
    entries = {rel: entries[rel] for rel in markdown}  # in the files' order, whichever were read again
    cache.sources = entries
    cache.stats["files read"] = len(to_read)
    return entries, {rel for rel, _ in to_read}, checks


def load_content(site: Path, today: dt.date, drafts: bool = False, future: bool = False,
                 jobs: int = 1, cache: BuildCache | None = None, progress: Progress | None = None,
                 stats: Mapping[str, tuple[int, int]] | None = None) -> Content:
    """Read every page under content/; drafts and future pages only when asked for.
    (`stats`: the input files' (mtime_ns, size) by path, when the build has them already.)"""
    root = site / CONTENT_DIR
    problems: list[Problem] = []
    parsed: list[SourceFile] = []
    skipped: dict[str, str] = {}
    files, markdown = [], []
    found, linked = content_files(root)
    for rel in found:
        (markdown if rel.lower().endswith(".md") else files).append(rel)
    problems += [linked_folder_warning(root / rel, f"{CONTENT_DIR}/{rel}") for rel in linked]
    cache = cache if cache is not None else BuildCache()
    digests = {}
    entries, fresh, checks = read_sources(root, markdown, jobs, cache, progress, stats)
    for rel, entry in entries.items():
        problems += entry.problems
        if entry.parsed is None:
            skipped[rel[:-3]] = "broken"
        else:
            parsed.append(entry.parsed)
            digests[entry.parsed.name] = entry.digest
    cascades, cascade_problems = _cascades(parsed)
    problems += cascade_problems
    pages: list[Page] = []
    by_folder: dict[str, tuple[dict, str]] = {}  # folder -> (its cascade, a digest of it)
    checked = {}
    texts = {}
    # the sources read now; None when the cache was not loaded from disk, and so kept every text
    read_now = {rel[:-3] for rel in fresh} if cache.texts_on_disk else None
    for p in parsed:
        folder = p.name.rpartition("/")[0]
        if folder not in by_folder:
            cascade = _cascade_for(folder, cascades)
            by_folder[folder] = (cascade, digest(repr(sorted((k, repr(v), loc) for k, (v, loc) in cascade.items()))))
        cascade, cascade_digest = by_folder[folder]
        key = (digests[p.name], cascade_digest)
        known = cache.pages.get(p.name)
        if known and known[0] == key:
            page, found = known[1:]
        else:  # checked as it was read (with the same cascades), or checked now
            page, found = checks.get(p.name) or check_page(p, cascade)
        checked[p.name] = (key, page, found)
        problems += found
        if page is None:
            skipped[p.name] = "broken"
        elif page.draft and not drafts:
            skipped[page.name] = "a draft (build with --drafts to include it)"
        elif page.date and page.date > today and not future:
            skipped[page.name] = f"dated {page.date.isoformat()}, in the future (build with --future)"
        else:
            pages.append(page)
            if read_now is None or p.name in read_now:
                texts[page.name] = p.body
    cache.pages = checked
    problems += _duplicate_urls(pages)
    return Content(tuple(pages), tuple(problems), skipped, tuple(files), digests, texts)


def read_body(site: Path, page: Page) -> str:
    """A page's body as its file holds it now: for pages whose cached entry left the text out."""
    from .source import parse_source
    parsed, _ = parse_source((site / page.source).read_bytes(), page.name, page.source)
    if parsed is None:  # changed since it was read, and now broken: the next build will say so
        raise OSError(f"{page.source} changed during the build")
    return parsed.body


def _duplicate_urls(pages: Iterable[Page]) -> list[Problem]:
    by_url: dict[str, list[Page]] = {}
    for p in pages:
        by_url.setdefault(p.url, []).append(p)
    found = []
    for url, same in sorted(by_url.items()):
        if len(same) > 1:
            first, *others = sorted(same, key=lambda p: p.source)
            for other in others:
                found.append(error(other.source, other.where("slug").line if other.where("slug").path ==
                                   other.source else 1,
                                   f"this page and {first.source} would both be written to {url}: "
                                   f"rename one, or give one a different slug"))
    return found
