"""`stepstone new`: copy a starter site that builds cleanly and covers every step."""
from __future__ import annotations

import shutil
from pathlib import Path

from .errors import UsageError

STARTERS = Path(__file__).parent / "starters"


def starter_names() -> list[str]:
    return sorted(p.name for p in STARTERS.iterdir() if p.is_dir())


def new_site(target: Path, funnel: str) -> list[Path]:
    """Copy the starter for `funnel` into `target`, which must be new or empty."""
    starter = STARTERS / funnel
    if not starter.is_dir():
        raise UsageError(f"unknown funnel '{funnel}': choose one of {', '.join(starter_names())}")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UsageError(f"{target} already exists and is not empty: choose a new folder name")
    shutil.copytree(starter, target, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "output", ".stepstone"))
    return sorted(p.relative_to(target) for p in target.rglob("*") if p.is_file())
