"""The compiled fast path gives exactly the reference engine's result, or is not used."""
import datetime as dt
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REPO
from generator import config, content
from generator.markup import BodyRenderer, FastMarkdown, LinkTargets, make_markdown, render_body

pytestmark = pytest.mark.skipif(not FastMarkdown.available(), reason="markdown-it-pyrs not installed")
BENCH = REPO.parent / "shared" / "bench" / "make_site.py"


def compare_site(site: Path) -> tuple[int, int]:
    """(pages both engines rendered identically, pages left to the reference); asserts no difference."""
    found = content.load_content(site, dt.date(2026, 11, 23))
    cfg, _ = config.load_config(site)
    targets = LinkTargets(cfg.base_path, {p.name: p.url for p in found.pages},
                          {p.url: p.name for p in found.pages}, found.skipped, frozenset(found.files))
    md, fast = make_markdown(), FastMarkdown()
    same = reference_only = 0
    for page in found.pages:
        text = found.texts[page.name]
        args = (text, page.name, page.source, page.body_start, targets)
        done = fast.render(*args) if fast.handles(text) else None
        if done is None:
            reference_only += 1
            continue
        assert done == render_body(md, *args), page.source
        same += 1
    return same, reference_only


@pytest.mark.parametrize("site", [REPO, REPO / "tests/golden/site", REPO / "generator/starters/relationship",
                                  REPO / "generator/starters/lifecycle"], ids=lambda p: p.name)
def test_sample_sites_render_the_same(site):
    same, _ = compare_site(site)
    assert same > 0


@pytest.mark.skipif(not BENCH.exists(), reason="needs ../shared/bench")
def test_benchmark_corpus_renders_the_same(tmp_path):
    subprocess.run([sys.executable, str(BENCH), "--pages", "1500", "--out", str(tmp_path / "site")],
                   check=True, capture_output=True)
    same, reference_only = compare_site(tmp_path / "site")
    assert same > 1000 and reference_only < same


TRICKY = {
    "headings": "# Title\n\n## Same\n\n## Same\n\n### A *b* & `c&d`\n\nSetext\n======\n",
    "links": "[a](other.md) [b](/x/y/) [c](a%20b.md) [d](https://e.com/?q=1&r=2) ![img](pic%201.png)\n\n"
             "[e](other.md) and [e again](other.md)\n",
    "blocks": "> quote with [link](other.md)\n\n1. one\n2. two\n\n- a\n  - b\n\n```\ncode & b\n```\n",
    "tables": "| a | b |\n|---|:-:|\n| ~~x~~ | **y** |\n",
    "first paragraph": "- list first\n\nthen the *real*\nparagraph &amp; more\n",
    "entities": "Caf&eacute; &copy; 2026 &#35; \\* not em\n",
    "plain tags": '<a class="cta" href="/trial/">Start</a> and <em>more</em> [x](other.md)\n\n'
                  '## A <span class="x">tagged</span> heading\n\n<kbd>Ctrl</kbd> + <kbd>C</kbd><br/>\n'
                  '<custom-box data-x="1">\n\n*md* after\n',
}


@pytest.mark.parametrize("name", TRICKY)
def test_tricky_bodies_render_the_same(name, tmp_path):
    targets = LinkTargets("/sub/", {"page": "/page/", "other": "/other/"}, {"/page/": "page", "/other/": "other"},
                          {}, frozenset())
    body = textwrap.dedent(TRICKY[name])
    fast = FastMarkdown()
    assert fast.handles(body)
    assert fast.render(body, "page", "content/page.md", 5, targets) == \
        render_body(make_markdown(), body, "page", "content/page.md", 5, targets)


@pytest.mark.parametrize("body", ["- [ ] task\n", "Note.[^1]\n\n[^1]: x\n", "<a href='x.md'>x</a>\n",
                                  "> 1. [x] done\n", "<h2>raw</h2>\n", '<a href="other.md">raw link</a>\n',
                                  "<p>raw paragraph</p>\n", '<span title="a>b">x</span>\n', "<!-- note -->\n",
                                  "<https://example.com>\n", '<div class="note">\n\nx\n\n</div>\n', "<pre>\nx\n</pre>\n",
                                  "> > nested\n` \n\t| tab |\n` \n", "> quote\n`\n\tcode`\n", "> n ``a\n  b``\n",
                                  '> n <span title="a\n  b">x</span>\n', '> n [x](https://e.com "a\n  b")\n'])
def test_bodies_with_features_it_lacks_go_to_the_reference(body):
    assert not FastMarkdown().handles(body)


def test_an_indented_line_goes_to_the_reference_only_after_a_quote():
    assert FastMarkdown().handles("a `x\n\tb`\n")
    assert FastMarkdown().handles("- item `x\n  b`\n")
    assert FastMarkdown().handles("> quote\n\nAfter `x\n\tb`\n")  # a blank line ends the quote
    assert not FastMarkdown().handles("> quote\n`x\n\tb`\n")
    assert not FastMarkdown().handles("> quote\n`x\n b`\n")


