"""Which of the API's papers a day shows: what earlier digests (and days under review)
already hold, and each paper sorted into the day's own, new, late, a replacement, skipped,
deferred to a later day, or ignored. See `digest_cli.fetch.day` and docs/fetch.md."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Literal

from digest_cli.fetch.schedule import announcement_time, lookback_start, post_date_for
from digest_cli.records.layout import day_dates, left_out_stems, record_files, stem_path
from digest_cli.records.model import ArxivId, Day, LeftOut, Paper
from digest_cli.records.pending import read_pending
from digest_cli.records.store import load_paper

if TYPE_CHECKING:
    from digest_cli.settings import Settings

log = logging.getLogger(__name__)

# What a paper from the API is to a day: its own (already in the day), new, late (held over
# from an earlier window), a replacement to show, a replacement skipped, deferred to a
# later day, published in another day, or older than the site.
Kind = Literal["own", "new", "late", "replacement", "skipped", "deferred", "published",
               "old"]


# -- what earlier digests hold -----------------------------------------------------------

@dataclass
class History:
    """Which papers the days under data/ already hold, and since when the site exists."""

    settings: Settings
    days: dict[str, set[date]]  # file stem -> days whose records or left_out name it
    first_day: date | None

    @classmethod
    def load(cls, settings: Settings, day: date) -> History:
        """List the record files of every day (the file stem is the id) and read the
        `left_out` of the manifests recent enough to matter for `day`'s look-back."""
        days: dict[str, set[date]] = {}
        since = lookback_start(day, settings.anchor, settings.timezone, settings.all_holidays(),
                               min_days=settings.lookback_days).date()
        # A folder without a manifest is a run killed before it finished: not a digest,
        # so its papers are still to be shown.
        held = day_dates(settings)
        for folder_day in held:
            for path in record_files(settings.day_path(folder_day)):
                days.setdefault(path.stem, set()).add(folder_day)
            if folder_day >= since:
                for stem in left_out_stems(settings, folder_day):
                    days.setdefault(stem, set()).add(folder_day)
        for pending_day, stems in _pending_days(settings, day).items():
            for stem in stems:
                days.setdefault(stem, set()).add(pending_day)
        return cls(settings, days, held[0] if held else None)

    def elsewhere(self, stem: str, day: date) -> set[date]:
        """The days other than `day` that hold the paper."""
        return self.days.get(stem, set()) - {day}

    def start(self, day: date) -> date:
        """Papers computed for windows before this date predate the site: not late, just old."""
        return self.first_day if self.first_day is not None and self.first_day < day else day

    def latest_version(self, stem: str, days: set[date]) -> int | None:
        """The newest version any record of the paper holds (None: only named in left_out)."""
        versions = [load_paper(path).id.version or 1 for d in days
                    if (path := stem_path(self.settings, d, stem)).is_file()]
        return max(versions) if versions else None


def _pending_days(settings: Settings, day: date) -> dict[date, list[str]]:
    """The papers of other days under review on their branches (not merged, so not under
    data/ here), as `digest run --publish` noted them for `day` before fetching."""
    return read_pending(settings, day)


# -- selection ---------------------------------------------------------------------------

@dataclass
class Selection:
    """The API's papers sorted out for one day."""

    fresh: dict[str, Paper] = field(default_factory=dict)  # the day's own papers, as now
    new: list[Paper] = field(default_factory=list)  # in no digest yet, newest id first
    late: list[str] = field(default_factory=list)
    skipped: list[LeftOut] = field(default_factory=list)  # replacements not shown
    deferred: int = 0


def select(papers: list[Paper], day: date, settings: Settings, history: History,
           existing: Day | None) -> Selection:
    """Sort each paper into the day's own, new, late, skipped, deferred or ignored."""
    own = _own_stems(existing)
    selection = Selection()
    for paper in papers:
        kind = classify(paper, day, settings, history, own)
        if kind == "own":
            selection.fresh[paper.id.file_stem] = paper
        elif kind in ("new", "late", "replacement"):
            paper.replacement = kind == "replacement"
            selection.new.append(paper)
            if kind == "late":
                selection.late.append(paper.id.base)
        elif kind == "skipped":
            selection.skipped.append(LeftOut(paper.id.base, f"replacement v{paper.id.version} "
                                             "of a paper already published", paper.title))
        elif kind == "deferred":
            selection.deferred += 1
    selection.new.sort(key=lambda p: id_order(p.id.base), reverse=True)
    return selection


def classify(paper: Paper, day: date, settings: Settings, history: History,
             own: set[str]) -> Kind:
    """Which of the `Kind`s the paper is for `day`."""
    stem = paper.id.file_stem
    if stem in own:
        return "own"
    shown_on = history.elsewhere(stem, day)
    if shown_on:
        return _classify_replacement(paper, day, settings, history, shown_on)
    assert paper.published is not None  # every paper from the API has its submission time
    post = post_of(paper.published, settings)
    if post > day:
        return "deferred"
    if post < history.start(day):
        return "old"
    return "new" if post == day else "late"


def _classify_replacement(paper: Paper, day: date, settings: Settings, history: History,
                          shown_on: set[date]) -> Kind:
    if (paper.id.version or 1) == 1:  # a first version replaces nothing: skip the reads
        return "published"
    latest = history.latest_version(paper.id.file_stem, shown_on)
    if latest is None or (paper.id.version or 1) <= latest:
        return "published"
    submitted = paper.updated or paper.published
    assert submitted is not None  # every paper from the API has its submission time
    post = post_of(submitted, settings)
    if post > day:
        return "deferred"
    if settings.include_replacements:
        return "replacement"
    return "skipped" if post == day else "published"


def post_of(submitted: datetime, settings: Settings) -> date:
    """The post date whose window holds the announcement of a submission at `submitted`."""
    announced = announcement_time(submitted, settings.all_holidays())
    return post_date_for(announced, settings.anchor, settings.timezone)


def _own_stems(existing: Day | None) -> set[str]:
    if existing is None:
        return set()
    ids = list(existing.manifest.papers) + [x.id for x in existing.manifest.left_out]
    return {ArxivId.parse(pid).file_stem for pid in ids}


def id_order(base: str) -> tuple[int, int, int | str]:
    """Sort key: newer ids are larger (`2601.19786` > `2601.9999` > `hep-th/9901001`)."""
    match = re.match(r"^(\d{4})\.(\d+)$", base)
    if match:
        return (1, int(match.group(1)), int(match.group(2)))
    number = base.rsplit("/", 1)[-1]
    return (0, int(number) if number.isdigit() else 0, base)
