"""Markdown body → HTML, with links to .md files turned into page URLs.

Owners link pages the way GitHub does (`[x](../guides/stains.md#tools)`), so
the same files read well in an editor and in the built site. Every internal
link is also recorded with its line, for the funnel's transgression check.
"""
from __future__ import annotations

import difflib
import functools
import html
import importlib.util
import posixpath
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping, Sequence
from urllib.parse import unquote, urlsplit

from .errors import Problem, error
from .funnel import Link

if TYPE_CHECKING:  # markdown-it-py is imported where a body is rendered: a restyle never needs it
    from markdown_it import MarkdownIt
    from markdown_it.token import Token


@dataclass(frozen=True)
class LinkTargets:
    """What a link in a body may point to."""

    base_path: str                 # "/" or "/couch/"
    urls: Mapping[str, str]        # page name -> URL without base path
    by_url: Mapping[str, str]      # URL without base path -> page name
    skipped: Mapping[str, str]     # page name -> why it is not built
    files: frozenset[str]          # other files under content/, relative to it


@dataclass(frozen=True)
class Markup:
    html: str
    links: tuple[Link, ...]
    first_paragraph: str
    has_tasks: bool


def make_markdown(raw_html: bool = True) -> MarkdownIt:
    """One configured parser: CommonMark plus tables, strikethrough, task lists, footnotes, anchors.
    `raw_html` False (`[markdown] unsafe_html = false`) shows HTML tags in bodies as text: for sites
    that publish what others wrote. (The fast engine then leaves every body with a tag to this one.)"""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.anchors import anchors_plugin
    from mdit_py_plugins.footnote import footnote_plugin
    from mdit_py_plugins.tasklists import tasklists_plugin
    md = MarkdownIt("commonmark", {"html": raw_html})
    md.enable(["table", "strikethrough"])
    md.use(tasklists_plugin, enabled=True, label=True)
    md.use(footnote_plugin)
    md.use(anchors_plugin, min_level=1, max_level=6)
    return md


def _is_external(href: str) -> bool:
    parts = urlsplit(href)
    return bool(parts.scheme) or href.startswith("//")


PLAIN_PATH = re.compile(r"(?!//)[\w./-]+")  # no scheme, host, query, fragment or escapes: a path as it is


def resolve_href(href: str, page_name: str, targets: LinkTargets) -> tuple[str, str, str]:
    """(new href, target page name or "", error message or "") for one link in page `page_name`."""
    if PLAIN_PATH.fullmatch(href):  # most links: what urlsplit and unquote would leave as it is
        path, tail = href, ""
    elif not href or href.startswith("#") or _is_external(href):
        return href, "", ""
    else:
        parts = urlsplit(href)
        path = unquote(parts.path)
        tail = (f"?{parts.query}" if parts.query else "") + (f"#{parts.fragment}" if parts.fragment else "")
    folder = posixpath.dirname(page_name)
    joined = path[1:] if path.startswith("/") else posixpath.join(folder, path)
    normal = posixpath.normpath(joined) if joined else ""
    if path.lower().endswith(".md"):
        name = normal[:-3]
        if normal.startswith("../") or name not in targets.urls:
            if name in targets.skipped:
                return href, "", f"links to '{path}', which is {targets.skipped[name]}"
            return href, "", f"links to '{path}', but there is no such page{_suggest(path, name, targets)}"
        return targets.base_path + targets.urls[name][1:] + tail, name, ""
    if path.startswith("/"):
        page = targets.by_url.get(path if path.endswith("/") or "." in path.rsplit("/", 1)[-1]
                                  else path + "/", "")
        return targets.base_path + href[1:], page, ""
    if normal in targets.files:
        return targets.base_path + normal + tail, "", ""
    return href, "", ""


def _suggest(written: str, name: str, targets: LinkTargets) -> str:
    """' (did you mean ...)' in the form the owner wrote the link: the closest file in that folder."""
    folder, base = posixpath.split(name)
    siblings = {posixpath.basename(n): n for n in targets.urls if posixpath.dirname(n) == folder}
    same_case = {b.lower(): b for b in siblings}
    close = same_case.get(base.lower()) or next(iter(difflib.get_close_matches(base, siblings, 1, 0.6)), None)
    if close is None:
        return ""
    head = written.rsplit("/", 1)[0] + "/" if "/" in written else ""
    return f" (did you mean '{head}{close}.md'?)"


