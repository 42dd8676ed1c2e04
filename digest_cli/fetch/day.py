"""Fetch: which papers belong to a day's digest, written as that day's records.

A post dated D shows the papers arXiv announced in D's window (see `schedule`). arXiv's
API does not say when a paper was announced, so the announcement is computed from the
submission time (`published`, the v1 submission) and arXiv's calendar. The query spans a
look-back of several days by `submittedDate`; each result is then classified:

* already in a record under data/ (or named in a manifest's `left_out`): not shown again;
  a newer version of it is a replacement, shown (marked) only with `include_replacements`;
* computed for D's window: shown in D;
* computed for an earlier window but in no digest (held by moderation, or late in the API):
  shown in D, the first digest after it appeared: never lost, never twice;
* computed for a later window: left for that day.

Everything is collected in memory and written at the end through `Writer`, so a failure
mid-fetch leaves the day as it was. See docs/fetch.md for the reasoning.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from digest_cli.errors import FetchError
from digest_cli.fetch.schedule import (
    has_announcement,
    latest_closed_window,
    lookback_start,
    window_for,
)
from digest_cli.fetch.select import History, Selection, id_order, select
from digest_cli.hygiene import clean_text
from digest_cli.records.layout import has_day
from digest_cli.records.model import (
    EDITABLE_FIELDS,
    ArxivId,
    Day,
    LeftOut,
    Manifest,
    Paper,
    field_hash,
    kept_corrections,
)
from digest_cli.records.store import load_day, write_day
from digest_cli.records.writer import Writer

if TYPE_CHECKING:
    from digest_cli.fetch.client import RequestStats
    from digest_cli.fetch.feed import Entry
    from digest_cli.settings import Settings

log = logging.getLogger(__name__)

NO_ANNOUNCEMENT = "arXiv made no announcement in this window"
# The arXiv metadata a re-run refreshes; everything else in a record belongs to the
# translator or an editor.
ARXIV_FIELDS = ("title", "authors", "categories", "abs_url", "pdf_url", "abstract",
                "published", "updated", "comment", "journal_ref", "doi")


@dataclass(frozen=True)
class NoPost:
    """A window with nothing to post: a normal outcome, not an error. `announced`: arXiv
    announced in the window, but the API has no new paper yet (it can lag)."""

    day: date
    reason: str
    announced: bool = False

    def __str__(self) -> str:
        return self.reason


@dataclass
class FetchReport:
    """What a fetch did: counts for the terminal and the PR body, files written, requests."""

    day: date
    window: tuple[datetime, datetime]
    query: str
    queried: int  # distinct papers the API returned for the whole look-back
    duplicates: int  # entries dropped because an earlier page already had them
    fetched: int  # papers considered for this day: shown + left out
    shown: int
    added: list[str] = field(default_factory=list)  # ids new in the day this run
    late: list[str] = field(default_factory=list)  # of those, held over from earlier windows
    deferred: int = 0  # results announced after this window: a later day's
    left_out: list[LeftOut] = field(default_factory=list)
    refreshed: dict[str, list[str]] = field(default_factory=dict)  # id -> changed fields
    # id -> fields arXiv changed where an editor's correction was kept (arXiv's value is
    # stored beside it, in `arxiv_original`, and the PR body lists it)
    kept: dict[str, list[str]] = field(default_factory=dict)
    categories: dict[str, tuple[int, int]] = field(default_factory=dict)  # (new, cross)
    requests: int = 0
    retries: int = 0
    cache_hits: int = 0
    written: list[Path] = field(default_factory=list)


# -- entry points ------------------------------------------------------------------------

def default_day(settings: Settings, now: datetime) -> date:
    """The post date of the latest window that has closed at `now`."""
    return latest_closed_window(now, settings.anchor, settings.timezone)


def fetch_day(settings: Settings, day: date, *, now: datetime, offline: bool = False,
              client: Any = None) -> FetchReport | NoPost:
    """Query arXiv for `day`, merge the result into the day's records and write them.

    Returns NoPost, writing nothing, when arXiv announced nothing in the window or the API
    has nothing new yet; raises FetchError (nothing written) when arXiv cannot be read.
    `client` is an `ArxivClient` to use instead of a new one (tests pass one with a fake
    clock).
    """
    from digest_cli.fetch.client import ArxivClient

    _require_closed(settings, day, now)
    query = build_query(settings, day)
    client = client or ArxivClient(settings, now=now, offline=offline)
    papers, duplicates = unique_papers(client.search(query))
    existing = load_existing(settings, day)
    selection = select(papers, day, settings, History.load(settings, day), existing)
    if existing is None and not _shows_anything(selection, settings):
        return _nothing_to_post(settings, day)
    merged, refreshed, left_out = build_day(settings, day, existing, selection)
    writer = Writer()
    write_day(settings, merged, writer)
    return _report(settings, merged, query, client.stats, papers, duplicates, selection,
                   refreshed, left_out, writer.changed)


def build_query(settings: Settings, day: date) -> str:
    """`(cat:A OR cat:B) AND submittedDate:[FROM TO]`, from the look-back to the window end."""
    if not settings.categories:
        raise FetchError("no categories to fetch: set `categories` (see docs/settings.md)")
    cats = " OR ".join(f"cat:{c}" for c in settings.categories)
    start = lookback_start(day, settings.anchor, settings.timezone, settings.all_holidays(),
                           min_days=settings.lookback_days)
    end = window_for(day, settings.anchor, settings.timezone)[1]
    span = f"[{_stamp(start)} TO {_stamp(end)}]"
    dates = f"submittedDate:{span}"
    if settings.include_replacements:  # replacements of older papers keep their v1 date
        dates = f"(submittedDate:{span} OR lastUpdatedDate:{span})"
    return f"({cats}) AND {dates}"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y%m%d%H%M")


def _require_closed(settings: Settings, day: date, now: datetime) -> None:
    if day > default_day(settings, now):
        end = window_for(day, settings.anchor, settings.timezone)[1]
        raise FetchError(f"the window of {day} is still open: it closes at "
                         f"{end:%Y-%m-%d %H:%M} {settings.zone_label}")


# -- results -> papers -------------------------------------------------------------------

def paper_from_result(result: Entry) -> Paper:
    """An API entry as an (untranslated) record; ValueError if its id is not arXiv's."""
    pid = ArxivId.parse(result.short_id)
    pid = pid if pid.version else ArxivId(pid.base, 1)
    primary = result.primary_category or (result.categories[0] if result.categories else "")
    paper = Paper(
        id=pid,
        title=_one_line(result.title),
        authors=[_one_line(name) for name in result.authors],
        categories=[primary] + [c for c in dict.fromkeys(result.categories) if c != primary],
        abs_url=_https(result.abs_url or result.entry_id),
        pdf_url=_https(result.pdf_url or f"https://arxiv.org/pdf/{pid.versioned}"),
        abstract=_paragraphs(result.summary),
        published=result.published,
        updated=result.updated,
        comment=_one_line(result.comment) or None,
        journal_ref=_one_line(result.journal_ref) or None,
        doi=(result.doi or "").strip() or None,
    )
    paper.arxiv_hashes = arxiv_hashes(paper)
    return paper


