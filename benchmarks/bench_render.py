"""Render, check and start-up figures on a year-old site (Structure issue, Performance).

    python benchmarks/bench_render.py [--days 500] [--runs 3] [--keep DIR]

The workload: the seed post (20 papers with full translations and 详细解读) imported
under `--days` dates, rendered once and committed, as a site a year old holds it. Each
"fresh checkout" is a `git clone` of that repository (every file's mtime new, nothing
in the page cache but what the clone wrote). Prints, with the ratio to the 3 s target:

- `digest render --all` and `digest check --all` on a fresh checkout (cold): the
  issue's figures, target <= 3 s each on 2 cores,
- the same again in the same checkout (the OS's page cache warm; nothing of ours is
  cached between runs),
- the same cold with the fork pool off (`records.pool.POOL_MIN_DAYS` set past the
  workload): the figure that decides whether the pool stays,
- `digest --help` against `python -c "import click"` (target <= 2.5x).

Figures are medians of `--runs` runs, wall time with the CPU time beside it (all
processes); nothing here is a pass/fail test. `--keep DIR` builds the site in DIR once
(about a minute) and reuses it on later runs.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# DIGEST_SEED, else ../shared's beside the checkout, else the copy committed for the tests.
SEED = Path(os.environ.get("DIGEST_SEED")
            or REPO.parent / "shared" / "seed" / "2026-01-28-arxiv.md")
if not SEED.is_file():
    SEED = REPO / "tests" / "fixtures" / "seed" / "2026-01-28-arxiv.md"
SEED_DAY = date(2026, 1, 28)
TARGET = 3.0
DIGEST = [sys.executable, "-m", "digest_cli"]
# The same command with one process reading every day (the pool's threshold out of reach).
SERIAL = [sys.executable, "-c", "import sys; import digest_cli.records.pool as pool; "
          "pool.POOL_MIN_DAYS = 10**9; from digest_cli.cli import main; "
          "sys.argv[0] = 'digest'; main()"]
GIT = ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost",
       "-c", "commit.gpgsign=false"]


def seed_under(day: date) -> str:
    """The seed post as if it had been published on `day` (window ending that morning),
    its papers given ids of that day (`YYMM.DDNNN`), so no paper shows on two days."""
    text = SEED.read_text(encoding="utf-8")
    text = text.replace(SEED_DAY.isoformat(), day.isoformat())
    text = text.replace((SEED_DAY - timedelta(days=1)).isoformat(),
                        (day - timedelta(days=1)).isoformat())
    return re.sub(r"(?<!\d)2601\.\d\d(\d{3})(?!\d)",
                  lambda m: f"{day:%y%m}.{day.day:02d}{m.group(1)}", text)


def build_site(root: Path, days: int) -> None:
    """Import the seed under `days` dates, render once and commit it all."""
    posts = root / "_posts"
    posts.mkdir(parents=True)
    first = date(2025, 1, 1)
    for n in range(days):
        day = first + timedelta(days=n)
        (posts / f"{day.isoformat()}-arxiv.md").write_text(seed_under(day), encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / ".gitignore").write_text(".digest-cache/\n")
    run([*DIGEST, "--root", str(root), "import", *sorted(map(str, posts.glob("*.md")))])
    run([*DIGEST, "--root", str(root), "render", "--all"])
    run([*GIT, "-C", str(root), "add", "-A"])
    run([*GIT, "-C", str(root), "commit", "-q", "-m", "a year of digests"])


def run(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=True, capture_output=True, text=True)


def clone(origin: Path, dest: Path) -> None:
    """A fresh checkout: new mtimes everywhere.

    The clone's own 60 MB are then flushed to disk (`os.sync`): timed right after the
    clone, the command would share the cores with the kernel writing them out, which on a
    CI runner is long done when the command starts (setting up Python and installing take
    longer than the kernel's writeback delay)."""
    shutil.rmtree(dest, ignore_errors=True)
    run(["git", "clone", "-q", str(origin), str(dest)])
    os.sync()


def timed(cmd: list[str]) -> float:
    """Wall time of `cmd`; its CPU time (with its worker processes') goes to CPU."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stderr}"
                         "(a --keep site built by an older digest? delete it to rebuild)")
    return elapsed


CPU: list[float] = []  # CPU seconds of each timed command, in order


def measure(origin: Path, work: Path, runs: int) -> dict[str, list[tuple[float, float]]]:
    """(wall, CPU) of render --all and check --all: cold, again, cold without the pool."""
    figures: dict[str, list[tuple[float, float]]] = {}

    def note(name: str, cmd: list[str]) -> None:
        wall = timed(cmd)
        figures.setdefault(name, []).append((wall, CPU[-1]))

    for _ in range(runs):
        for name, args in (("render --all", ["render", "--all"]),
                           ("check --all", ["check", "--all"])):
            cmd = [*DIGEST, "--root", str(work), *args]
            clone(origin, work)
            note(f"{name}, fresh checkout (cold)", cmd)
            note(f"{name}, again (page cache warm)", cmd)
            clone(origin, work)
            note(f"{name}, cold, no fork pool", [*SERIAL, "--root", str(work), *args])
    return figures


def machine() -> str:
    import ruamel.yaml

    try:
        import yaml
        pyyaml = f"PyYAML {yaml.__version__} (C: {yaml.__with_libyaml__})"
    except ImportError:
        pyyaml = "no PyYAML"
    return (f"{os.cpu_count()} cores, {platform.system()} {platform.release()}, "
            f"{platform.python_implementation()} {platform.python_version()}, "
            f"ruamel.yaml {ruamel.yaml.__version__}, {pyyaml}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="build the site here once and reuse it")
    args = parser.parse_args()
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        origin = args.keep or Path(tmp) / "origin"
        if not (origin / ".git").is_dir():
            build_site(origin, args.days)
        records = sum(1 for p in (origin / "data").glob("*/*.yaml") if p.name != "manifest.yaml")
        figures = measure(origin, Path(tmp) / "checkout", args.runs)
    help_time = statistics.median(timed([*DIGEST, "--help"]) for _ in range(args.runs * 3))
    click_time = statistics.median(timed([sys.executable, "-c", "import click"])
                                   for _ in range(args.runs * 3))
    print(f"machine: {machine()}")
    print(f"workload: {records} records in {args.days} days (the seed post under each date)")
    print(f"load average before/after: {load[0]:.1f} / {os.getloadavg()[0]:.1f} "
          "(wall times stretch when other work shares the cores; CPU times less so)")
    for name, samples in figures.items():
        wall = statistics.median(w for w, _ in samples)
        cpu = statistics.median(c for _, c in samples)
        print(f"{name:<44} {wall:5.2f} s = {wall / TARGET:.2f}x the {TARGET:.0f} s target "
              f"({'ok' if wall <= TARGET else 'OVER'}); CPU {cpu:.2f} s; "
              f"runs: {', '.join(f'{w:.2f}' for w, _ in samples)}")
    print(f"digest --help: {help_time * 1000:.0f} ms; import click: {click_time * 1000:.0f} ms; "
          f"ratio {help_time / click_time:.2f}x (target <= 2.5x)")


if __name__ == "__main__":
    main()