def render_body(md: MarkdownIt, body: str, page_name: str, source: str, body_start: int,
                targets: LinkTargets) -> tuple[Markup, list[Problem]]:
    env: dict = {}
    tokens = md.parse(body, env)
    links: list[Link] = []
    problems: list[Problem] = []
    first_paragraph, has_tasks = "", False
    for i, block in enumerate(tokens):
        if "task-list-item" in str(block.attrGet("class") or ""):
            has_tasks = True
        if block.type != "inline" or not block.children:
            continue
        if not first_paragraph and i > 0 and tokens[i - 1].type == "paragraph_open" and not tokens[i - 1].hidden:
            first_paragraph = "".join(c.content if c.type in ("text", "code_inline") else
                                      " " if c.type in ("softbreak", "hardbreak") else ""
                                      for c in block.children).strip()
        first = body_start + (block.map[0] if block.map else 0)
        cursor = 0
        for child in block.children:
            attr = "href" if child.type == "link_open" else "src" if child.type == "image" else None
            if attr is None:
                continue
            # the link's line: where its address stands in the paragraph's own source
            href = str(child.attrGet(attr) or "")
            at, cursor = _find_address(block.content, href, cursor)
            line = first + block.content.count("\n", 0, at)
            _rewrite(child, attr, page_name, source, line, targets, links, problems)
    html = md.renderer.render(tokens, md.options, env)
    return Markup(html, tuple(links), first_paragraph.strip(), has_tasks), problems


def _find_address(text: str, href: str, cursor: int) -> tuple[int, int]:
    """Where a link's address is written in `text` from `cursor` on: (its position, the new cursor)."""
    for needle in (unquote(href), href):
        found = text.find(needle, cursor)
        if found >= 0:
            return found, found + len(needle)
    return cursor, cursor


def _rewrite(token: Token, attr: str, page_name: str, source: str, line: int, targets: LinkTargets,
             links: list[Link], problems: list[Problem]) -> None:
    href = str(token.attrGet(attr) or "")
    new, target, message = resolve_href(href, page_name, targets)
    if message:
        problems.append(error(source, line, message))
    token.attrSet(attr, new)
    if target:
        links.append(Link(page_name, target, line))


# --- the fast path --------------------------------------------------------------------
# markdown-it-pyrs is a compiled port of the same parser. Its CommonMark, tables and
# strikethrough give the same HTML as the reference; its task lists, footnotes and heading
# anchors do not, so a body using those goes to the reference engine, and heading ids are
# added here with the reference's rule. Raw HTML goes there too, unless its tags are plain
# (see plain_tag) and the site lets raw HTML through.
# tests/test_fast_markdown.py checks both paths agree on every sample site and the corpus.

# The patterns below look at whole lines; each starts with a newline (the text is given one in
# front), which lets Python's regex engine skip ahead to line starts instead of trying every character.
TASK_ITEM = re.compile(r"\n[ \t>]*(?:[-*+]|\d+[.)])[ \t]+\[[ xX]\]")
HTML_TAG = re.compile(r"<[A-Za-z/!?]")
# Raw HTML the fast path takes: tags on one line, their attributes double-quoted without < or >
# (so stripping tags for heading ids and summaries leaves the text the reference's tokens hold),
# and none of the tags the fast path looks for in its own output (links, images, paragraphs,
# headings, quotes), which it would take for its own. Only inline tags: the HTML blocks that
# block-level tags open (and script, pre, style, textarea) end differently in a list item.
@functools.cache
def plain_tag() -> re.Pattern:
    """A tag the fast path takes (made on first use, from markdown-it-py's list of block tags)."""
    from markdown_it.common.html_blocks import block_names
    block_tags = "|".join(sorted([*block_names, "script", "pre", "style", "textarea"], key=len, reverse=True))
    return re.compile(rf'</?(?!(?i:{block_tags})(?![A-Za-z0-9-]))[A-Za-z][A-Za-z0-9-]*'  # a name, not a block's
                      r'(?:[ \t]+[A-Za-z_:][-\w:.]*(?:="[^"<>\n]*")?)*[ \t]*/?>')  # plain attributes


