"""A build after body edits alone sets each new body into its page's last HTML (generator/splice.py):
the same bytes and problems as a cold build, and the full build whenever that cannot hold."""
import json
import os
import shutil
import subprocess
import sys

import jinja2
import pytest

from conftest import REPO, TODAY, assert_twin_follows, build_elsewhere, cache_file_unwritable, page, tree
from generator.build import BuildOptions, build
from generator.cache import DELTA_FILE
from generator.errors import SiteError
from generator.render import body_slot, fixed_body_templates

FILES = {
    "content/index.md": page("Home", "awareness", "Welcome. Read [the guide](guides/care.md)."),
    "content/guides/_index.md": page("Guides", "free", "All guides.", offer="{headline: Read the guides}"),
    "content/guides/care.md": page("Couch care", "free", "First paragraph.\n\nSecond paragraph.",
                                   summary="How to care.", tags="[stains]"),
    "content/guides/pets.md": page("Pets", "free", "Pet hair, gone.\n\nBrush often.", tags="[stains]",
                                   date="2026-11-01"),
    "content/club/join.md": page("Join", "insider", "Join us.", offer="{headline: Join}", form="signup",
                                 thank_you="club/welcome", tags="[stains]"),
    "content/club/welcome.md": page("Welcome", "insider", "Thanks."),
    "content/trial/coupon.md": page("Coupon", "trial", "Half off.",
                                    offer="{headline: Coupon, url: 'https://shop.example.com/'}"),
}
CARE, PETS = "content/guides/care.md", "content/guides/pets.md"


@pytest.fixture
def site(make_site):
    site = make_site(FILES)
    assert not build(BuildOptions(site=site, today=TODAY, jobs=1)).problems
    return site


def edit(site, rel, old, new):
    path = site / rel
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def again(site, **options):
    return build(BuildOptions(site=site, today=TODAY, jobs=1, **options))


def same_as_cold(site, tmp_path, name="reference"):
    reference = tmp_path / name
    cold = build_elsewhere(site, reference, jobs=1)
    assert tree(site / "output") == tree(reference)
    assert_twin_follows(site)
    return cold


def test_a_body_edit_is_set_into_its_page_as_a_cold_build_writes_it(site, tmp_path, full_builds):
    before = tree(site / "output")
    edit(site, CARE, "Second paragraph.", "Second paragraph, *now* longer: [pets](pets.md).")
    result = again(site)
    assert not full_builds
    assert result.stats["pages rendered"] == 1
    after = tree(site / "output")
    assert {p for p in after if after[p] != before.get(p)} == {"guides/care/index.html", ".stepstone-output"}
    assert b"<em>now</em> longer" in after["guides/care/index.html"]
    same_as_cold(site, tmp_path)


def test_edit_after_edit_and_back_again_stays_exact(site, tmp_path, full_builds):
    original = (site / CARE).read_text()
    for n, text in enumerate(["Second paragraph, edited once.", "A much longer second paragraph.\n\n" * 5,
                              "Second paragraph."]):
        edit(site, CARE, (site / CARE).read_text().split("First paragraph.\n\n")[1].rstrip("\n"), text.strip())
        again(site)
        same_as_cold(site, tmp_path, f"reference-{n}")
    assert not full_builds
    assert (site / CARE).read_text() == original


def test_full_builds_between_splices_keep_the_record_exact(site, tmp_path, full_builds):
    edit(site, CARE, "Second paragraph.", "Second paragraph, spliced.")
    again(site)
    edit(site, "content/club/welcome.md", "title: Welcome", "title: Welcome aboard")  # the full build
    result = again(site)
    assert len(full_builds) == 1
    assert result.stats["pages rendered"] < result.pages  # it knew output/ as spliced: updated in place
    same_as_cold(site, tmp_path, "reference-0")
    edit(site, CARE, "Second paragraph, spliced.", "Second paragraph, spliced again.")  # kept from the record
    edit(site, "content/club/welcome.md", "Thanks.", "Thanks.\n\nSee you.")  # rendered by that full build
    again(site)
    assert len(full_builds) == 1
    same_as_cold(site, tmp_path, "reference-1")


