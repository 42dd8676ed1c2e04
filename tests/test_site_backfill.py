"""Briefs for an imported archive (issue 21, point 1): `digest translate --all` or a date
range prints its plan (papers, requests, estimated tokens) before it starts, fills only
what is missing, keeps an editor's text, and a re-run has nothing left to ask."""

from __future__ import annotations

import shutil
from datetime import date

from digest_cli.records.model import MachineText
from digest_cli.records.store import load_day, write_day
from digest_cli.records.writer import Writer
from digest_cli.settings import load_settings
from tests.clikit import run_cli
from tests.conftest import REPO, SAMPLE, SAMPLE_DAY
from tests.fakes.llm_server import is_brief_request
from tests.fakes.translate_kit import by_model, env_for

EARLIER = date(2026, 1, 27)
EDITED = "编辑写的中文标题"


def imported_archive(root):
    """The shipped day (imported from the old blog: translations and 详细解读, no briefs)
    and a copy of it a day earlier; one paper has an editor's Chinese title."""
    settings = load_settings(root, environ={})
    shutil.copytree(SAMPLE / "data" / SAMPLE_DAY.isoformat(), settings.day_path(SAMPLE_DAY))
    day = load_day(settings, SAMPLE_DAY)
    assert all(p.translation and p.analysis and p.title_zh is None for p in day.papers)
    day.manifest.date = EARLIER
    write_day(settings, day, Writer())
    later = load_day(settings, SAMPLE_DAY)
    later.papers[0].title_zh = MachineText(EDITED, source="human")
    write_day(settings, later, Writer())
    return settings


def test_the_plan_is_printed_and_a_dry_run_asks_nothing(tmp_path, llm_server):
    settings = imported_archive(tmp_path)
    result = run_cli(tmp_path, "translate", "--all", "--dry-run", env=env_for(llm_server))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("2026-01-27: 20 papers, 20 requests, ≈")  # one brief each
    assert lines[1].startswith("2026-01-28: 20 papers, 20 requests, ≈")  # summary, topics
    assert lines[2].startswith("plan: 2 of 2 days, 40 papers, 40 requests, ≈")
    assert "tokens in" in lines[2] and "cost ≈ $" in lines[2]
    assert llm_server.calls == 0
    assert all(p.summary is None for p in load_day(settings, EARLIER).papers)


def test_a_range_fills_the_briefs_keeps_an_editors_text_and_resumes(tmp_path, llm_server):
    settings = imported_archive(tmp_path)
    llm_server.responder = by_model(brief=lambda req: (
        "标题：面向语音与音频的自监督表示学习\n总结：本文提出一种新方法，在公开基准上降低了错误率。"
        "\n主题：asr, music"))
    day = SAMPLE_DAY.isoformat()
    result = run_cli(tmp_path, "translate", "--from", day, "--to", day,
                     env=env_for(llm_server))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith("2026-01-28: 20 papers, 20 requests")
    assert llm_server.calls == 20
    assert all(is_brief_request(r) for r in llm_server.chat_requests)
    papers = load_day(settings, SAMPLE_DAY).papers
    assert all(p.summary and p.topic_slugs(settings.topics) for p in papers)
    assert papers[0].title_zh.text == EDITED  # the editor's title stays
    assert all(p.title_zh for p in papers)
    assert all(p.summary is None for p in load_day(settings, EARLIER).papers)  # out of range
    again = run_cli(tmp_path, "translate", "--all", "--dry-run", env=env_for(llm_server))
    assert again.stdout.splitlines()[-1].startswith("plan: 1 of 2 days, 20 papers, 20 requests")


def test_all_with_a_date_is_a_usage_error(tmp_path):
    imported_archive(tmp_path)
    result = run_cli(tmp_path, "translate", "--all", "--date", "2026-01-28")
    assert result.exit_code == 2 and "not both" in result.output


def test_the_site_reads_well_before_and_after_the_backfill(tmp_path, llm_server):
    """Done when (issue 21): an imported archive's site shows contents, topics and home
    page content before the briefs (English titles, all unsorted) and after (Chinese
    titles, topic counts)."""
    import re

    from digest_cli.posts.write import render_days
    from digest_cli.site.build import build_site
    from tests.site_kit import JEKYLL, SITE_FILES

    if JEKYLL is None:
        import pytest

        pytest.skip("`jekyll` is not on PATH (apt-get install jekyll ruby-jekyll-feed)")
    for name in SITE_FILES:
        (shutil.copytree if (REPO / name).is_dir() else shutil.copy)(REPO / name, tmp_path / name)
    settings = imported_archive(tmp_path)
    days = [EARLIER, SAMPLE_DAY]

    def build() -> tuple[str, str]:
        render_days(settings, days, Writer(), force=True)
        out = build_site(settings, tmp_path / "_site").out
        return ((out / "index.html").read_text(encoding="utf-8"),
                (out / "topics" / "index.html").read_text(encoding="utf-8"))

    home, topics = build()
    assert home.count('lang="en">') >= 5  # English titles (one day has an editor's title)
    assert '<span class="unsorted">40</span>' in topics
    llm_server.responder = by_model(brief=lambda req: (
        "标题：面向语音与音频的自监督表示学习\n总结：本文提出一种新方法，在公开基准上降低了错误率。"
        "\n主题：asr, music"))
    assert run_cli(tmp_path, "translate", "--all", env=env_for(llm_server)).exit_code == 0
    home, topics = build()
    assert home.count("面向语音与音频的自监督表示学习") >= 5 and 'lang="en">' not in home
    assert '<span class="unsorted">0</span>' in topics
    assert re.search(r"语音识别</a> <span lang=\"en\">[^<]*</span> <span class=\"count\">40 篇", topics)