LOOKED_FOR = re.compile(r'<a href="|<img src="|</?(?:p|h[1-6]|blockquote)\b')
# Deep nesting (five quotes or list markers in a row, or a list item indented 20 columns) goes to
# the reference too: its nesting limit differs, and tens of thousands of levels overflow the
# compiled parser's stack and kill the process.
DEEP_NESTING = re.compile(r"\n(?:[ \t]*(?:>[ \t]*|(?:[-*+]|\d{1,9}[.)])[ \t]+){5}|[ \t]{20,}(?:[-*+]|\d{1,9}[.)])[ \t])")
# Where the two engines part ways on text that has none of those, found by comparing them on
# random bodies (tests/test_fast_markdown.py): four tildes in a row, a code span of blanks, an empty
# list item (which may end a paragraph in one only), link reference definitions, and, within one run of lines without
# a blank one (a blank line ends quotes' paragraphs and tables in both):
# - a table beside a quote or list, which ends the table in the reference only;
# - a table's delimiter row under a line without a pipe (or under nothing);
# - a numbered item after a quote's paragraph: the reference starts a list, the fast path goes on;
# - an indented line after a quote's line: in a code span, a link's title or a tag's attribute
#   that goes on over it, the reference keeps the indent.
BLANK_CODE = re.compile(r"`[ \t\n]{3,}`")  # a code span of three blanks or more: the fast path trims it
EMPTY_ITEM = re.compile(r"\n[ \t>]*(?:[-*+]|\d{1,9}[.)])[ \t]*(?=\n|\Z)")
REFERENCE_DEFINITION = re.compile(r"\n[ \t>]*\[[^\]\n]*\]:")
BLANK_LINES = re.compile(r"\n[ \t]*(?=\n)")
BLOCK_START = re.compile(r"\n[ \t]*(?:>|[-*+](?:[ \t]|\n|\Z)|\d{1,9}[.)](?:[ \t]|\n|\Z))")
DELIMITER_ROW = re.compile(r"\n[ \t>]*[-|:][-|: \t]*(?=\n|\Z)")  # under a table's header (or a rule)
QUOTE_LINE = re.compile(r"\n[ \t]*>")
NUMBER_LINE = re.compile(r"\n[ \t>]*\d{1,9}[.)]")
INDENTED_LINE = re.compile(r"\n[ \t]+[^ \t>\n]")  # not a quote's line


# The line patterns above that send a body to the reference wherever they match, as one: a single
# pass over the body's line starts instead of four.
REFERENCE_LINE = re.compile(r"\n(?:" + "|".join(f"(?:{p.pattern.removeprefix(chr(92) + 'n')})" for p in (
    TASK_ITEM, DEEP_NESTING, EMPTY_ITEM, REFERENCE_DEFINITION)) + ")")


def _needs_reference(body: str, raw_html: bool) -> bool:
    """Whether a body uses what only the reference engine renders as the site expects."""
    text = "\n" + body
    return "[^" in body or ("<" in body and HTML_TAG.search(body) is not None and
                            not (raw_html and _plain_tags(body))) or \
        REFERENCE_LINE.search(text) is not None or not _engines_agree(text)


def _plain_tags(body: str) -> bool:
    return LOOKED_FOR.search(body) is None and all(plain_tag().match(body, m.start()) for m in HTML_TAG.finditer(body))


def _engines_agree(text: str) -> bool:
    """Past REFERENCE_LINE: whether nothing else in `text` (a body after a newline) parts the engines."""
    if "~~~~" in text or ("`" in text and BLANK_CODE.search(text)):
        return False
    rows, quotes = DELIMITER_ROW.search(text), ">" in text and QUOTE_LINE.search(text)
    for run in BLANK_LINES.split(text) if rows or quotes else ():
        for row in DELIMITER_ROW.finditer(run) if rows else ():
            above = run[run.rfind("\n", 0, row.start()) + 1:row.start()]
            table = "|" in row.group() or ":" in row.group()   # else a rule, or a heading's underline
            if table and ("|" not in above or BLOCK_START.search(run)) or not table and "|" in above:
                return False
        quote = QUOTE_LINE.search(run) if quotes else None
        if quote and (NUMBER_LINE.search(run, quote.end()) or INDENTED_LINE.search(run, quote.end())):
            return False
    return True


HEADING = re.compile(r"<h([1-6])>(.*?)</h\1>", re.S)
LINK_ATTR = re.compile(r'(<a href="|<img src=")([^"]*)"')
PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.S)
TAG = re.compile(r"<[^>]*>")


def _plain_text(html_fragment: str) -> str:
    return html.unescape(TAG.sub("", html_fragment))


