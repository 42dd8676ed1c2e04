"""What `digest translate --all` (or a date range) would ask the LLM, before it starts:
per day, the papers with texts to fill, the requests and an estimate of the tokens, so an
archive's backfill (most often only the briefs of imported days) is a known cost.

The estimate counts what a request sends (its prompt and the text it draws on: the
abstract, or for an imported paper's brief its translation) and a typical answer per
kind; a 详细解读 that reads the full text sends more than its abstract, so that estimate is
a floor. Nothing here calls the LLM or writes a file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import TYPE_CHECKING

from digest_cli.records.model import Paper

if TYPE_CHECKING:
    from digest_cli.settings import Settings

BRIEF_FIELDS = ("title_zh", "summary", "topics")
ANSWER_TOKENS = {"translation": 0, "analysis": 700, "brief": 90}  # translation: from its text


def tokens(text: str) -> int:
    """A rough token count: about 4 ASCII characters, or 1.5 Chinese ones, a token."""
    ascii_chars = sum(1 for c in text if ord(c) < 128)
    return int(ascii_chars / 4 + (len(text) - ascii_chars) / 1.5) + 1


def _prompt_tokens(kind: str) -> int:
    try:
        text = (resources.files("digest_cli.translate.prompts") / f"{kind}.md").read_text(
            encoding="utf-8")
    except (FileNotFoundError, OSError):
        return 400
    return tokens(text)


@dataclass
class DayPlan:
    """One day's share of a run."""

    day: date
    papers: int = 0  # papers with something to fill
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0


def requests_of(paper: Paper, fields: list[str]) -> list[str]:
    """The requests a paper's missing fields take: translation, analysis, one brief."""
    kinds: list[str] = [f for f in ("translation", "analysis") if f in fields]
    if any(f in BRIEF_FIELDS for f in fields):
        kinds.append("brief")
    return kinds


def plan_day(settings: Settings, day: date, force: bool = False) -> DayPlan:
    """The requests `translate_day` would make for `day` (answers cached by an earlier
    run are counted too: the estimate is an upper bound there)."""
    from digest_cli.records.store import load_day
    from digest_cli.translate.day import fields_to_do

    plan = DayPlan(day)
    for paper in load_day(settings, day).papers:
        fields = [str(f) for f in fields_to_do(paper, force)]
        if not settings.llm_brief:
            fields = [f for f in fields if f not in BRIEF_FIELDS]
        kinds = requests_of(paper, fields)
        if not kinds:
            continue
        plan.papers += 1
        source = paper.abstract.strip() or (paper.translation.text if paper.translation else "")
        for kind in kinds:
            sent = _prompt_tokens(kind) + tokens(paper.title) + tokens(source)
            plan.calls += 1
            plan.input_tokens += sent
            plan.output_tokens += ANSWER_TOKENS[kind] or int(tokens(source) * 1.3)
    return plan


def plan_lines(plans: list[DayPlan], settings: Settings) -> list[str]:
    """What the command prints before it starts."""
    busy = [p for p in plans if p.calls]
    lines = [f"{p.day}: {p.papers} papers, {p.calls} requests, ≈{p.input_tokens:,} tokens in, "
             f"≈{p.output_tokens:,} out" for p in busy]
    papers = sum(p.papers for p in busy)
    calls = sum(p.calls for p in busy)
    tokens_in = sum(p.input_tokens for p in busy)
    tokens_out = sum(p.output_tokens for p in busy)
    cost = (tokens_in * settings.price_input_per_mtok
            + tokens_out * settings.price_output_per_mtok) / 1e6
    lines.append(f"plan: {len(busy)} of {len(plans)} days, {papers} papers, {calls} requests, "
                 f"≈{tokens_in:,} tokens in, ≈{tokens_out:,} out, cost ≈ ${cost:.2f} "
                 "(estimate; answers already cached cost nothing)")
    return lines
