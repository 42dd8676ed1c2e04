"""The papers of other days still under review on their branches (not merged, so not under
data/ here): `digest run --publish` notes them before fetching, and `fetch` reads the note so
that it does not show those papers a second time."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from digest_cli.records.writer import Writer

if TYPE_CHECKING:
    from digest_cli.settings import Settings


def pending_path(settings: Settings) -> Path:
    """Where the papers of other days still under review are noted."""
    return settings.cache_path / "publish" / "pending.json"


def write_pending(settings: Settings, day: date, pending: dict[str, list[str]]) -> None:
    """Note `pending` (file stems by day) for the run of `day`."""
    Writer().write(pending_path(settings), json.dumps({"for": day.isoformat(),
                                                       "days": pending}, indent=1) + "\n")


def read_pending(settings: Settings, day: date) -> dict[date, list[str]]:
    """The note made for `day`'s run (empty when absent, unreadable or made for another day)."""
    try:
        data = json.loads(pending_path(settings).read_text(encoding="utf-8"))
        if data.get("for") != day.isoformat():
            return {}  # noted for another day's run: it may be out of date
        return {date.fromisoformat(d): [str(s) for s in stems]
                for d, stems in data["days"].items()}
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return {}
