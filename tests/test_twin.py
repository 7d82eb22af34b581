"""Writing into output/'s twin: never through a file output/ (or anything else) still holds."""
from __future__ import annotations

import os

from generator.twin import SMALL_FILE, catch_up, write_over


def test_a_file_still_linked_to_output_is_replaced_not_written_through(tmp_path):
    (tmp_path / "output/a").mkdir(parents=True)
    (tmp_path / "twin/a").mkdir(parents=True)
    live = tmp_path / "output/a/index.html"
    live.write_bytes(b"the live page, longer than the new one")
    os.link(live, tmp_path / "twin/a/index.html")
    write_over(tmp_path / "twin", "a/index.html", b"new")
    assert live.read_bytes() == b"the live page, longer than the new one"
    assert (tmp_path / "twin/a/index.html").read_bytes() == b"new"
    assert live.stat().st_nlink == 1


def test_a_file_the_twin_alone_holds_is_overwritten_in_place_and_cut_to_its_new_length(tmp_path):
    (tmp_path / "twin/a").mkdir(parents=True)
    own = tmp_path / "twin/a/index.html"
    own.write_bytes(b"an old page, longer than the new one")
    with open(own, "rb") as before:  # still open: shows the new bytes only if the same file was written
        write_over(tmp_path / "twin", "a/index.html", b"shorter")
        assert own.read_bytes() == b"shorter"
        assert before.read() == b"shorter"  # no inode freed and made again
    write_over(tmp_path / "twin", "a/index.html", b"and now a longer page than before")
    assert own.read_bytes() == b"and now a longer page than before"


def test_a_symlink_in_the_twin_is_replaced_and_its_target_left_alone(tmp_path):
    (tmp_path / "twin/a").mkdir(parents=True)
    outside = tmp_path / "outside.html"
    outside.write_bytes(b"not ours")
    (tmp_path / "twin/a/index.html").symlink_to(outside)
    write_over(tmp_path / "twin", "a/index.html", b"ours")
    assert outside.read_bytes() == b"not ours"
    assert not (tmp_path / "twin/a/index.html").is_symlink()
    assert (tmp_path / "twin/a/index.html").read_bytes() == b"ours"


def test_a_missing_file_and_folder_are_made(tmp_path):
    (tmp_path / "twin").mkdir()
    write_over(tmp_path / "twin", "new/page/index.html", b"made")
    assert (tmp_path / "twin/new/page/index.html").read_bytes() == b"made"


def _output_and_twin(tmp_path, files: dict[str, bytes]):
    out, twin = tmp_path / "output", tmp_path / "twin"
    for path, data in files.items():
        (out / path).parent.mkdir(parents=True, exist_ok=True)
        (out / path).write_bytes(data)
    twin.mkdir()
    return out, twin


def test_catch_up_copies_into_a_page_the_twin_alone_holds_without_freeing_it(tmp_path):
    out, twin = _output_and_twin(tmp_path, {"a/index.html": b"the new page"})
    (twin / "a").mkdir()
    (twin / "a/index.html").write_bytes(b"the old page, longer than the new one")
    with open(twin / "a/index.html", "rb") as before:  # the same file, written in place
        catch_up(out, twin, ["a/index.html"])
        assert before.read() == b"the new page"
    assert (twin / "a/index.html").read_bytes() == b"the new page"
    assert (out / "a/index.html").stat().st_nlink == 1  # the twin's own file: output/'s is not linked
    (twin / "a/index.html").write_bytes(b"a later write into the twin")
    assert (out / "a/index.html").read_bytes() == b"the new page"


def test_catch_up_links_what_is_missing_or_shared_and_removes_what_output_lost(tmp_path):
    big = b"x" * (SMALL_FILE + 1)
    out, twin = _output_and_twin(tmp_path, {"new/index.html": b"new", "shared.html": b"now",
                                            "big.bin": big})
    (tmp_path / "elsewhere.html").write_bytes(b"another file")  # linked from the twin: never written through
    os.link(tmp_path / "elsewhere.html", twin / "shared.html")
    (twin / "big.bin").write_bytes(b"old and small")
    (twin / "gone/deep").mkdir(parents=True)
    (twin / "gone/deep/index.html").write_bytes(b"removed from output/")
    catch_up(out, twin, ["new/index.html", "shared.html", "big.bin", "gone/deep/index.html", "../escape"])
    assert os.path.samefile(twin / "new/index.html", out / "new/index.html")
    assert os.path.samefile(twin / "shared.html", out / "shared.html")
    assert os.path.samefile(twin / "big.bin", out / "big.bin")  # large files are linked, not copied
    assert (out / "big.bin").read_bytes() == big
    assert (tmp_path / "elsewhere.html").read_bytes() == b"another file"
    assert not (twin / "gone").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere.html", "output", "twin"]
