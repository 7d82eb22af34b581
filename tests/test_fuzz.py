"""Property-based fuzzing of everything an owner types: front matter, Markdown bodies, the config
file and file names. Whatever the bytes, a build ends in a site (exit 0) or in `path:line:
error:` lines (exit 1): never a traceback, an internal error or a hang.

The number of examples per property is FUZZ_EXAMPLES (default 150, so the suite stays quick);
`FUZZ_EXAMPLES=2000 pytest tests/test_fuzz.py` runs a long campaign.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from generator.cli import main

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=10_000, derandomize=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

CONFIG = b'title = "Fuzz"\nbase_url = "https://example.com/"\n'
HOME = b"---\ntitle: Home\nstep: awareness\n---\nWelcome.\n"
PROBLEM_LINE = re.compile(r"^.+?:\d+: (error|warning): \S.*$")
SUMMARY_LINE = re.compile(r"^stepstone: stopped: \d+ errors?, \d+ warnings?; nothing was written$")

# --- what owners (and their editors) put in files --------------------------------------------

KEYS = st.sampled_from(["title", "step", "date", "summary", "tags", "draft", "slug", "weight", "layout",
                        "next", "offer", "form", "thank_you", "coupon", "event", "cross_sell", "image",
                        "cascade", "description", "download", "Title", "stpe", "extra", "offer.headline"])
SCALARS = st.one_of(
    st.sampled_from(["free", "insider", "awareness", "insidr", "", "~", "null", "yes", "no", "true", "0x1F",
                     "2026-11-02", "2026-13-45", "0000-01-01", "9999-12-31", "10000-01-01", "-1", "1e400",
                     "2026-12-05T18:00:00-05:00", "2026-12-05T18:00:00", "'quoted'", '"dq', "a: b", "[a, b",
                     "{a: 1", "&anchor x", "*anchor", "!!binary aGk=", "!!python/object:os.system", "!!set {a}",
                     "!!timestamp 2001-12-14", "|", ">", "- x", "#", "javascript:alert(1)", "<script>x</script>",
                     "../../etc/passwd", "/abs/path", "ünïcödé ☕", "\u202eevil", "x" * 5000]),
    st.text(max_size=40),
    st.integers(min_value=-10**30, max_value=10**30).map(str),
)


@st.composite
def yaml_values(draw, depth: int = 0):
    """A YAML value as text: scalars, flow lists and maps, nested a little."""
    kind = draw(st.integers(0, 3 if depth < 3 else 0))
    if kind == 0:
        return draw(SCALARS)
    items = draw(st.lists(yaml_values(depth + 1), max_size=4))
    if kind == 1:
        return "[" + ", ".join(items) + "]"
    keys = draw(st.lists(KEYS, max_size=4))
    return "{" + ", ".join(f"{k}: {v}" for k, v in zip(keys, items, strict=False)) + "}"


@st.composite
def front_matters(draw) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 8))):
        key = draw(KEYS)
        indent = draw(st.sampled_from(["", "", "", "  ", "\t"]))
        lines.append(f"{indent}{key}: {draw(yaml_values())}")
    if draw(st.booleans()):
        lines.insert(0, "title: Fuzzed")
        lines.insert(1, f"step: {draw(st.sampled_from(['free', 'awareness', 'insider', 'nope']))}")
    return "\n".join(lines)


MARKDOWN_BITS = st.sampled_from([
    "# Heading", "## Sub", "- [ ] task", "- [x] done", "* item", "1. one", "> quote", "```", "~~~", "    code",
    "[link](index.md)", "[missing](nowhere.md)", "[up](../../../etc/passwd.md)", "[js](javascript:alert(1))",
    "[JS](JaVaScRiPt:alert(1))", "[data](data:text/html,hi)", "<script>alert(1)</script>", "<div>", "</div>",
    "<!--", "-->", "![img](/x.png)", "[ref]: index.md", "[ref]", "| a | b |", "|---|---|", "---", "***", "\\",
    "&amp;", "&#0;", "{{ jinja }}", "{% raw %}", "<%= erb %>", "\x00", "\x1b[31m", "\ufeff", "\r\n", "\r",
    "x" * 20000, "😀" * 100,
])


@st.composite
def bodies(draw) -> str:
    parts = draw(st.lists(st.one_of(MARKDOWN_BITS, st.text(max_size=60)), max_size=12))
    return "\n".join(parts)


def run_build(files: dict[str, bytes]) -> tuple[int, str]:
    """Build a site made of `files` in a fresh folder; the exit code and everything printed."""
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        for rel, data in files.items():
            path = site / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        result = CliRunner().invoke(main, ["build", "--site", str(site), "--jobs", "1"])
        return result.exit_code, result.output


def assert_clean_outcome(code: int, output: str) -> None:
    """A site, or problems worded for the owner: nothing else is an acceptable ending."""
    assert "Traceback" not in output and "internal error" not in output, output
    assert code in (0, 1), output
    lines = [line for line in output.splitlines() if line.strip()]
    problems = [line for line in lines if not line.startswith(("Built ", "stepstone: stopped: "))]
    assert all(PROBLEM_LINE.match(line) for line in problems), output
    if code == 1:
        assert any(": error: " in line for line in problems), output
        assert SUMMARY_LINE.match(lines[-1]), output


# --- the properties --------------------------------------------------------------------------

@FUZZ
@given(front=front_matters(), body=bodies(), bom=st.booleans(), crlf=st.booleans())
@example(front="title: [\x85, free]", body="", bom=False, crlf=False)  # a line break quoted in the advice
@example(front="title: \"a\u2028b\"\ntags: [x\x85]", body="", bom=False, crlf=False)
def test_any_page_builds_or_is_reported(front, body, bom, crlf):
    text = f"---\n{front}\n---\n{body}\n"
    if crlf:
        text = text.replace("\n", "\r\n")
    data = ("\ufeff" if bom else "").encode() + text.encode("utf-8", "surrogatepass")
    assert_clean_outcome(*run_build({"stepstone.toml": CONFIG, "content/index.md": HOME,
                                      "content/page.md": data}))


@FUZZ
@given(data=st.binary(max_size=400), prefix=st.sampled_from([b"", b"---\n", b"\xef\xbb\xbf---\n", b"\xff\xfe"]))
def test_any_bytes_in_a_page_build_or_are_reported(data, prefix):
    assert_clean_outcome(*run_build({"stepstone.toml": CONFIG, "content/index.md": HOME,
                                      "content/page.md": prefix + data}))


CONFIG_LINES = st.sampled_from([
    'title = "T"', 'title = ""', "title = 3", 'base_url = "https://example.com/"', 'base_url = "ftp://x"',
    'base_url = "/sub/"', 'base_url = "https://example.com/sub path/"', 'base_url = "javascript:alert(1)"',
    'language = "en"', 'theme = "default"', 'theme = "../../etc"', 'theme = "nope"', 'titel = "x"',
    "[[menu]]", 'title = "Guides"', 'url = "/guides/"', 'url = "javascript:alert(1)"', "[forms.signup]",
    'provider = "generic"', 'provider = "mailchimp"', 'provider = "mailchimps"', 'action = "https://m.example/s"',
    'api_key = "sk_live_123"', "[[steps]]", 'id = "free"', 'name = "Free"', "public = true", "public = 3",
    "[markdown]", "unsafe_html = false", "unsafe_html = \"no\"", "[progress]", "remember = false",
    "remember_progress = false", "[", "]]", 'x = """', "a.b.c = 1", "[forms]", "forms = 3", "steps = []",
    "menu = 1", "[[steps]]\nid = \"a\"", "\x00", "\ufeff",
])


