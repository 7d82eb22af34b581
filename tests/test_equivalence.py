"""The same site, byte for byte, whichever way it is built (one core, several, in memory)."""
import random

import pytest

from conftest import TODAY, assert_twin_follows, build_elsewhere, cache_file_unwritable, page, tree, write_site
from generator.build import BuildOptions, assemble, build
from generator.cache import DELTA_FILE
from generator.workers import MIN_PARALLEL_ITEMS

STEPS = ["awareness", "free", "insider", "trial"]
TAGS = ["stains", "pets", "fabric", "kids", "wood", "leather"]


def generated_site(root, pages: int):
    """A site big enough for the workers to start: sections, tags, doors, links, a task list."""
    rng = random.Random(3)
    files = {"content/index.md": page("Home", "awareness", "Welcome. See [the blog](blog/_index.md).")}
    files["content/blog/_index.md"] = page("Blog", "free", "All posts.", offer="{headline: Read the blog}")
    files["content/club/join.md"] = page("Join", "insider", "Join us.", offer="{headline: Join}",
                                         form="signup", thank_you="club/welcome")
    files["content/club/welcome.md"] = page("Welcome", "insider", "- [ ] first\n- [x] second")
    files["content/trial/coupon.md"] = page("Coupon", "trial", "Half off.",
                                            offer="{headline: Coupon, url: 'https://shop.example.com/'}")
    for i in range(pages):
        tags = ", ".join(rng.sample(TAGS, rng.randrange(1, 4)))
        other = rng.randrange(pages)
        body = f"## Part {i}\n\nRead [post {other}](post-{other}.md) too.\n\n| a | b |\n|---|---|\n| {i} | x |\n"
        if i % 17 == 0:
            body += "\nA footnote.[^1]\n\n[^1]: here\n"
        files[f"content/blog/post-{i}.md"] = page(f"Post {i}", "free", body, tags=f"[{tags}]",
                                                  date=f"2026-0{1 + i % 9}-{1 + i % 27:02d}")
    return write_site(root, files)


@pytest.fixture(scope="module")
def big_site(tmp_path_factory):
    return generated_site(tmp_path_factory.mktemp("big") / "site", MIN_PARALLEL_ITEMS + 100)


def test_one_core_and_two_cores_write_the_same_bytes(big_site, tmp_path):
    build(BuildOptions(site=big_site, out=tmp_path / "one", jobs=1, today=TODAY))
    build(BuildOptions(site=big_site, out=tmp_path / "two", jobs=2, today=TODAY))
    one, two = tree(tmp_path / "one"), tree(tmp_path / "two")
    assert len(one) > MIN_PARALLEL_ITEMS
    assert one == two


def test_written_site_equals_the_site_built_in_memory(big_site, tmp_path):
    build(BuildOptions(site=big_site, out=tmp_path / "out", jobs=2, today=TODAY))
    written = tree(tmp_path / "out")
    in_memory = assemble(BuildOptions(site=big_site, jobs=1, today=TODAY)).files
    for path, item in in_memory.items():
        data = item.data if hasattr(item, "data") else item.origin.read_bytes()
        assert written[path] == data, path
    assert set(written) - set(in_memory) == {".stepstone-output"}


def _sql(path, statement):
    import sqlite3
    with sqlite3.connect(path) as db:
        db.execute(statement)


def cold(site, out):
    build_elsewhere(site, out, jobs=2)
    return tree(out)


