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

from collections import defaultdict
from datetime import date, datetime, timezone

import pytest

from digest_cli.fetch.day import NoPost, fetch_day
from digest_cli.fetch.schedule import has_announcement, lookback_start
from digest_cli.fetch.select import post_of
from tests import replay_sim
from tests.replay_sim import FOLLOWED, Clock, SimPaper, load_timeline, run_time, shown_records

UTC = timezone.utc
FIRST_DAY, LAST_DAY = date(2026, 10, 19), date(2026, 11, 30)
RUNS = replay_sim.day_range(FIRST_DAY, LAST_DAY)


def simulate(seed: int) -> list[SimPaper]:
    return replay_sim.simulate(seed, datetime(2026, 10, 12, tzinfo=UTC),
                               datetime(2026, 11, 28, tzinfo=UTC))


def first_run(visible: datetime, not_before: date) -> date | None:
    return replay_sim.first_run(visible, not_before, RUNS)


def expected_day(paper: SimPaper, settings) -> date | None:
    post = post_of(paper.published, settings)
    if not paper.followed or post < FIRST_DAY:  # the site starts on FIRST_DAY
        return None
    return first_run(paper.visible, post)


def run_month(server, settings, papers: list[SimPaper]) -> dict[str, list]:
    load_timeline(server, papers)  # the fake arXiv shows each version from its moment on
    clock = server.now = Clock()
    outcome: dict[str, list] = defaultdict(list)
    for day in RUNS:
        clock.now = now = run_time(day)
        report = fetch_day(settings, day, now=now)
        if isinstance(report, NoPost):
            outcome["nothing_new" if report.announced else "no_announcement"].append(day)
        else:
            outcome["late"] += report.late
            outcome["requests"].append(report.requests)
    return outcome


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
