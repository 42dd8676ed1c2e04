"""Render and start-up figures (Records issue).

    python benchmarks/bench_render.py [--days 400] [--per-day 25]

Prints: `digest render --all` over days x per-day records on a fresh checkout (records,
no posts, no parse cache; target <= 3 s on 2 cores), the same with nothing to change, the
very first render (which also records its state in every manifest), and `digest --help`
against `python -c "import click"` (target <= 2.5x). Figures are medians of a few runs;
nothing here is a pass/fail test.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from digest_cli.records.store import write_day  # noqa: E402
from digest_cli.records.writer import Writer  # noqa: E402
from digest_cli.settings import load_settings  # noqa: E402
from tests.conftest import make_day, make_paper  # noqa: E402


def build_site(root: Path, days: int, per_day: int) -> None:
    settings = load_settings(root, environ={})
    first = date(2025, 1, 1)
    for d in range(days):
        day = first + timedelta(days=d)
        papers = [make_paper(n, id=f"{day:%y%m}.{d * per_day + n:05d}") for n in range(per_day)]
        write_day(settings, make_day(papers, day=day), Writer())


def timed(cmd: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=400)
    parser.add_argument("--per-day", type=int, default=25)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    digest = [sys.executable, "-m", "digest_cli"]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        build_site(root, args.days, args.per_day)
        records = args.days * args.per_day
        render = [*digest, "--root", tmp, "render", "--all"]
        # The very first render also records what it rendered in each day's manifest.
        first = timed(render, 1)
        # A fresh checkout: records (with their rendered state), no posts, no parse cache.
        cold = []
        for _ in range(args.runs):
            for post in (root / "_posts").glob("*.md"):
                post.unlink()
            shutil.rmtree(root / ".digest-cache", ignore_errors=True)
            cold.append(timed(render, 1))
        warm = timed(render, args.runs)
        check = timed([*digest, "--root", tmp, "render", "--check"], args.runs)
    help_time = timed([*digest, "--help"], args.runs * 3)
    click_time = timed([sys.executable, "-c", "import click"], args.runs * 3)
    cold_median = statistics.median(cold)
    print(f"records: {records} in {args.days} days; {os.cpu_count()} cores")
    print(f"render --all, fresh checkout (no posts, no cache): {cold_median:.2f} s "
          f"(target <= 3 s: {'ok' if cold_median <= 3 else 'OVER'})")
    print(f"render --all, nothing changed (parse cache warm): {warm:.2f} s")
    print(f"render --check:                                   {check:.2f} s")
    print(f"first render ever (also writes 400 manifests):    {first:.2f} s")
    print(f"digest --help: {help_time * 1000:.0f} ms; import click: {click_time * 1000:.0f} ms; "
          f"ratio {help_time / click_time:.2f}x (target <= 2.5x)")


if __name__ == "__main__":
    main()