def test_one_edited_page_is_renamed_into_output_and_the_twin_falls_one_page_behind(site, tmp_path, full_builds):
    """The commonest save needs no swap of output/, whose twin may lag by every page (after a template
    edit): the new page is renamed in, the twin keeps the old one and notes it. Two pages are swapped in."""
    page_path = "guides/care/index.html"
    edit(site, CARE, "Second paragraph.", "Second paragraph, edited.")
    folder = os.stat(site / "output").st_ino
    held = (site / ".stepstone/twin" / page_path).read_bytes()
    again(site)
    assert os.stat(site / "output").st_ino == folder  # the same folder: nothing swapped
    assert (site / ".stepstone/twin" / page_path).read_bytes() == held
    assert page_path in json.loads((site / ".stepstone/twin.lag").read_text())["paths"]
    assert not (site / "output/.stepstone-pending").exists()
    same_as_cold(site, tmp_path, "reference-0")
    edit(site, CARE, "Second paragraph, edited.", "Second paragraph, edited again.")
    edit(site, PETS, "Brush often.", "Brush every day.")
    assert again(site).stats["pages rendered"] == 2
    assert os.stat(site / "output").st_ino != folder  # written into the twin, then swapped in whole
    same_as_cold(site, tmp_path, "reference-1")
    assert not full_builds


