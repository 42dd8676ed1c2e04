"""Hostile servers: a server trickling a byte at a time, or answering without end, cannot
hang a run; a malformed answer is skipped, named.

Each test failed before its fix (issues 11 and 20)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.clikit import one_error, run_cli
from tests.conftest import SAMPLE_DAY
from tests.fakes._base import FakeServer, Response
from tests.fakes.arxiv_server import render_entry, render_feed
from tests.fakes.llm_server import FakeLLM
from tests.hostile_kit import FETCH_DAY, D


class Trickler(FakeServer):
    """Answers everything, a byte at a time: a per-read timeout never fires."""

    def __init__(self, body: bytes) -> None:
        super().__init__()
        self.body = body

    def handle(self, req):
        return Response(body=self.body, trickle=0.02)


def test_fetch_from_a_server_sending_a_byte_at_a_time_ends_at_the_deadline(site):
    feed = render_feed([], search_query="x", id_list="", start=0, max_results=200, total=0,
                       now=datetime(2026, 11, 26, tzinfo=timezone.utc)).encode() * 3
    with Trickler(feed) as slow:  # about 100 s to send in full
        env = {"DIGEST_ARXIV_API_URL": slow.url + "/api/query", "DIGEST_ARXIV_DELAY": "0",
               "DIGEST_ARXIV_TIMEOUT": "0.5", "DIGEST_ARXIV_RETRIES": "1"}
        line = one_error(run_cli(site, "fetch", "--date", FETCH_DAY, env=env))
    assert "no answer within 0.5 s after 1 retries" in line


def llm_env(llm: FakeLLM, **extra: str) -> dict[str, str]:
    return {"DIGEST_LLM_BASE_URL": llm.base_url, "DIGEST_LLM_API_KEY": "sk-test",
            "DIGEST_LLM_RETRIES": "0", "DIGEST_LLM_REPAIR_ATTEMPTS": "0",
            "DIGEST_PDF_URL_TEMPLATE": "http://127.0.0.1:9/{id}", **extra}


def untranslated_site(sample_site: Path) -> Path:
    """The sample day with one paper left, untranslated."""
    from dataclasses import replace

    from digest_cli.records.store import load_day, write_day
    from digest_cli.records.writer import Writer
    from digest_cli.settings import load_settings

    settings = load_settings(sample_site, environ={})
    day = load_day(settings, SAMPLE_DAY)
    paper = replace(day.papers[0], abstract="We study speech and improve it by 12.5%.",
                    translation=None, analysis=None, title_zh=None, summary=None,
                    topics=None)
    write_day(settings, type(day)(replace(day.manifest, papers=[paper.id.base]), [paper]),
              Writer())
    return sample_site


def test_a_trickling_llm_answer_ends_at_the_deadline(sample_site):
    site = untranslated_site(sample_site)
    with FakeLLM() as llm:  # each answer would take about a minute, a byte at a time
        llm.trickle_next(pause=0.05, times=20)
        line = one_error(run_cli(site, "translate", "--date", D,
                                 env=llm_env(llm, DIGEST_LLM_TIMEOUT="1")))
    assert "timed out after 1 s; no request has succeeded" in line


def test_a_30_mb_llm_answer_is_refused(sample_site):
    site = untranslated_site(sample_site)
    with FakeLLM(responder=lambda _req: "中" * (10 << 20)) as llm:  # 30 MB of UTF-8
        result = run_cli(site, "translate", "--date", D, env=llm_env(llm))
    assert result.exit_code == 3, result.output  # nothing translated: documented status 3
    assert "answer refused: more than 4 MB" in result.output
    assert "none of the 1 papers that needed texts could be translated" in result.stderr


def test_a_malformed_feed_entry_is_skipped_with_a_warning_naming_it(site, arxiv_server, caplog):
    published = datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)
    good = arxiv_server.add_paper(id="2611.20001", published=published)
    bad = render_entry({**good, "id": "2611.20002"}).replace(
        "<published>2026-11-24T15:00:00Z", "<published>2026-02-30T15:00:00Z")
    assert "2026-02-30" in bad
    arxiv_server.serve_body(render_feed(
        [bad, render_entry(good)], search_query="x", id_list="", start=0, max_results=200,
        total=2, now=published))
    env = {"DIGEST_ARXIV_API_URL": arxiv_server.query_url, "DIGEST_ARXIV_DELAY": "0"}
    result = run_cli(site, "fetch", "--date", FETCH_DAY, env=env)
    assert result.exit_code == 0, result.output
    assert (site / f"data/{FETCH_DAY}/2611.20001.yaml").is_file()
    assert "skipping the malformed API entry http://arxiv.org/abs/2611.20002v1" in caplog.text


def test_a_trickling_pdf_download_ends_at_the_deadline(tmp_path, caplog):
    from digest_cli.records.model import ArxivId
    from digest_cli.settings import load_settings
    from digest_cli.translate.fulltext import full_text

    with Trickler(b"%PDF-1.4\n" + b"x" * 5000) as slow:  # about 100 s in full
        settings = load_settings(tmp_path, environ={}, overrides={
            "pdf_url_template": slow.url + "/pdf/{id}v{version}", "pdf_timeout": 0.5})
        assert full_text(settings, ArxivId("2601.19786", 1)) is None
    assert "PDF download failed" in caplog.text and "within 0.5 s" in caplog.text


def test_a_trickling_github_api_ends_at_the_deadline():
    from digest_cli.publish.github import GitHub, GitHubError

    with Trickler(b"[]") as slow, GitHub(slow.url, "o/site", "t0ken", timeout=0.5,
                                         retries=0) as client:
        with pytest.raises(GitHubError, match="within 0.5 s"):
            client.find_pull("digest/2026-01-28")
