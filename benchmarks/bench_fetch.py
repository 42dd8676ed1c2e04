"""Fetch benchmark: API requests per day, and none on a re-run from the cache.

    /tmp/venv/bin/python benchmarks/bench_fetch.py [--page-size 200]

For days of several sizes it serves papers from the fake arXiv on 127.0.0.1 (no network),
runs the real `fetch_day` and prints: results, requests, the bound
ceil(results / page size) + 1, requests of an immediate re-run (cache) and of an
`--offline` replay, and wall time. Exits 1 if a count breaks its bound.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digest_cli.fetch.client import ArxivClient  # noqa: E402
from digest_cli.fetch.day import fetch_day  # noqa: E402
from digest_cli.settings import load_settings  # noqa: E402
from tests.fakes import FakeArxiv  # noqa: E402

DAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 10, 1, 0, tzinfo=timezone.utc)
MONDAY = datetime(2026, 3, 9, 12, 0, tzinfo=timezone.utc)


def one_size(count: int, page_size: int) -> dict:
    """Fetch a day of `count` papers three times: online, re-run, offline."""
    with FakeArxiv() as server, tempfile.TemporaryDirectory() as tmp:
        for n in range(count):
            server.add_paper(id=f"2603.{n + 1:05d}", published=MONDAY - timedelta(seconds=n))
        settings = load_settings(Path(tmp), environ={}, overrides={
            "arxiv_api_url": server.query_url, "arxiv_delay": 0.0,
            "arxiv_page_size": page_size})
        row = {"results": count, "bound": math.ceil(count / page_size) + 1}
        started = time.perf_counter()
        row["requests"] = _requests(settings, NOW)
        row["seconds"] = time.perf_counter() - started
        row["rerun"] = _requests(settings, NOW + timedelta(minutes=10))
        row["offline"] = _requests(settings, NOW + timedelta(days=3), offline=True)
        row["sent"] = len(server.query_requests)  # what the server saw, to cross-check
        return row


def _requests(settings, now: datetime, offline: bool = False) -> int:
    client = ArxivClient(settings, now=now, offline=offline)
    fetch_day(settings, DAY, now=now, offline=offline, client=client)  # NoPost counts too
    return client.stats.requests


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--page-size", type=int, default=200)
    args = parser.parse_args(argv)
    p = args.page_size
    sizes = [0, 1, p - 1, p, p + 1, 2 * p + 50, 5 * p]
    print(f"page size {p}; requests of one day's fetch vs ceil(results / page size) + 1")
    print(f"{'results':>8} {'requests':>9} {'bound':>6} {'re-run':>7} {'offline':>8} "
          f"{'seconds':>8}")
    ok = True
    for count in sizes:
        row = one_size(count, p)
        print(f"{count:>8} {row['requests']:>9} {row['bound']:>6} {row['rerun']:>7} "
              f"{row['offline']:>8} {row['seconds']:>8.2f}")
        ok &= (row["requests"] <= row["bound"] and row["rerun"] == row["offline"] == 0
               and row["sent"] == row["requests"])
    print("OK: every fetch within the bound; re-runs and offline replays made no request"
          if ok else "FAILED: a count broke its bound")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