def arxiv_hashes(paper: Paper) -> dict[str, str]:
    """Fingerprints of the paper's editable fields, as arXiv gives them."""
    return {name: field_hash(getattr(paper, name)) for name in EDITABLE_FIELDS}


def _one_line(text: str | None) -> str:
    return " ".join(clean_text(text or "").split())


def _paragraphs(text: str | None) -> str:
    """Undo the classic API's hard wrapping; keep blank-line paragraph breaks."""
    paragraphs = re.split(r"\n\s*\n", clean_text(text or "").strip())
    return "\n\n".join(_one_line(p) for p in paragraphs if p.strip())


def _https(url: str) -> str:
    return re.sub(r"^http://(?:export\.)?arxiv\.org/", "https://arxiv.org/", url.strip())


def unique_papers(results: Iterable[Entry]) -> tuple[list[Paper], int]:
    """Papers by base id, keeping the newest version: pages can overlap when arXiv adds
    papers between two requests. Returns the papers and the number of duplicates dropped."""
    by_stem: dict[str, Paper] = {}
    count = 0
    for result in results:
        try:
            paper = paper_from_result(result)
        except ValueError as exc:
            log.warning("skipping an API entry: %s", exc)
            continue
        count += 1
        old = by_stem.get(paper.id.file_stem)
        if old is None or (paper.id.version or 1) > (old.id.version or 1):
            by_stem[paper.id.file_stem] = paper
    if count > len(by_stem):
        log.info("dropped %d duplicate entries across pages", count - len(by_stem))
    return list(by_stem.values()), count - len(by_stem)


