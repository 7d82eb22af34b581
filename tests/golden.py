"""The golden site: a small site whose whole output is checked in, byte for byte.

    python tests/golden.py refresh    rebuild tests/golden/expected/ after an intended change

Review the diff of tests/golden/expected/ like code before committing it.
"""
from __future__ import annotations

import datetime as dt
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SITE = HERE / "golden" / "site"
EXPECTED = HERE / "golden" / "expected"
TODAY = dt.date(2026, 11, 23)


def build_golden(out: Path) -> None:
    sys.path.insert(0, str(HERE.parent))
    from generator.build import BuildOptions, build
    from generator.cache import BuildCache
    build(BuildOptions(site=SITE, out=out, today=TODAY, strict=True), BuildCache())  # no cache in the repo


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def refresh() -> None:
    if EXPECTED.exists():
        shutil.rmtree(EXPECTED)
    build_golden(EXPECTED)
    print(f"refreshed {EXPECTED} ({len(files_of(EXPECTED))} files)")


if __name__ == "__main__":
    if sys.argv[1:] != ["refresh"]:
        sys.exit(__doc__)
    refresh()
