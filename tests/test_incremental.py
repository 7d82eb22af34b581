"""`serve`'s shortcut for body-only saves: the same bytes as a cold build, and the same problems."""
import pytest

from conftest import TODAY, page
from generator.build import BuildOptions, build
from generator.cache import BuildCache
from generator.errors import SiteError
from test_equivalence import tree

FILES = {
    "content/index.md": page("Home", "awareness", "Welcome. Read [the guide](guides/care.md)."),
    "content/guides/_index.md": page("Guides", "free", "All guides.", offer="{headline: Read the guides}"),
    "content/guides/care.md": page("Couch care", "free", "First paragraph.\n\nSecond paragraph.",
                                   summary="How to care.", tags="[stains]"),
    "content/guides/pets.md": page("Pets", "free", "Pet hair, gone.", tags="[stains]", date="2026-11-01"),
    "content/club/join.md": page("Join", "insider", "Join us.", offer="{headline: Join}", form="signup",
                                 thank_you="club/welcome", tags="[stains]"),
    "content/club/welcome.md": page("Welcome", "insider", "Thanks."),
    "content/trial/coupon.md": page("Coupon", "trial", "Half off.",
                                    offer="{headline: Coupon, url: 'https://shop.example.com/'}"),
}
CARE = "content/guides/care.md"


@pytest.fixture
def served(make_site, tmp_path):
    """A site built in memory the way `serve` builds it, and a function to save one of its files."""
    site = make_site(FILES)
    options = BuildOptions(site=site, out=tmp_path / "preview", today=TODAY, jobs=1, preview=True)
    cache = BuildCache()
    assert not build(options, cache).problems

    def save(rel, old, new):
        path = site / rel
        text = path.read_text()
        assert old in text
        path.write_text(text.replace(old, new))
        return build(options, cache, {rel})
    return site, options, save


def same_as_cold(site, options, tmp_path):
    reference = tmp_path / "reference"
    build(BuildOptions(site=site, out=reference, today=TODAY, jobs=1, preview=True), BuildCache())
    assert tree(options.output) == tree(reference)


def test_a_body_edit_rewrites_only_that_page(served, tmp_path):
    site, options, save = served
    before = tree(options.output)
    result = save(CARE, "Second paragraph.", "Second paragraph, now longer.")
    assert result.stats["pages rendered"] == 1
    after = tree(options.output)
    assert {p for p in after if after[p] != before.get(p)} == {"guides/care/index.html", ".stepstone-output"}
    assert b"now longer" in after["guides/care/index.html"]
    same_as_cold(site, options, tmp_path)


def test_a_page_saved_back_after_a_broken_edit_is_written_again(served, tmp_path):
    """A body save rewrites the page without the full build's record of it: once a broken front
    matter edit is undone, back to the text of the last full build, the page is written again."""
    site, options, save = served
    original = (site / CARE).read_text()
    assert save(CARE, "Second paragraph.", "Second paragraph, now longer.").stats["pages rendered"] == 1
    with pytest.raises(SiteError):
        save(CARE, "step: free", "step: nosuchstep")
    save(CARE, (site / CARE).read_text(), original)  # undone in one go, as an editor's undo does
    same_as_cold(site, options, tmp_path)


def test_a_front_matter_edit_takes_the_full_build(served, tmp_path):
    site, options, save = served
    result = save(CARE, "title: Couch care", "title: Caring for a couch")
    assert result.stats["pages rendered"] > 1  # the listing shows the title too
    same_as_cold(site, options, tmp_path)


def test_a_broken_link_in_a_body_is_an_error_until_it_is_fixed(served, tmp_path):
    site, options, save = served
    before = tree(options.output)
    with pytest.raises(SiteError) as caught:
        save(CARE, "Second paragraph.", "See [gone](nothing.md).")
    assert any("nothing.md" in str(p) and p.severity == "error" for p in caught.value.problems)
    assert tree(options.output) == before  # the last good pages stay served
    result = save(CARE, "See [gone](nothing.md).", "See [pets](pets.md).")
    assert not result.problems
    assert b'href="/guides/pets/"' in (options.output / "guides/care/index.html").read_bytes()
    same_as_cold(site, options, tmp_path)


def test_a_link_too_far_ahead_warns_and_the_warning_goes_when_it_goes(served):
    site, options, save = served
    result = save(CARE, "Second paragraph.", "Buy the [coupon](../trial/coupon.md).")
    assert [p.message for p in result.problems if "trial/coupon" in p.message]
    result = save(CARE, "Buy the [coupon](../trial/coupon.md).", "Second paragraph.")
    assert not result.problems


def test_an_error_elsewhere_is_still_reported_after_a_body_edit(served):
    site, options, save = served
    with pytest.raises(SiteError):
        save("content/guides/pets.md", "step: free", "step: fre")
    with pytest.raises(SiteError) as caught:
        save(CARE, "Second paragraph.", "Second paragraph, edited.")
    assert any("unknown step 'fre'" in p.message for p in caught.value.problems)


def test_a_new_first_paragraph_of_a_page_the_feed_quotes_takes_the_full_build(served, tmp_path):
    site, options, save = served
    result = save("content/guides/pets.md", "Pet hair, gone.", "Pet hair, gone for good.")
    assert b"gone for good" in (options.output / "feed.xml").read_bytes()
    assert result.stats["pages rendered"] >= 1
    same_as_cold(site, options, tmp_path)



def test_a_title_edit_renders_again_only_the_tag_pages_that_list_the_page(served, tmp_path, monkeypatch):
    from generator import render
    site, options, save = served
    save("content/guides/pets.md", "tags: [stains]", "tags: [stains, wood]")
    rendered = []
    emit = render._emit
    monkeypatch.setattr(render, "_emit", lambda env, theme, path, *rest: rendered.append(path) or
                        emit(env, theme, path, *rest))
    save(CARE, "title: Couch care", "title: Caring for a couch")  # tagged stains, not wood
    assert "tags/stains/index.html" in rendered           # it lists the page
    assert "tags/wood/index.html" not in rendered         # it does not
    assert "tags/index.html" not in rendered              # the tags and their counts are as they were
    assert "Caring for a couch" in (options.output / "tags/stains/index.html").read_text()
    same_as_cold(site, options, tmp_path)



def test_templates_are_compiled_once_under_serve_and_again_when_edited(make_site, tmp_path, monkeypatch):
    import jinja2
    site = make_site(FILES)
    options = BuildOptions(site=site, out=tmp_path / "preview", today=TODAY, jobs=1, preview=True)
    cache = BuildCache()
    build(options, cache)
    compiled = []
    compile_ = jinja2.Environment.compile
    monkeypatch.setattr(jinja2.Environment, "compile", lambda env, source, name=None, *rest, **kw:
                        compiled.append(name) or compile_(env, source, name, *rest, **kw))
    (site / CARE).write_text((site / CARE).read_text().replace("title: Couch care", "title: Caring"))
    build(options, cache, {CARE})  # the full build, with the templates as they were
    assert compiled == []
    brand = site / "themes/default/templates/partials/brand.html"
    brand.parent.mkdir(parents=True)
    for accent in ("#111", "#222"):
        brand.write_text(f"<style>:root {{ --accent: {accent}; }}</style>\n")
        build(options, cache, {"themes/default/templates/partials/brand.html"})
        assert f"--accent: {accent}" in (options.output / "guides/care/index.html").read_text()
        assert "partials/brand.html" in compiled
        compiled.clear()
    same_as_cold(site, options, tmp_path)
