"""A build after template edits alone renders the last build's site again (generator/restyle.py):
the same bytes, problems and records as the full build, and the full build whenever that cannot hold."""
import shutil
import subprocess
import sys

import pytest

from conftest import REPO, TODAY, assert_twin_follows, build_elsewhere, page, tree, write_site
from generator.build import BuildOptions, build
from generator.cache import BuildCache
from generator.errors import SiteError
from generator.workers import MIN_PARALLEL_ITEMS
from test_equivalence import EDITS, built_copy, cold, generated_site

BRAND = "themes/default/templates/partials/brand.html"


@pytest.fixture(scope="module")
def big_site(tmp_path_factory):
    return generated_site(tmp_path_factory.mktemp("big") / "site", MIN_PARALLEL_ITEMS + 100)


def restyle(site, accent: str) -> None:
    (site / BRAND).parent.mkdir(parents=True, exist_ok=True)
    (site / BRAND).write_text(f"<style>:root {{ --accent: {accent}; }}</style>\n")


def test_a_template_edit_renders_every_page_again_from_the_last_builds_site(big_site, tmp_path, full_builds):
    site, options = built_copy(big_site, tmp_path)
    restyle(site, "#123")                          # a new template: the built-in partial overridden
    build(options)
    assert tree(site / "output") == cold(site, tmp_path / "reference-1")
    restyle(site, "#456")                          # an edit of it
    before = tree(site / "output")
    result = build(options)
    assert full_builds == [options]                # only the first build: no content read, no cache loaded
    assert result.stats == {"pages rendered": result.pages, "pages reused": 0} and not result.problems
    after = tree(site / "output")
    assert after == cold(site, tmp_path / "reference")
    assert b"--accent: #456" in after["blog/post-3/index.html"] and after != before
    assert_twin_follows(site)
    again = build(options)                         # nothing changed since: the restyle's answer stands
    assert again.stats == {"pages reused": again.pages}
    shutil.rmtree(site / "themes")                 # the override removed: the built-in partial again
    build(options)
    assert full_builds == [options]
    assert tree(site / "output") == cold(site, tmp_path / "reference-2")


def test_builds_after_a_restyle_equal_cold_builds(big_site, tmp_path, full_builds):
    """A restyle takes up the bodies spliced in since the full build, and leaves the records
    the next builds need: a body edit after it is spliced, a title edit takes the full build.
    Only a full build that renders every page leaves its site for a restyle."""
    site, options = built_copy(big_site, tmp_path)
    restyle(site, "#123")
    build(options)
    steps = [("closing paragraph", 0), ("template", 0), ("body", 1), ("title", 2), ("template", 3),
             ("closing paragraph", 3), ("template", 3), ("template", 3)]
    for n, (edit, full) in enumerate(steps):
        if edit == "template":
            restyle(site, f"#{n}{n}{n}")
        else:
            EDITS[edit](site)
        result = build(options)
        assert len(full_builds) == 1 + full, (n, edit)
        assert tree(site / "output") == cold(site, tmp_path / f"reference-{n}"), (n, edit)
        assert_twin_follows(site)
        if edit == "closing paragraph":
            assert result.stats["pages rendered"] == 1, n  # spliced, after a restyle too


@pytest.mark.parametrize("edit", ["a template and a page's title", "a theme's stylesheet",
                                  "another theme's template", "the config"])
def test_anything_but_the_themes_templates_takes_the_full_build(big_site, tmp_path, full_builds, edit):
    site, options = built_copy(big_site, tmp_path)
    for folder in ("themes/default/templates/partials", "themes/default/static/assets", "themes/other/templates"):
        (site / folder).mkdir(parents=True)
    restyle(site, "#123")
    build(options)
    if edit == "a template and a page's title":
        restyle(site, "#456")
        EDITS["title"](site)
    elif edit == "a theme's stylesheet":
        (site / "themes/default/static/assets/extra.css").write_text("p { color: red; }\n")
    elif edit == "another theme's template":
        (site / "themes/other/templates/page.html").write_text("not this site's\n")
    else:
        EDITS["site title"](site)
    build(options)
    assert len(full_builds) == 2
    assert tree(site / "output") == cold(site, tmp_path / "reference")


