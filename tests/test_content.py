"""Loading content/**.md (SPEC §2 front matter, cascade, URLs; §4 problems with file and line)."""
from __future__ import annotations

import datetime as dt
import textwrap

import pytest

from conftest import TODAY, page
from generator.content import load_content
from generator.errors import Location


def load(make_site, files: dict[str, str], *, drafts: bool = False, future: bool = False):
    return load_content(make_site(files), TODAY, drafts, future)


def load_bytes(make_site, files: dict[str, bytes]):
    """Like load, but the Markdown files are written byte for byte (encodings, line endings)."""
    site = make_site({})
    for rel, data in files.items():
        path = site / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return load_content(site, TODAY)


def pages_by_name(result) -> dict:
    return {p.name: p for p in result.pages}


def problems(result) -> list[str]:
    return [str(p) for p in result.problems]


def line_of(text: str, start: str) -> int:
    """The 1-based line of the first line of `text` that starts with `start`."""
    return next(i for i, line in enumerate(text.split("\n"), 1) if line.startswith(start))


# --- front matter values and where each key is written -----------------------------------------

FULL = textwrap.dedent("""\
    ---
    title: The 10-minute couch care checklist
    step: insider
    date: 2026-11-02
    summary: Ten minutes a month keeps stains away.
    tags: [stains, fabric]
    draft: false
    slug: couch-checklist
    weight: 10
    layout: checklist
    next: trial/first-couch-coupon
    offer:
      headline: Get the free couch-care checklist
      text: Join 2,000 insiders.
      button: Send me the checklist
      url: https://book.example.com/
    form: signup
    thank_you: insider/welcome
    coupon:
      code: FIRSTCOUCH
      price: "$29"
      expires: 2026-12-31
      terms: One couch up to three seats.
      redeem_url: https://book.example.com/?code=FIRSTCOUCH
    event:
      start: 2026-12-05T18:00:00-05:00
      end: 2026-12-05T19:00:00-05:00
      location: Online
    cross_sell: [core/annual-plan]
    ---
    Body text.
    """)


@pytest.fixture
def checklist(make_site):
    result = load(make_site, {"content/insider/checklist.md": FULL})
    assert result.problems == ()
    [only] = result.pages
    return only


def test_front_matter_values_are_read(checklist):
    p = checklist
    assert (p.name, p.source, p.url) == ("insider/checklist", "content/insider/checklist.md",
                                         "/insider/couch-checklist/")
    assert (p.title, p.step, p.date) == ("The 10-minute couch care checklist", "insider", dt.date(2026, 11, 2))
    assert p.summary == "Ten minutes a month keeps stains away."
    assert set(p.tags) == {"stains", "fabric"}
    assert (p.draft, p.weight, p.layout) == (False, 10, "checklist")
    assert (p.next, p.form, p.thank_you) == ("trial/first-couch-coupon", "signup", "insider/welcome")
    assert p.cross_sell == ("core/annual-plan",)


def test_the_body_text_is_kept_beside_the_pages(make_site):
    result = load(make_site, {"content/insider/checklist.md": FULL})
    [p] = result.pages
    assert result.texts == {"insider/checklist": "Body text.\n"} and not hasattr(p, "body")


def test_offer_coupon_and_event_blocks_are_read(checklist):
    p = checklist
    assert (p.offer.headline, p.offer.text, p.offer.button, p.offer.url) == (
        "Get the free couch-care checklist", "Join 2,000 insiders.", "Send me the checklist",
        "https://book.example.com/")
    assert (p.coupon.code, p.coupon.price, p.coupon.expires) == ("FIRSTCOUCH", "$29", dt.date(2026, 12, 31))
    assert p.coupon.redeem_url == "https://book.example.com/?code=FIRSTCOUCH"
    tz = dt.timezone(dt.timedelta(hours=-5))
    assert p.event.start == dt.datetime(2026, 12, 5, 18, 0, tzinfo=tz)
    assert p.event.end == dt.datetime(2026, 12, 5, 19, 0, tzinfo=tz)
    assert p.event.location == "Online"
    assert p.is_door


@pytest.mark.parametrize("key", ["title", "step", "date", "tags", "slug", "next", "offer", "form",
                                 "thank_you", "coupon", "event", "cross_sell"])
def test_each_key_knows_its_line(checklist, key):
    assert checklist.where(key) == Location("content/insider/checklist.md", line_of(FULL, f"{key}:"))


