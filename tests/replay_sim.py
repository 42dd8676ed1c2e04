"""A simulated arXiv timeline, and a replay of the daily job against it.

Papers are submitted around the clock and announced on arXiv's real schedule (weekends,
holidays, US daylight saving time; `digest_cli.fetch.schedule`). Most appear in the API minutes
after their announcement; some lag by hours (sometimes past the daily run), some are held
by moderation for one to three announcements, some are replaced before or after they are
announced, some are cross-listed from other archives, and some are off-topic. The fake
arXiv shows each version only from the moment it became visible (`add_paper(visible_at=)`)
against a clock the replay sets to each run's time.

Used by tests/test_fetch_month.py (six weeks of `fetch_day`), tests/test_replay.py and
benchmarks/replay.py (60 days of `digest run`, compared with the old blog's rule).
"""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import cached_property

from digest_cli.fetch.day import NO_ANNOUNCEMENT, default_day
from digest_cli.fetch.schedule import (
    announcement_time,
    has_announcement,
    next_announcement,
    post_date_for,
    window_for,
)
from digest_cli.fetch.select import post_of
from digest_cli.records.store import load_day, load_paper

UTC = timezone.utc
FOLLOWED = {"cs.SD", "eess.AS"}
CATEGORIES = [  # (categories, weight): primary first
    (["cs.SD"], 25), (["eess.AS"], 20), (["cs.SD", "eess.AS"], 20),
    (["eess.AS", "cs.SD", "cs.LG"], 10), (["cs.CV", "cs.SD"], 8), (["cs.CL", "eess.AS"], 7),
    (["cs.CL"], 10),
]
# The daily Action's cron, "20 2 * * *" (.github/workflows/daily.yml): 02:20 UTC is
# 10:20 Beijing time, 90 minutes after the 08:50 window closes.
DAILY_RUN_AFTER = timedelta(minutes=90)
OLD_RULE_CAP = 20  # the old blog showed at most 20 papers a day, silently


class Clock:
    """The simulated time: the fake arXiv's `now` and the runs' `now`."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


# -- the population ----------------------------------------------------------------------

@dataclass(frozen=True)
class Mix:
    """How papers behave: the share of each kind, the API lag, replacements, the rate."""

    on_time: float = 0.70  # visible 0-20 minutes after the announcement
    lagged: float = 0.12  # visible `lag_minutes` after it
    held: float = 0.10  # announced one to three announcements late (moderation)
    # the rest: replaced (v2) before the announcement, so first seen as v2
    lag_minutes: tuple[float, float] = (40, 180)
    replaced: float = 0.2  # on-time and lagged papers that get a v2 later
    slow_mailings: float = 0.0  # announcements the whole API shows late
    slow_minutes: tuple[float, float] = (180, 480)  # by this much
    weekday_gap_hours: float = 3.5  # mean time between two submissions
    weekend_gap_hours: float = 8.0
    categories: tuple = tuple((tuple(c), w) for c, w in CATEGORIES)

    @classmethod
    def at_rate(cls, per_day: float, **fields) -> Mix:
        """A mix giving about `per_day` followed papers per announcement day."""
        mix = cls(**fields)
        followed = sum(w for c, w in mix.categories if FOLLOWED & set(c))
        share = followed / sum(w for _, w in mix.categories)
        ratio = mix.weekend_gap_hours / mix.weekday_gap_hours
        gap = share * (5 * 24 + 2 * 24 / ratio) / (5 * per_day)
        return cls(**{**fields, "weekday_gap_hours": gap, "weekend_gap_hours": gap * ratio})


@dataclass
class SimPaper:
    base: str
    published: datetime
    categories: list[str]
    visible: datetime  # when the API first shows it
    kind: str  # on_time | lagged | held | replaced_early
    replaced: datetime | None = None  # a v2 submitted after the paper was announced
    replaced_visible: datetime | None = None
    announced: datetime | None = None  # when arXiv actually announced it

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
        return {"id": self.base, "version": version, "published": self.published,
                "updated": updated, "categories": self.categories,
                "title": f"Simulated paper {self.base}"}


def simulate(seed: int, start: datetime, end: datetime, mix: Mix = Mix()) -> list[SimPaper]:
    """Papers submitted from `start` to `end`, ids numbered by month as arXiv does."""
    rng = random.Random(seed)
    papers, moment = [], start
    numbers: dict[str, int] = defaultdict(lambda: 1000)
    while moment < end:
        weekend = moment.weekday() >= 5
        gap = mix.weekend_gap_hours if weekend else mix.weekday_gap_hours
        moment += timedelta(hours=rng.expovariate(1 / gap))
        month = moment.strftime("%y%m")
        numbers[month] += rng.randint(1, 40)
        papers.append(make_paper(rng, f"{month}.{numbers[month]:05d}", moment, mix))
    for paper in papers:
        slow = mailing_delay(seed, paper.announced, mix)
        paper.visible = max(paper.visible, paper.announced + slow)
    return papers


def mailing_delay(seed: int, announced: datetime, mix: Mix) -> timedelta:
    """How late the API shows a whole announcement (usually not at all): drawn from its
    own generator, so that the papers' draws do not depend on it."""
    rng = random.Random(f"{seed}:{announced.isoformat()}")
    if rng.random() >= mix.slow_mailings:
        return timedelta(0)
    return _minutes(rng, *mix.slow_minutes)