# -- selection (see `select`) -----------------------------------------------------------

def load_existing(settings: Settings, day: date) -> Day | None:
    """The day's records if it was fetched or imported before."""
    if not has_day(settings, day):
        return None
    return load_day(settings, day)


def _shows_anything(selection: Selection, settings: Settings) -> bool:
    return any(not settings.primary_only or p.primary_category in settings.categories
               for p in selection.new)


def _nothing_to_post(settings: Settings, day: date) -> NoPost:
    if not has_announcement(day, settings.anchor, settings.timezone, settings.all_holidays()):
        return NoPost(day, NO_ANNOUNCEMENT)
    return NoPost(day, f"arXiv announced in this window, but the API has no new paper in "
                      f"{', '.join(settings.categories)} yet (it can lag the announcement): "
                      "no post; re-run later, or the next digest will take them",
                  announced=True)


# -- merging into the day's records ------------------------------------------------------

def build_day(settings: Settings, day: date, existing: Day | None,
              selection: Selection) -> tuple[Day, dict[str, list[str]], list[LeftOut]]:
    """The day's records after this fetch: existing ones refreshed, new ones added.

    Returns the day, the refreshed fields by id, and the papers newly left out."""
    manifest = _manifest(settings, day, existing)
    papers = {p.id.file_stem: p for p in existing.papers} if existing else {}
    refreshed = {}
    for stem, fresh in selection.fresh.items():
        if stem in papers and (changed := refresh(papers[stem], fresh)):
            refreshed[papers[stem].id.base] = changed
    room = settings.max_papers - len(manifest.papers) if settings.max_papers else None
    shown, left_out = apply_filters(selection.new, settings, room)
    known = {x.id for x in manifest.left_out}
    left_out = [x for x in left_out + selection.skipped if x.id not in known]
    manifest.left_out += left_out
    manifest.papers = merge_order(manifest.papers, [p.id.base for p in shown])
    papers.update({p.id.file_stem: p for p in shown})
    # A re-run never lowers the count (an imported day keeps the old blog's figure).
    manifest.fetched = max(manifest.fetched, len(manifest.papers) + len(manifest.left_out))
    ordered = [papers[ArxivId.parse(pid).file_stem] for pid in manifest.papers]
    return Day(manifest, ordered), refreshed, left_out


def _manifest(settings: Settings, day: date, existing: Day | None) -> Manifest:
    start, end = window_for(day, settings.anchor, settings.timezone)
    if existing is None:
        return Manifest(date=day, window_start=start, window_end=end, fetched=0, papers=[])
    manifest = existing.manifest
    manifest.window_start, manifest.window_end = start, end
    return manifest


def apply_filters(papers: list[Paper], settings: Settings,
                  room: int | None) -> tuple[list[Paper], list[LeftOut]]:
    """Split papers into shown and left out (`primary_only`, then the `max_papers` cap)."""
    shown: list[Paper] = []
    left_out: list[LeftOut] = []
    for paper in papers:
        if settings.primary_only and paper.primary_category not in settings.categories:
            reason = f"primary_only: primary category {paper.primary_category} is not followed"
        elif room is not None and len(shown) >= room:
            reason = f"max_papers: the limit of {settings.max_papers} papers a day was reached"
        else:
            shown.append(paper)
            continue
        left_out.append(LeftOut(paper.id.base, reason, paper.title))
    return shown, left_out


def merge_order(old: list[str], new: list[str]) -> list[str]:
    """Add `new` ids to the day's order: in place by id, unless an editor reordered it."""
    if old == sorted(old, key=id_order, reverse=True):
        return sorted(old + new, key=id_order, reverse=True)
    return old + new


