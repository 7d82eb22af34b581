"""A build killed at any moment (SIGKILL to it and its workers) loses nothing: output/ is the old
site or the new one, and the next build finishes the job exactly as a clean build would.

The kill points are random over the whole length of a build (reading, rendering, writing, the
swap), in both ways output/ is written: a whole new folder swapped in (no cache) and files
replaced in place (with the cache). KILL_TRIALS sets the number of kills per way.
"""
from __future__ import annotations

import errno
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import generator.build as build_module
import generator.write as write_module
from conftest import REPO, assert_twin_follows, page, tree, write_site
from generator.cli import main

TRIALS = int(os.environ.get("KILL_TRIALS", "8"))


def run_build(site: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "generator.cli", "build", "--site", str(site), "--jobs", "2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True)


def finish(site: Path) -> None:
    assert run_build(site).wait(timeout=120) == 0


def make_versions(root: Path) -> tuple[Path, dict[str, bytes], dict[str, bytes], dict[str, float]]:
    """A 300-page site built as version A (kept, with its cache), the tree of version B, and how
    long building B takes each way."""
    files = {"content/index.md": page("Home", "awareness", "Welcome.")}
    for i in range(300):
        files[f"content/guides/guide-{i:03}.md"] = page(f"Guide {i}", "free", f"Text of guide {i}.\n\n" * 20,
                                                       tags=f"[t{i % 7}]")
    site = write_site(root / "a", files)
    finish(site)
    old = tree(site / "output")
    took = {}
    for way in ("in place", "whole new folder"):
        b = root / way.replace(" ", "-")
        shutil.copytree(site, b)
        if way == "whole new folder":
            shutil.rmtree(b / ".stepstone")
        to_version_b(b)
        started = time.monotonic()
        finish(b)
        took[way] = time.monotonic() - started
    return site, old, tree(b / "output"), took


def to_version_b(site: Path) -> None:
    """Every page changes (the site's title is on each) and some pages go away."""
    config = site / "stepstone.toml"
    config.write_text(config.read_text().replace('title = "Test Site"', 'title = "Test Site, renamed"'))
    for i in range(0, 300, 10):
        (site / f"content/guides/guide-{i:03}.md").unlink()


@pytest.fixture(scope="module")
def versions(tmp_path_factory):
    return make_versions(tmp_path_factory.mktemp("kill"))


@pytest.mark.slow
@pytest.mark.parametrize("way", ["whole new folder", "in place"])
def test_a_build_killed_at_random_moments_leaves_the_old_site_or_the_new(versions, way, tmp_path):
    site_a, old, new, took = versions
    assert old != new
    rng = random.Random(20261123)
    seen = {"old": 0, "new": 0}
    for trial in range(TRIALS):
        site = tmp_path / f"trial-{trial}"
        shutil.copytree(site_a, site)
        if way == "whole new folder":
            shutil.rmtree(site / ".stepstone")  # no cache: the build writes a new folder and swaps it in
        to_version_b(site)
        process = run_build(site)
        time.sleep(rng.uniform(0.05, took[way] * 1.6))  # past the end too: some builds finish
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        found = tree(site / "output")
        assert found in (old, new), f"trial {trial}: output/ is a mix of two builds"
        seen["old" if found == old else "new"] += 1
        finish(site)
        assert tree(site / "output") == new, f"trial {trial}: the next build did not finish the job"
        assert not list(site.glob(".output*")), "a staging folder was left beside output/"
        assert_twin_follows(site)
        shutil.rmtree(site, ignore_errors=True)  # its old output may still be going in the background
    print(way, seen)
    assert sum(seen.values()) == TRIALS


# Every step of an update in place, one kill at each: the twin is written, swapped in, then caught up.
KILL_AT_CALL = r"""
import os, signal, sys
import generator.twin as twin
calls = [0]
def counted(name, real):
    def call(*args, **kwargs):
        calls[0] += 1
        if calls[0] == int(os.environ["KILL_AT"]):
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)
    return call
for name in ("make_folder_of", "exchange", "forget", "remove_files"):
    setattr(twin, name, counted(name, getattr(twin, name)))
os.open = counted("os.open", os.open)  # the twin's files opened, then written
os.write = counted("os.write", os.write)
os.ftruncate = counted("ftruncate", os.ftruncate)
os.link = counted("link", os.link)
os.unlink = counted("unlink", os.unlink)
os.replace = counted("replace", os.replace)
if os.environ.get("NO_FULL_BUILD"):  # a shortcut's steps are what is killed, not the full build's
    import generator.build as build
    build.analyse = lambda *args, **kwargs: sys.exit("the full build ran")
from generator.cli import main
main(["build", "--site", sys.argv[1], "--jobs", "1"])
"""


def kill_at_each_step(tmp_path: Path, ready, shortcut: bool = False
                      ) -> tuple[list[dict[str, bytes]], dict[str, bytes], str]:
    """One build per kill point of KILL_AT_CALL, each on a site `ready(folder)` makes there, until a
    build runs to its end (with `shortcut`, one that must not take the full build). After each kill,
    the next build must finish the job, its twin whole again. Returns what output/ held after each
    kill, what the finished build wrote, and what it said."""
    killed, redone = [], []
    for at in range(1, 400):
        site = tmp_path / f"at-{at}"
        ready(site)
        env = {**os.environ, "PYTHONPATH": str(REPO), "KILL_AT": str(at), "NO_FULL_BUILD": "1" if shortcut else ""}
        done = subprocess.run([sys.executable, "-c", KILL_AT_CALL, str(site)], env=env, capture_output=True, text=True)
        found = tree(site / "output")
        if done.returncode == 0:  # past the last step: the build finished
            assert all(tree_after == found for tree_after in redone)
            return killed, found, done.stdout
        assert done.returncode == -signal.SIGKILL, done.stderr
        killed.append(found)
        finish(site)
        redone.append(tree(site / "output"))
        assert_twin_follows(site)
        shutil.rmtree(site)
    pytest.fail("the build never finished")


def test_an_update_killed_at_each_of_its_steps_leaves_the_old_site_or_the_new(tmp_path):
    files = {"content/index.md": page("Home", "awareness", "Welcome.")}
    files.update({f"content/p{i}.md": page(f"Page {i}", "free", f"Text {i}.", tags="[a]") for i in range(8)})
    first = write_site(tmp_path / "first", files)
    finish(first)
    old = tree(first / "output")
    (first / "content/p1.md").write_text(page("Page 1", "free", "Edited."))
    (first / "content/p2.md").unlink()                                      # a page goes
    (first / "content/p9.md").write_text(page("Page 9", "free", "New.", tags="[a]"))  # a page comes
    (first / "content/p3.md").write_text(page("Page 3", "free", "Text 3.", tags="[b]"))  # a tag page comes
    killed, new, _ = kill_at_each_step(tmp_path, lambda site: shutil.copytree(first, site, symlinks=True))
    print(f"kills: {len(killed)}, old or new each time")
    assert killed[0] == old and old != new and len(killed) > 20
    assert {"old" if found == old else "new" if found == new else "a mix" for found in killed} == {"old", "new"}


def test_a_splice_killed_at_each_of_its_steps_leaves_the_old_site_or_the_new(tmp_path):
    """Body edits alone are set into the pages' last HTML (generator/splice.py), through the twin too."""
    files = {"content/index.md": page("Home", "awareness", "Welcome.")}
    files.update({f"content/p{i}.md": page(f"Page {i}", "free", f"Text {i}.\n\nMore {i}.", tags="[a]")
                  for i in range(8)})
    first = write_site(tmp_path / "first", files)
    olds = []

    def ready(site):
        shutil.copytree(first, site, symlinks=True)
        finish(site)  # here: the record of the last build holds its paths
        olds.append(tree(site / "output"))
        for i in (1, 4):
            (site / f"content/p{i}.md").write_text(page(f"Page {i}", "free", f"Text {i}.\n\nEdited {i}.", tags="[a]"))

    killed, new, said = kill_at_each_step(tmp_path, ready)
    assert "2 written, 7 unchanged" in said  # spliced: the full build would render the home page too
    old = olds[0]
    assert all(each == old for each in olds)
    print(f"kills: {len(killed)}, old or new each time")
    assert old != new and len(killed) > 5
    assert {"old" if found == old else "new" if found == new else "a mix" for found in killed} == {"old", "new"}


BRAND = "themes/default/templates/partials/brand.html"


def accent(colour: str) -> str:
    return f"<style>:root {{ --accent: {colour}; }}</style>\n"


def branded_site(root: Path) -> Path:
    """A home page and eight pages of two paragraphs, with a template of the theme to edit (BRAND)."""
    files = {"content/index.md": page("Home", "awareness", "Welcome.")}
    files.update({f"content/p{i}.md": page(f"Page {i}", "free", f"Text {i}.\n\nMore {i}.", tags="[a]")
                  for i in range(8)})
    files[BRAND] = accent("#123")
    return write_site(root, files)


def test_a_one_page_splice_after_a_template_edit_killed_at_each_step_leaves_the_old_site_or_the_new(tmp_path):
    """One page is renamed into output/ (twin.rename_in), whose twin lags by every page after a template
    edit. Its marker and a note that it is being updated are Stepstone's: the site is the rest."""
    first = branded_site(tmp_path / "first")
    olds = []

    def ready(site):
        shutil.copytree(first, site, symlinks=True)
        finish(site)
        (site / BRAND).write_text(accent("#456"))
        finish(site)  # a restyle: the twin now lags by every page
        olds.append(tree(site / "output"))
        (site / "content/p4.md").write_text(page("Page 4", "free", "Text 4.\n\nEdited 4.", tags="[a]"))

    def the_site(files):
        return {path: data for path, data in files.items() if path not in (".stepstone-output", ".stepstone-pending")}

    killed, new, said = kill_at_each_step(tmp_path, ready, shortcut=True)
    assert "1 written, 8 unchanged" in said
    old = olds[0]
    assert all(each == old for each in olds)
    print(f"kills: {len(killed)}, old or new each time")
    assert the_site(old) != the_site(new) and len(killed) > 3
    sites = ["old" if the_site(found) == the_site(old) else "new" if the_site(found) == the_site(new) else "a mix"
             for found in killed]
    assert set(sites) == {"old", "new"}, sites
    assert any(".stepstone-pending" in found for found in killed)  # stopped while it was being updated


def test_a_restyle_killed_at_each_of_its_steps_leaves_the_old_site_or_the_new(tmp_path):
    """Template edits alone render the last build's site again (generator/restyle.py), through the twin too."""
    first = branded_site(tmp_path / "first")
    olds = []

    def ready(site):
        shutil.copytree(first, site, symlinks=True)
        finish(site)
        olds.append(tree(site / "output"))
        (site / BRAND).write_text(accent("#456"))

    killed, new, said = kill_at_each_step(tmp_path, ready, shortcut=True)
    assert "9 written, 0 unchanged" in said and b"#456" in new["index.html"]  # every page
    old = olds[0]
    assert all(each == old for each in olds)
    print(f"kills: {len(killed)}, old or new each time")
    assert old != new and len(killed) > 20
    assert {"old" if found == old else "new" if found == new else "a mix" for found in killed} == {"old", "new"}


# --- the disk says no -------------------------------------------------------------------------------

def _disk_full_after(count: int, real):
    calls = []

    def write(*args, **kwargs):
        calls.append(1)
        if len(calls) > count:
            raise OSError(errno.ENOSPC, "No space left on device", str(args[0]))
        return real(*args, **kwargs)
    return write


@pytest.fixture
def built_site(tmp_path):
    files = {"content/index.md": page("Home", "awareness", "Welcome.")}
    files.update({f"content/p{i}.md": page(f"Page {i}", "free", f"Text {i}.") for i in range(12)})
    site = write_site(tmp_path / "site", files)
    assert CliRunner().invoke(main, ["build", "--site", str(site), "--jobs", "1"]).exit_code == 0
    return site


@pytest.mark.parametrize("way", ["in place", "whole new folder"])
def test_a_full_disk_stops_the_build_with_a_clear_error_and_leaves_everything_as_it_was(built_site, way,
                                                                                         monkeypatch):
    site = built_site
    old_output, old_content = tree(site / "output"), tree(site / "content")
    for i in range(6):  # pages change; the rest of the output stays current
        (site / f"content/p{i}.md").write_text(page(f"Page {i}", "free", "Renamed Site"))
    old_content = tree(site / "content")
    if way == "whole new folder":
        shutil.rmtree(site / ".stepstone")
        full = _disk_full_after(5, write_module.write_file)
        monkeypatch.setattr(write_module, "write_file", full)
        monkeypatch.setattr(build_module, "write_file", full)
    else:
        monkeypatch.setattr(build_module, "write_over", _disk_full_after(3, build_module.write_over))
    result = CliRunner().invoke(main, ["build", "--site", str(site), "--jobs", "1"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert ":1: error: cannot read or write this file: the disk is full: free some space and build again" \
        in result.output
    assert "stepstone: stopped: the last good output was left as it was" in result.output
    assert tree(site / "output") == old_output  # no half-written file, no mark, no temporary
    assert tree(site / "content") == old_content
    assert not list(site.glob(".output*"))
    monkeypatch.undo()
    assert CliRunner().invoke(main, ["build", "--site", str(site), "--jobs", "1"]).exit_code == 0
    assert b"Renamed Site" in (site / "output/p0/index.html").read_bytes()


@pytest.mark.parametrize("fails", ["every link", "the workers' links only"])
def test_a_disk_without_hard_links_gets_output_written_whole_and_no_twin(built_site, fails, monkeypatch):
    """The twin is linked file by file as a build writes its staging folder; where the disk refuses
    hard links, the build still succeeds, leaves no half-made twin, and later builds write whole."""
    import generator.twin as twin_module
    site = built_site
    shutil.rmtree(site / ".stepstone")
    real_link = os.link

    def refuse(source, target, *args, **kwargs):
        if fails == "every link" or sys._getframe(2).f_code.co_name == "_render_chunk":
            raise OSError(errno.EPERM, "Operation not permitted", str(target))
        return real_link(source, target, *args, **kwargs)

    monkeypatch.setattr(twin_module.os, "link", refuse)  # os itself: the workers' module sees it too
    for edit in range(3):
        (site / "content/p3.md").write_text(page("Page 3", "free", f"Edit number {edit}."))
        assert CliRunner().invoke(main, ["build", "--site", str(site), "--jobs", "1"]).exit_code == 0
        assert f"Edit number {edit}.".encode() in (site / "output/p3/index.html").read_bytes()
        assert not list((site / ".stepstone").glob("twin.new*"))
        if fails == "every link":
            assert not (site / ".stepstone/twin").exists()
        else:  # what the workers could not link, the main process did
            assert_twin_follows(site)
    clean = write_site(site.parent / "clean", {})
    shutil.rmtree(clean)
    shutil.copytree(site, clean, ignore=shutil.ignore_patterns(".stepstone", "output"))
    monkeypatch.undo()
    assert CliRunner().invoke(main, ["build", "--site", str(clean), "--jobs", "1"]).exit_code == 0
    assert tree(site / "output") == tree(clean / "output")


SETPRIV = shutil.which("setpriv")


def without_write_rights(command: list[str]) -> list[str]:
    """The command as a user who cannot write read-only folders: tests run as root, who can, so
    root's right to ignore file permissions is dropped (util-linux setpriv)."""
    if os.geteuid() != 0:
        return command
    caps = "-dac_override,-dac_read_search,-fowner"
    return [SETPRIV, f"--bounding-set={caps}", f"--inh-caps={caps}", *command]


@pytest.mark.skipif(os.geteuid() == 0 and not SETPRIV, reason="needs setpriv to drop root's rights")
@pytest.mark.parametrize("way", ["in place", "whole new folder"])
@pytest.mark.parametrize("read_only", ["output/", "the whole site"])
def test_a_read_only_folder_stops_the_build_with_a_clear_error_and_changes_nothing(built_site, way, read_only):
    site = built_site
    (site / "content/p0.md").write_text(page("Page 0", "free", "Edited."))
    if way == "whole new folder":
        shutil.rmtree(site / ".stepstone")
    locked = [site / "output"] if read_only == "output/" else [site]
    for top in locked:
        for path in [top, *top.rglob("*")]:
            if not path.is_symlink():
                path.chmod(path.stat().st_mode & ~0o222)
    before = {name: tree(site / name) for name in ("output", "content")}
    try:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        done = subprocess.run(without_write_rights([sys.executable, "-m", "generator.cli", "build", "--site",
                                                    str(site), "--jobs", "1"]), env=env, capture_output=True,
                              text=True)
    finally:
        for top in locked:
            for path in [top, *top.rglob("*")]:
                if not path.is_symlink():
                    path.chmod(path.stat().st_mode | 0o200)
    assert done.returncode == 1, done.stdout + done.stderr
    said = done.stdout + done.stderr
    assert "Traceback" not in said and "internal error" not in said
    assert re.search(r"^\S+:1: error: cannot read or write this file: permission denied: check who owns this "
                     r"folder, or choose another with --out$", said, re.M), said
    assert "stopped: the last good output was left as it was" in said
    assert {name: tree(site / name) for name in ("output", "content")} == before
    finish(site)  # writable again: the build goes through
    assert b"Edited." in (site / "output/p0/index.html").read_bytes()


def test_an_output_folder_that_cannot_be_made_is_a_clear_error(built_site, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = CliRunner().invoke(main, ["build", "--site", str(built_site), "--out", str(blocker / "out")])
    assert result.exit_code in (1, 2)
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert "error:" in result.output


# --- symlinks ----------------------------------------------------------------------------------------

def test_symlinks_are_copied_as_files_or_left_alone_and_never_followed_for_deletion(built_site, tmp_path):
    site = built_site
    outside = tmp_path / "outside"
    (outside / "folder").mkdir(parents=True)
    (outside / "precious.txt").write_text("precious")
    (outside / "folder/keep.txt").write_text("keep")
    before = tree(outside)
    (site / "static").mkdir(exist_ok=True)
    (site / "static/linked.txt").symlink_to(outside / "precious.txt")
    (site / "static/linked-folder").symlink_to(outside / "folder", target_is_directory=True)
    (site / "content/linked-folder").symlink_to(outside / "folder", target_is_directory=True)
    # links planted in output/, as a careless script or a hand edit might leave them
    (site / "output/planted").symlink_to(outside, target_is_directory=True)
    (site / "output/p0/planted.txt").symlink_to(outside / "precious.txt")
    out = site / "output"
    for way in ("in place", "whole new folder"):
        if way == "whole new folder":
            shutil.rmtree(site / ".stepstone")
        result = CliRunner().invoke(main, ["build", "--site", str(site), "--jobs", "1"])
        assert result.exit_code == 0, result.output
        for linked in ("static/linked-folder", "content/linked-folder"):  # not followed, and said so
            assert f"{linked}:1: warning: this is a link to the folder {outside / 'folder'}, and Stepstone " \
                   f"does not follow links to folders, so nothing in it is published: copy the folder here " \
                   f"instead" in result.output
        assert (out / "linked.txt").read_text() == "precious" and not (out / "linked.txt").is_symlink()
        assert not (out / "linked-folder").exists()
        assert tree(outside) == before, way
    assert not (out / "planted").exists() and not (out / "p0/planted.txt").exists()  # removed, not followed