EDITS = {
    "body": lambda site: (site / "content/blog/post-5.md").write_text(
        (site / "content/blog/post-5.md").read_text().replace("Read [post", "Now read [post")),
    "closing paragraph": lambda site: (site / "content/blog/post-5.md").write_text(  # spliced into its page
        (site / "content/blog/post-5.md").read_text() + "\nA closing paragraph, [to post 2](post-2.md).\n"),
    "title": lambda site: (site / "content/blog/post-7.md").write_text(
        (site / "content/blog/post-7.md").read_text().replace("title: Post 7", "title: Post seven")),
    "removed page": lambda site: (site / "content/blog/post-9.md").unlink(),
    "template": lambda site: (site / "themes/default/templates/partials").mkdir(parents=True) or
        (site / "themes/default/templates/partials/brand.html").write_text("<style>:root{--accent:#123}</style>\n"),
    "added page": lambda site: (site / "content/blog/post-new.md").write_text(
        page("New post", "free", "Fresh. Back to [post 3](post-3.md).", tags="[stains]")),
    "lines moved": lambda site: (site / "content/blog/post-5.md").write_text(
        (site / "content/blog/post-5.md").read_text().replace("## Part", "Intro.\n\nMore intro.\n\n## Part")),
    "cascade": lambda site: (site / "content/blog/_index.md").write_text(
        (site / "content/blog/_index.md").read_text().replace("title: Blog", "title: Blog\ncascade: {tags: [x], summary: Cascaded summary}")),
    "cascade and a post": lambda site: EDITS["cascade"](site) or EDITS["title"](site),
    "HTML store emptied": lambda site: _sql(site / ".stepstone/html.sqlite", "DELETE FROM html") or
        (site / "themes/default/templates").mkdir(parents=True) or
        (site / "themes/default/templates/404.html").write_text("gone\n"),
    "saved unchanged, and a new page": lambda site: _saved_again(site / "content/blog/post-5.md") or
        (site / "content/blog/post-new.md").write_text(page("New post", "free", "Fresh.")),
    "site title": lambda site: (site / "stepstone.toml").write_text(  # every page, by the full build
        (site / "stepstone.toml").read_text().replace('title = "Test Site"', 'title = "Test Site Two"')),
    "step of a door": lambda site: (site / "content/club/join.md").write_text(
        (site / "content/club/join.md").read_text().replace("headline: Join", "headline: Join the club now")),
}


def _saved_again(path):
    """The file saved with the very bytes it has: only its time changes (an editor's save, an undo)."""
    import os
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))


def built_copy(big_site, tmp_path):
    """A copy of the generated site, built once with its cache: (site, options)."""
    import shutil
    site = tmp_path / "site"
    shutil.copytree(big_site, site, ignore=shutil.ignore_patterns("output", ".stepstone"))
    options = BuildOptions(site=site, jobs=2, today=TODAY)
    build(options)
    return site, options


@pytest.mark.parametrize("edit", EDITS)
def test_a_cached_or_incremental_build_equals_a_cold_build(big_site, tmp_path, edit):
    site, options = built_copy(big_site, tmp_path)  # cold, fills .stepstone/
    first = tree(site / "output")
    build(options)                                   # nothing changed: everything from the cache
    assert tree(site / "output") == first
    EDITS[edit](site)
    build(options)                                   # only what the edit touches
    assert tree(site / "output") == cold(site, tmp_path / "reference")


def test_a_failed_in_place_update_leaves_no_trace(big_site, tmp_path):
    from generator.errors import SiteError
    site, options = built_copy(big_site, tmp_path)
    before = tree(site / "output")
    (site / "themes/default/templates").mkdir(parents=True)
    (site / "themes/default/templates/page.html").write_text('{% extends "base.html" %}{% block main %}'
                                                             '{{ page.title.nope() }}{% endblock %}\n')
    with pytest.raises(SiteError):
        build(options)                               # every page fails to render
    assert tree(site / "output") == before           # no half-written page, no temporary file, no mark


@pytest.mark.parametrize("jobs, whole", [(1, True), (2, True), (2, False)])
def test_broken_tag_and_page_templates_are_reported_together_and_nothing_is_written(big_site, tmp_path, jobs, whole):
    """Tag pages render while the content pages do (for a whole new output, or in place): their
    template errors come in the same report, and output/ stays as it was."""
    import shutil
    from generator.errors import SiteError
    site, options = built_copy(big_site, tmp_path)
    before = tree(site / "output")
    if whole:
        shutil.rmtree(site / ".stepstone")           # no cache: a whole new output is written
    templates = site / "themes/default/templates"
    templates.mkdir(parents=True)
    (templates / "page.html").write_text('{% extends "base.html" %}{% block main %}{{ page.title.nope() }}'
                                         '{% endblock %}\n')
    (templates / "tag.html").write_text('{% extends "base.html" %}{% block main %}{{ tag.nope() }}{% endblock %}\n')
    with pytest.raises(SiteError) as failed:
        build(BuildOptions(site=site, jobs=jobs, today=TODAY))
    where = {p.location.path for p in failed.value.problems}
    assert {"themes/default/templates/page.html", "themes/default/templates/tag.html"} <= where, where
    assert tree(site / "output") == before
    shutil.rmtree(site / "themes")
    build(BuildOptions(site=site, jobs=jobs, today=TODAY))
    assert tree(site / "output") == cold(site, tmp_path / "reference")
    assert_twin_follows(site, or_untrusted=not whole)  # the failed update wrote into it; output/ stood


