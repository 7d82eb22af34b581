"""A build after only page bodies changed: each new body set into its page's last HTML.

The commonest build of a writing day follows an edit of one page's text. When the
inputs differ from the last build's only in the bodies of pages whose front matter is
byte for byte as it was, nothing another page shows has changed (title, summary, step,
tags and offer live in the front matter), nor anything of the page itself but its
body's HTML, once its first paragraph (which the page and the feed may quote) and its
task lists are checked. The last build noted where each body's HTML sits in its page
(for templates that show it untouched: render.fixed_body_templates), so the new page
is the old file with that slice replaced: no Jinja, no walk over the pages, no cache
to load. Anything else returns None, and the full build decides.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

from .cache import (CACHE_DIR, WRITTEN, BuildCache, LastBuild, SourceEntry, digest, load_record, note_outputs,
                    save_last_build, save_record)
from .errors import Problem, stop_on_errors
from .funnel import Funnel, link_problems
from .markup import BodyRenderer, LinkTargets, Markup
from .options import BuildOptions, BuildResult
from .repeat import LookBack
from .twin import catch_up, forget, ready_twin, rename_in, swap_in, twin_path, update_twin, write_over
from .write import output_id_of, pending_update

if TYPE_CHECKING:
    from .content import Page
    from .render import Site

RECORD_FILE = "splice.pickle"  # under .stepstone/


@dataclass(frozen=True)
class BodySlot:
    """Where one page's body HTML sits in its page, and what a new body must keep to go there."""

    name: str
    path: str                     # its output file: "guides/care/index.html"
    front_digest: str             # its front matter, as the build read it
    body_start: int
    start: int                    # the body's HTML is bytes start:end of that file
    end: int
    first_paragraph: str | None   # what the page (and the feed) quote of the body; None: it has a summary
    has_tasks: bool
    stands: str                   # the step it stands at: how far its body's links may reach
    problems: tuple[Problem, ...]  # what its body's Markdown and links were found to have

    def row(self) -> tuple:
        """Its fields as a plain tuple, as the record keeps it: 10,000 load and save in half the time."""
        return tuple(getattr(self, f.name) for f in fields(self))


@dataclass(frozen=True)
class SpliceRecord:
    """What a build leaves for the next to splice bodies: valid while output/ is the one it wrote."""

    options: str                          # look_back's options_key: the same options, day and Stepstone
    stats: Mapping[str, tuple[int, int]]  # every input's (mtime_ns, size), by path, as that build found them
    output_id: str
    outputs: Mapping[str, str]            # output path -> digest of what it holds (as the cache has it)
    written_id: str                       # the full save of the cache's record of output/, for its delta
    problems: tuple[Problem, ...]         # every problem found, severities as found
    slots: Mapping[str, tuple]            # BodySlot rows, by source: "content/guides/care.md"
    targets: LinkTargets
    raw_html: bool
    funnel: Funnel
    steps: Mapping[str, str]              # page name -> step: where body links may lead
    pages: int
    site: str = ""                        # the id of the site that build left for a restyle (restyle.py)
    bodies: Mapping[str, tuple[Markup, str]] = field(default_factory=dict)  # set in since, by page name:
    #                                       each body without its HTML and links, and the digest of that HTML


@dataclass(frozen=True)
class _Placed:
    """A page as the rule on body links needs it (funnel.FunnelPage, in part)."""

    name: str
    source: str
    step: str


def last_record(options: BuildOptions) -> SpliceRecord | None:
    """The record the last build left (for a splice, or a restyle: restyle.py), if any."""
    record = load_record(options.site, RECORD_FILE)
    return record if isinstance(record, SpliceRecord) else None


