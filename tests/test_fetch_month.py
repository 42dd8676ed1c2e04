"""Six simulated weeks of daily fetches: every paper in exactly one digest.

Papers are submitted around the clock from mid-October to the end of November 2026, a
span that crosses the end of US daylight saving time (1 November) and Thanksgiving
(26 November, no announcement), with its weekends. Most papers appear in the API minutes
after their announcement; some lag by hours, some are held by moderation for one to three
announcements, some are replaced before or after they are announced, some are
cross-listed from other archives, and some are outside the followed categories.

Each day's fetch runs 30 minutes after its window closes, against a fake arXiv that shows
only what the API would show by then. The expected digest of a paper is the first run at
or after its computed window that can see it.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import pytest

from digest_cli.errors import NoAnnouncement
from digest_cli.fetch import NothingNew, fetch_day, post_of
from digest_cli.schedule import (
    announcement_time,
    has_announcement,
    lookback_start,
    next_announcement,
    window_for,
)
from digest_cli.store import load_day, load_paper

UTC = timezone.utc
FIRST_DAY, LAST_DAY = date(2026, 10, 19), date(2026, 11, 30)
RUNS = [FIRST_DAY + timedelta(days=n) for n in range((LAST_DAY - FIRST_DAY).days + 1)]
FOLLOWED = {"cs.SD", "eess.AS"}
CATEGORIES = [  # (categories, weight): primary first
    (["cs.SD"], 25), (["eess.AS"], 20), (["cs.SD", "eess.AS"], 20),
    (["eess.AS", "cs.SD", "cs.LG"], 10), (["cs.CV", "cs.SD"], 8), (["cs.CL", "eess.AS"], 7),
    (["cs.CL"], 10),
]


def run_time(day: date) -> datetime:
    return window_for(day)[1].astimezone(UTC) + timedelta(minutes=30)


@dataclass
class SimPaper:
    base: str
    published: datetime
    categories: list[str]
    visible: datetime  # when the API first shows it
    kind: str  # on_time | lagged | held | replaced_early
    replaced: datetime | None = None  # a v2 submitted after the paper was announced
    replaced_visible: datetime | None = None

    @property
    def followed(self) -> bool:
        return bool(FOLLOWED & set(self.categories))

    def events(self) -> list[tuple[datetime, dict]]:
        """(when the API starts showing it, what it shows)."""
        first = 2 if self.kind == "replaced_early" else 1
        updated = self.published + timedelta(minutes=30 * (first - 1))
        shown = [(self.visible, self._entry(first, updated))]
        if self.replaced is not None:
            shown.append((self.replaced_visible, self._entry(first + 1, self.replaced)))
        return shown

    def _entry(self, version: int, updated: datetime) -> dict:
        return dict(id=self.base, version=version, published=self.published, updated=updated,
                    categories=self.categories, title=f"Simulated paper {self.base}")


def simulate(seed: int) -> list[SimPaper]:
    rng = random.Random(seed)
    papers, moment = [], datetime(2026, 10, 12, tzinfo=UTC)
    numbers: dict[str, int] = defaultdict(lambda: 1000)
    while moment < datetime(2026, 11, 28, tzinfo=UTC):
        weekend = moment.weekday() >= 5
        moment += timedelta(hours=rng.expovariate(1 / (8.0 if weekend else 3.5)))
        month = moment.strftime("%y%m")
        numbers[month] += rng.randint(1, 40)
        papers.append(make_paper(rng, f"{month}.{numbers[month]:05d}", moment))
    return papers


def make_paper(rng: random.Random, base: str, published: datetime) -> SimPaper:
    cats = rng.choices([c for c, _ in CATEGORIES], [w for _, w in CATEGORIES])[0]
    announced = announcement_time(published)
    roll = rng.random()
    if roll < 0.70:
        paper = SimPaper(base, published, cats, announced + _minutes(rng, 0, 20), "on_time")
    elif roll < 0.82:
        paper = SimPaper(base, published, cats, announced + _minutes(rng, 40, 180), "lagged")
    elif roll < 0.92:
        held = announced
        for _ in range(rng.randint(1, 3)):
            held = next_announcement(held)
        paper = SimPaper(base, published, cats, held + _minutes(rng, 0, 15), "held")
    else:
        paper = SimPaper(base, published, cats, announced + _minutes(rng, 0, 20),
                         "replaced_early")
    if paper.kind in ("on_time", "lagged") and rng.random() < 0.2:
        paper.replaced = paper.visible + _minutes(rng, 12 * 60, 6 * 24 * 60)
        paper.replaced_visible = announcement_time(paper.replaced) + _minutes(rng, 0, 120)
    return paper


def _minutes(rng: random.Random, lo: int, hi: int) -> timedelta:
    return timedelta(minutes=rng.uniform(lo, hi))


def first_run(visible: datetime, not_before: date) -> date | None:
    return next((d for d in RUNS if d >= not_before and run_time(d) >= visible), None)


def expected_day(paper: SimPaper, settings) -> date | None:
    post = post_of(paper.published, settings)
    if not paper.followed or post < FIRST_DAY:  # the site starts on FIRST_DAY
        return None
    return first_run(paper.visible, post)


def run_month(server, settings, papers: list[SimPaper]) -> dict[str, list]:
    events = sorted((e for p in papers for e in p.events()), key=lambda e: e[0])
    outcome: dict[str, list] = defaultdict(list)
    for day in RUNS:
        now = run_time(day)
        while events and events[0][0] <= now:
            server.add_paper(**events.pop(0)[1])
        try:
            report = fetch_day(settings, day, now=now)
        except NothingNew:
            outcome["nothing_new"].append(day)
        except NoAnnouncement:
            outcome["no_announcement"].append(day)
        else:
            outcome["late"] += report.late
            outcome["requests"].append(report.requests)
    return outcome


def shown_records(settings) -> dict[str, list[tuple[date, int, bool]]]:
    """base id -> (day, version, replacement) of every record, checked against manifests."""
    found = defaultdict(list)
    for folder in sorted(settings.data_path.iterdir()):
        day = load_day(settings, date.fromisoformat(folder.name))
        assert sorted(p.id.base for p in day.papers) == sorted(
            load_paper(path).id.base for path in folder.glob("*.yaml")
            if path.name != "manifest.yaml"), f"{folder}: records not in the manifest"
        for paper in day.papers:
            found[paper.id.base].append((day.manifest.date, paper.id.version, paper.replacement))
    return found


@pytest.fixture
def month_settings(site, arxiv_server, settings_for):
    def make(**overrides):
        return settings_for(site, arxiv_api_url=arxiv_server.query_url, arxiv_delay=0.0,
                            arxiv_page_size=25, **overrides)

    return make


def test_a_simulated_month_misses_nothing_and_shows_nothing_twice(arxiv_server, month_settings):
    settings = month_settings()
    papers = simulate(seed=20261101)
    outcome = run_month(arxiv_server, settings, papers)
    found = shown_records(settings)

    expected = {p.base: d for p in papers if (d := expected_day(p, settings)) is not None}
    missed = sorted(set(expected) - set(found))
    duplicated = sorted(b for b, shows in found.items() if len(shows) > 1)
    unexpected = sorted(set(found) - set(expected))
    wrong_day = sorted(b for b, d in expected.items() if b in found and found[b][0][0] != d)
    assert (missed, duplicated, unexpected, wrong_day) == ([], [], [], [])

    # The month exercised what it is meant to.
    by_kind = defaultdict(int)
    for p in papers:
        if p.base in expected:
            by_kind[p.kind] += 1
    assert len(expected) > 150 and min(by_kind.values()) >= 5, dict(by_kind)
    assert len(outcome["late"]) >= 10  # held and lagged papers, shown in a later digest
    assert any(p.categories[0] not in FOLLOWED and p.base in found for p in papers)
    assert not any(p.base in found for p in papers if not p.followed)
    assert {d for d in outcome["no_announcement"]} == {
        d for d in RUNS if not has_announcement(d)} - {d for d in RUNS if _shown_on(found, d)}
    # Weekends, the three empty posts around the end of daylight time, Thanksgiving.
    assert len(outcome["no_announcement"]) >= 10
    assert all(not p.replaced or found[p.base][0][1] <= 2 for p in papers if p.base in found)
    # Every late paper was still inside the look-back of the day that showed it.
    for base, day in expected.items():
        paper = next(p for p in papers if p.base == base)
        assert paper.published >= lookback_start(day, min_days=settings.lookback_days)


def _shown_on(found, day: date) -> bool:
    return any(shows[0][0] == day for shows in found.values())


def test_with_replacements_each_version_is_shown_once(arxiv_server, month_settings):
    settings = month_settings(include_replacements=True)
    papers = simulate(seed=7)
    run_month(arxiv_server, settings, papers)
    found = shown_records(settings)

    for paper in papers:
        first = expected_day(paper, settings)
        shows = found.get(paper.base, [])
        if first is None:
            assert shows == [], paper
            continue
        originals = [s for s in shows if not s[2]]
        assert [s[0] for s in originals] == [first], (paper, shows)
        replacements = [s for s in shows if s[2]]
        assert replacements == _expected_replacement(paper, first, settings), (paper, shows)
    assert sum(1 for shows in found.values() for s in shows if s[2]) >= 5


def _expected_replacement(paper: SimPaper, first: date, settings) -> list:
    if paper.replaced is None or paper.replaced_visible <= run_time(first):
        return []  # no v2, or the API already showed v2 when the paper first went out
    day = first_run(paper.replaced_visible, post_of(paper.replaced, settings))
    return [] if day is None else [(day, 2, True)]
