"""What the brief (Chinese title, 一句话总结, topics) costs per paper, and that a re-run costs 0.

Translates a day of papers with real arXiv titles and abstracts (the recorded API answers
in ../shared/fixtures/arxiv when present, else tests/fixtures/arxiv, cycled) against the
fake OpenAI server, then prints the brief's input and output tokens per paper beside the
translation's and the 详细解读's, and the tokens of three re-runs: of the finished day, of
the day whose records lost their brief (rebuilt from the answer cache), and with `--force`
(which asks again, for comparison). Tokens are counted as the fake counts them (one per
CJK character, one per four other characters), close to what DeepSeek and OpenAI bill.

    python benchmarks/bench_brief.py [--papers 30]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from digest_cli.records.store import load_day, paper_path, write_paper  # noqa: E402 - after the sys.path line
from digest_cli.records.writer import Writer  # noqa: E402 - after the sys.path line
from digest_cli.translate.day import translate_day  # noqa: E402 - after the sys.path line
from digest_cli.translate.llm import LLM  # noqa: E402 - after the sys.path line
from tests.fakes.llm_server import FakeLLM  # noqa: E402 - after the sys.path line
from tests.fakes.translate_kit import (  # noqa: E402 - after the sys.path line
    DAY,
    by_model,
    good_translation,
    settings_for,
    user_text,
    write_day,
)

ATOM = "{http://www.w3.org/2005/Atom}"
RECORDED = Path("shared") / "fixtures" / "arxiv" / "api_query_all-testing_2026-04-12.xml"
SOURCES = (ROOT.parent / RECORDED, ROOT.parents[1] / RECORDED,  # beside main, or a worktree
           ROOT / "tests" / "fixtures" / "arxiv" / "audio_current.xml")


def real_papers() -> tuple[Path, list[tuple[str, str]]]:
    """(source file, [(title, abstract)]) of the first recorded answer that exists."""
    path = next(p for p in SOURCES if p.is_file())
    entries = ET.parse(path).getroot().iter(f"{ATOM}entry")
    return path, [(" ".join(e.findtext(f"{ATOM}title", "").split()),
                   " ".join(e.findtext(f"{ATOM}summary", "").split())) for e in entries]


def write_real_day(root: Path, n: int, papers: list[tuple[str, str]]) -> None:
    """A day of `n` untranslated records with real titles and abstracts."""
    chosen = list(itertools.islice(itertools.cycle(papers), n))
    write_day(root, n, abstract=lambda i: chosen[i][1])
    settings = settings_for(root, _Unused())
    folder = settings.day_path(DAY)
    for paper, (title, _) in zip(load_day(settings, DAY).papers, chosen, strict=True):
        paper.title = title
        write_paper(folder, paper, Writer())


FILLER = "该方法在多个基准上进行了验证，并与现有方法做了细致的比较与分析。"


def full_translation(req: dict) -> str:
    """The fake's translation, as long as a real one (about 0.3 Chinese characters per
    English one), so real abstracts pass the length rule."""
    text = good_translation(req)
    abstract = user_text(req).partition("摘要：")[2]
    while len(text) < 0.3 * len(abstract):
        text += FILLER
    return text


class _Unused:
    base_url, api_key = "http://127.0.0.1:9/v1", "sk-unused"


def per_paper(client: LLM, kind: str, n: int) -> tuple[float, float]:
    row = client.usage.by_kind.get(kind, {})
    return row.get("input_tokens", 0) / n, row.get("output_tokens", 0) / n


def drop_brief(settings) -> None:
    """Take title_zh, summary and topics out of every record, as text (the store keeps
    absent keys)."""
    for paper in load_day(settings, DAY).papers:
        path = paper_path(settings.day_path(DAY), paper.id)
        text = path.read_text(encoding="utf-8")
        path.write_text(text[:text.index("\ntitle_zh:")] + "\n", encoding="utf-8")


def tokens(usage: dict) -> str:
    if not usage:
        return "0 requests, 0 tokens (nothing to do)"
    return (f"{usage['calls']} requests, {usage['input_tokens'] + usage['output_tokens']:,} "
            f"tokens (brief: {usage['brief_input_tokens'] + usage['brief_output_tokens']:,})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=30)
    args = parser.parse_args()
    n = args.papers
    source, papers = real_papers()
    with FakeLLM(api_key="sk-bench", responder=by_model(full_translation)) as llm, \
            tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_real_day(root, n, papers)
        settings = settings_for(root, llm)
        client = LLM(settings)
        first = translate_day(settings, DAY, client=client)
        assert len(first.done) == n, first.failed
        print(f"papers: {n} (real titles and abstracts from {source.name}, "
              f"{len(papers)} distinct)")
        print(f"{'tokens per paper':20} {'input':>8} {'output':>8}")
        for kind, name in (("brief", "brief"), ("translation", "translation"),
                           ("analysis", "详细解读")):
            tin, tout = per_paper(client, kind, n)
            print(f"{name:20} {tin:8,.0f} {tout:8,.0f}")
        u = first.usage
        brief_cost = (u["brief_input_tokens"] * settings.price_input_per_mtok
                      + u["brief_output_tokens"] * settings.price_output_per_mtok) / 1e6
        share = ((u["brief_input_tokens"] + u["brief_output_tokens"])
                 / (u["input_tokens"] + u["output_tokens"]))
        print(f"brief share of all tokens: {share:.0%} (the 详细解读 here is from the abstract; "
              f"from a full text it is larger); cost ≈ ${brief_cost / n:.6f} per paper at "
              "the default prices")
        calls = llm.calls
        print(f"re-run of the finished day:        {tokens(translate_day(settings, DAY).usage)}")
        drop_brief(settings)
        rebuilt = translate_day(settings, DAY)
        print(f"re-run after the brief was lost:   {tokens(rebuilt.usage)}, "
              f"{rebuilt.cached} answers from the cache")
        assert llm.calls == calls, "a re-run asked the LLM"
        print(f"re-run with --force (asks anew):   "
              f"{tokens(translate_day(settings, DAY, force=True).usage)}")


if __name__ == "__main__":
    main()
