"""The golden site builds to exactly the checked-in output (refresh: python tests/golden.py refresh)."""
from golden import EXPECTED, build_golden, files_of


def test_golden_site_matches_expected_output(tmp_path):
    out = tmp_path / "out"
    build_golden(out)
    got, want = files_of(out), files_of(EXPECTED)
    assert sorted(got) == sorted(want), "files differ: run 'python tests/golden.py refresh' if intended"
    for name in want:
        assert got[name] == want[name], f"{name} differs from tests/golden/expected/{name}"


def test_golden_build_is_deterministic(tmp_path):
    build_golden(tmp_path / "a")
    build_golden(tmp_path / "b")
    assert files_of(tmp_path / "a") == files_of(tmp_path / "b")