def refresh(record: Paper, fresh: Paper) -> list[str]:
    """Copy what arXiv changed into `record`; return the changed fields' names.

    Translations, analyses and flags are never touched; a reviewed paper is left alone.
    A title, author list or abstract that an editor corrected (it no longer matches the
    fingerprint of arXiv's value, or its origin is unknown) is kept: arXiv's value goes
    beside it, into `arxiv_original`, for the PR body to show."""
    changed = [name for name in ARXIV_FIELDS if getattr(record, name) != getattr(fresh, name)]
    if (fresh.id.version or 1) != (record.id.version or 1):
        changed.append("version")
    if changed and record.reviewed:
        log.info("%s: arXiv changed %s, but the paper is reviewed: kept as it is",
                 record.id.base, ", ".join(changed))
        return []
    kept = [name for name in changed if name in EDITABLE_FIELDS and record.editors(name)]
    for name in kept:
        record.arxiv_original[name] = getattr(fresh, name)
    if kept:
        log.info("%s: %s differ from arXiv's: an editor's, kept (arXiv's beside it, in "
                 "arxiv_original)", record.id.base, ", ".join(kept))
    changed = [name for name in changed if name not in kept]
    for name in changed:
        if name == "version":
            record.id = fresh.id
        else:
            setattr(record, name, getattr(fresh, name))
    record.arxiv_hashes = arxiv_hashes(fresh)
    if changed:
        log.info("%s: arXiv changed %s: refreshed", record.id.base, ", ".join(changed))
    return changed


# -- the report --------------------------------------------------------------------------

def _report(settings: Settings, day: Day, query: str, stats: RequestStats,
            papers: list[Paper], duplicates: int, selection: Selection,
            refreshed: dict[str, list[str]], left_out: list[LeftOut],
            written: list[Path]) -> FetchReport:
    manifest = day.manifest
    added = [p.id.base for p in selection.new if p.id.base in manifest.papers]
    return FetchReport(
        day=manifest.date, window=(manifest.window_start, manifest.window_end), query=query,
        queried=len(papers), duplicates=duplicates, fetched=manifest.fetched,
        shown=manifest.shown, added=added, late=[i for i in selection.late if i in added],
        deferred=selection.deferred, left_out=left_out, refreshed=refreshed,
        kept={p.id.base: names for p in day.papers if (names := kept_corrections(p))},
        categories=category_counts(day.papers, settings.categories),
        requests=stats.requests, retries=stats.retries, cache_hits=stats.cache_hits,
        written=list(written),
    )


def category_counts(papers: list[Paper], categories: list[str]) -> dict[str, tuple[int, int]]:
    """For each followed category: (papers whose primary it is, papers cross-listed to it)."""
    counts = {}
    for cat in categories:
        new = sum(1 for p in papers if p.primary_category == cat)
        cross = sum(1 for p in papers if cat in p.categories[1:])
        counts[cat] = (new, cross)
    return counts


def format_report(report: FetchReport, settings: Settings) -> list[str]:
    """The lines `digest fetch` prints."""
    start, end = report.window
    counts = f"fetched {report.fetched}, shown {report.shown}"
    if report.left_out:
        counts += f", {len(report.left_out)} newly left out"
    lines = [f"{report.day}: window {start:%Y-%m-%d %H:%M} — {end:%Y-%m-%d %H:%M} "
             f"{settings.zone_label}", counts]
    lines += [f"  {cat}: {new} new, {cross} cross-listed"
              for cat, (new, cross) in report.categories.items()]
    if report.added:
        late = f" ({len(report.late)} held over from earlier windows)" if report.late else ""
        lines.append(f"added {len(report.added)} papers{late}")
    lines += [f"left out {x.id}: {x.reason}" for x in report.left_out]
    lines += [f"refreshed {pid}: {', '.join(names)}" for pid, names in report.refreshed.items()]
    lines += [f"kept an editor's {', '.join(names)} of {pid}: arXiv's differs (in "
              "arxiv_original)" for pid, names in report.kept.items()]
    lines.append(f"arXiv API: {report.requests} requests ({report.retries} retries), "
                 f"{report.cache_hits} pages from the cache; {report.queried} papers in the "
                 f"look-back, {report.deferred} for later days")
    lines.append(f"wrote {len(report.written)} files under "
                 f"{settings.day_path(report.day)}")
    return lines
