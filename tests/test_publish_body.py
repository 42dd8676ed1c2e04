"""The pull request body and the job summary (digest_cli.publish.body)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import mistune
import pytest

from digest_cli.publish.body import (
    job_summary,
    md_cell,
    parse_ticks,
    pr_body,
    pr_texts,
    pr_title,
    usage_lines,
)
from digest_cli.publish.commits import CommitInfo
from digest_cli.publish.day import PublishReport
from digest_cli.records.model import ArxivId, Failure, MachineText
from digest_cli.records.store import load_day
from digest_cli.settings import load_settings
from digest_cli.translate.report import record_usage
from tests.conftest import SAMPLE
from tests.fakes.translate_kit import write_day as write_kit_day

REPO = Path(__file__).resolve().parents[1]
DAY = date(2026, 1, 28)


@pytest.fixture
def settings():
    return load_settings(SAMPLE, environ={})


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


def task_items(markdown: str) -> list[str]:
    """The text of every task-list item, as GitHub's parser would show it."""
    import re

    html = mistune.create_markdown(plugins=["task_lists"])(markdown)
    return re.findall(r'<li class="task-list-item">(.*?)</li>', html, re.S)


def test_body_has_window_counts_a_task_per_paper_checklist_and_howto(day, settings):
    body = pr_body(day, settings)
    assert body.startswith("<!-- digest:2026-01-28 -->")
    assert "2026-01-27 08:50 — 2026-01-28 08:50 (CST)" in body
    assert "21 fetched, 20 shown" in body
    assert "**Reviewed 0 of 20** papers" in body
    tasks = [t for t in task_items(body) if "2601." in t]
    assert len(tasks) == 20
    # GitHub shows the body's task items as "N of M tasks": only the papers count
    assert len(task_items(body)) == 20 and len(re.findall(r"(?m)^\s*- \[[ x]\]", body)) == 20
    assert "- Titles, authors and links look right in the preview" in body
    assert 'type="checkbox" disabled/><strong>2601.19786</strong> · Rethinking Discrete ' \
        'Speech' in tasks[0]
    assert 'href="https://arxiv.org/abs/2601.19786v1">arXiv</a>' in tasks[0]
    assert "data/2026-01-28/2601.19786.yaml" in tasks[0]
    assert "digest preview --date 2026-01-28 --open" in body
    assert "digest review --date 2026-01-28" in body
    assert "digest translate --date 2026-01-28 --only ID --force" in body
    assert "git fetch origin digest/2026-01-28" in body


def test_tasks_link_the_record_and_the_post_on_the_branch(day):
    settings = load_settings(SAMPLE, environ={"GITHUB_REPOSITORY": "octo/site"})
    body = pr_body(day, settings, "digest/2026-01-28")
    blob = "https://github.com/octo/site/blob/digest/2026-01-28/"
    assert f"[record]({blob}data/2026-01-28/2601.19786.yaml)" in body
    assert f"[`_posts/2026-01-28-arxiv.md`]({blob}_posts/2026-01-28-arxiv.md)" in body


def test_task_marks_follow_paper_status(day, settings):
    papers = day.papers[:5]
    papers[0].translation, papers[0].analysis = None, None
    papers[0].failures = []
    papers[1].translation = MachineText("译文", source="abstract")
    papers[1].analysis = MachineText("解读", source="abstract")
    papers[2].translation = MachineText("译文", source="full_text")
    papers[2].analysis = MachineText("解读", source="full_text")
    papers[2].reviewed = True
    papers[3].translation, papers[3].analysis = None, None
    papers[3].failures = [Failure("translation", "LLM answered 3 times without JSON")]
    papers[4].replacement = True
    papers[4].translation = MachineText("改过的译文", source="full_text", hash="sha256:0")
    papers[4].title_zh = MachineText("中文标题", source="full_text")
    small = replace(day, papers=papers,
                    manifest=replace(day.manifest, papers=[p.id.base for p in papers]))
    body = pr_body(small, settings)
    tasks = body.split("### Papers")[1].split("\n- [")[1:6]
    # Triage order: failed, then unreviewed (post order), then reviewed; marks first.
    assert tasks[0].startswith(f" ] ❌ failed · **{papers[3].id.base}**")
    assert tasks[1].startswith(f" ] ⏳ 待翻译 · **{papers[0].id.base}**")
    assert tasks[2].startswith(f" ] 📄 abstract only · **{papers[1].id.base}**")
    assert tasks[3].startswith(f" ] 🔁 replaced (v1) · ✏️ edited · **{papers[4].id.base}**")
    assert f"**{papers[4].id.base}** · 中文标题 · {papers[4].title}" in tasks[3]
    assert tasks[4].startswith(f"x] **{papers[2].id.base}**")
    assert "❌" not in tasks[4].split("\n")[0] and "📄" not in tasks[4].split("\n")[0]
    assert "**Reviewed 1 of 5** papers" in body
    assert "LLM answered 3 times without JSON" in body
    assert "2 translated · 1 abstract only · 1 failed · 1 待翻译" in body