def make_paper(rng: random.Random, base: str, published: datetime,
               mix: Mix = Mix()) -> SimPaper:
    """One paper of a random kind, with the moments the API shows its versions."""
    cats = list(rng.choices([c for c, _ in mix.categories], [w for _, w in mix.categories])[0])
    announced = announcement_time(published)
    roll = rng.random()
    if roll < mix.on_time:
        paper = SimPaper(base, published, cats, announced + _minutes(rng, 0, 20), "on_time")
    elif roll < mix.on_time + mix.lagged:
        paper = SimPaper(base, published, cats, announced + _minutes(rng, *mix.lag_minutes),
                         "lagged")
    elif roll < mix.on_time + mix.lagged + mix.held:
        for _ in range(rng.randint(1, 3)):
            announced = next_announcement(announced)
        paper = SimPaper(base, published, cats, announced + _minutes(rng, 0, 15), "held")
    else:
        paper = SimPaper(base, published, cats, announced + _minutes(rng, 0, 20),
                         "replaced_early")
    paper.announced = announced
    if paper.kind in ("on_time", "lagged") and rng.random() < mix.replaced:
        paper.replaced = paper.visible + _minutes(rng, 12 * 60, 6 * 24 * 60)
        paper.replaced_visible = announcement_time(paper.replaced) + _minutes(rng, 0, 120)
    return paper


def _minutes(rng: random.Random, lo: float, hi: float) -> timedelta:
    return timedelta(minutes=rng.uniform(lo, hi))


def load_timeline(server, papers: list[SimPaper]) -> None:
    """Give the fake arXiv every version of every paper, each visible from its moment."""
    for paper in papers:
        for visible, entry in paper.events():
            server.add_paper(visible_at=visible, **entry)


# -- the daily runs ----------------------------------------------------------------------

def run_time(day: date, after: timedelta = timedelta(minutes=30)) -> datetime:
    """When the day's job runs: `after` the day's window closes."""
    return window_for(day)[1].astimezone(UTC) + after


