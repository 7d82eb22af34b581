"""The `stepstone` command as a user types it: exit codes, error lines, what is written where.

Every test runs the installed `stepstone` script in a subprocess, so what is
checked is exactly what a user sees in a terminal. No build here depends on
today's date: pages carry no dates, or dates far in the past or future.

tests/broken/<kind>/ holds one small site per kind of mistake a non-programmer
makes; its expected.txt holds the exact problem lines `stepstone build` must
print to stderr (without the final 'stepstone: stopped' line). A site with a
latin1.txt lists files that are re-encoded from UTF-8 to Latin-1 after the
site is copied, so the repository holds only UTF-8 text.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import page, write_site

TESTS = Path(__file__).resolve().parent
BROKEN = TESTS / "broken"
BROKEN_SITES = sorted(p.name for p in BROKEN.iterdir() if p.is_dir())
NOT_SITE_FILES = ("expected.txt", "latin1.txt")

RELATIONSHIP = ["awareness", "free", "insider", "trial", "delight", "core", "referral", "advocate"]
LIFECYCLE = ["attract", "capture", "nurture", "convert", "satisfy", "upsell", "refer"]

# Broken sites whose current output contradicts SPEC.md or is unclear; expected.txt holds
# what Stepstone SHOULD print. Remove an entry once the engine is fixed (the xfail is strict).
BUGS = {
}

BASE_CONFIG = """\
title = "Fresh Couch Co."
base_url = "https://example.com/"

[forms.signup]
provider = "generic"
action = "https://mail.example.com/subscribe"
"""

# A clean site: an awareness room whose CTA is a door of the free step. Builds with no warnings.
CLEAN = {
    "stepstone.toml": BASE_CONFIG,
    "content/index.md": page("Fresh Couch Co.", "awareness", "We clean couches in Springfield."),
    "content/guides/_index.md": page("Couch care guides", "free", "Free guides for every couch.",
                                     offer="{headline: Read our free guides}"),
}

# The clean site plus a free room with no door of `insider` after it: one warning, no error.
GAP_WARNING = ("content/guides/stains.md:3: {severity}: the 1 page(s) of step 'free' show no next "
               "step, because step 'insider' has no door: add a page with 'step: insider' and an "
               "'offer:' block")
WARNS = {**CLEAN, "content/guides/stains.md": page("Stain guide", "free", "Blot, don't rub.")}


# --- helpers -------------------------------------------------------------------------------

def _stepstone() -> list[str]:
    beside = Path(sys.executable).with_name("stepstone")
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("stepstone")
    assert found, "the stepstone command is not installed"
    return [found]


STEPSTONE = _stepstone()


def run(*args, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "NO_COLOR": "1"}
    return subprocess.run([*STEPSTONE, *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          env=env, timeout=120)


def no_traceback(result: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in result.stdout + result.stderr


def stopped_line(problem_lines: list[str]) -> str:
    errors = sum(": error: " in line for line in problem_lines)
    warnings = len(problem_lines) - errors
    return (f"stepstone: stopped: {errors} error{'s' * (errors != 1)}, "
            f"{warnings} warning{'s' * (warnings != 1)}; nothing was written")


def copy_broken(name: str, dest: Path) -> Path:
    """Copy tests/broken/<name> to dest as a plain site, re-encoding latin1.txt's files."""
    source = BROKEN / name
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns(*NOT_SITE_FILES))
    latin1 = source / "latin1.txt"
    if latin1.is_file():
        for rel in latin1.read_text(encoding="utf-8").split():
            path = dest / rel
            text = path.read_text(encoding="utf-8")
            assert not text.isascii(), f"{rel} must hold a character that Latin-1 writes differently"
            path.write_bytes(text.encode("latin-1"))
    return dest


def expected_lines(name: str) -> list[str]:
    return (BROKEN / name / "expected.txt").read_text(encoding="utf-8").splitlines()


def snapshot(folder: Path) -> dict[str, str]:
    """Every file and folder under `folder` (hidden ones too): relative path -> sha256 or 'dir'."""
    found = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        found[rel] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return found


