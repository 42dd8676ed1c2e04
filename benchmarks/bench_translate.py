"""How close `digest translate` gets to the ideal wall time.

60 papers x 2 requests (translation + 详细解读) against the fake OpenAI server with 1 s
latency per request and `llm_concurrency` 8: the ideal is 120 / 8 x 1 s = 15 s; the
target is a ratio of at most 1.15. PDFs come from a local fake arXiv, so the 详细解读
prompts carry real extracted full text; their input tokens per paper are printed.

The fake servers run in a child process, as a real API is remote. The one-at-a-time
figure (concurrency 1) is measured on a smaller sample and scaled up
to 60 papers, which is fair because sequential time is linear in the number of requests.

    /tmp/venv/bin/python benchmarks/bench_translate.py [--papers 60] [--sample 5]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digest_cli.translate.day import translate_day  # noqa: E402 - after the sys.path line
from tests.fakes.llm_server import FakeLLM  # noqa: E402 - after the sys.path line
from tests.fakes.pdf_server import FakePDFs, paper_pdf  # noqa: E402 - after the sys.path line
from tests.fakes.translate_kit import DAY, by_model, paper_id, settings_for, write_day  # noqa: E402 - after the sys.path line

SECTIONS = {"Introduction": 40, "Related Work": 50, "Method": 70, "Experiments": 70,
            "Results": 40, "Conclusion": 15, "Acknowledgements": 4}


class _Remote:
    """What `settings_for` needs to know of the fake servers running in the child."""

    def __init__(self, base_url: str, template: str) -> None:
        self.base_url, self.template, self.api_key = base_url, template, "sk-bench"


def serve(conn, papers: int, latency: float) -> None:
    """The fake OpenAI API and fake arXiv PDFs, in a process of their own: the real API is
    remote, and an in-process fake would take the client's CPU (the GIL) away."""
    with FakeLLM(api_key="sk-bench", responder=by_model(), latency=latency) as llm, \
            FakePDFs() as pdfs:
        for i in range(papers):
            pdfs.pdfs[f"{paper_id(i)}v1"] = paper_pdf(f"Paper {paper_id(i)}", SECTIONS)
        conn.send((llm.base_url, pdfs.template))
        conn.recv()  # until the run is over
        conn.send((llm.calls, llm.max_concurrency_seen))


def run(papers: int, concurrency: int, latency: float) -> tuple[float, dict, int, int]:
    """(wall seconds, usage, papers done, most requests seen at once) of one run."""
    parent, child = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve, args=(child, papers, latency), daemon=True)
    server.start()
    try:
        remote = _Remote(*parent.recv())
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            write_day(root, papers)
            settings = settings_for(root, remote, remote, llm_concurrency=concurrency)
            started = time.monotonic()
            report = translate_day(settings, DAY)
            wall = time.monotonic() - started
        parent.send("done")
        calls, most = parent.recv()
    finally:
        server.join(timeout=10)
    assert calls == report.usage["calls"], "the server and the client disagree"
    return wall, report.usage, len(report.done), most


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--latency", type=float, default=1.0)
    parser.add_argument("--sample", type=int, default=5,
                        help="papers in the one-at-a-time sample (scaled up)")
    args = parser.parse_args()

    calls = 2 * args.papers
    ideal = calls / args.concurrency * args.latency
    wall, usage, done, most = run(args.papers, args.concurrency, args.latency)
    sample_wall, _, _, _ = run(args.sample, 1, args.latency)
    serial = sample_wall * args.papers / args.sample
    print(f"papers: {args.papers} ({done} done), requests: {usage['calls']}, "
          f"latency {args.latency:g} s, concurrency {args.concurrency} (server saw at most "
          f"{most} at once)")
    print(f"wall time:     {wall:6.1f} s")
    print(f"ideal:         {ideal:6.1f} s  ({calls} requests / {args.concurrency} x "
          f"{args.latency:g} s)")
    print(f"ratio:         {wall / ideal:6.2f}   (target <= 1.15)")
    print(f"one at a time: {serial:6.1f} s  (estimated: {args.sample} papers took "
          f"{sample_wall:.1f} s, scaled to {args.papers})  -> speed-up {serial / wall:.1f}x")
    print(f"详细解读 input tokens per paper: {usage['analysis_input_tokens'] / args.papers:,.0f} "
          f"(fulltext_token_budget {settings_budget()})")
    print(f"all input tokens: {usage['input_tokens']:,}, output: {usage['output_tokens']:,}, "
          f"cost ≈ ${usage['cost']:.4f}")


def settings_budget() -> int:
    from digest_cli.settings import Settings

    return Settings().fulltext_token_budget


if __name__ == "__main__":
    main()