def day_range(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def first_run(visible: datetime, not_before: date, runs: list[date],
              after: timedelta = timedelta(minutes=30)) -> date | None:
    """The first run on or after `not_before` that sees a paper visible from `visible`."""
    return next((d for d in runs if d >= not_before and run_time(d, after) >= visible), None)


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


# -- the posts ---------------------------------------------------------------------------

_SHOWN = re.compile(r"本页显示：(\d+) 篇")


def post_problems(settings) -> list[str]:
    """What is wrong with the days on disk: counts that do not add up, a post missing or
    not saying what the records say. Empty when every day is right."""
    days = {date.fromisoformat(f.name) for f in settings.data_path.iterdir()}
    posts = {date.fromisoformat(p.name[:10]) for p in settings.posts_path.glob("*.md")}
    problems = [f"{d}: a post without records" for d in sorted(posts - days)]
    for day in sorted(days):
        problems += _day_problems(settings, day)
    return problems


def _day_problems(settings, day: date) -> list[str]:
    from digest_cli.posts.importer import parse_post

    m = load_day(settings, day).manifest
    path = settings.post_path(day)
    if m.fetched != m.shown + len(m.left_out):
        return [f"{day}: fetched {m.fetched} != shown {m.shown} + left out {len(m.left_out)}"]
    if not path.is_file():
        return [f"{day}: no post {path}"]
    parsed, papers = parse_post(path, settings)
    shown = _SHOWN.search(path.read_text("utf-8"))
    if [p.paper.id.base for p in papers] != m.papers:
        return [f"{day}: the post shows {len(papers)} papers, the manifest {m.shown}"]
    if parsed.fetched != m.fetched or not shown or int(shown.group(1)) != m.shown:
        return [f"{day}: the post's header counts differ from the manifest's"]
    return []


# -- the old blog's rule -----------------------------------------------------------------

def old_rule_day(server, day: date, cap: int = OLD_RULE_CAP) -> tuple[list[str], list[str]]:
    """What the old blog posted for `day`: the papers the API shows now whose submission
    (`published`) lies in the 24 hours before 08:50 Beijing time, newest first, capped.
    Returns (kept, dropped by the cap)."""
    from digest_cli.bounded import request
    from digest_cli.fetch.client import Search
    from digest_cli.fetch.feed import parse_page

    start, end = (moment.astimezone(UTC) for moment in window_for(day))
    search = Search(query=(f"(cat:cs.SD OR cat:eess.AS) AND submittedDate:"
                           f"[{start:%Y%m%d%H%M} TO {end:%Y%m%d%H%M}]"))
    entries: list = []
    while True:  # every page, newest submission first
        reply = request("GET", server.query_url, params=search.params(len(entries), 100),
                        deadline=30, max_bytes=64 << 20)
        page = parse_page(reply.content)
        entries += page.entries
        if not page.entries or len(entries) >= page.total:
            break
    ids = [e.short_id.split("v")[0] for e in entries if start < e.published <= end]
    return ids[:cap], ids[cap:]


# -- the replay --------------------------------------------------------------------------

def replay_mix(per_day: float = 15.0) -> Mix:
    """The replay's papers: about `per_day` followed papers per announcement day, with
    API lags of up to 7 hours (past the daily run when arXiv announces before it), and one
    announcement in ten that the whole API shows 3 to 8 hours late."""
    return Mix.at_rate(per_day, on_time=0.70, lagged=0.15, held=0.10, lag_minutes=(30, 420),
                       slow_mailings=0.1)


@dataclass(frozen=True)
class Setup:
    """What to replay: the days, the population, when the daily job runs."""

    first: date
    last: date
    seed: int = 2026
    mix: Mix = field(default_factory=replay_mix)
    run_after: timedelta = DAILY_RUN_AFTER
    warmup: int = 7  # days both rules run before `first`, so the site has a history
    old_cap: int = OLD_RULE_CAP

    @property
    def days(self) -> list[date]:
        return day_range(self.first, self.last)


@dataclass
class Outcome:
    """What a replay did, and the papers it was played with."""

    setup: Setup
    papers: list[SimPaper]
    posts: list[date] = field(default_factory=list)
    no_post: dict[str, list[date]] = field(default_factory=lambda: defaultdict(list))
    requests: int = 0  # the digest's API requests during the replayed days
    late_reported: int = 0  # the fetch reports' `late`, summed
    shown: dict[str, list] = field(default_factory=dict)  # base -> (day, version, repl.)
    skipped: int = 0  # replacements left out (in manifests' left_out)
    old: dict[str, list[date]] = field(default_factory=lambda: defaultdict(list))
    old_capped: set[str] = field(default_factory=set)
    old_requests: int = 0
    problems: list[str] = field(default_factory=list)

    @cached_property
    def announced(self) -> dict[str, SimPaper]:
        """Followed papers arXiv announced in the replayed windows, visible by the last run."""
        last_run = run_time(self.setup.last, self.setup.run_after)
        return {p.base: p for p in self._in_span() if p.visible <= last_run}

    @cached_property
    def pending(self) -> list[str]:
        """Announced in the span but still lagging in the API at the last run."""
        last_run = run_time(self.setup.last, self.setup.run_after)
        return [p.base for p in self._in_span() if p.visible > last_run]

    def _in_span(self) -> list[SimPaper]:
        return [p for p in self.papers if p.followed
                and self.setup.first <= post_date_for(p.announced) <= self.setup.last]

    @property
    def missed(self) -> list[str]:
        return sorted(set(self.announced) - set(self.shown))

    @property
    def duplicated(self) -> list[str]:
        return sorted(b for b, shows in self.shown.items() if len(shows) > 1)

    @property
    def unexpected(self) -> list[str]:
        """Shown although not a followed paper (off-topic): must never happen."""
        followed = {p.base for p in self.papers if p.followed}
        return sorted(set(self.shown) - followed)

    @property
    def old_missed(self) -> list[str]:
        return sorted(set(self.announced) - set(self.old))

    @property
    def old_duplicated(self) -> list[str]:
        return sorted(b for b, days in self.old.items() if len(days) > 1)

    def late(self, settings) -> Counter:
        """Papers shown after their computed day: held (by moderation) or lagged (the API
        showed the paper, or its whole announcement, after that day's run)."""
        counts: Counter = Counter()
        for base, paper in self.announced.items():
            shows = self.shown.get(base)
            if shows and shows[0][0] > post_of(paper.published, settings):
                counts["held" if paper.kind == "held" else "lagged"] += 1
        return counts


def replay(setup: Setup, settings, server) -> Outcome:
    """Run the daily job and the old rule once a day, in time order, against `server`.

    `settings` must point at `server` (arxiv_api_url), with arxiv_delay and
    arxiv_cache_ttl 0 so that each day asks arXiv again."""
    start = datetime.combine(setup.first, datetime.min.time(), UTC)
    papers = simulate(setup.seed, start - timedelta(days=setup.warmup + 7),
                      run_time(setup.last, setup.run_after), setup.mix)
    load_timeline(server, papers)
    clock = Clock()
    server.now = clock
    outcome = Outcome(setup, papers)
    for day in day_range(setup.first - timedelta(days=setup.warmup), setup.last):
        clock.now = run_time(day, setup.run_after)
        _run_digest(settings, server, day, clock.now, outcome)
        _run_old_rule(server, day, outcome)
    outcome.shown = shown_records(settings)
    outcome.skipped = _skipped_replacements(settings, setup)
    outcome.problems = post_problems(settings)
    return outcome


def _run_digest(settings, server, day: date, now: datetime, outcome: Outcome) -> None:
    from digest_cli.run import RunOptions, run_day

    assert default_day(settings, now) == day, "the scheduled run takes the latest window"
    before = len(server.query_requests)
    report = run_day(settings, day, now=now, options=RunOptions(no_llm=True))
    if day < outcome.setup.first:  # warm-up: the site's history, not measured
        return
    outcome.requests += len(server.query_requests) - before
    if report.no_post is None:
        outcome.posts.append(day)
        outcome.late_reported += len(report.fetch.late)
    else:
        reason = "no_announcement" if report.no_post == NO_ANNOUNCEMENT else "nothing_new"
        outcome.no_post[reason].append(day)


def _run_old_rule(server, day: date, outcome: Outcome) -> None:
    before = len(server.query_requests)
    kept, dropped = old_rule_day(server, day, outcome.setup.old_cap)
    for base in kept:
        outcome.old[base].append(day)
    outcome.old_capped.update(dropped)
    if day >= outcome.setup.first:
        outcome.old_requests += len(server.query_requests) - before


def _skipped_replacements(settings, setup: Setup) -> int:
    count = 0
    for day in setup.days:
        if (settings.day_path(day) / "manifest.yaml").is_file():
            left_out = load_day(settings, day).manifest.left_out
            count += sum(1 for x in left_out if x.reason.startswith("replacement"))
    return count


def announcement_days(setup: Setup) -> list[date]:
    """The replayed days whose window holds an arXiv announcement."""
    return [d for d in setup.days if has_announcement(d)]