@FUZZ
@given(lines=st.lists(st.one_of(CONFIG_LINES, st.text(max_size=30)), max_size=12), keep_title=st.booleans())
def test_any_config_builds_or_is_reported(lines, keep_title):
    config = ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")
    if keep_title:
        config = CONFIG + config
    assert_clean_outcome(*run_build({"stepstone.toml": config, "content/index.md": HOME,
                                      "content/about.md": b"---\ntitle: About\nstep: free\n---\nHi.\n"}))


FILE_NAMES = st.text(
    alphabet=st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",)), min_size=1, max_size=40,
).filter(lambda name: name not in (".", "..") and len(name.encode()) < 200)


@FUZZ
@given(names=st.lists(FILE_NAMES, min_size=1, max_size=4), folder=st.one_of(st.just(""), FILE_NAMES),
       static=st.one_of(st.none(), FILE_NAMES))
def test_any_file_names_build_or_are_reported(names, folder, static):
    files = {"stepstone.toml": CONFIG, "content/index.md": HOME}
    for name in names:
        rel = f"content/{folder}/{name}.md" if folder else f"content/{name}.md"
        files[rel] = f"---\ntitle: {name!r}\nstep: free\n---\nA page called {name}.\n".encode()
    if static is not None:
        files[f"static/{static}"] = b"static file"
    assert_clean_outcome(*run_build(files))


