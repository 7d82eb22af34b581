"""A real, non-editable install: the built wheel in a fresh venv runs `new` and `build`."""
import subprocess
import sys
import zipfile

import pytest

from conftest import REPO

pytestmark = pytest.mark.slow


def run(*args, cwd=None):
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=600)


def test_wheel_installs_and_builds_starters(tmp_path):
    dist = tmp_path / "dist"
    made = run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, REPO)
    assert made.returncode == 0, made.stderr
    wheel = next(dist.glob("stepstone-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "generator/themes/default/templates/base.html" in names
    assert "generator/themes/default/static/assets/style.css" in names
    assert "generator/starters/lifecycle/stepstone.toml" in names
    assert "generator/starters/relationship/content/index.md" in names
    assert "generator/preview/overlay.js" in names
    assert not any(n.startswith(("tests/", "content/", "output/")) for n in names)

    venv = tmp_path / "venv"
    assert run(sys.executable, "-m", "venv", venv).returncode == 0
    install = run(venv / "bin/pip", "install", "-q", "--disable-pip-version-check", wheel)
    assert install.returncode == 0, install.stderr
    stepstone = venv / "bin/stepstone"
    for funnel in ("relationship", "lifecycle"):
        site = tmp_path / funnel
        new = run(stepstone, "new", site, "--funnel", funnel)
        assert new.returncode == 0, new.stderr
        built = run(stepstone, "build", "--strict", "--site", site)
        assert built.returncode == 0, built.stderr
        assert "0 errors, 0 warnings" in built.stdout
        assert (site / "output/index.html").is_file()
        assert (site / "output/assets/style.css").is_file()
