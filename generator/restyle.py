"""A build after only templates changed: the last build's site, rendered with the new templates.

A template edit shows on every page, so every page is rendered again; but no page, body,
funnel decision or link has changed. The last full build left the site as it judged it
(snapshot.py); when the inputs differ from the last build's only in files of the site's
theme's templates, that site (with the bodies spliced in since) is rendered again, each
body's HTML from html.sqlite, into output/'s twin, and the records are left as the full
build leaves them: no content to read, no cache to load and check. Anything else returns
None, and the full build decides; so does a template that fails (it reports where).
"""
from __future__ import annotations

from dataclasses import replace
from functools import partial
from pathlib import Path

from .build import compiled_templates, everywhere_key, extra_key, pages_inputs, render_on_cores, theme_digest
from .cache import CACHE_DIR, HTML_FILE, BuildCache, LastBuild, digest, load_record, save_last_build, save_record, \
    save_written, stored_html
from .errors import Problem, SiteError, stop_on_errors
from .options import BuildOptions, BuildResult
from .render import (Site, Theme, choose_template, extra_pages, find_theme, fixed_body_templates, make_environment,
                     output_path, render_extras)
from .repeat import LookBack
from .snapshot import SITE_FILE, SiteSnapshot
from .splice import RECORD_FILE, SpliceRecord
from .twin import catch_up, forget, ready_twin, swap_in, twin_path, update_twin, write_over
from .write import OutputFile, output_id_of, pending_update


def restyled(options: BuildOptions, looked: LookBack, record: SpliceRecord | None) -> BuildResult | None:
    """The build, when only templates of the site's theme changed (edited, added or removed) since
    the last build (`record`: splice.last_record's); None when the full build must decide. SiteError
    when the last build's warnings fail under --strict."""
    if record is None or not record.site or record.options != looked.options_key \
            or record.output_id != output_id_of(options.output) or pending_update(options.output):
        return None
    changed = [Path(path) for path in record.stats.keys() | looked.stats.keys()  # edited, added or removed
               if record.stats.get(path) != looked.stats.get(path)]
    themes = options.site / "themes"
    if not changed or not all(path.is_relative_to(themes) and "templates" in path.parts for path in changed):
        return None  # (known before loading the site)
    snapshot = load_record(options.site, SITE_FILE)
    if not isinstance(snapshot, SiteSnapshot) or snapshot.id != record.site:
        return None
    own = themes / snapshot.theme.name / "templates"
    theme, problems = find_theme(options.site, snapshot.theme.name)  # its folder may be new, or gone
    if problems or not all(path.is_relative_to(own) for path in changed):
        return None
    reported = stop_on_errors(list(snapshot.problems), options.strict)
    site, html = snapshot.site, dict(snapshot.html)
    if record.bodies:  # edited since, and set into their pages (splice.py)
        site = site.with_bodies({**site.bodies, **{name: body for name, (body, _) in record.bodies.items()}})
        html.update((name, key) for name, (_, key) in record.bodies.items())
    return _render_again(options, looked, record, snapshot, site, theme, html, reported)


def _render_again(options: BuildOptions, looked: LookBack, record: SpliceRecord, snapshot: SiteSnapshot,
                  site: Site, theme: Theme, html: dict[str, str], reported: list[Problem]) -> BuildResult | None:
    """Every page and extra page rendered into output/'s twin, which then takes output/'s place;
    None, with output/ untouched, when a template fails or the disk cannot hard-link."""
    env = make_environment(theme, site.config.base_path)
    env.bytecode_cache = compiled_templates(options.site)
    everywhere = everywhere_key(site, theme_digest(theme))
    pages = {output_path(p.url): p for p in site.pages}
    if not pages.keys() <= record.outputs.keys():
        return None  # not the pages the last build wrote: not its site
    twin = twin_path(options.output, options.site / CACHE_DIR)
    lag = ready_twin(options.output, twin, options.site / CACHE_DIR / "trash")
    if lag is None:
        return None
    slotted = fixed_body_templates(env, {choose_template(p) for p in site.pages})
    made: list[OutputFile] = []
    found: list[Problem] = []  # the problems of the extra pages
    extra_keys: dict[str, str] = {}

    inputs: dict[str, tuple] = {}  # what each page's HTML is made of: the records' key of it

    def meanwhile() -> None:  # the tag pages and 404, and each page's inputs, while the workers render the pages
        inputs.update(pages_inputs(site, everywhere, html))
        extras = extra_pages(site)
        extra_keys.update((job.path, extra_key(everywhere, job)) for job in extras)
        files, problems = render_extras(site, env, theme, extras)
        made.extend(files)
        found.extend(problems)

    forget(twin)
    try:
        done, _ = render_on_cores(
            options, site, theme, env, list(site.pages), found, None, (twin, record.outputs, write_over),
            options.stage("Writing pages") if len(pages) > 1000 else None, meanwhile=meanwhile, slotted=slotted,
            html_from=(snapshot.targets, html, partial(stored_html, options.site / CACHE_DIR / HTML_FILE)))
    except SiteError:
        return None  # a template fails: the full build reports it, as it would have
    if not extra_keys.keys() <= record.outputs.keys():
        return None  # not the tag pages the last build wrote (nothing is swapped in yet)
    keys, page_keys = dict(record.outputs), {}
    for path, (_, shown, key, _) in done.items():
        page = pages[path]
        page_keys[page.name] = (inputs[page.name], shown, key)
        keys[path] = key
    keys.update((file.path, digest(file.data)) for file in made)
    output_id = digest(repr(sorted(keys.items())))
    differing = [path for path, key in keys.items() if record.outputs[path] != key]
    catch_up(options.output, twin, set(lag).difference(differing))
    update_twin(twin, {file.path: file for file in made if keys[file.path] != record.outputs[file.path]}, [],
                output_id)
    swap_in(options.output, twin, differing, [])
    # Only now, with the output written, do the records describe it (as the full build leaves them).
    extras_key = digest(repr((everywhere, [(p.name, p.meta_digest) for p in site.public_pages])))
    written_id = save_written(options.site, BuildCache(
        page_keys=page_keys, outputs=keys, extras=(extras_key, extra_keys), output_id=output_id,
        metas={p.name: p.meta_digest for p in site.pages}))
    slots = {}  # where each body sits in its new HTML; a page whose template no longer shows it as is has none
    for source, row in record.slots.items():
        at = done[row[1]][3] if row[1] in done else None
        if at is not None:
            slots[source] = (*row[:4], *at, *row[6:])
    save_record(options.site, RECORD_FILE, replace(record, stats=looked.stats, output_id=output_id, outputs=keys,
                                                   written_id=written_id, slots=slots))
    save_last_build(options.site, LastBuild(looked.signature, output_id, len(site.pages), tuple(reported)))
    return BuildResult(len(site.pages), tuple(reported), {"pages rendered": len(pages), "pages reused": 0}, site,
                       (snapshot, html, done, keys, page_keys, slots, pages))