def test_a_broken_template_is_reported_as_the_full_build_reports_it(big_site, tmp_path):
    site, options = built_copy(big_site, tmp_path)
    restyle(site, "#123")
    build(options)
    before = tree(site / "output")
    (site / "themes/default/templates/page.html").write_text(
        '{% extends "base.html" %}{% block main %}{{ page.title.nope() }}{% endblock %}\n')
    with pytest.raises(SiteError) as restyled:
        build(options)
    assert tree(site / "output") == before           # nothing written
    with pytest.raises(SiteError) as full:
        build_elsewhere(site, tmp_path / "reference", jobs=2)
    assert restyled.value.problems == full.value.problems
    assert any("template error" in p.message for p in restyled.value.problems)
    (site / "themes/default/templates/page.html").unlink()
    build(options)
    assert tree(site / "output") == cold(site, tmp_path / "reference-2")
    assert_twin_follows(site, or_untrusted=True)  # the failed restyle wrote into it; output/ stood


def test_under_strict_a_restyle_fails_on_the_last_builds_warnings_as_the_full_build_does(make_site, tmp_path,
                                                                                          full_builds):
    site = make_site({
        "content/index.md": page("Home", "awareness", "Welcome."),
        "content/guides/care.md": page("Care", "free", "Blot, never rub."),
        "content/trial/coupon.md": page("Coupon", "trial", "Half off.", offer="{headline: Coupon}",
                                        coupon="{code: OLD, expires: 2020-01-31}"),
    })
    options = BuildOptions(site=site, today=TODAY, jobs=1)
    warned = build(options).problems
    assert warned and all(p.severity == "warning" for p in warned)
    restyle(site, "#123")
    assert build(options).problems == warned       # a restyle: the same warnings
    restyle(site, "#456")
    strict = BuildOptions(site=site, today=TODAY, jobs=1, strict=True)
    with pytest.raises(SiteError) as restyled:
        build(strict)
    assert len(full_builds) == 1
    with pytest.raises(SiteError) as full:
        build(BuildOptions(site=site, out=tmp_path / "elsewhere", today=TODAY, jobs=1, strict=True), BuildCache())
    assert restyled.value.problems == full.value.problems and all(p.severity == "error" for p in full.value.problems)


def test_the_command_restyles_and_says_so(tmp_path):
    """`stepstone build` as typed: the summary of a restyle, and the site as a cold build makes it."""
    site = write_site(tmp_path / "site", {"content/index.md": page("Home", "awareness", "Welcome."),
                                          BRAND: "<style>:root { --accent: #123; }</style>\n"})

    def run(*args):
        return subprocess.run([sys.executable, "-m", "generator.cli", "build", "--site", str(site), *args],
                              cwd=REPO, capture_output=True, text=True)

    assert run().returncode == 0
    restyle(site, "#456")
    done = run()
    assert done.returncode == 0, done.stderr
    assert "Built 1 page into" in done.stdout and "1 written, 0 unchanged" in done.stdout
    assert b"#456" in (site / "output/index.html").read_bytes()
    assert tree(site / "output") == cold(site, tmp_path / "reference")


def test_a_layout_removed_by_a_template_edit_is_reported_at_its_line(tmp_path):
    """The site a restyle renders keeps no line of any key (snapshot.py): a page whose layout is gone
    sends the build to the full one, which reports the line where the page asks for it."""
    site = write_site(tmp_path / "site", {
        "content/index.md": page("Home", "awareness"),
        "content/guide.md": page("Guide", "free", summary="Short.", layout="special"),
        "themes/default/templates/special.html": '{% extends "page.html" %}\n',
    })
    options = BuildOptions(site=site, today=TODAY, jobs=1)
    build(options)
    (site / "themes/default/templates/special.html").unlink()
    with pytest.raises(SiteError) as failed:
        build(options)
    errors = [str(problem) for problem in failed.value.problems if ": error: " in str(problem)]
    assert len(errors) == 1 and errors[0].startswith("content/guide.md:5: error:") and "special" in errors[0], errors


def test_a_restyle_loads_no_markdown_engine(tmp_path):
    """A restyle renders no body and reads no front matter: markdown-it-py, its compiled port and
    the YAML parser are never imported."""
    site = write_site(tmp_path / "site", {"content/index.md": page("Home", "awareness", "# Welcome\n\n[Home](index.md)"),
                                          BRAND: "<style>:root { --accent: #123; }</style>\n"})
    probe = ("import sys; from generator.cli import main\n"
             "try:\n    main(['build', '--site', sys.argv[1]])\n"
             "except SystemExit:\n    pass\n"
             "print(sorted(m for m in ('markdown_it', 'markdown_it_pyrs', 'yaml') if m in sys.modules))")

    def run():
        return subprocess.run([sys.executable, "-c", probe, str(site)], cwd=REPO, capture_output=True, text=True)

    assert run().stdout.splitlines()[-1] == "['markdown_it', 'markdown_it_pyrs', 'yaml']"  # a full build reads them
    restyle(site, "#456")
    done = run()
    assert "1 written, 0 unchanged" in done.stdout, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == "[]"