def spliced(options: BuildOptions, looked: LookBack, record: SpliceRecord | None) -> BuildResult | None:
    """The build, when only bodies changed and each new body can be set into its page's last HTML
    (`record`: last_record's); None when the full build must decide. SiteError when the new bodies
    bring errors (nothing is written then)."""
    if record is None or record.options != looked.options_key \
            or record.stats.keys() != looked.stats.keys() or record.output_id != output_id_of(options.output) \
            or pending_update(options.output):
        return None
    edits = []
    for path, stat in looked.stats.items():
        if record.stats[path] == stat:
            continue
        source = Path(path).relative_to(options.site).as_posix()
        row = record.slots.get(source)
        if row is None:
            return None
        slot = BodySlot(*row)
        try:
            raw = Path(path).read_bytes()
        except OSError:
            return None
        from .source import parse_source  # (YAML's parser: not imported by the builds that need none)
        parsed, found = parse_source(raw, slot.name, source)
        if parsed is None or found or (parsed.front_digest, parsed.body_start) != (slot.front_digest, slot.body_start):
            return None
        edits.append((source, slot, parsed.body))
    if not edits:
        return None
    made = BodyRenderer(record.raw_html).render_all(
        [(text, slot.name, source, slot.body_start) for source, slot, text in edits], record.targets)
    problems = set(record.problems)
    now_at: dict[str, BodySlot] = {}  # the edited pages' slots as they will be
    for (source, slot, _), (body, found) in zip(edits, made, strict=True):
        if body.has_tasks != slot.has_tasks or slot.first_paragraph not in (None, body.first_paragraph):
            return None
        problems.difference_update(slot.problems)
        now = (*found, *_link_problems(record, slot, source, body))
        problems.update(now)
        now_at[source] = replace(slot, problems=now)
    reported = stop_on_errors(list(problems), options.strict)
    changed = {}
    for (source, slot, _), (body, _) in zip(edits, made, strict=True):
        try:
            old = (options.output / slot.path).read_bytes()
        except OSError:
            return None
        if digest(old) != record.outputs.get(slot.path):
            return None  # not what the last build wrote
        html = body.html.encode("utf-8")
        new = old[:slot.start] + html + old[slot.end:]
        now_at[source] = replace(now_at[source], end=slot.start + len(html))
        if new != old:
            changed[slot.path] = new
    outputs = {**record.outputs, **{path: digest(data) for path, data in changed.items()}}
    output_id = digest(repr(sorted(outputs.items()))) if changed else record.output_id
    if changed and not _swap_in(options, changed, output_id):
        return None
    if changed:
        note_outputs(options.site, record.written_id, {path: outputs[path] for path in changed}, output_id)
    bodies = {slot.name: (replace(body, html="", links=()), digest(body.html))  # for a restyle (snapshot.py)
              for (_, slot, _), (body, _) in zip(edits, made, strict=True)}
    save_record(options.site, RECORD_FILE, replace(record, stats=looked.stats, output_id=output_id,
                                                   outputs=outputs, problems=tuple(problems),
                                                   slots={**record.slots, **{s: b.row() for s, b in now_at.items()}},
                                                   bodies={**record.bodies, **bodies}))
    save_last_build(options.site, LastBuild(looked.signature, output_id, record.pages, tuple(reported)))
    return BuildResult(record.pages, tuple(reported),
                       {"pages rendered": len(edits), "pages reused": record.pages - len(edits)})


def _swap_in(options: BuildOptions, changed: dict[str, bytes], output_id: str) -> bool:
    """The changed pages written into output/'s twin, which then takes its place (as the full build
    updates output/); False, with nothing written, where the disk cannot hard-link. One page, the
    commonest save, is renamed into output/ instead: as safe, and the twin needs no catch-up."""
    twin = twin_path(options.output, options.site / CACHE_DIR)
    if len(changed) == 1:
        [(path, data)] = changed.items()
        if rename_in(options.output, twin, path, data, output_id):
            return True
    lag = ready_twin(options.output, twin, options.site / CACHE_DIR / "trash")
    if lag is None:
        return False
    forget(twin)
    for path, data in changed.items():
        write_over(twin, path, data)
    catch_up(options.output, twin, set(lag).difference(changed))
    update_twin(twin, {}, [], output_id)
    swap_in(options.output, twin, sorted(changed), [])
    return True


def _link_problems(record: SpliceRecord, slot: BodySlot, source: str, body: Markup) -> list[Problem]:
    pages = [_Placed(name, "", record.steps[name]) for name in {link.target for link in body.links}
             if name in record.steps and name != slot.name]
    return link_problems(record.funnel, [*pages, _Placed(slot.name, source, record.steps[slot.name])],
                         {slot.name: slot.stands}, body.links)


def record_of(options_key: str, stats: Mapping[str, tuple[int, int]], output_id: str, outputs: Mapping[str, str],
              cache: BuildCache, problems: tuple[Problem, ...], site: Site, pages: Mapping[str, Page],
              targets: LinkTargets, link_warnings: tuple[Problem, ...],
              new_slots: Mapping[str, tuple[int, int] | None], last: SpliceRecord | None, site_id: str = ""
              ) -> SpliceRecord:
    """The record a full build leaves: each page's slot where its template shows the body untouched,
    as found in its HTML just rendered (`new_slots`, by output path), else (the page and its file
    unchanged) as `last` found it. (`pages`: by output path; `link_warnings`: the funnel's about
    body links, of every page; `site_id`: the site it left for a restyle, if any.)"""
    warned: dict[str, list[Problem]] = {}
    for problem in link_warnings:
        warned.setdefault(problem.location.path, []).append(problem)
    old = {row[0]: row for row in last.slots.values()} if last else {}  # rows of BodySlot, by name
    slots = {}
    for path, page in pages.items():
        if path in new_slots:
            at = new_slots[path]
        else:
            kept = BodySlot(*old[page.name]) if page.name in old else None
            at = (kept.start, kept.end) if kept and kept.path == path else None
        entry: SourceEntry | None = cache.sources.get(page.source.removeprefix("content/"))
        if at is None or page.download or entry is None or entry.parsed is None:
            continue
        body = site.bodies[page.name]
        slots[page.source] = (  # a BodySlot's row, made as one: 10,000 BodySlots take a tenth of a second
            page.name, path, entry.parsed.front_digest, page.body_start, *at,
            None if page.summary else body.first_paragraph, body.has_tasks,
            site.plan.standing.get(page.name, page.step), (*cache.bodies[page.name][2], *warned.get(page.source, ())))
    return SpliceRecord(options_key, stats, output_id, outputs, cache.saved_ids.get(WRITTEN.file, ""), problems,
                        slots, targets, site.config.unsafe_html, site.config.funnel,
                        {p.name: p.step for p in site.pages}, len(site.pages), site_id)