def test_a_splice_stopped_after_renaming_its_page_in_is_redone_whatever_the_page_says_next(site, tmp_path,
                                                                                           monkeypatch):
    """Stopped before output/'s marker names the new build, output/ holds a page no build's record
    describes: the next build must not trust it, even when the owner has taken the edit back."""
    original = (site / CARE).read_text()
    edit(site, CARE, "Second paragraph.", "Second paragraph, edited.")
    real_replace = os.replace

    def stopped_at_the_marker(source, target, *args, **kwargs):
        if str(target).endswith(".stepstone-output"):
            raise KeyboardInterrupt
        return real_replace(source, target, *args, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(os, "replace", stopped_at_the_marker)
        with pytest.raises(KeyboardInterrupt):
            again(site)
    assert b"Second paragraph, edited." in (site / "output/guides/care/index.html").read_bytes()
    (site / CARE).write_text(original)
    again(site)
    same_as_cold(site, tmp_path)


def test_a_folder_link_planted_in_output_is_not_followed_to_rename_the_page_in(site, tmp_path):
    outside = tmp_path / "outside"
    shutil.copytree(site / "output/guides", outside)  # the same pages, elsewhere, linked in by hand
    shutil.rmtree(site / "output/guides")
    (site / "output/guides").symlink_to(outside, target_is_directory=True)
    before = tree(outside)
    edit(site, CARE, "Second paragraph.", "Second paragraph, edited.")
    assert again(site).stats["pages rendered"] == 1
    assert tree(outside) == before
    assert b"Second paragraph, edited." in (site / "output/guides/care/index.html").read_bytes()


def test_a_broken_link_stops_the_build_and_leaves_output_as_it_was(site, tmp_path, full_builds):
    before = tree(site / "output")
    edit(site, CARE, "Second paragraph.", "See [gone](nothing.md).")
    with pytest.raises(SiteError) as caught:
        again(site)
    assert not full_builds
    assert [str(p) for p in caught.value.problems if p.severity == "error"] == [
        "content/guides/care.md:9: error: links to 'nothing.md', but there is no such page"]
    assert tree(site / "output") == before
    edit(site, CARE, "See [gone](nothing.md).", "See [pets](pets.md).")
    assert not again(site).problems
    same_as_cold(site, tmp_path)


def test_a_link_too_far_ahead_warns_as_a_cold_build_does_until_it_goes(site, tmp_path, full_builds):
    edit(site, CARE, "Second paragraph.", "Buy the [coupon](../trial/coupon.md).")
    result = again(site)
    cold = same_as_cold(site, tmp_path, "reference-0")
    assert result.problems == cold.problems
    assert [p.message for p in result.problems if "trial/coupon" in p.message]
    with pytest.raises(SiteError):
        again(site, strict=True)  # the warning, as an error
    edit(site, CARE, "Buy the [coupon](../trial/coupon.md).", "Second paragraph.")
    assert not again(site).problems
    assert not full_builds
    same_as_cold(site, tmp_path, "reference-1")


@pytest.mark.parametrize("rel, old, new", [
    (CARE, "title: Couch care", "title: Caring for a couch"),        # front matter: listings show it
    (PETS, "Pet hair, gone.", "Pet hair, gone for good."),          # the first paragraph, quoted without a summary
    (CARE, "Second paragraph.", "- [ ] a task"),                      # a task list: the checklist script
    ("content/guides/_index.md", "All guides.", "Every guide."),   # section.html tests `content|trim`
])
def test_what_a_body_splice_cannot_hold_takes_the_full_build(site, tmp_path, full_builds, rel, old, new):
    edit(site, rel, old, new)
    again(site)
    assert full_builds
    same_as_cold(site, tmp_path)


def test_a_summary_frees_the_first_paragraph(site, tmp_path, full_builds):
    edit(site, CARE, "First paragraph.", "A new first paragraph.")
    again(site)
    assert not full_builds
    same_as_cold(site, tmp_path)


def test_other_changes_and_options_take_the_full_build(site, tmp_path, full_builds):
    (site / "content/guides/new.md").write_text(page("New", "free", "Fresh."))
    edit(site, CARE, "Second paragraph.", "Second paragraph, with a new page beside it.")
    again(site)
    assert len(full_builds) == 1
    edit(site, CARE, "Second paragraph, with", "Second paragraph with")
    again(site, drafts=True)  # other options than the last build's
    assert len(full_builds) == 2
    same_as_cold(site, tmp_path)  # (the reference has no drafts either: there are none)


def test_a_template_that_reworks_the_body_takes_the_full_build(make_site, tmp_path, full_builds):
    site = make_site({**FILES, "themes/default/templates/page.html":
                      '{% extends "base.html" %}{% block main %}{{ content }}'
                      '<p>{{ content|striptags|wordcount }} words</p>{% endblock %}\n'})
    again(site)
    edit(site, CARE, "Second paragraph.", "Second paragraph, three words more.")
    again(site)
    assert len(full_builds) == 2
    assert b"<p>7 words</p>" in (site / "output/guides/care/index.html").read_bytes()
    same_as_cold(site, tmp_path)


def test_a_page_changed_by_hand_in_output_is_rendered_again(site, tmp_path, full_builds):
    (site / "output/guides/care/index.html").write_text("changed by hand")
    edit(site, CARE, "Second paragraph.", "Second paragraph, edited.")
    again(site)
    assert full_builds
    same_as_cold(site, tmp_path)


def test_a_splice_whose_cache_note_is_lost_is_followed_by_exact_builds(site, tmp_path):
    with cache_file_unwritable(DELTA_FILE):
        edit(site, CARE, "Second paragraph.", "Second paragraph, edited.")
        again(site)
    same_as_cold(site, tmp_path, "reference-0")
    edit(site, "content/club/welcome.md", "title: Welcome", "title: Welcome aboard")
    again(site)
    same_as_cold(site, tmp_path, "reference-1")
    edit(site, CARE, "Second paragraph, edited.", "Second paragraph.")  # back as the cache first knew it
    again(site)
    same_as_cold(site, tmp_path, "reference-2")


def test_the_command_splices_without_loading_jinja(site):
    """What makes it fast: the command loads neither Jinja nor the pipeline for a body edit."""
    edit(site, CARE, "Second paragraph.", "Second paragraph, edited.")
    script = ("import sys, datetime, generator.options as o\n"
              "o.BuildOptions.day = property(lambda self: datetime.date(2026, 11, 23))\n"
              "from generator.cli import main\n"
              "try:\n    main(['build', '--site', sys.argv[1], '--jobs', '1'])\n"
              "except SystemExit as e:\n    assert not e.code, e.code\n"
              "print(sorted(m for m in ('jinja2', 'generator.build', 'generator.render') if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", script, str(site)], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "1 written, 6 unchanged" in done.stdout
    assert done.stdout.rstrip().endswith("[]"), done.stdout
    assert b"Second paragraph, edited." in (site / "output/guides/care/index.html").read_bytes()


def _env(templates):
    return jinja2.Environment(loader=jinja2.DictLoader(templates))


def test_fixed_body_templates_are_those_that_show_content_only_as_it_is():
    env = _env({
        "plain": "<main>{{ content }}</main>", "safe": "{{ content|safe }}",
        "child": '{% extends "plain" %}', "includes": '{% include "plain" %}{% include "filtered" %}',
        "filtered": "{{ content|striptags }}", "tested": "{% if content %}{{ content }}{% endif %}",
        "captured": "{% set kept %}{{ content }}{% endset %}{{ kept|upper }}",
        "filter_block": "{% filter upper %}{{ content }}{% endfilter %}",
        "markdown": "{{ content }}{{ page.body }}", "dynamic": "{{ content }}{% include name %}",
        "renamed": "{% set content = 'x' %}{{ content }}", "in_macro": "{% macro m() %}{{ content }}{% endmacro %}",
        "attr": "{{ content }}{{ page|attr('body') }}", "loop": "{% for x in xs %}{{ content }}{% endfor %}",
    })
    assert fixed_body_templates(env, env.list_templates()) == {"plain", "safe", "child", "loop"}


def test_the_default_theme_shows_every_body_but_a_listings_untouched(tmp_path):
    from generator.render import find_theme, make_environment
    theme, _ = find_theme(tmp_path, "default")
    env = make_environment(theme, "/")
    assert fixed_body_templates(env, ["page.html", "home.html", "checklist.html", "section.html"]) == {
        "page.html", "home.html", "checklist.html"}


@pytest.mark.parametrize("html, body, slot", [
    (b"<main><p>Hi</p></main>", "<p>Hi</p>", (6, 15)),
    ("<p>caf\u00e9</p><p>x</p>".encode(), "<p>x</p>", (12, 20)),  # in bytes, not characters
    (b"<p>Hi</p><p>Hi</p>", "<p>Hi</p>", None),                  # twice: which one?
    (b"<main>aaa</main>", "aa", None),                              # overlapping: where?
    (b"<main></main>", "<p>Hi</p>", None),
    (b"<main></main>", "", None),
    # longer than the first bytes it is looked for by (render.SLOT_HEAD)
    (b"<p>" + b"a" * 70 + b"b</p>" + b"<p>" + b"a" * 70 + b"c</p>", "<p>" + "a" * 70 + "c</p>", (78, 156)),
    (b"<p>" + b"a" * 70 + b"c</p>" + b"<p>" + b"a" * 70 + b"b</p>", "<p>" + "a" * 70 + "c</p>", (0, 78)),
    (b"<p>" + b"a" * 70 + b"c</p>" + b"<p>" + b"a" * 70 + b"c</p>", "<p>" + "a" * 70 + "c</p>", None),
    (b"<p>" + b"a" * 70 + b"b</p>", "<p>" + "a" * 70 + "c</p>", None),
])
def test_body_slot_is_the_one_place_the_body_stands(html, body, slot):
    assert body_slot(html, body) == slot
