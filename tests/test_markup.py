"""Markdown bodies (SPEC §2 links between pages, §5 checklists) and where link problems are reported."""
from __future__ import annotations

import pytest

from conftest import page
from generator.errors import Location, SiteError
from generator.funnel import Link
from generator.markup import LinkTargets, make_markdown, render_body, resolve_href

# The pages every test below may link to: name -> URL without the base path.
URLS = {
    "index": "/",
    "about": "/about/",
    "guides/_index": "/guides/",
    "guides/stains": "/guides/stains/",
    "guides/chain-care": "/guides/chain-care/",
    "insider/signup": "/insider/couch-checklist/",  # a page with a slug
}


def targets(base_path: str = "/", skipped: dict[str, str] | None = None) -> LinkTargets:
    return LinkTargets(base_path=base_path, urls=URLS, by_url={u: n for n, u in URLS.items()},
                       skipped=skipped or {}, files=frozenset({"guides/sofa.jpg"}))


def href(link: str, base_path: str = "/", page_name: str = "guides/stains", **kw) -> str:
    """The href Stepstone writes for `link` in page `page_name`, failing on an error."""
    new, _, message = resolve_href(link, page_name, targets(base_path, **kw))
    assert message == "", message
    return new


def render(body: str, *, base_path: str = "/", body_start: int = 1, page_name: str = "guides/stains",
           skipped: dict[str, str] | None = None):
    return render_body(make_markdown(), body, page_name, f"content/{page_name}.md", body_start,
                       targets(base_path, skipped))


def html_of(body: str) -> str:
    markup, problems = render(body)
    assert problems == []
    return markup.html


# --- the Markdown dialect -----------------------------------------------------------------------------

def test_tables():
    html = html_of("| Fabric | Minutes |\n|---|---|\n| Linen | 10 |\n")
    assert "<table>" in html
    assert "<th>Fabric</th>" in html and "<td>Linen</td>" in html


def test_strikethrough():
    assert html_of("~~$49~~ $29\n") == "<p><s>$49</s> $29</p>\n"


def test_task_lists_render_checkboxes_the_reader_can_tick():
    markup, _ = render("- [ ] Vacuum the cushions\n- [x] Check the label\n")
    assert markup.has_tasks is True
    assert markup.html.count('type="checkbox"') == 2
    assert markup.html.count('checked="checked"') == 1
    assert "disabled" not in markup.html  # the checklist remembers what the reader ticks


def test_plain_lists_are_not_task_lists():
    markup, _ = render("- Vacuum the cushions\n- Check the label\n")
    assert markup.has_tasks is False
    assert "checkbox" not in markup.html


def test_footnotes():
    html = html_of("Blot, never rub.[^1]\n\n[^1]: Rubbing spreads the stain.\n")
    assert '<a href="#fn1" id="fnref1">' in html
    assert '<li id="fn1" class="footnote-item"><p>Rubbing spreads the stain.' in html


def test_headings_get_ids_so_links_can_point_at_them():
    html = html_of("## Tools you need\n\n### Before you start\n")
    assert '<h2 id="tools-you-need">Tools you need</h2>' in html
    assert '<h3 id="before-you-start">Before you start</h3>' in html


def test_repeated_headings_get_distinct_ids():
    html = html_of("## Tools\n\n## Tools\n")
    assert '<h2 id="tools">' in html and '<h2 id="tools-1">' in html


# --- where links go -----------------------------------------------------------------------------------

@pytest.mark.parametrize("base_path", ["/", "/couch/"])
def test_links_to_markdown_files_become_page_urls(base_path):
    b = base_path
    assert href("chain-care.md", b) == f"{b}guides/chain-care/"
    assert href("./chain-care.md", b) == f"{b}guides/chain-care/"
    assert href("../guides/chain-care.md#tools", b) == f"{b}guides/chain-care/#tools"
    assert href("/guides/chain-care.md", b) == f"{b}guides/chain-care/"
    assert href("../about.md", b) == f"{b}about/"
    assert href("../index.md", b) == b
    assert href("_index.md", b) == f"{b}guides/"


def test_a_link_follows_the_target_slug():
    assert href("/insider/signup.md", "/couch/") == "/couch/insider/couch-checklist/"


def test_query_and_fragment_are_kept():
    assert href("chain-care.md?ref=mail#tools", "/couch/") == "/couch/guides/chain-care/?ref=mail#tools"


def test_relative_links_from_the_home_page_start_at_the_content_root():
    assert href("guides/stains.md", "/couch/", page_name="index") == "/couch/guides/stains/"
    assert href("about.md", "/couch/", page_name="index") == "/couch/about/"


@pytest.mark.parametrize("base_path", ["/", "/couch/"])
def test_root_relative_links_get_the_base_path(base_path):
    assert href("/guides/", base_path) == f"{base_path}guides/"
    assert href("/guides/chain-care/#tools", base_path) == f"{base_path}guides/chain-care/#tools"


def test_files_beside_pages_get_the_base_path():
    assert href("sofa.jpg", "/couch/") == "/couch/guides/sofa.jpg"


@pytest.mark.parametrize("link", ["https://example.org/guide.md", "mailto:hello@example.com",
                                  "#tools", "//cdn.example.org/x.md", "tel:+15551234"])
def test_outside_links_and_anchors_are_left_alone(link):
    assert resolve_href(link, "guides/stains", targets("/couch/")) == (link, "", "")


