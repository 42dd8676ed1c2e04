"""Shared helpers of the hostile tests (tests/test_hostile_*.py): the sample day's names,
and small edits and snapshots of a site."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.conftest import SAMPLE_DAY

DAY = D = SAMPLE_DAY.isoformat()
FOLDER = Path(f"data/{DAY}")
POST = Path(f"_posts/{DAY}-arxiv.md")
FIRST, SECOND = "2601.19786", "2601.19781"  # the sample day's first two papers
PID = FIRST
CLASSIC = {"DIGEST_POST_FORMAT": "classic"}  # the old blog's format: the seed's
FETCH_DAY = "2026-11-26"  # a day fetched from the fake arXiv


def edit(path: Path, old: str, new: str) -> None:
    """Replace the first `old` in the file by `new` (which must be there)."""
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under data/ and _posts/, to show that a refused command wrote nothing."""
    return {str(p.relative_to(root)): p.read_bytes() for d in ("data", "_posts")
            for p in sorted((root / d).rglob("*")) if p.is_file()}


def set_field(site: Path, pid: str, name: str, value: str) -> None:
    """Put `value` into a record's top-level field, as a hostile feed or editor would."""
    path = site / "data" / D / f"{pid}.yaml"
    text = path.read_text(encoding="utf-8")
    text, n = re.subn(rf"^{name}: .*$", f"{name}: {json.dumps(value)}", text, flags=re.M)
    assert n == 1
    path.write_text(text, encoding="utf-8")


def hostile_property(test):
    """A hypothesis property of the hostile tests: 60 examples, no deadline."""
    from hypothesis import HealthCheck, settings

    return settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])(test)