def test_a_value_error_is_reported_at_its_key(make_site):
    text = page("About", "awareness", date="30/02/2020", weight="ten")  # date: line 4, weight: line 5
    result = load(make_site, {"content/about.md": text})
    assert sorted(problems(result)) == [
        "content/about.md:4: error: '30/02/2020' is not a date: write it as YYYY-MM-DD, like 2026-11-02",
        "content/about.md:5: error: weight must be a whole number, like weight: 10",
    ]
    assert result.skipped == {"about": "broken"}


def test_an_impossible_date_is_reported_at_the_date_line(make_site):
    result = load(make_site, {"content/about.md": page("About", "awareness", date="2020-02-30")})
    [problem] = result.problems
    assert problem.location == Location("content/about.md", 4)


def test_missing_title_and_step_are_both_reported(make_site):
    result = load(make_site, {"content/about.md": "---\nsummary: Who we are\n---\nText.\n"})
    messages = problems(result)
    assert len(messages) == 2
    assert any("every page needs a title" in m for m in messages)
    assert any("every page needs a step of the funnel" in m for m in messages)


def test_problems_of_every_file_are_reported_in_one_run(make_site):
    result = load(make_site, {
        "content/a.md": "---\ntitle: A\n---\n",
        "content/b.md": page("B", "free", weight="heavy"),
        "content/c.md": page("C", "free"),
    })
    assert sorted(p.location.path for p in result.problems) == ["content/a.md", "content/b.md"]
    assert [p.name for p in result.pages] == ["c"]


def test_a_misspelt_key_is_a_warning_with_a_suggestion(make_site):
    result = load(make_site, {"content/a.md": page("A", "free", titel="x")})
    assert problems(result) == ["content/a.md:4: warning: unknown key 'titel' (did you mean 'title'?)"]


# --- cascade --------------------------------------------------------------------------------------

CASCADE_SITE = {
    "content/guides/_index.md": "---\ntitle: Guides\ncascade:\n  step: free\n  tags: [care]\n---\n",
    "content/guides/stains.md": "---\ntitle: Stains\n---\n",
    "content/guides/own.md": "---\ntitle: Own\nstep: awareness\ntags: [mine]\n---\n",
    "content/guides/deep/_index.md": "---\ntitle: Deep\ncascade:\n  step: insider\n---\n",
    "content/guides/deep/leather.md": "---\ntitle: Leather\n---\n",
    "content/blog/post.md": page("Post", "awareness"),
}


@pytest.fixture
def cascaded(make_site):
    result = load(make_site, CASCADE_SITE)
    assert result.problems == ()
    return pages_by_name(result)


def test_cascade_reaches_the_pages_of_the_section(cascaded):
    assert (cascaded["guides/stains"].step, cascaded["guides/stains"].tags) == ("free", ("care",))


def test_cascade_reaches_the_listing_page_itself(cascaded):
    assert cascaded["guides/_index"].step == "free"


def test_cascade_reaches_subsections_and_the_nearest_section_wins(cascaded):
    assert cascaded["guides/deep/leather"].step == "insider"
    assert cascaded["guides/deep/_index"].step == "insider"
    # keys the nearer section does not set still come from further up
    assert cascaded["guides/deep/leather"].tags == ("care",)


def test_a_page_own_keys_win_over_the_cascade(cascaded):
    assert (cascaded["guides/own"].step, cascaded["guides/own"].tags) == ("awareness", ("mine",))


def test_cascade_stays_inside_its_section(cascaded):
    assert (cascaded["blog/post"].step, cascaded["blog/post"].tags) == ("awareness", ())


def test_a_cascaded_key_is_located_in_the_listing_that_sets_it(cascaded):
    where = cascaded["guides/deep/leather"].where("step")
    assert where.path == "content/guides/deep/_index.md"
    assert where.line in (3, 4)  # the cascade: line, or the step: line inside it


def test_cascade_outside_a_listing_is_a_warning(make_site):
    text = "---\ntitle: A\nstep: free\ncascade:\n  step: insider\n---\n"
    result = load(make_site, {"content/guides/a.md": text, "content/guides/b.md": "---\ntitle: B\nstep: free\n---\n"})
    assert [(p.location, p.severity) for p in result.problems] == [(Location("content/guides/a.md", 4), "warning")]
    assert pages_by_name(result)["guides/b"].step == "free"


def test_a_cascade_that_is_not_a_block_is_reported_at_its_line(make_site):
    result = load(make_site, {"content/guides/_index.md": "---\ntitle: Guides\ncascade: free\n---\n",
                              "content/guides/a.md": "---\ntitle: A\n---\n"})
    assert Location("content/guides/_index.md", 3) in [p.location for p in result.problems]