# --- hostile files: bounded time and memory ----------------------------------------------------

LAUGHS = "\n".join(["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"] +
                   [f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]" for i in range(8)])
HOSTILE = {  # name: (file, text, exit code, a line of what is printed)
    "billion laughs": ("content/p.md", f"---\ntitle: P\nstep: free\n{LAUGHS}\n---\nx\n", 1,
                       "content/p.md:4: error: the front matter holds more than 20,000 values once its anchors"),
    "billion laughs in a cascade": (
        "content/s/_index.md", "---\ntitle: S\nstep: free\ncascade:\n  " + LAUGHS.replace("\n", "\n  ") + "\n---\n",
        1, "content/s/_index.md:5: error: the front matter holds more than 20,000 values"),
    "100,000 nested brackets": ("content/p.md", "---\ntitle: P\nstep: free\nx: " + "[" * 100_000 + "]" * 100_000
                                + "\n---\n", 1, "content/p.md:4: error: values are nested more than 32 levels deep"),
    "deeply indented lists": ("content/p.md", "---\ntitle: P\nstep: free\nx:\n"
                              + "".join(" " * (i + 1) + "-\n" for i in range(200)) + "---\n", 1,
                              "error: values are nested more than 32 levels deep"),
    "a 400 KB front matter": ("content/p.md", "---\ntitle: P\nstep: free\nx: " + "y" * 400_000 + "\n---\n", 1,
                              "content/p.md:2: error: the front matter is 390 KB long: keep it under 256 KB"),
    "a 10 MB line of body": ("content/p.md", "---\ntitle: P\nstep: free\n---\n" + "word " * 2_000_000 + "\n", 0,
                             "Built 2 pages"),
    "100,000 nested quotes": ("content/p.md", "---\ntitle: P\nstep: free\n---\n" + ">" * 100_000 + " x\n", 0,
                              "Built 2 pages"),
    "100,000 nested list items": ("content/p.md", "---\ntitle: P\nstep: free\n---\n" + "- " * 100_000 + "x\n", 0,
                                  "Built 2 pages"),
    "a control character in front matter": ("content/p.md", "---\ntitle: P\x1f\nstep: free\n---\n", 1,
                                            "content/p.md:2: error: the front matter holds an invisible control "
                                            "character (U+001F): delete it, or retype the line"),
    "100,000 nested arrays in the config": (
        "stepstone.toml", 'title = "B"\nbase_url = "https://e.com/"\nx = ' + "[" * 100_000 + "]" * 100_000 + "\n", 1,
        "stepstone.toml:3: error: values are nested too deeply here: write them out flatter"),
}


def _one_gigabyte() -> None:
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_files_end_in_bounded_time_and_memory(name, tmp_path):
    rel, text, code, expected = HOSTILE[name]
    site = tmp_path / "site"
    for path, data in {"stepstone.toml": CONFIG.decode(), "content/index.md": HOME.decode(), rel: text}.items():
        (site / path).parent.mkdir(parents=True, exist_ok=True)
        (site / path).write_text(data, encoding="utf-8")
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "generator.cli", "build", "--site", str(site), "--jobs", "1"],
                            capture_output=True, text=True, timeout=60, preexec_fn=_one_gigabyte)
    assert time.monotonic() - started < 30
    assert result.returncode == code, result.stderr
    assert_clean_outcome(result.returncode, result.stdout + result.stderr)
    assert expected in result.stdout + result.stderr