class _Attrs(HTMLParser):
    URL_ATTRS = {"href", "src", "action", "poster", "data-url", "data-href", "data-thank-you"}

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self.body_steps: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in self.URL_ATTRS and value is not None:
                self.urls.append(value)
            if name == "srcset" and value:
                self.urls += [part.split()[0] for part in value.split(",") if part.strip()]
        if tag == "body":
            self.body_steps += [v for n, v in attrs if n == "data-step" and v]


def parse_html(path: Path) -> _Attrs:
    parser = _Attrs()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def broken_params():
    for name in BROKEN_SITES:
        marks = [pytest.mark.xfail(reason=BUGS[name], strict=True)] if name in BUGS else []
        yield pytest.param(name, marks=marks, id=name)


# --- broken sites ---------------------------------------------------------------------------

def test_every_broken_site_has_expected_lines():
    assert len(BROKEN_SITES) >= 20
    for name in BROKEN_SITES:
        site = BROKEN / name
        assert (site / "stepstone.toml").is_file(), name
        assert (site / "content").is_dir(), name
        lines = expected_lines(name)
        assert lines, name
        for line in lines:
            assert re.fullmatch(r"[^:\s]+(:\d+)?: (error|warning): \S.*", line), (name, line)
    assert set(BUGS) <= set(BROKEN_SITES)


@pytest.mark.parametrize("name", list(broken_params()))
def test_build_reports_broken_site(name, tmp_path):
    site = copy_broken(name, tmp_path / "site")
    result = run("build", "--site", site, cwd=tmp_path)
    no_traceback(result)
    lines = result.stderr.splitlines()
    expected = expected_lines(name)
    assert lines[:-1] == expected
    assert lines[-1:] == [stopped_line(expected)]
    assert result.returncode == 1
    assert result.stdout == ""
    assert not (site / "output").exists()


@pytest.mark.parametrize("name", list(broken_params()))
def test_check_reports_broken_site(name, tmp_path):
    site = copy_broken(name, tmp_path / "site")
    result = run("check", "--site", site, cwd=tmp_path)
    no_traceback(result)
    lines = result.stderr.splitlines()
    assert lines[:-1] == expected_lines(name)
    assert lines[-1:] == [stopped_line(expected_lines(name))]
    assert result.returncode == 1
    assert not (site / "output").exists()


