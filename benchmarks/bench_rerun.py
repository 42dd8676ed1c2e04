"""What a re-run of a finished day costs, beside what the first run cost.

`digest run --date D --publish` runs as a subprocess (`python -m digest_cli`, startup
included) against the fake arXiv, LLM, PDF and GitHub servers and a bare git origin
(tests/drill_kit.py). Then the same command again, three ways:

* same tree: the same working tree, arXiv answer cache still fresh;
* arXiv again: the same tree with the arXiv cache expired (`DIGEST_ARXIV_CACHE_TTL=0`);
* new checkout: a fresh clone of main, as each scheduled CI job starts.

Printed per run: LLM requests and tokens, arXiv requests, PDF downloads, GitHub API
requests (and writes), commits and pushes to origin, files written, wall time. A re-run
should cost no LLM call, no commit, no push and no GitHub write.

    /tmp/venv/bin/python benchmarks/bench_rerun.py [--papers 20] [--latency 0.2]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.drill_kit import Drill, git  # noqa: E402

ROWS = ["LLM requests", "LLM tokens in", "LLM tokens out", "arXiv requests",
        "PDF downloads", "GitHub requests", "GitHub writes", "commits", "pushes",
        "files written", "wall time (s)"]


def state(drill: Drill, root: Path) -> dict:
    tip = drill.remote_tip()
    commits = int(git(drill.origin, "rev-list", "--count", f"main..{tip}")) if tip else 0
    mtimes = {p: p.stat().st_mtime_ns for p in root.rglob("*")
              if p.is_file() and ".git" not in p.relative_to(root).parts}
    return {"llm": drill.llm.calls, "arxiv": len(drill.arxiv.query_requests),
            "pdf": sum(drill.pdfs.hits.values()), "gh": len(drill.gh.requests),
            "gh_writes": len(drill.gh.writes), "commits": commits, "pushes": drill.pushes(),
            "mtimes": mtimes}


def tokens(stdout: str) -> tuple[int, int]:
    """Tokens in and out from the run's `LLM: N requests, X tokens in, Y out` line."""
    match = re.search(r"^LLM: \d+ requests, ([\d,]+) tokens in, ([\d,]+) out", stdout, re.M)
    return (0, 0) if not match else tuple(int(g.replace(",", "")) for g in match.groups())


def measure(drill: Drill, root: Path, **env: str) -> list:
    before = state(drill, root)
    started = time.perf_counter()
    result = drill.run_subprocess(root=root, **env)
    wall = time.perf_counter() - started
    if result.exit_code != 0:
        sys.exit(f"the run failed:\n{result.output[-3000:]}")
    after = state(drill, root)
    written = sum(1 for p, m in after["mtimes"].items() if before["mtimes"].get(p) != m)
    keys = ["llm", "arxiv", "pdf", "gh", "gh_writes", "commits", "pushes"]
    d = {k: after[k] - before[k] for k in keys}
    t_in, t_out = tokens(result.stdout)
    return [d["llm"], t_in, t_out, d["arxiv"], d["pdf"], d["gh"], d["gh_writes"],
            d["commits"], d["pushes"], written, f"{wall:.2f}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.2, help="LLM seconds per request")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-rerun-") as tmp, \
            Drill(Path(tmp), n=args.papers, llm_latency=args.latency, page_size=10) as drill:
        columns = {"first run": measure(drill, drill.root),
                   "same tree": measure(drill, drill.root),
                   "arXiv again": measure(drill, drill.root, DIGEST_ARXIV_CACHE_TTL="0"),
                   "new checkout": measure(drill, drill.fresh_clone())}
    print(f"digest run --publish, {args.papers} papers, LLM latency {args.latency} s "
          "(subprocess, startup included)")
    width = max(map(len, ROWS))
    print(" " * width + "".join(f"{name:>14}" for name in columns))
    for i, row in enumerate(ROWS):
        print(f"{row:<{width}}" + "".join(f"{str(col[i]):>14}" for col in columns.values()))


if __name__ == "__main__":
    main()