def test_a_build_killed_while_replacing_files_is_followed_by_a_whole_new_output(big_site, tmp_path):
    site, options = built_copy(big_site, tmp_path)
    out = site / "output"
    (out / ".stepstone-pending").write_text("killed")                      # as a killed update leaves it
    (out / "blog/post-3/index.html").write_text("half of the new version")  # and a mix of files
    EDITS["title"](site)
    result = build(options)
    assert result.stats["pages rendered"] == result.pages                  # not trusted: all written anew
    assert tree(out) == cold(site, tmp_path / "reference")


def test_edit_after_edit_the_cache_saved_as_deltas_stays_exact(big_site, tmp_path):
    """Small changes are saved as a delta beside the full cache files; many are folded into them:
    what was read (sources, pages, bodies) and what was rendered (page keys) each on its own."""
    site, options = built_copy(big_site, tmp_path)
    folder = site / ".stepstone"
    delta, read, rendered = (folder / name for name in ("build-cache.delta.pickle", "build-cache.pickle",
                                                        "build-cache.output.pickle"))
    assert read.exists() and rendered.exists()

    def written(path) -> tuple[int, int]:
        st = path.stat()
        return st.st_ino, st.st_mtime_ns

    for n, edit in enumerate(["body", "title", "added page", "lines moved", "template", "removed page"]):
        before = written(read), written(rendered)
        EDITS[edit](site)
        build(options)
        assert tree(site / "output") == cold(site, tmp_path / f"reference-{n}"), edit
        assert_twin_follows(site)
        # a new or removed page changes every link's targets, a template every page: too much for a delta
        assert (written(read) != before[0]) == (edit in ("added page", "removed page")), edit
        if edit != "added page" and edit != "removed page":
            assert (written(rendered) != before[1]) == (edit == "template"), edit
        assert delta.exists(), edit


@pytest.mark.parametrize("edit", ["template", "added page"])
def test_a_build_killed_before_its_cache_delta_is_written_leaves_a_cache_that_still_builds_exactly(
        big_site, tmp_path, edit):
    """A full cache file is written before the delta: killed in between, the older delta names an
    older full file, and the next builds must still equal a cold one."""
    site, options = built_copy(big_site, tmp_path)
    EDITS["body"](site)
    build(options)                                   # leaves a delta
    with cache_file_unwritable(DELTA_FILE):
        EDITS[edit](site)
        build(options)                               # a full file written, the delta not
    assert tree(site / "output") == cold(site, tmp_path / "reference-0")
    for n, then in enumerate(["title", "body"], start=1):
        EDITS[then](site)
        build(options)
        assert tree(site / "output") == cold(site, tmp_path / f"reference-{n}"), then
        assert_twin_follows(site)


@pytest.mark.parametrize("edit, killed_at", [("added page", "build-cache.delta.pickle"),
                                              ("site title", "build-cache.output.pickle"),
                                              ("site title", "build-cache.delta.pickle"),
                                              ("template", "build-cache.output.pickle")])  # (restyle.py)
