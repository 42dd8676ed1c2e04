"""What is left to review in a day, and marking papers reviewed (`digest review`).

`reviewed: true` in a record says an editor has checked the paper. It is set from the
command line (`digest review --mark ID`) or by ticking the paper's box in the pull request
body (`digest review --from-pr-body`, run by the review workflow).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from digest_cli.errors import RecordError
from digest_cli.kinds import edited_by_person as edited_by_person  # read here by others
from digest_cli.records.model import ArxivId, Day, Paper
from digest_cli.records.store import load_day, paper_path, write_paper
from digest_cli.records.writer import Writer

if TYPE_CHECKING:
    from digest_cli.settings import Settings



@dataclass
class ReviewRow:
    """One paper as `digest review` lists it."""

    id: str
    title: str
    status: str
    edited: bool
    reviewed: bool
    replacement: bool
    path: str


def review_rows(settings: Settings, day: Day) -> list[ReviewRow]:
    """Each paper of `day` with its status, in post order."""
    folder = settings.day_path(day.manifest.date)
    return [ReviewRow(id=p.id.base, title=p.title, status=p.status,
                      edited=edited_by_person(p), reviewed=p.reviewed,
                      replacement=p.replacement, path=record_path(settings, folder, p))
            for p in day.papers]


def record_path(settings: Settings, folder: Path, paper: Paper) -> str:
    """The record's path relative to the site root (as git and GitHub name it)."""
    path = paper_path(folder, paper.id)
    try:
        return path.relative_to(settings.root).as_posix()
    except (ValueError, AttributeError):
        return path.as_posix()


def set_reviewed(settings: Settings, day_date: date, marks: dict[str, bool],
                 writer: Writer) -> list[str]:
    """Set `reviewed` of the papers in `marks` (id -> value); returns the ids that changed.

    Every id is checked before anything is written: an id the day does not show is an
    error naming it."""
    day = load_day(settings, day_date)
    by_id = {p.id.base: p for p in day.papers}
    wanted = {}
    for raw, value in marks.items():
        try:
            base = ArxivId.parse(raw).base
        except ValueError as exc:
            raise RecordError(str(exc), path=settings.day_path(day_date)) from None
        if base not in by_id:
            raise RecordError(f"paper {base} is not shown on {day_date.isoformat()}",
                              path=settings.day_path(day_date))
        wanted[base] = value
    folder, changed = settings.day_path(day_date), []
    for base, value in wanted.items():
        paper = by_id[base]
        if paper.reviewed != value:
            write_paper(folder, replace(paper, reviewed=value), writer)
            changed.append(base)
    return changed
