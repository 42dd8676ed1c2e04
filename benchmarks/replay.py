"""A 60-day replay of the daily job against a simulated arXiv, and the old blog's rule.

    /tmp/venv/bin/python benchmarks/replay.py [--start 2026-10-01] [--days 60] [--seed 2026]
                                              [--per-day 15] [--run-at 02:20]
                                              [--page-size N] [--lookback-days N]

A fake arXiv on 127.0.0.1 (no network) follows arXiv's real schedule: weekends, holidays,
US daylight saving time (the default span, 1 October to 29 November 2026, crosses the
end of DST on 1 November and Thanksgiving on 26 November; `--start 2026-02-20` crosses its
start on 8 March). It holds a seeded population of papers (tests/replay_sim.py): held by
moderation for one to three announcements, lagging in the API for hours (sometimes past
the daily run), replaced (v2), cross-listed, off-topic. Each day, at the scheduled run
time, the real `digest run` path (`run_day`, no LLM, no publish) runs against what the API
shows by then; so does the old blog's rule: papers *submitted* in the 24 hours before
08:50 Beijing time, one run a day, at most 20 papers, silently. Both rules also run on
the 7 days before the span, so that the site has a history; only the span is counted.

Prints a table; exits 1 if the digest missed or duplicated a paper, or a post is wrong.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digest_cli.settings import load_settings  # noqa: E402
from tests.fakes import FakeArxiv  # noqa: E402
from tests.replay_sim import (  # noqa: E402
    FOLLOWED,
    Outcome,
    Setup,
    announcement_days,
    replay,
    replay_mix,
)


def measure(setup: Setup, **overrides) -> tuple[Outcome, object, float]:
    """Replay `setup` in a throwaway site (settings `overrides` on top of the defaults);
    returns the outcome, the settings and the wall time."""
    with FakeArxiv() as server, tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "data").mkdir()
        (Path(tmp) / "_posts").mkdir()
        settings = load_settings(Path(tmp), environ={}, overrides={
            "arxiv_api_url": server.query_url, "arxiv_delay": 0.0,
            "arxiv_cache_ttl": 0.0, **overrides})
        started = time.perf_counter()
        outcome = replay(setup, settings, server)
        return outcome, settings, time.perf_counter() - started


def rows(outcome: Outcome, settings) -> list[tuple[str, str]]:
    """The table: (what, figure)."""
    setup, announced = outcome.setup, outcome.announced
    empty = len(outcome.no_post["no_announcement"])
    late = outcome.late(settings)
    cross = sum(1 for p in announced.values() if p.categories[0] not in FOLLOWED)
    old_missed = len(outcome.old_missed)
    kinds = Counter(announced[base].kind for base in outcome.old_missed)
    return [
        ("days replayed", f"{len(setup.days)} ({setup.first} .. {setup.last})"),
        ("announcement days", str(len(announcement_days(setup)))),
        ("posts (no announcement / API not ready)",
         f"{len(outcome.posts)} ({empty} / {len(outcome.no_post['nothing_new'])})"),
        ("papers announced (cs.SD/eess.AS)", f"{len(announced)} ({cross} cross-listed)"),
        ("off-topic papers in the simulated arXiv",
         str(sum(1 for p in outcome.papers if not p.followed))),
        ("shown by digest", str(sum(1 for b in announced if b in outcome.shown))),
        ("missed", str(len(outcome.missed))),
        ("duplicated", str(len(outcome.duplicated))),
        ("shown off-topic", str(len(outcome.unexpected))),
        ("late papers placed (held / lagged)",
         f"{sum(late.values())} ({late['held']} / {late['lagged']})"),
        ("replacements skipped", str(outcome.skipped)),
        ("still lagging in the API after the last run", str(len(outcome.pending))),
        ("old-rule missed", f"{old_missed} ({100 * old_missed / max(1, len(announced)):.1f} %)"),
        ("  by kind: on time / lagged / held / v2 early",
         " / ".join(str(kinds[k]) for k in ("on_time", "lagged", "held", "replaced_early"))),
        ("  dropped by its cap of 20", str(len(set(outcome.old_missed) & outcome.old_capped))),
        ("old-rule duplicated", str(len(outcome.old_duplicated))),
        ("API requests (digest / old rule)", f"{outcome.requests} / {outcome.old_requests}"),
        ("posts with a problem", str(len(outcome.problems))),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--start", type=date.fromisoformat, default=date(2026, 10, 1))
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--per-day", type=float, default=15.0,
                        help="followed papers per announcement day (mean)")
    parser.add_argument("--run-at", default="02:20", help="daily run time, HH:MM UTC")
    parser.add_argument("--page-size", type=int, help="arxiv_page_size (default: the setting's)")
    parser.add_argument("--lookback-days", type=int, help="lookback_days (default: the setting's)")
    args = parser.parse_args(argv)
    overrides = {name: value for name, value in (("arxiv_page_size", args.page_size),
                                                 ("lookback_days", args.lookback_days))
                 if value is not None}
    setup = Setup(args.start, args.start + timedelta(days=args.days - 1), seed=args.seed,
                  mix=replay_mix(args.per_day), run_after=_run_after(args.run_at))
    outcome, settings, seconds = measure(setup, **overrides)
    table = rows(outcome, settings) + [("wall time", f"{seconds:.1f} s")]
    width = max(len(name) for name, _ in table)
    for name, figure in table:
        print(f"{name:<{width}}  {figure}")
    for problem in outcome.problems:
        print(f"problem: {problem}")
    return 1 if outcome.missed or outcome.duplicated or outcome.problems else 0


def _run_after(clock: str) -> timedelta:
    """HH:MM UTC as the time after the window's close (00:50 UTC, 08:50 Beijing time)."""
    hour, minute = (int(part) for part in clock.split(":"))
    run = datetime(2026, 1, 2, hour, minute, tzinfo=timezone.utc)
    close = datetime(2026, 1, 2, 0, 50, tzinfo=timezone.utc)
    return (run - close) % timedelta(days=1)


if __name__ == "__main__":
    sys.exit(main())
