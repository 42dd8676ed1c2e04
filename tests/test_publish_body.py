"""The pull request body and the job summary (digest_cli.publish.body)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import mistune
import pytest

from digest_cli.publish.body import job_summary, md_cell, pr_body, pr_title, usage_lines
from digest_cli.publish.commits import CommitInfo
from digest_cli.publish.day import PublishReport
from digest_cli.records.model import Failure, MachineText
from digest_cli.records.store import load_day
from digest_cli.settings import load_settings
from digest_cli.translate.day import record_usage
from tests.fakes.translate_kit import write_day as write_kit_day

REPO = Path(__file__).resolve().parents[1]
DAY = date(2026, 1, 28)


@pytest.fixture
def settings():
    return load_settings(REPO, environ={})


@pytest.fixture
def day(settings):
    return load_day(settings, DAY)


def table_rows(markdown: str) -> list[list[str]]:
    """The cells of every table row, as GitHub's parser would split them."""
    html = mistune.create_markdown(plugins=["table"])(markdown)
    import re

    rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)
    return [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S) for row in rows]


def test_title_counts_the_papers(day, settings):
    assert pr_title(day, settings) == "arXiv Daily – 2026-01-28 (20 papers)"
    one = replace(day, manifest=replace(day.manifest, papers=day.manifest.papers[:1]))
    assert pr_title(one, settings).endswith("(1 paper)")


def test_body_has_window_counts_table_checklist_and_howto(day, settings):
    body = pr_body(day, settings)
    assert body.startswith("<!-- digest:2026-01-28 -->")
    assert "2026-01-27 08:50 — 2026-01-28 08:50 (CST)" in body
    assert "21 fetched, 20 shown" in body
    rows = table_rows(body)
    assert rows[0] == ["#", "Title", "arXiv", "Category", "Status"] and len(rows) == 21
    first = rows[1]
    assert first[1].startswith("Rethinking Discrete Speech Representation Tokens")
    assert 'href="https://arxiv.org/abs/2601.19786' in first[2] and first[3] == "eess.AS"
    assert "- [ ] " in body
    assert "digest preview --date 2026-01-28 --open" in body
    assert "digest translate --date 2026-01-28 --only ID --force" in body
    assert "git fetch origin digest/2026-01-28" in body


def test_status_column_follows_paper_status(day, settings):
    papers = day.papers[:4]
    papers[0].translation, papers[0].analysis = None, None
    papers[0].failures = []
    papers[1].translation = MachineText("译文", source="abstract")
    papers[1].analysis = MachineText("解读", source="abstract")
    papers[2].translation = MachineText("译文", source="full_text")
    papers[2].analysis = MachineText("解读", source="full_text")
    papers[3].translation, papers[3].analysis = None, None
    papers[3].failures = [Failure("translation", "LLM answered 3 times without JSON")]
    small = replace(day, papers=papers,
                    manifest=replace(day.manifest, papers=[p.id.base for p in papers]))
    body = pr_body(small, settings)
    statuses = [row[4] for row in table_rows(body)[1:]]
    assert statuses == ["⏳ 待翻译", "📄 abstract only", "✅ translated", "❌ failed"]
    assert "LLM answered 3 times without JSON" in body
    assert "1 translated · 1 abstract only · 1 failed · 1 待翻译" in body


def test_hostile_titles_cannot_break_the_table(day, settings):
    paper = day.papers[0]
    paper.title = "A | B `code` <script>alert(1)</script> [x](http://e) **bold** @team #12\nnext"
    small = replace(day, papers=[paper],
                    manifest=replace(day.manifest, papers=[paper.id.base]))
    rows = table_rows(pr_body(small, settings))
    assert len(rows) == 2 and len(rows[1]) == 5
    cell = rows[1][1]
    assert "<script>" not in cell and "<code>" not in cell and "<strong>" not in cell
    assert "<a " not in cell and "A | B" in cell and "next" in cell
    assert "@\u200bteam" in cell and "#\u200b12" in cell  # no mention, no issue link


def test_md_cell_is_one_line_and_bounded():
    assert md_cell("a\nb\r\nc") == "a b c"
    long = md_cell("word " * 100)
    assert len(long) < 200 and long.endswith("…")


def test_usage_is_read_defensively(settings):
    assert usage_lines({}, settings) == []
    assert usage_lines({"tokens_in": "many"}, settings) == []
    lines = usage_lines({"tokens_in": 1_000_000, "tokens_out": 500_000, "requests": 40},
                        settings)
    assert "- **Tokens**: 1,000,000 in, 500,000 out" in lines
    assert "- **LLM requests**: 40" in lines
    assert "- **Estimated cost**: $0.8200" in lines  # 0.27 + 0.5 * 1.10
    assert "- **Estimated cost**: $1.2345" in usage_lines({"cost_usd": 1.2345}, settings)
    assert usage_lines({"prompt_tokens": 10, "completion_tokens": 5}, settings)[0] == \
        "- **Tokens**: 10 in, 5 out"


def test_body_in_the_pr_shows_usage(day, settings):
    day.manifest.usage = {"tokens_in": 12000, "tokens_out": 3400}
    assert "- **Tokens**: 12,000 in, 3,400 out" in pr_body(day, settings)


def test_a_huge_day_stays_under_githubs_body_limit(day, settings):
    many = [replace(day.papers[i % 20], title="T" * 150 + f" {i}") for i in range(1000)]
    big = replace(day, papers=many)
    body = pr_body(big, settings)
    assert len(body) <= 65536 and "more (see the post)" in body


def test_job_summary_has_the_table_and_the_pr(day, settings):
    report = PublishReport(day=DAY, branch="digest/2026-01-28", pushed=True,
                           commits=[CommitInfo("a" * 40, "Add x: y")], pr_number=7,
                           pr_url="https://github.com/o/s/pull/7", pr_created=True)
    text = job_summary(day, settings, report)
    assert "[#7](https://github.com/o/s/pull/7) (opened)" in text
    assert "`digest/2026-01-28` (1 new commit, pushed)" in text
    assert len(table_rows(text)) == 21


def test_pr_body_shows_the_tokens_and_cost_that_translate_records(tmp_path):
    # translate keeps its spending under `usage.translate`; the body used to look only at
    # the top level, so no PR ever showed tokens or cost.
    write_kit_day(tmp_path, 1)
    settings = load_settings(tmp_path, environ={})
    record_usage(settings, DAY, {"calls": 2, "input_tokens": 1_000_000,
                                 "output_tokens": 500_000, "analysis_input_tokens": 900_000,
                                 "cost": 0.82, "wall_seconds": 3.0})
    day = load_day(settings, DAY)
    body = pr_body(day, settings)
    assert "- **Tokens**: 1,000,000 in, 500,000 out" in body
    assert "- **Estimated cost**: $0.8200" in body
    assert "- **LLM requests**: 2" in body
    assert "- **Tokens**: 1,000,000 in" in job_summary(day, settings)