class FastMarkdown:
    """Renders plain CommonMark bodies with markdown-it-pyrs, exactly as `render_body` would
    with make_markdown(raw_html)."""

    def __init__(self, raw_html: bool = True):
        import markdown_it_pyrs
        from markdown_it.common.utils import escapeHtml
        from mdit_py_plugins.anchors.index import slugify, unique_slug
        self.escape, self.slugify, self.unique_slug = escapeHtml, slugify, unique_slug  # the reference's own
        self.md = markdown_it_pyrs.MarkdownIt("commonmark").enable_many(["table", "strikethrough"])
        self.raw_html = raw_html  # else a body with tags goes to the reference, which shows them as text
        # Sites repeat themselves (the same headings, links to the same pages from one folder):
        # each heading's slug and each address, from a folder, is worked out once.
        self.slugs: dict[str, str] = {}
        self.resolved: dict[tuple[str, str], tuple[str, str, str]] = {}
        self.targets: LinkTargets | None = None

    def _resolve(self, href: str, page_name: str, targets: LinkTargets) -> tuple[str, str, str]:
        if targets is not self.targets:
            self.targets, self.resolved = targets, {}
        # all resolve_href reads of the page's name: its folder, for addresses not from the root
        key = (href, "" if href.startswith("/") else posixpath.dirname(page_name))
        found = self.resolved.get(key)
        if found is None:
            found = self.resolved[key] = resolve_href(href, page_name, targets)
        return found

    @staticmethod
    def available() -> bool:
        return importlib.util.find_spec("markdown_it_pyrs") is not None

    def handles(self, body: str) -> bool:
        return not _needs_reference(body, self.raw_html)

    def parse(self, body: str) -> str:
        """The compiled engine's HTML of a body it handles, before links and heading ids."""
        return self.md.render(body).replace("<blockquote>\n</blockquote>", "<blockquote></blockquote>")

    def render(self, body: str, page_name: str, source: str, body_start: int,
               targets: LinkTargets, parsed: str | None = None) -> tuple[Markup, list[Problem]] | None:
        """The reference's result, or None when a link's line cannot be told apart: its address is
        written elsewhere in the body too (in code, say), where the reference would not look.
        (`parsed`: parse(body), when made already.)"""
        rendered = self.parse(body) if parsed is None else parsed
        slugs: set[str] = set()

        def heading(m: re.Match) -> str:
            text = m.group(2)
            base = self.slugs.get(text)
            if base is None:
                base = self.slugs[text] = self.slugify(_plain_text(text))
            slug = self.unique_slug(base, slugs)
            return f'<h{m.group(1)} id="{self.escape(slug)}">{m.group(2)}</h{m.group(1)}>'

        rendered = HEADING.sub(heading, rendered)
        links: list[Link] = []
        problems: list[Problem] = []
        cursor = 0
        written: list[str] = []

        def link(m: re.Match) -> str:
            nonlocal cursor
            href = html.unescape(m.group(2))
            written.append(href)
            at, cursor = _find_address(body, href, cursor)
            line = body_start + body.count("\n", 0, at)
            new, target, message = self._resolve(href, page_name, targets)
            if message:
                problems.append(error(source, line, message))
            if target:
                links.append(Link(page_name, target, line))
            return f'{m.group(1)}{self.escape(new)}"'

        rendered = LINK_ATTR.sub(link, rendered)
        if written and not _addresses_unambiguous(body, written):
            return None
        texts = (" ".join(_plain_text(m.group(1)).split("\n")).strip() for m in PARAGRAPH.finditer(rendered))
        summary = next((text for text in texts if text), "")  # as the reference: the first with words
        return Markup(rendered, tuple(links), summary, False), problems


def _addresses_unambiguous(body: str, hrefs: list[str]) -> bool:
    """Whether every place an address is written in `body` is one of its links."""
    uses: dict[str, int] = {}
    for href in hrefs:
        uses[href] = uses.get(href, 0) + 1
    return all(body.count(unquote(href)) + (body.count(href) if unquote(href) != href else 0) == n
               for href, n in uses.items())


class BodyRenderer:
    """Renders bodies with the fast engine where it gives the reference's result, else the reference."""

    def __init__(self, raw_html: bool = True):
        self.fast = FastMarkdown(raw_html) if FastMarkdown.available() else None
        self.raw_html = raw_html
        self.reference: MarkdownIt | None = None  # made on first use: most bodies never need it

    def render(self, body: str, page_name: str, source: str, body_start: int,
               targets: LinkTargets) -> tuple[Markup, list[Problem]]:
        return self.render_all([(body, page_name, source, body_start)], targets)[0]

    def render_all(self, bodies: Sequence[tuple[str, str, str, int]], targets: LinkTargets
                   ) -> list[tuple[Markup, list[Problem]]]:
        """`render` of each (body, page name, source, body start). The compiled engine parses all
        the bodies it handles first, then each is finished: a fifth faster than taking each body
        through both in turn (measured on 5,000 bodies), as the engine's memory stays warm."""
        fast = self.fast
        parsed = [fast.parse(body) if fast and fast.handles(body) else None for body, *_ in bodies]
        done = []
        for (body, page_name, source, body_start), made in zip(bodies, parsed, strict=True):
            result = fast.render(body, page_name, source, body_start, targets, made) \
                if fast and made is not None else None
            if result is None:
                self.reference = self.reference or make_markdown(self.raw_html)
                result = render_body(self.reference, body, page_name, source, body_start, targets)
            done.append(result)
        return done