def test_a_resolved_link_names_its_target_page():
    assert resolve_href("../guides/chain-care.md#tools", "guides/stains", targets())[1] == "guides/chain-care"
    assert resolve_href("/guides/", "guides/stains", targets())[1] == "guides/_index"


def test_a_link_to_a_missing_page_is_an_error_with_a_suggestion():
    new, target, message = resolve_href("chain-cair.md", "guides/stains", targets())
    assert (new, target) == ("chain-cair.md", "")
    assert message == "links to 'chain-cair.md', but there is no such page (did you mean 'chain-care.md'?)"


def test_a_link_above_the_content_folder_is_an_error():
    _, target, message = resolve_href("../../about.md", "guides/stains", targets())
    assert target == ""
    assert message.startswith("links to '../../about.md', but there is no such page")


def test_a_link_to_a_draft_says_why_it_is_missing():
    skipped = {"guides/soon": "a draft (build with --drafts to include it)"}
    _, _, message = resolve_href("soon.md", "guides/stains", targets(skipped=skipped))
    assert message == "links to 'soon.md', which is a draft (build with --drafts to include it)"


# --- render_body: rewriting, recording, reporting --------------------------------------------------------

def test_render_body_writes_page_urls_into_the_html():
    markup, problems = render("See [chain care](chain-care.md#tools).\n", base_path="/couch/")
    assert problems == []
    assert markup.html == '<p>See <a href="/couch/guides/chain-care/#tools">chain care</a>.</p>\n'


def test_render_body_rewrites_images_too():
    markup, _ = render("![A sofa](sofa.jpg)\n", base_path="/couch/")
    assert '<img src="/couch/guides/sofa.jpg" alt="A sofa" />' in markup.html


def test_internal_links_are_recorded_with_their_file_line():
    body = "Intro.\n\nSee [chain](chain-care.md) and\n[about](/about/) and [out](https://example.org/).\n"
    markup, _ = render(body, body_start=5)
    assert markup.links == (Link("guides/stains", "guides/chain-care", 7), Link("guides/stains", "about", 8))


def test_links_in_lists_tables_and_footnotes_are_recorded_at_their_lines():
    body = ("- one\n- [chain](chain-care.md)\n\n"           # lines 0-2
            "| a | b |\n|---|---|\n| x | [about](../about.md) |\n\n"  # lines 3-6
            "Text.[^1]\n\n[^1]: See [home](../index.md).\n")  # lines 7-9
    markup, problems = render(body, body_start=10)
    assert problems == []
    assert markup.links == (Link("guides/stains", "guides/chain-care", 11),
                            Link("guides/stains", "about", 15),
                            Link("guides/stains", "index", 19))


def test_a_missing_page_is_an_error_at_its_file_line():
    markup, problems = render("Intro.\n\nFirst line\nthen [gone](gone.md).\n", body_start=5)
    assert [(p.location, p.severity) for p in problems] == [(Location("content/guides/stains.md", 8), "error")]
    assert problems[0].message.startswith("links to 'gone.md', but there is no such page")
    assert markup.links == ()


def test_a_link_after_a_wrapped_code_span_is_on_the_right_line():
    markup, _ = render("Use `the soft\nbrush` as in [chain](chain-care.md).\n", body_start=1)
    assert markup.links == (Link("guides/stains", "guides/chain-care", 2),)


# --- with real files: the front matter counts -------------------------------------------------------------

def stains_page(blank_lines_after_front_matter: int = 0) -> str:
    """Lines 1-5 are front matter (---, title, step, tags, ---), then the blank lines, then the body."""
    body = "\n" * blank_lines_after_front_matter + "Intro.\n\nSee [chain](chain-care.md) and\n[gone](gone.md).\n"
    return "---\ntitle: Stains\nstep: free\ntags: [stains]\n---\n" + body


def small_site(stains: str) -> dict[str, str]:
    return {
        "content/index.md": page("Home", "awareness"),
        "content/guides/_index.md": page("Guides", "free", offer="{headline: Read our guides}"),
        "content/guides/chain-care.md": page("Chain care", "free"),
        "content/guides/stains.md": stains,
    }


def link_errors(site, build_site) -> list[tuple[Location, str]]:
    with pytest.raises(SiteError) as caught:
        build_site(site)
    return [(p.location, p.severity) for p in caught.value.problems if p.message.startswith("links to 'gone.md'")]


def test_a_missing_link_in_a_real_file_is_reported_below_the_front_matter(make_site, build_site):
    site = make_site(small_site(stains_page()))  # 'gone.md' is on line 9
    assert link_errors(site, build_site) == [(Location("content/guides/stains.md", 9), "error")]


def test_blank_lines_after_the_front_matter_are_counted(make_site, build_site):
    site = make_site(small_site(stains_page(blank_lines_after_front_matter=2)))  # 'gone.md' on line 11
    assert link_errors(site, build_site) == [(Location("content/guides/stains.md", 11), "error")]


def test_a_real_build_records_links_at_file_lines_and_writes_the_base_path(make_site, build_site):
    stains = page("Stains", "free", tags="[stains]", body="Intro.\n\nSee [chain](chain-care.md#tools).")
    config = 'title = "Couch"\nbase_url = "https://me.github.io/couch/"\n'
    site = make_site({**small_site(stains), "stepstone.toml": config})
    result = build_site(site)
    assert result.site.bodies["guides/stains"].links == (Link("guides/stains", "guides/chain-care", 8),)
    html = (site / "output/guides/stains/index.html").read_text()
    assert 'href="/couch/guides/chain-care/#tools"' in html
