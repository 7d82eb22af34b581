"""Front matter read without YAML gives exactly what YAML gives, or is left to YAML."""
import datetime as dt
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import REPO
from generator import quickyaml
from generator.source import parse_front_matter, split_front_matter

TRICKY_VALUES = [
    "Plain words", "Don't panic", "C# for beginners", "a #tag", "x: y", "ends with:", "2026-11-02", "2026-02-30",
    "2026-1-2", "10", "007", "0x1F", "1_000", "+3", "-0", "1:30", "3.5", ".inf", "yes", "No", "ON", "off", "y",
    "~", "null", "Null", "", "  ", '"quoted"', '"with \\" escape"', "'single'", "'it''s'", '"unclosed',
    "[a, b]", "[]", "[ ]", "[a, b,]", "[yes, 10, 2026-11-02]", "[a: b]", "[a  b, c]", "[[a]]", "{a: b}",
    "- item", "&anchor x", "*alias", "!tag x", "| block", "> folded", "%x", "@x", "`x`", "?x", "a\tb",
    "caf\u00e9", "\u00a0nbsp", "zero\u200bwidth", "\ufeffbom", "emoji \U0001F600", "trailing   ", "a,b", "x\x85y", "x\u2028y",
    "<b>bold</b>", "x #", "=", "<<", "1e3", "0.5", "-", "--", ":", "2026-11-02 10:00:00",
    "2٠٢٦-11-02", "2026-１１-02",  # digits YAML does not count as digits: text
]
KEYS = ["title", "step", "tags", "date", "weight", "draft", "yes", "on", "_x", "a-b", "9lives", " indented"]


def both_ways(text: str) -> tuple:
    """(the build's result, YAML's own: the same loader, without the everyday reader)."""
    with mock.patch.object(quickyaml, "read", lambda text, first_line: None):
        full = parse_front_matter(text, "content/p.md", 2)
    return parse_front_matter(text, "content/p.md", 2), full


def assert_same(text: str) -> None:
    quick, full = both_ways(text)
    assert quick == full, text
    assert [type(v) for v in quick[0].values()] == [type(v) for v in full[0].values()], text  # 1 != True


line = st.one_of(
    st.tuples(st.sampled_from(KEYS), st.sampled_from(TRICKY_VALUES)).map(lambda kv: f"{kv[0]}: {kv[1]}"),
    st.tuples(st.sampled_from(KEYS), st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12))
    .map(lambda kv: f"{kv[0]}: {kv[1]}"),
    st.sampled_from(["", "  ", "# a comment", "  nested: value", "- item", "title:value", "title:", "---",
                     "title:  spaced", "tags:\n  - a\n  - b"]),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(line, min_size=1, max_size=6))
def test_any_front_matter_reads_as_yaml_reads_it(lines):
    assert_same("\n".join(lines))


@pytest.mark.parametrize("value", TRICKY_VALUES)
def test_each_tricky_value_reads_as_yaml_reads_it(value):
    assert_same(f"title: Page\nsummary: {value}\nstep: free")


def test_everyday_front_matter_is_read_without_yaml():
    text = ('title: "10 Mistakes: a list"\nstep: free\ndate: 2026-11-02\ntags: [stains, fabric care]\n'
            "weight: -10\ndraft: false\nsummary: Ten minutes a month keeps stains away.\nslug: couch-care")
    data, lines = quickyaml.read(text, 2)
    assert data == {"title": "10 Mistakes: a list", "step": "free", "date": dt.date(2026, 11, 2),
                    "tags": ["stains", "fabric care"], "weight": -10, "draft": False,
                    "summary": "Ten minutes a month keeps stains away.", "slug": "couch-care"}
    assert lines == {"title": 2, "step": 3, "date": 4, "tags": 5, "weight": 6, "draft": 7, "summary": 8, "slug": 9}
    assert_same(text)


@pytest.mark.parametrize("text", ["title: x\ntitle: y", "title: x # note", "offer:\n  headline: Hi",
                                  "date: 2026-02-30", "title: '''quoted'''", "tags: [a, [b]]"])
def test_anything_else_is_left_to_yaml(text):
    assert quickyaml.read(text, 2) is None
    assert_same(text)


def test_every_page_of_the_sample_sites_reads_the_same():
    pages = [*REPO.glob("content/**/*.md"), *REPO.glob("generator/starters/**/*.md"),
             *REPO.glob("tests/golden/site/content/**/*.md")]
    assert len(pages) > 30
    for path in pages:
        split = split_front_matter(Path(path).read_text(encoding="utf-8"))
        if split:
            assert_same(split[0])


@pytest.mark.parametrize("value", ["\x85", "a\x85b", "\u2028"])
def test_characters_yaml_takes_for_line_breaks_are_an_error_or_text_never_a_crash(value):
    """U+0085 and U+2028 end a line for YAML, not for Python's split: the key lines must agree."""
    quick, full = both_ways(f"step: {value}\ntitle:")
    assert quick == full