def test_hostile_titles_cannot_break_the_task(day, settings):
    paper = day.papers[0]
    paper.title = "A | B `code` <script>alert(1)</script> [x](http://e) **bold** @team #12\nnext"
    small = replace(day, papers=[paper],
                    manifest=replace(day.manifest, papers=[paper.id.base]))
    body = pr_body(small, settings)
    [task] = [t.split(" · record")[0] for t in task_items(body) if "2601." in t]
    assert "<script>" not in task and "<code>" not in task and "bold</strong>" not in task
    assert 'href="http://e"' not in task and "A | B" in task and "next" in task
    assert "@\u200bteam" in task and "#\u200b12" in task  # no mention, no issue link
    assert parse_ticks(body) == {paper.id.base: False}


# What GitHub's GFM autolinker takes for a link: a scheme or `www.` then a host character.
_AUTOLINK = re.compile(r"(?i)(?:\b[a-z][a-z0-9+.-]*://|\bwww\.)[a-z0-9_-]")


def test_bare_urls_and_mentions_in_untrusted_text_are_not_links(day, settings):
    paper = day.papers[0]
    paper.title = "See https://evil.example/x and HTTP://Evil.example or www.evil.com @team"
    paper.title_zh = MachineText("访问 WWW.evil.com 或 ftp://evil.example", source="abstract")
    paper.summary = MachineText("详见 https://evil.example/s，联系 @owner", source="abstract")
    small = replace(day, papers=[paper],
                    manifest=replace(day.manifest, papers=[paper.id.base]))
    body = pr_body(small, settings)
    # the task and the summary line under it, without the body's own links' targets
    task = re.sub(r"\]\([^)\s]*\)", "]()", body.split("### Papers")[1].split("### ")[0])
    assert "evil" in task and "一句话总结" in task
    assert _AUTOLINK.search(task) is None, task
    assert "https://\u200bevil.example/x" in task and "www.\u200bevil.com" in task
    assert "@\u200bteam" in task and "@\u200bowner" in task
    assert _AUTOLINK.search(md_cell("go to www.a.b or https://a.b")) is None


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


def test_a_huge_day_overflows_into_comments_and_loses_no_paper(day, settings):
    many = [replace(day.papers[i % 20], id=ArxivId(f"2601.{30000 + i}", 1),
                    title="T" * 150 + f" {i}") for i in range(1000)]
    big = replace(day, papers=many, manifest=replace(day.manifest, papers=[
        p.id.base for p in many]))
    body, comments = pr_texts(big, settings)
    assert len(body) <= 65536 and comments and all(len(c) <= 65536 for c in comments)
    shown = parse_ticks(body)
    assert f"- … {1000 - len(shown)} more papers in the comments below" in body
    for comment in comments:
        assert comment.startswith("<!-- digest-papers:2026-01-28 -->")
        shown.update(parse_ticks(comment))
    assert sorted(shown) == sorted(p.id.base for p in many)  # each once, none lost


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


def day_of(day, n: int):
    """`n` papers made from the sample day's 20, with every mark somewhere among them."""
    papers = []
    for i in range(n):
        paper = replace(day.papers[i % 20], id=ArxivId(f"2601.{30000 + i}", 1 + i % 11 // 10),
                        reviewed=i % 3 == 0, replacement=i % 11 == 10, failures=[])
        if i % 2 == 0:
            paper.title_zh = MachineText(f"第 {i} 篇论文的中文标题", source="full_text")
            paper.summary = MachineText("本文提出一种结合离散语音单元与说话人嵌入的口音转换方法，"
                                        f"在多个口音数据集上显著降低词错误率（第 {i} 篇）。",
                                        source="full_text")
            paper.topics = MachineText("tts, codec", source="full_text")
        if i % 7 == 3:
            paper.analysis = None
            paper.failures = [Failure("analysis", "LLM answered 3 times without JSON")]
        if i % 7 == 5:
            paper.analysis = replace(paper.analysis, source="abstract")
        if i % 13 == 6:
            paper.translation = replace(paper.translation, text="编辑改过的译文。")
        papers.append(paper)
    return replace(day, papers=papers, manifest=replace(
        day.manifest, papers=[p.id.base for p in papers], fetched=n))


@pytest.mark.parametrize("n", [3, 60, 150])
def test_body_snapshots(day, n, snapshot):
    settings = load_settings(SAMPLE, environ={"GITHUB_REPOSITORY": "octo/site"})
    body, comments = pr_texts(day_of(day, n), settings)
    assert len(body) <= 65536 and comments == []  # 150 papers fit in one body
    assert len(parse_ticks(body)) == n and f"of {n}** papers" in body
    snapshot.snapshot_dir = Path(__file__).parent / "snapshots" / "pr_body"
    snapshot.assert_match(body, f"body_{n}.md")


def test_the_failure_list_follows_the_records(day, settings):
    # An editor translates a failed paper by hand: it leaves "could not do" and the top.
    papers = day.papers[:3]
    papers[2].analysis = None
    papers[2].failures = [Failure("analysis", "LLM answered 3 times without JSON")]
    small = replace(day, papers=papers,
                    manifest=replace(day.manifest, papers=[p.id.base for p in papers]))
    body = pr_body(small, settings)
    assert "What the machine could not do" in body
    assert [x for x in body.splitlines() if x.startswith("- [")][0].startswith(
        f"- [ ] ❌ failed · **{papers[2].id.base}**")
    papers[2].analysis = MachineText("1) 编辑手写的解读。", source="human")
    body = pr_body(small, settings)
    assert "What the machine could not do" not in body
    assert "❌" not in body.split("### Review checklist")[0]