def test_a_page_edited_back_after_a_killed_cache_save_is_written_again(big_site, tmp_path, edit, killed_at):
    """What output/ holds (each page's render key, the output's id) is saved as one whole, apart
    from what was read: killed between the files, a page edited and then edited back must not
    be taken for unchanged (its output holds the edited version)."""
    site, options = built_copy(big_site, tmp_path)
    post = site / "content/blog/post-5.md"
    original = post.read_text()
    EDITS["body"](site)
    build(options)                                   # post-5's new render key is in the delta
    with cache_file_unwritable(killed_at) as kills:
        EDITS[edit](site)                            # a part of the cache is saved in full
        build(options)
    assert kills == [killed_at]
    post.write_text(original)                        # post-5 as it was before its edit
    build(options)
    assert tree(site / "output") == cold(site, tmp_path / "reference")
    assert_twin_follows(site)


def test_a_page_edited_back_after_a_spliced_edit_is_written_again(big_site, tmp_path):
    """A body edit spliced into its page leaves the page's render entry as the full build made it:
    the page edited back, in a build that is not spliced, must not be taken for unchanged."""
    site, options = built_copy(big_site, tmp_path)
    post = site / "content/blog/post-5.md"
    original = post.read_text()
    EDITS["closing paragraph"](site)
    assert build(options).stats["pages rendered"] == 1  # spliced
    post.write_text(original)
    EDITS["title"](site)                                 # another page's title: the full build
    build(options)
    assert tree(site / "output") == cold(site, tmp_path / "reference")
    assert_twin_follows(site)


def test_a_page_read_again_gets_the_cascade_of_its_unchanged_section(big_site, tmp_path):
    """Pages are checked as they are read, with the cascades of sections' _index.md files,
    including those taken from the cache: a page edited later still gets its section's keys."""
    site, options = built_copy(big_site, tmp_path)
    EDITS["cascade"](site)
    build(options)
    EDITS["title"](site)  # post-7 is read again; blog/_index.md comes from the cache
    result = build(options)
    assert result.stats["files read"] == 1
    assert tree(site / "output") == cold(site, tmp_path / "reference")
    assert b"Cascaded summary" in (site / "output/blog/post-7/index.html").read_bytes()


@pytest.mark.parametrize("step", ["insider", "awareness"])
def test_a_menu_page_gated_or_opened_again_leaves_no_page_with_the_old_menu(tmp_path, step):
    """Every page shows the menu, which leaves out gated pages: pages whose own inputs did not
    change (these posts, the tag pages) are rendered again too."""
    from conftest import BASIC_CONFIG
    files = {"stepstone.toml": BASIC_CONFIG + '\n[[menu]]\ntitle = "About"\nurl = "/about/"\n',
             "content/index.md": page("Home", "awareness", "Welcome."),
             "content/about.md": page("About", "insider" if step == "awareness" else "awareness", "About us."),
             "content/blog/_index.md": page("Blog", "free", "All posts.", offer="{headline: Read}"),
             **{f"content/blog/post-{i}.md": page(f"Post {i}", "free", f"Post {i}.", tags="[stains]")
                for i in range(8)}}
    site = write_site(tmp_path / "site", files)
    options = BuildOptions(site=site, today=TODAY, jobs=1)
    build(options)
    (site / "content/about.md").write_text(page("About", step, "About us."))
    build(options)
    assert tree(site / "output") == cold(site, tmp_path / "reference")
    shown = 'href="/about/"' in (site / "output/blog/post-3/index.html").read_text()
    assert shown == (step == "awareness")


def test_templates_see_no_pages_markdown_text_whichever_way_the_site_is_built(big_site, tmp_path):
    """A page's Markdown text is not the cache's to keep (bodies are kept as HTML), so templates
    never see it: a theme showing `page.body` gets the same, empty, text from a cold build, a
    cached one and a restyle."""
    site, options = built_copy(big_site, tmp_path)
    templates = site / "themes/default/templates"
    templates.mkdir(parents=True)
    (templates / "page.html").write_text('{% extends "base.html" %}{% block main %}<p class="text">'
                                         '[{{ page.body }}]</p>{{ content }}{% endblock %}\n')
    build(options)                                   # a template added: a restyle
    for n, edit in enumerate(["title", "template"]):  # a full build from the cache, then a restyle
        EDITS[edit](site)
        build(options)
        out = tree(site / "output")
        assert out == cold(site, tmp_path / f"reference-{n}"), edit
        assert b'<p class="text">[]</p>' in out["blog/post-3/index.html"], edit
