"""Shared fixtures: throwaway sites written from strings into tmp_path."""
from __future__ import annotations

import datetime as dt
import textwrap
from contextlib import contextmanager
from pathlib import Path

import pytest

from generator.build import BuildOptions, assemble, build

REPO = Path(__file__).resolve().parent.parent
TODAY = dt.date(2026, 11, 23)  # builds in tests are dated, so output never depends on the clock

BASIC_CONFIG = """\
title = "Test Site"
base_url = "https://example.com/"

[forms.signup]
provider = "generic"
action = "https://mail.example.com/subscribe"
"""


def write_site(root: Path, files: dict[str, str]) -> Path:
    """Write {relative path: text} under root (dedented); a missing stepstone.toml gets BASIC_CONFIG."""
    files = dict(files)
    files.setdefault("stepstone.toml", BASIC_CONFIG)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def build_elsewhere(site: Path, out: Path, **options):
    """A cold build of a copy of `site`'s sources into `out`: a reference that leaves the site's own
    .stepstone/ (its cache, and output/'s twin, which any build of the site would make anew) alone."""
    import shutil

    from generator.cache import BuildCache
    sources = out.with_name(out.name + "-sources")
    shutil.copytree(site, sources, symlinks=True, ignore=shutil.ignore_patterns("output", ".stepstone"))
    options.setdefault("today", TODAY)
    return build(BuildOptions(site=sources, out=out, **options), BuildCache())


def page(title: str, step: str, body: str = "Some text.", **front) -> str:
    """A Markdown file with front matter; extra keys are written as YAML-ish 'key: value' lines."""
    lines = [f"title: {title}", f"step: {step}"]
    for key, value in front.items():
        lines.append(f"{key}: {value}")
    return "---\n" + "\n".join(lines) + "\n---\n" + textwrap.dedent(body).strip("\n") + "\n"


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (hidden ones too): relative path -> bytes, to compare whole outputs."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def make_site(tmp_path):
    """make_site({path: text}) -> site folder in tmp_path."""
    def make(files: dict[str, str], name: str = "site") -> Path:
        return write_site(tmp_path / name, files)
    return make


@pytest.fixture
def build_site():
    """build_site(site, **options) -> Assembled; builds into site/output with TODAY as the date."""
    def run(site: Path, **options):
        options.setdefault("today", TODAY)
        return build(BuildOptions(site=site, **options))
    return run


@pytest.fixture
def assemble_site():
    def run(site: Path, **options):
        options.setdefault("today", TODAY)
        return assemble(BuildOptions(site=site, **options))
    return run


def assert_twin_follows(site: Path, or_untrusted: bool = False) -> None:
    """output/'s twin (generator/twin.py) holds what output/ holds, or lags behind it by exactly the
    files its note names, from the build it holds: what the next update needs to trust it. With
    `or_untrusted`, it may also be one that no note vouches for, which the next update makes anew."""
    import json
    out, twin = tree(site / "output"), tree(site / ".stepstone/twin")
    if twin == out:
        return
    build_of = {name: files.get(".stepstone-output", b"").decode().splitlines()[-1:]
                for name, files in (("out", out), ("twin", twin))}
    note = site / ".stepstone/twin.lag"
    if or_untrusted and not note.exists() and build_of["twin"] != build_of["out"]:
        return
    note = json.loads(note.read_text())
    assert (note["base"], note["target"]) == tuple(
        "".join(build_of[name]).removeprefix("build ") for name in ("twin", "out"))
    differ = {path for path in set(out) | set(twin) if out.get(path) != twin.get(path)} - {".stepstone-output"}
    assert differ <= set(note["paths"])


@pytest.fixture
def full_builds(monkeypatch):
    """How many builds of the site's output/ took the full path (which begins with `analyse`)."""
    calls = []
    import generator.build as build_module
    analyse = build_module.analyse

    def counted(options, *args, **kwargs):
        if options.out is None:  # not a reference built elsewhere
            calls.append(options)
        return analyse(options, *args, **kwargs)
    monkeypatch.setattr(build_module, "analyse", counted)
    return calls


@contextmanager
def cache_file_unwritable(name: str):
    """Inside: every save of .stepstone/`name` fails, as on a full disk or a kill just before it.
    Yields the list of the saves that failed."""
    import generator.cache as cache_module
    write, failed = cache_module._write_pickle, []

    def failing(path, value):
        if path.name == name:
            failed.append(path.name)
            raise OSError("disk full")
        write(path, value)

    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(cache_module, "_write_pickle", failing)
        yield failed