# --- drafts and future pages ---------------------------------------------------------------------------

def test_drafts_build_only_when_asked_for(make_site):
    files = {"content/a.md": page("A", "free", draft="true"), "content/b.md": page("B", "free")}
    assert [p.name for p in load(make_site, files).pages] == ["b"]
    assert "draft" in load(make_site, files).skipped["a"]
    assert sorted(p.name for p in load(make_site, files, drafts=True).pages) == ["a", "b"]


def test_future_pages_build_only_when_asked_for(make_site):
    files = {"content/tomorrow.md": page("Tomorrow", "free", date="2026-11-24"),
             "content/today.md": page("Today", "free", date="2026-11-23")}
    assert [p.name for p in load(make_site, files).pages] == ["today"]
    assert "future" in load(make_site, files).skipped["tomorrow"]
    assert sorted(p.name for p in load(make_site, files, future=True).pages) == ["today", "tomorrow"]


# --- URLs and slugs ---------------------------------------------------------------------------------------

def test_urls_follow_the_file_layout(make_site):
    result = load(make_site, {
        "content/index.md": page("Home", "awareness"),
        "content/a/b.md": page("B", "free"),
        "content/a/_index.md": page("A", "free"),
        "content/a/c/_index.md": page("C", "free"),
        "content/about.md": page("About", "awareness"),
    })
    urls = {p.name: p.url for p in result.pages}
    assert urls == {"index": "/", "a/b": "/a/b/", "a/_index": "/a/", "a/c/_index": "/a/c/",
                    "about": "/about/"}


def test_a_slug_replaces_the_last_part_of_the_url_but_not_the_name(make_site):
    result = load(make_site, {"content/guides/x.md": page("X", "free", slug="couch_checklist-2")})
    [p] = result.pages
    assert (p.name, p.url) == ("guides/x", "/guides/couch_checklist-2/")


@pytest.mark.parametrize("slug", ["my page", "a/b", "../up", "page.html"])
def test_a_slug_with_other_characters_is_an_error_at_its_line(make_site, slug):
    result = load(make_site, {"content/x.md": page("X", "free", slug=slug)})
    [problem] = result.problems
    assert (problem.location, problem.severity) == (Location("content/x.md", 4), "error")
    assert "only letters, digits, '-' and '_'" in problem.message
    assert result.pages == ()


def test_two_files_for_one_url_is_an_error_naming_both(make_site):
    result = load(make_site, {"content/about.md": page("About", "awareness"),
                              "content/team.md": page("Team", "awareness", slug="about")})
    [problem] = result.problems
    assert problem.severity == "error"
    text = str(problem)
    assert "content/about.md" in text and "content/team.md" in text and "/about/" in text


def test_a_page_and_a_section_listing_with_the_same_url_is_an_error(make_site):
    result = load(make_site, {"content/a.md": page("A", "free"), "content/a/_index.md": page("A list", "free")})
    [problem] = result.problems
    assert problem.severity == "error"
    assert "content/a.md" in str(problem) and "content/a/_index.md" in str(problem)


def test_other_files_under_content_are_kept_and_hidden_ones_ignored(make_site):
    result = load(make_site, {"content/guides/a.md": page("A", "free"), "content/guides/photo.png": "png",
                              "content/guides/.notes.md": "scratch", "content/.git/HEAD.md": "x"})
    assert [p.name for p in result.pages] == ["guides/a"]
    assert result.files == ("guides/photo.png",)


# --- encodings and line endings ------------------------------------------------------------------------

def test_crlf_line_endings_read_like_lf(make_site):
    result = load_bytes(make_site, {"content/a.md": b"---\r\ntitle: A\r\nstep: free\r\n---\r\nOne\r\nTwo\r\n"})
    [p] = result.pages
    assert (p.title, p.step) == ("A", "free")
    assert p.where("step") == Location("content/a.md", 3)
    assert "\r" not in result.texts["a"] and result.texts["a"].strip() == "One\nTwo"


def test_a_byte_order_mark_is_ignored(make_site):
    result = load_bytes(make_site, {"content/a.md": "\ufeff---\ntitle: Café\nstep: free\n---\nText\n".encode()})
    [p] = result.pages
    assert (p.title, p.step) == ("Café", "free")
    assert p.where("title") == Location("content/a.md", 2)