def test_a_site_that_shows_tags_as_text_leaves_every_tag_to_the_reference():
    body = '<a class="cta" href="/trial/">Start</a>\n'
    assert FastMarkdown(raw_html=True).handles(body)
    assert not FastMarkdown(raw_html=False).handles(body)
    targets = LinkTargets("/", {}, {}, {}, frozenset())
    shown = BodyRenderer(raw_html=False).render(body, "page", "content/page.md", 5, targets)[0].html
    assert "&lt;a class" in shown


def test_the_build_uses_both_engines_and_the_output_does_not_change(make_site, build_site, monkeypatch):
    from conftest import page
    site = make_site({
        "content/index.md": page("Home", "awareness", "# Hi\n\nSee [blog](blog/_index.md)."),
        "content/blog/_index.md": page("Blog", "free", "- [ ] a task", offer="{headline: Blog}"),
    })
    build_site(site)
    with_fast = {p.relative_to(site).as_posix(): p.read_bytes() for p in (site / "output").rglob("*") if p.is_file()}
    monkeypatch.setattr(FastMarkdown, "available", staticmethod(lambda: False))
    build_site(site)
    reference = {p.relative_to(site).as_posix(): p.read_bytes() for p in (site / "output").rglob("*") if p.is_file()}
    assert with_fast == reference


# Bodies built from the lines owners write, in any order: tables next to lists, quotes, rules,
# headings, fences and blank lines. Whatever the fast path accepts must match the reference.
BODY_LINES = ["| a | b |", "|---|---:|", "| 1 | ~~2~~ |", "a | b", "--- | ---", "row without pipes", "",
              "- item", "- [link](other.md)", "1. first", "2) second", "  - nested", "  | in | item |",
              "> quote", "> | q | t |", "> |---|---|", ">", "---", "***", "# Heading", "Title", "===",
              "```", "~~~", "    indented code", "*em* **strong** `code|pipe`", "~~gone~~ ~~~x~~~", "-", "+",
              "2. two", "10) ten", "    - deep", "> > nested", "> 1. in quote", "  > quote in item", "\t| tab |",
              "|:-|", "a\\|b | c", "[ref]: other.md", "[ref] and [x][ref]", "Text with | pipe", "| one |", "x |",
              ":-:", "| - | x |", "  2. two", ">     code",
              '<a class="cta" href="/trial/">Go</a>', "<div>", "</div>", '<div class="note">', "<br>",
              "<em>x</em> [link](other.md)", '<span id="s">in</span> text', "# Head <em>x</em> &amp; y",
              '<img alt="x" src="pic.png">', "<details>", "<summary>More</summary>", "</details>",
              "<custom-tag>", "<b>bold", "</b>", "a `   ` b", "` ", "x `", "<pre>", "</pre>", "<script>"]
FAST_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))


@settings(max_examples=FAST_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(BODY_LINES), min_size=1, max_size=14))
@pytest.mark.parametrize("raw_html", [True, False])
def test_any_body_renders_as_the_reference_whichever_engine_takes_it(raw_html, lines):
    body = "\n".join(lines) + "\n"
    targets = LinkTargets("/", {"page": "/page/", "other": "/other/"}, {"/page/": "page", "/other/": "other"},
                          {}, frozenset())
    assert BodyRenderer(raw_html).render(body, "page", "content/page.md", 5, targets) == \
        render_body(make_markdown(raw_html), body, "page", "content/page.md", 5, targets)


def test_a_link_whose_address_is_also_written_in_code_goes_to_the_reference():
    body = "```\n[x](other.md)\n```\n\n[x](other.md)\n"
    targets = LinkTargets("/", {"page": "/page/", "other": "/other/"}, {"/page/": "page", "/other/": "other"},
                          {}, frozenset())
    assert FastMarkdown().handles(body)
    assert FastMarkdown().render(body, "page", "content/page.md", 5, targets) is None
    markup, _ = BodyRenderer().render(body, "page", "content/page.md", 5, targets)
    assert [link.line for link in markup.links] == [9]


def test_a_renderer_reused_with_other_link_targets_resolves_links_again():
    """Addresses are worked out once per folder, but only for the link targets they were worked out
    with: after a page goes away, the same renderer reports the link to it."""
    body = "# Tips\n\nSee [the guide](guide.md).\n"
    with_guide = LinkTargets("/", {"guides/guide": "/guides/guide/"}, {"/guides/guide/": "guides/guide"},
                             {}, frozenset())
    without = LinkTargets("/", {}, {}, {}, frozenset())
    fast = FastMarkdown()
    first, problems = fast.render(body, "guides/tips", "content/guides/tips.md", 5, with_guide)
    assert 'href="/guides/guide/"' in first.html and not problems and first.links
    second, problems = fast.render(body, "guides/tips", "content/guides/tips.md", 5, without)
    assert 'href="guide.md"' in second.html and not second.links
    assert [str(p) for p in problems] == ["content/guides/tips.md:7: error: links to 'guide.md', "
                                          "but there is no such page"]
    other_folder, _ = fast.render(body, "tips", "content/tips.md", 5, with_guide)
    assert 'href="guide.md"' in other_folder.html  # from content/, guide.md is not the guide
    assert 'id="tips"' in first.html and 'id="tips"' in second.html
