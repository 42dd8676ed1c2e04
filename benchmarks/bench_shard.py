"""A big day's LLM stage: one job against N shards (`digest translate --shard K/N`).

800 papers x 3 requests (translation, 详细解读 with the PDF's full text, brief) against the
fake OpenAI server and fake arXiv PDFs, run in a child process as a real API is remote.
A real answer takes 2-5 s; the fake answers after `--latency` seconds, 3 s scaled down by
`--scale` (default 20: 0.15 s), so the benchmark takes minutes, not an hour. Every job is a
real `digest` process in its own copy of the site, as each Actions job has its own
checkout, with `llm_concurrency` 8 (the default).

Measured:
* one job: `digest translate` of the whole day;
* N shards at once on this machine (2 cores shared by every process: the CPU part of
  the work, YAML writes and PDF parsing, does not spread over more cores here);
* each shard alone, one after another: what N Actions runners, one per job, would each
  see; the slowest one plus the merge is the sharded day's LLM stage;
* `digest shards merge` of the N folders into a fresh copy of the day.

Then each figure with the latency scaled back up: the requests' share of the time
(requests / concurrency x latency) grows by `--scale`, the rest (CPU) stays.

    python benchmarks/bench_shard.py [--papers 800] [--shards 4] [--latency 0.15] [--scale 20]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# The same papers and the same stand-in servers' addresses as the one-job benchmark.
from bench_translate import SECTIONS, _Remote  # noqa: E402 - beside this script

from digest_cli.records.store import load_day  # noqa: E402 - after the sys.path line
from digest_cli.settings import load_settings  # noqa: E402 - after the sys.path line
from digest_cli.translate.shard import partition  # noqa: E402 - after the sys.path line
from tests.fakes.llm_server import FakeLLM  # noqa: E402 - after the sys.path line
from tests.fakes.pdf_server import FakePDFs, paper_pdf  # noqa: E402 - after the sys.path line
from tests.fakes.translate_kit import DAY, by_model, env_for, paper_id, write_day  # noqa: E402 - after the sys.path line


def serve(conn, papers: int, latency: float) -> None:
    """The fake OpenAI API and fake arXiv PDFs, in a process of their own."""
    with FakeLLM(api_key="sk-bench", responder=by_model(), latency=latency) as llm, \
            FakePDFs() as pdfs:
        for i in range(papers):
            pdfs.pdfs[f"{paper_id(i)}v1"] = paper_pdf(f"Paper {paper_id(i)}", SECTIONS)
        conn.send((llm.base_url, pdfs.template))
        while conn.recv() == "calls?":
            conn.send(llm.calls)


def digest(root: Path, env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "digest_cli", "--root", str(root), *args],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def finish(job: subprocess.Popen, what: str) -> str:
    out, _ = job.communicate()
    if job.returncode != 0:
        raise SystemExit(f"{what} failed ({job.returncode}):\n{out}")
    return out


def timed(jobs: dict[str, subprocess.Popen]) -> dict[str, float]:
    """Each job's wall time from now until it exits."""
    started, walls = time.monotonic(), {}
    while len(walls) < len(jobs):
        for name, job in jobs.items():
            if name not in walls and job.poll() is not None:
                walls[name] = time.monotonic() - started
                finish(job, name)
        time.sleep(0.05)
    return walls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=800)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--latency", type=float, default=0.15)
    parser.add_argument("--scale", type=float, default=20.0,
                        help="real latency = latency x scale (3 s by default)")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(child, args.papers, args.latency),
                                     daemon=True)
    server.start()
    remote = _Remote(*parent.recv())
    env = {**os.environ, **env_for(remote, remote, llm_concurrency=args.concurrency,
                                   llm_timeout=60), "PYTHONPATH": str(ROOT)}
    day = ["--date", DAY.isoformat()]
    n = args.shards
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        write_day(base / "site", args.papers)

        def fresh(name: str) -> Path:
            shutil.copytree(base / "site", base / name)
            return base / name

        one = timed({"one": digest(fresh("one"), env, "translate", *day)})["one"]
        parent.send("calls?")
        one_calls = parent.recv()
        usage = load_day(load_settings(base / "one", environ={}), DAY).manifest.usage["translate"]

        def shard(k: int, tag: str) -> subprocess.Popen:
            return digest(fresh(f"{tag}{k}"), env, "translate", *day, "--shard", f"{k}/{n}",
                          "--out", str(base / f"{tag}-pack{k}"))

        started = time.monotonic()
        together = timed({f"{k}": shard(k, "at-once") for k in range(1, n + 1)})
        together_wall = time.monotonic() - started
        alone = {k: timed({f"{k}": shard(k, "alone")})[f"{k}"] for k in range(1, n + 1)}
        publish = fresh("publish")
        started = time.monotonic()
        out = finish(digest(publish, env, "shards", "merge", *day, "--shards", str(n),
                            *(str(base / f"alone-pack{k}") for k in range(1, n + 1))), "merge")
        merge_wall = time.monotonic() - started
        merged = load_day(load_settings(publish, environ={}), DAY)
    parent.send("done")
    server.join(timeout=10)

    requests = usage["calls"]
    assert all(p.translation and p.analysis and p.title_zh for p in merged.papers), out
    sizes = [len(v) for v in partition([paper_id(i) for i in range(args.papers)], n).values()]
    slowest = max(alone.values())
    real = args.latency * args.scale

    def scaled(wall: float, calls: float) -> float:
        waiting = calls / args.concurrency * args.latency
        return wall - waiting + waiting * args.scale

    sharded_real = scaled(slowest, requests / n) + merge_wall
    print(f"papers: {args.papers}, requests: {requests} (server counted {one_calls}), "
          f"latency {args.latency:g} s (= {real:g} s / {args.scale:g}), "
          f"llm_concurrency {args.concurrency} per job; shards of {sizes} papers")
    ideal = requests / args.concurrency * args.latency
    print(f"one job:                     {one:7.1f} s   ideal {ideal:6.1f} s")
    print(f"{n} shards at once, 2 cores:   {together_wall:7.1f} s   "
          f"(each: {', '.join(f'{w:.1f}' for w in together.values())})")
    print(f"each shard alone (a runner): {', '.join(f'{w:.1f}' for w in alone.values())} s; "
          f"slowest {slowest:.1f} s")
    print(f"merge of {n} folders:         {merge_wall:7.1f} s")
    print(f"sharded LLM stage (slowest shard + merge): {slowest + merge_wall:.1f} s -> "
          f"speed-up {one / (slowest + merge_wall):.1f}x")
    print(f"at {real:g} s per answer: one job ≈ {scaled(one, requests) / 60:.1f} min, "
          f"{n} shards ≈ {sharded_real / 60:.1f} min (+ each job's set-up on Actions)")
    print(f"tokens: {usage['input_tokens']:,} in, {usage['output_tokens']:,} out; "
          f"cost ≈ ${usage['cost']:.4f} at the default prices (the fake's answers are short: "
          "see docs/performance.md for the cost with real answer lengths)")
    print(f"merged day: {merged.manifest.usage['translate']['calls']} requests recorded; "
          f"{out.splitlines()[0]}")


if __name__ == "__main__":
    main()