def test_a_file_that_is_not_utf8_is_an_error_at_the_first_bad_line(make_site):
    text = "---\ntitle: About\nstep: awareness\n---\nWe clean couches.\nOur café corner.\n"
    result = load_bytes(make_site, {"content/about.md": text.encode("latin-1")})
    [problem] = result.problems
    assert (problem.location, problem.severity) == (Location("content/about.md", 6), "error")
    assert "UTF-8" in problem.message
    assert result.skipped == {"about": "broken"}


# --- YAML mistakes, explained to a non-programmer ---------------------------------------------------------

YAML_JARGON = ("mapping values", "scanner", "while parsing", "Traceback", "yaml.")


def only_problem(result):
    [problem] = result.problems
    assert problem.severity == "error"
    assert not any(word in problem.message for word in YAML_JARGON), problem.message
    return problem


def test_tab_indentation(make_site):
    text = "---\ntitle: About us\nstep: awareness\ntags:\n\t- team\n---\nText.\n"
    problem = only_problem(load(make_site, {"content/about.md": text}))
    assert problem.location == Location("content/about.md", 5)
    assert "tab" in problem.message and "spaces" in problem.message


def test_unquoted_colon_in_a_value(make_site):
    text = "---\ntitle: About us: our story\nstep: awareness\n---\nText.\n"
    problem = only_problem(load(make_site, {"content/about.md": text}))
    assert problem.location == Location("content/about.md", 2)
    assert "colon" in problem.message and "quotes" in problem.message


def test_missing_closing_dashes(make_site):
    text = "---\ntitle: About us\nstep: awareness\n\nWe have cleaned couches since 1998.\n"
    problem = only_problem(load(make_site, {"content/about.md": text}))
    assert problem.location == Location("content/about.md", 1)
    assert "never ends" in problem.message and "'---'" in problem.message


def test_front_matter_that_is_a_list_is_explained(make_site):
    problem = only_problem(load(make_site, {"content/a.md": "---\n- title\n- step\n---\n"}))
    assert problem.location.path == "content/a.md"
    assert "'key: value' lines" in problem.message


# --- line numbers around blank lines ----------------------------------------------------------------------

def test_key_lines_count_blank_lines_after_the_opening_dashes(make_site):
    result = load(make_site, {"content/a.md": "---\n\ntitle: A\nstep: free\n---\nText.\n"})
    [p] = result.pages
    assert (p.where("title").line, p.where("step").line) == (3, 4)


def body_line(result, text: str) -> int:
    """The file line Stepstone assigns to the body line holding `text` (of the one page in `result`)."""
    [p] = result.pages
    return p.body_start + next(i for i, line in enumerate(result.texts[p.name].split("\n")) if text in line)


def test_body_lines_map_to_file_lines(make_site):
    result = load(make_site, {"content/a.md": "---\ntitle: A\nstep: free\n---\nFirst.\n\nThird.\n"})
    assert (body_line(result, "First."), body_line(result, "Third.")) == (5, 7)


def test_body_lines_count_blank_lines_after_the_closing_dashes(make_site):
    result = load(make_site, {"content/a.md": "---\ntitle: A\nstep: free\n---\n\n\nText.\n"})
    assert body_line(result, "Text.") == 7


def test_pages_keep_the_files_order_whichever_were_read_again(make_site):
    """The funnel's plan is cached by the list of pages: an edit must not reorder it."""
    from generator.cache import BuildCache
    site = make_site({f"content/p{i}.md": page(f"Page {i}", "free", f"Text {i}.") for i in range(6)})
    cache = BuildCache()
    first = [p.name for p in load_content(site, TODAY, cache=cache).pages]
    (site / "content/p2.md").write_text(page("Page 2", "free", "Edited text, a little longer."))
    again = [p.name for p in load_content(site, TODAY, cache=cache).pages]
    assert again == first == [f"p{i}" for i in range(6)]


def test_a_section_index_in_capitals_sets_its_cascade_too(make_site):
    """_index.MD is a Markdown file like any other, and its cascade reaches the pages beside it."""
    site = make_site({"content/index.md": page("Home", "awareness"),
                      "content/guides/_index.MD": "---\ntitle: Guides\ncascade: {step: free, tags: [care]}\n---\n",
                      "content/guides/stains.md": "---\ntitle: Stains\n---\nText.\n"})
    result = load_content(site, TODAY)
    assert result.problems == ()
    assert (pages_by_name(result)["guides/stains"].step, pages_by_name(result)["guides/stains"].tags) == \
        ("free", ("care",))