@pytest.mark.parametrize("name", ["misspelt-step", "invalid-toml", "latin1-file", "several-mistakes"])
@pytest.mark.parametrize("command", ["build", "check"])
def test_debug_is_accepted_and_changes_no_problem_line(command, name, tmp_path):
    site = copy_broken(name, tmp_path / "site")
    result = run(command, "--site", site, "--debug", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines()[:-1] == expected_lines(name)
    no_traceback(result)  # a mistake in the owner's files is not a crash, even with --debug


def test_debug_is_accepted_on_a_clean_build(tmp_path):
    site = write_site(tmp_path / "site", CLEAN)
    result = run("build", "--debug", "--site", site, cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    assert (site / "output/index.html").is_file()


# --- usage errors: exit 2 -------------------------------------------------------------------

def test_no_config_is_a_usage_error(tmp_path):
    (tmp_path / "content").mkdir()
    for command in ("build", "check"):
        result = run(command, cwd=tmp_path)
        assert result.returncode == 2, command
        assert result.stderr == ("stepstone: error: no stepstone.toml in .: run 'stepstone new DIR' "
                                 "to start a site, or pass --site DIR\n")
        no_traceback(result)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["content"]


def test_missing_site_folder_is_a_usage_error(tmp_path):
    result = run("build", "--site", "nowhere", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == ("stepstone: error: no stepstone.toml in nowhere: run 'stepstone new "
                             "DIR' to start a site, or pass --site DIR\n")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [
    ["build", "--bogus"],
    ["check", "--drafts"],
    ["build", "--jobs", "0"],
    ["new"],
    ["new", "x", "--funnel", "hourglass"],
    ["publish"],
])
def test_bad_command_line_is_a_usage_error(args, tmp_path):
    write_site(tmp_path, CLEAN)
    before = snapshot(tmp_path)
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert "Usage: stepstone" in result.stderr
    assert result.stdout == ""
    no_traceback(result)
    assert snapshot(tmp_path) == before


def test_new_into_a_non_empty_folder_is_a_usage_error(tmp_path):
    target = tmp_path / "mysite"
    target.mkdir()
    (target / "notes.txt").write_text("mine\n")
    result = run("new", "mysite", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "stepstone: error: mysite already exists and is not empty: choose a new folder name\n"
    no_traceback(result)
    assert snapshot(target) == {"notes.txt": hashlib.sha256(b"mine\n").hexdigest()}


def test_new_into_an_empty_folder_is_fine(tmp_path):
    (tmp_path / "mysite").mkdir()
    result = run("new", "mysite", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "mysite/stepstone.toml").is_file()


@pytest.mark.parametrize("out, label", [
    (".", "the site folder"),
    ("content", "content/"),
    ("content/built", "content/"),
    ("static", "static/"),
    ("themes", "themes/"),
    ("..", "the site folder"),
    ("../..", "the site folder"),
])
def test_out_that_would_swallow_the_owners_files_is_a_usage_error(out, label, tmp_path):
    site = write_site(tmp_path / "work" / "site", {**CLEAN, "static/logo.txt": "logo\n",
                                                   "themes/README.txt": "themes\n"})
    before = snapshot(tmp_path)
    result = run("build", "--site", site, "--out", site / out, cwd=tmp_path)
    assert result.returncode == 2
    resolved = (site / out).resolve()
    assert result.stderr == (f"stepstone: error: refusing to build into {resolved}: it is, contains or "
                             f"is inside {label}, which holds your own files; choose another --out "
                             f"folder\n")
    no_traceback(result)
    assert snapshot(tmp_path) == before


def test_out_at_a_foreign_non_empty_folder_is_a_usage_error(tmp_path):
    site = write_site(tmp_path / "site", CLEAN)
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "holiday.jpg").write_bytes(b"\xff\xd8 not really a photo")
    before = snapshot(tmp_path)
    result = run("build", "--site", site, "--out", foreign, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (f"stepstone: error: refusing to build into {foreign.resolve()}: it is not "
                             f"empty and was not made by Stepstone; choose an empty or new folder "
                             f"(Stepstone replaces its output folder whole)\n")
    no_traceback(result)
    assert snapshot(tmp_path) == before


def test_out_at_a_file_is_a_usage_error(tmp_path):
    site = write_site(tmp_path / "site", CLEAN)
    (tmp_path / "public").write_text("a file\n")
    result = run("build", "--site", site, "--out", tmp_path / "public", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (f"stepstone: error: refusing to build into {(tmp_path / 'public').resolve()}: "
                             f"it is a file, not a folder\n")
    assert (tmp_path / "public").read_text() == "a file\n"


def test_out_elsewhere_builds_there_and_again_over_its_own_output(tmp_path):
    site = write_site(tmp_path / "site", CLEAN)
    out = tmp_path / "public"
    for _ in range(2):  # the second build replaces a folder Stepstone made itself
        result = run("build", "--site", site, "--out", out, cwd=tmp_path)
        assert (result.returncode, result.stderr) == (0, "")
    assert (out / "index.html").is_file()
    assert not (site / "output").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["public", "site"]


# --- check -----------------------------------------------------------------------------------

MAP_SITE = {
    **CLEAN,
    "content/guides/stains.md": page("Stain guide", "free", "Blot, don't rub.", tags="[stains]"),
    "content/insider/signup.md": page("Stain checklist", "insider", "Get the checklist.", tags="[stains]",
                                      offer="{headline: Get the stain checklist}", form="signup",
                                      thank_you="insider/welcome"),
    "content/insider/welcome.md": page("Welcome, insider", "insider", "Here is your checklist."),
    "content/trial/coupon.md": page("First couch coupon", "trial", "Half price.",
                                    offer="{headline: Half price first clean, url: 'https://book.example.com/'}"),
}

MAP_TEXT = """\
Funnel of Fresh Couch Co.: 8 steps, 6 pages

1. awareness  Awareness (public)
     room  index  → guides/_index
2. free       Free value (public)
     door  guides/_index  [no button (its page is the offer)]
     room  guides/stains  → insider/signup
3. insider    Insider (gated)
     door  insider/signup  [its own offer]
     room  insider/welcome  → trial/coupon
4. trial      Trial (gated)
     door  trial/coupon  [its own offer]
5. delight    Delight (gated)
     door  (none)
     (no pages)
6. core       Core offer (gated)
     door  (none)
     (no pages)
7. referral   Referral (gated)
     door  (none)
     (no pages)
8. advocate   Advocate (gated)
     door  (none)
     (no pages)

0 errors, 0 warnings
"""


def test_check_prints_the_funnel_map_and_writes_nothing(tmp_path):
    site = write_site(tmp_path / "site", MAP_SITE)
    before = snapshot(tmp_path)
    for args in (["check", "--site", site], ["check", "--site", site, "--strict"]):
        result = run(*args, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""
        assert result.stdout == MAP_TEXT
    assert snapshot(tmp_path) == before


def test_check_map_shows_a_gap_and_exits_0_on_warnings(tmp_path):
    site = write_site(tmp_path / "site", WARNS)
    result = run("check", "--site", site, cwd=tmp_path)
    assert result.returncode == 0
    assert "     room  guides/stains  → (no door: gap)\n" in result.stdout
    assert "     room  index  → guides/_index\n" in result.stdout
    assert result.stdout.endswith("\n0 errors, 1 warning\n")
    assert result.stderr == GAP_WARNING.format(severity="warning") + "\n"
    assert not (site / "output").exists()


def test_check_strict_fails_on_warnings(tmp_path):
    site = write_site(tmp_path / "site", WARNS)
    result = run("check", "--site", site, "--strict", cwd=tmp_path)
    assert result.returncode == 1
    no_traceback(result)
    problem = GAP_WARNING.format(severity="error")
    assert result.stderr.splitlines() == [problem, stopped_line([problem])]
    assert not (site / "output").exists()


def test_check_strict_still_prints_the_map(tmp_path):
    """--strict changes the exit code, not what check shows."""
    site = write_site(tmp_path / "site", WARNS)
    normal = run("check", "--site", site, cwd=tmp_path)
    result = run("check", "--site", site, "--strict", cwd=tmp_path)
    assert (normal.returncode, result.returncode) == (0, 1)
    assert "     room  guides/stains  → (no door: gap)\n" in result.stdout
    assert result.stdout == normal.stdout.removesuffix("0 errors, 1 warning\n")


def test_check_exits_1_on_errors(tmp_path):
    site = write_site(tmp_path / "site", {**MAP_SITE, "content/about.md": page("About", "awarness")})
    result = run("check", "--site", site, cwd=tmp_path)
    assert result.returncode == 1
    no_traceback(result)
    problem = ("content/about.md:3: error: unknown step 'awarness' (did you mean 'awareness'?); the "
               "steps are: awareness, free, insider, trial, delight, core, referral, advocate")
    assert result.stderr.splitlines() == [problem, stopped_line([problem])]
    assert result.stdout.startswith("Funnel of Fresh Couch Co.: 8 steps, 7 pages\n")  # the map still helps
    assert "     room  insider/welcome  → trial/coupon\n" in result.stdout
    assert not (site / "output").exists()


# --- build: strict, failures, stale files ----------------------------------------------------

def test_build_prints_warnings_and_succeeds_without_strict(tmp_path):
    site = write_site(tmp_path / "site", WARNS)
    result = run("build", "--site", site, cwd=tmp_path)
    assert result.returncode == 0
    assert result.stderr == GAP_WARNING.format(severity="warning") + "\n"
    assert re.fullmatch(r"Built 3 pages into \S+: 3 written, 0 unchanged, in \d+\.\d\d s \(0 errors, 1 warning\)\n", result.stdout)
    assert (site / "output/guides/stains/index.html").is_file()


def test_build_strict_fails_on_a_warning(tmp_path):
    site = write_site(tmp_path / "site", WARNS)
    result = run("build", "--site", site, "--strict", cwd=tmp_path)
    assert result.returncode == 1
    no_traceback(result)
    problem = GAP_WARNING.format(severity="error")
    assert result.stderr.splitlines() == [problem, stopped_line([problem])]
    assert result.stdout == ""
    assert not (site / "output").exists()


def test_a_build_with_nothing_changed_says_what_the_last_said_without_loading_the_pipeline(tmp_path):
    site = write_site(tmp_path / "site", WARNS)
    first = run("build", "--site", site, cwd=tmp_path)
    assert first.returncode == 0
    again = run("build", "--site", site, cwd=tmp_path)
    assert again.returncode == 0
    assert again.stderr == first.stderr == GAP_WARNING.format(severity="warning") + "\n"
    assert re.fullmatch(r"Built 3 pages into \S+: 0 written, 3 unchanged, in \d+\.\d\d s \(0 errors, 1 warning\)\n",
                        again.stdout)
    strict = run("build", "--site", site, "--strict", cwd=tmp_path)  # the same warning, now an error
    assert strict.returncode == 1
    assert strict.stderr.splitlines()[0] == GAP_WARNING.format(severity="error")
    # Answered from the last build's record: Jinja, the Markdown engines and PyYAML never load.
    probe = ("import sys; from generator.cli import main\n"
             "try:\n    main(['build', '--site', sys.argv[1]])\n"
             "except SystemExit:\n    pass\n"
             "print(sorted(m for m in ('jinja2', 'markdown_it', 'markdown_it_pyrs', 'yaml', 'generator.build')"
             " if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", probe, str(site)], capture_output=True, text=True, timeout=120)
    assert loaded.stdout.splitlines()[-1] == "[]", loaded.stdout + loaded.stderr
    assert "0 written, 3 unchanged" in loaded.stdout


def test_the_program_leaves_at_once_with_every_line_written_to_a_file(tmp_path):
    """The command ends without Python's clean-up (cli.leave_process): what it printed into a
    file, which Python buffers whole, still gets there, and so do the records of the build."""
    site = write_site(tmp_path / "site", WARNS)
    log = tmp_path / "log.txt"
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "NO_COLOR": "1"}
    for _ in range(2):
        with open(log, "w") as out:
            done = subprocess.run([*STEPSTONE, "build", "--site", str(site)], cwd=tmp_path, stdout=out,
                                  stderr=subprocess.STDOUT, env=env, timeout=120)
        assert done.returncode == 0
        lines = log.read_text().splitlines()
        assert lines[0] == GAP_WARNING.format(severity="warning")
        assert re.fullmatch(r"Built 3 pages into \S+: \d written, \d unchanged, in \d+\.\d\d s "
                            r"\(0 errors, 1 warning\)", lines[1])
    assert "0 written, 3 unchanged" in lines[1]  # the first build's records were all saved


def test_clean_build_prints_no_problem(tmp_path):
    site = write_site(tmp_path / "site", CLEAN)
    result = run("build", "--site", site, "--strict", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stderr == ""
    assert re.fullmatch(r"Built 2 pages into \S+: 2 written, 0 unchanged, in \d+\.\d\d s \(0 errors, 0 warnings\)\n", result.stdout)


BREAKAGES = {
    "content error": ("content/index.md", page("Fresh Couch Co.", "awarness", "We clean couches.")),
    "config error": ("stepstone.toml", BASE_CONFIG.replace('"Fresh Couch Co."', "Fresh Couch Co.")),
    "strict warning": ("content/guides/stains.md", page("Stain guide", "free", "Blot, don't rub.")),
    "missing layout": ("content/about.md", page("About", "awareness", layout="nonesuch")),
    "latin-1 file": ("content/about.md", None),
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_failed_build_leaves_previous_output_byte_for_byte(breakage, tmp_path):
    site = write_site(tmp_path / "site", {**CLEAN, "static/logo.txt": "logo\n",
                                          "content/guides/tips.pdf": "%PDF pretend\n"})
    first = run("build", "--site", site, "--strict", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    output_before = snapshot(site / "output")
    assert "index.html" in output_before and "guides/tips.pdf" in output_before
    rel, text = BREAKAGES[breakage]
    if text is None:
        (site / rel).write_bytes(page("Caf\u00e9", "awareness").encode("latin-1"))
    else:
        (site / rel).write_text(text, encoding="utf-8")
    everything_before = snapshot(tmp_path)
    result = run("build", "--site", site, "--strict", cwd=tmp_path)
    assert result.returncode == 1
    no_traceback(result)
    assert result.stderr.endswith("; nothing was written\n")
    assert snapshot(site / "output") == output_before
    assert snapshot(tmp_path) == everything_before


def test_good_build_removes_stale_files_of_an_earlier_build(tmp_path):
    site = write_site(tmp_path / "site", {**CLEAN, "content/old-news.md": page("Old news", "awareness"),
                                          "static/old.css": "p {}\n"})
    assert run("build", "--site", site, "--strict", cwd=tmp_path).returncode == 0
    assert (site / "output/old-news/index.html").is_file()
    assert (site / "output/old.css").is_file()
    (site / "content/old-news.md").unlink()
    (site / "static/old.css").unlink()
    (site / "content/new.md").write_text(page("New", "awareness"), encoding="utf-8")
    result = run("build", "--site", site, "--strict", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    assert not (site / "output/old-news").exists()
    assert not (site / "output/old.css").exists()
    assert (site / "output/new/index.html").is_file()
    assert "old-news" not in (site / "output/sitemap.xml").read_text()


def test_build_writes_nothing_outside_output(tmp_path):
    site = write_site(tmp_path / "site", {**MAP_SITE, "static/logo.txt": "logo\n"})
    before = snapshot(tmp_path)
    for _ in range(2):  # a first build, then a rebuild over the first output
        result = run("build", "--site", site, "--strict", cwd=tmp_path)
        assert (result.returncode, result.stderr) == (0, "")
        after = snapshot(tmp_path)
        changed = {rel for rel in before.keys() | after.keys() if before.get(rel) != after.get(rel)}
        assert changed, "the build wrote nothing"
        # only output/ and Stepstone's own cache folder (.stepstone/, safe to delete)
        outside = sorted(rel for rel in changed if rel.split("/")[1] not in ("output", ".stepstone"))
        assert outside == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]
    assert sorted(p.name for p in site.iterdir()) == [".stepstone", "content", "output", "static", "stepstone.toml"]


# --- base URL, drafts, future ----------------------------------------------------------------

LINKS_PAGE = """\
---
title: Useful links
step: awareness
---
Our [blog](/blog/), [home](index.md), [first post](blog/first-post.md#top),
the [price list](prices.pdf) and the [feed](/feed.xml).

![Our logo](/logo.png)
"""


@pytest.mark.parametrize("base_url", ["https://x.test/sub/", "https://x.test/sub"])
def test_base_url_puts_the_sub_path_in_front_of_every_internal_link(base_url, tmp_path):
    site = tmp_path / "site"
    assert run("new", site, cwd=tmp_path).returncode == 0
    (site / "content/links.md").write_text(LINKS_PAGE, encoding="utf-8")
    (site / "content/prices.pdf").write_bytes(b"%PDF pretend\n")
    (site / "static").mkdir(exist_ok=True)
    (site / "static/logo.png").write_bytes(b"\x89PNG pretend")
    result = run("build", "--site", site, "--base-url", base_url, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = site / "output"
    internal = 0
    for html in sorted(out.rglob("*.html")):
        for url in parse_html(html).urls:
            if url.startswith("/") and not url.startswith("//"):
                internal += 1
                assert url.startswith("/sub/"), f"{html.relative_to(out)}: {url}"
            if re.match(r"https?://x\.test", url):
                assert url.startswith("https://x.test/sub/"), f"{html.relative_to(out)}: {url}"
    assert internal > 50
    links = parse_html(out / "links/index.html").urls
    for url in ["/sub/blog/", "/sub/", "/sub/blog/first-post/#top", "/sub/prices.pdf", "/sub/feed.xml",
                "/sub/logo.png"]:
        assert url in links
    for xml in ("sitemap.xml", "feed.xml", "robots.txt"):
        text = (out / xml).read_text(encoding="utf-8")
        absolute = re.findall(r"https?://x\.test[^\s<\"']*", text)
        assert absolute, xml
        assert all(u.startswith("https://x.test/sub/") for u in absolute), (xml, absolute)
    assert "https://example.com/blog" not in (out / "sitemap.xml").read_text(encoding="utf-8")


@pytest.mark.parametrize("base_url", ["example.com", "www.example.com/couch/", "not a url"])
def test_base_url_that_is_not_an_address_is_a_usage_error(base_url, tmp_path):
    site = write_site(tmp_path / "site", CLEAN)
    result = run("build", "--site", site, "--base-url", base_url, cwd=tmp_path)
    no_traceback(result)
    assert not (site / "output").exists()
    assert result.returncode == 2
    assert f"'{base_url}'" in result.stderr and "https://" in result.stderr


DRAFT_AND_FUTURE = {
    **CLEAN,
    "content/draft.md": page("Work in progress", "awareness", draft="true"),
    "content/later.md": page("Next century", "awareness", date="2999-01-01"),
    "content/earlier.md": page("Last century", "awareness", date="1999-01-01"),
}


@pytest.mark.parametrize("flags, built", [
    ([], {"earlier"}),
    (["--drafts"], {"earlier", "draft"}),
    (["--future"], {"earlier", "later"}),
    (["--drafts", "--future"], {"earlier", "draft", "later"}),
])
def test_drafts_and_future_pages_build_only_when_asked(flags, built, tmp_path):
    site = write_site(tmp_path / "site", DRAFT_AND_FUTURE)
    result = run("build", "--site", site, "--strict", *flags, cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    for name in ("draft", "later", "earlier"):
        assert (site / "output" / name / "index.html").is_file() == (name in built), name
    pages = 2 + len(built)
    assert result.stdout.startswith(f"Built {pages} pages into ")


# --- stepstone new ----------------------------------------------------------------------------

@pytest.mark.parametrize("args, steps", [
    ([], RELATIONSHIP),
    (["--funnel", "relationship"], RELATIONSHIP),
    (["--funnel", "lifecycle"], LIFECYCLE),
])
def test_new_site_builds_strict_and_covers_every_step(args, steps, tmp_path):
    made = run("new", "mysite", *args, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    no_traceback(made)
    site = tmp_path / "mysite"
    assert (site / "stepstone.toml").is_file()
    before = snapshot(site)
    result = run("build", "--site", "mysite", "--strict", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    assert re.fullmatch(r"Built \d+ pages into mysite/output: \d+ written, 0 unchanged, in \d+\.\d\d s \(0 errors, 0 warnings\)\n",
                        result.stdout)
    seen = {step for html in (site / "output").rglob("*.html") for step in parse_html(html).body_steps}
    assert seen == set(steps)
    after = snapshot(site)
    assert {k: v for k, v in after.items() if not k.startswith(("output", ".stepstone"))} == before
    checked = run("check", "--site", "mysite", "--strict", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    for i, step in enumerate(steps, 1):
        assert re.search(rf"^{i}\. {step} +\S.* \((public|gated)\)$", checked.stdout, re.M), step
    assert checked.stdout.endswith("0 errors, 0 warnings\n")


def test_check_format_json_gives_the_map_and_problems_for_scripts(tmp_path):
    import json
    site = write_site(tmp_path / "site", WARNS)
    before = snapshot(tmp_path)
    result = run("check", "--site", site, "--format", "json", cwd=tmp_path)
    assert result.returncode == 0 and result.stderr == ""
    data = json.loads(result.stdout)
    assert [s["id"] for s in data["steps"]][:3] == ["awareness", "free", "insider"]
    free = data["steps"][1]
    assert {"page": "guides/stains", "cta": ""} in free["rooms"]
    assert data["problems"][0]["severity"] == "warning" and data["problems"][0]["path"].startswith("content/")
    strict = run("check", "--site", site, "--format", "json", "--strict", cwd=tmp_path)
    assert strict.returncode == 1 and json.loads(strict.stdout)["problems"][0]["severity"] == "error"
    no_traceback(strict)
    assert snapshot(tmp_path) == before


def test_check_output_piped_into_head_ends_quietly(tmp_path):
    site = write_site(tmp_path / "site", MAP_SITE)
    result = subprocess.run(f"{sys.executable} -m generator.cli check --site {site} | head -1", shell=True,
                            capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
    assert result.stdout.startswith("Funnel of") and "Traceback" not in result.stderr
    assert "internal error" not in result.stderr
