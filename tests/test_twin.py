"""Writing into output/'s twin: never through a file output/ (or anything else) still holds."""
from __future__ import annotations

import os

from generator.twin import write_over


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
