"""Regression tests for bugs found in review of fetch, translate, llm, fulltext, publish,
github, prbody and the daily workflow. Each test names the fault it guards against."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta, timezone

import pytest

from digest_cli.errors import PublishError, TranslateError
from digest_cli.fetch.day import fetch_day
from digest_cli.fetch.select import History
from digest_cli.posts.write import render_days
from digest_cli.publish.body import job_summary, pr_body
from digest_cli.publish.branches import restore_day
from digest_cli.publish.day import publish_day
from digest_cli.publish.github import GitHub, GitHubError
from digest_cli.records.model import ArxivId, Day, Manifest
from digest_cli.records.store import load_day, write_day
from digest_cli.records.writer import Writer
from digest_cli.settings import load_settings
from digest_cli.translate.day import record_usage, translate_day
from tests.fakes._base import Response
from tests.fakes.fixtures import GITHUB_TOKEN
from tests.fakes.github_server import FakeGitHub
from tests.fakes.llm_server import FakeLLM
from tests.fakes.pdf_server import FakePDFs, paper_pdf
from tests.fakes.translate_kit import DAY, by_model, paper_id, settings_for
from tests.fakes.translate_kit import write_day as write_kit_day
from tests.test_publish import TOKEN, Site, git

UTC = timezone.utc

TUESDAY, WEDNESDAY = date(2026, 3, 10), date(2026, 3, 11)
MONDAY_NOON = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)  # announced for Tuesday's post
MONDAY_EVENING = datetime(2026, 3, 9, 19, 0, tzinfo=UTC)  # after the cut-off: Wednesday's


# -- the PR body shows what translate spent ----------------------------------------------

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


# -- the GitHub token never shows, even when pasted with a line break ---------------------

def test_a_token_pasted_with_a_line_break_works_and_never_shows(github_server):
    # httpx refused the header and put it, token included, into the error message.
    with GitHub(github_server.url, "octo/digest", GITHUB_TOKEN + "\n", timeout=5,
                retries=0, retry_delay=0) as gh:
        assert gh.find_pull("digest/2026-01-28") is None
    assert github_server.requests[-1].header("authorization") == f"Bearer {GITHUB_TOKEN}"
    with pytest.raises(PublishError) as err:
        GitHub(github_server.url, "octo/digest", GITHUB_TOKEN + "\r\nX-Evil: 1", retries=0)
    assert GITHUB_TOKEN not in str(err.value) and "GITHUB_TOKEN" in str(err.value)
    with pytest.raises(PublishError, match="cannot go into an HTTP header"):
        GitHub(github_server.url, "octo/digest", "ghp_tökén", retries=0)


def test_a_label_the_token_may_not_create_says_what_to_change(github_server):
    # With `pull-requests: write` only, GitHub refuses to create a missing label; the error
    # told the user to grant `pull-requests: write`, which the workflow already had.
    github_server.add_branch("b")
    github_server.fail_next(r"/labels$", 403, "You do not have permission to create labels "
                            "on this repository.", method="POST", times=3)
    with GitHub(github_server.url, "octo/digest", GITHUB_TOKEN, retries=0) as gh:
        pr = gh.create_pull("b", "main", "t", "x")
        with pytest.raises(GitHubError) as err:
            gh.add_labels(pr.number, ["digest"])
    assert "issues: write" in str(err.value) and "pr_labels" in str(err.value)


# -- full text: a download cut short falls back to the abstract --------------------------

class CutPDFs(FakePDFs):
    """Sends the headers of a whole PDF, then only its first 500 bytes."""

    def handle(self, req):
        return Response(200, paper_pdf("T", {"Introduction": 40}),
                        {"Content-Type": "application/pdf"}, cut_after=500)


def test_a_pdf_download_cut_short_falls_back_to_the_abstract(tmp_path):
    # http.client.IncompleteRead is no OSError: it escaped as a traceback.
    write_kit_day(tmp_path, 1)
    with FakeLLM(api_key="sk-test", responder=by_model()) as llm, CutPDFs() as pdfs:
        settings = settings_for(tmp_path, llm, pdfs)
        report = translate_day(settings, DAY)
    assert report.done == [paper_id(0)] and report.failed == []
    assert load_day(settings, DAY).papers[0].analysis.source == "abstract"


# -- LLM answers with a status 200 but no choices ----------------------------------------

class OddLLM(FakeLLM):
    """Answers the first `odd` chat requests with `body` (status 200), then normally."""

    odd, body = 0, None

    def _chat(self, req):
        if self.odd:
            self.odd -= 1
            return Response.json(self.body)
        return super()._chat(req)


@pytest.mark.parametrize("body", [{"choices": []}, {"error": {"message": "upstream busy"}},
                                  "ok", {"choices": [{"message": None}]}])
def test_an_answer_without_choices_is_retried_not_a_traceback(tmp_path, body):
    write_kit_day(tmp_path, 1)
    with OddLLM(api_key="sk-test", responder=by_model()) as llm:
        llm.odd, llm.body = 1, body
        settings = settings_for(tmp_path, llm)
        report = translate_day(settings, DAY)
    assert report.done == [paper_id(0)] and report.usage["retries"] == 1


def test_an_api_key_pasted_with_a_line_break_still_works(tmp_path):
    write_kit_day(tmp_path, 1)
    with FakeLLM(api_key="sk-test", responder=by_model()) as llm:
        settings = settings_for(tmp_path, llm, llm_api_key="sk-test\n")
        assert settings.llm_api_key == "sk-test\n"
        report = translate_day(settings, DAY)
    assert report.done == [paper_id(0)]


def test_an_llm_that_never_answers_stops_the_run_instead_of_timing_out_every_paper(tmp_path):
    # Each request timed out after all its retries, one paper after another: with the
    # default settings a hanging endpoint kept the daily job busy for hours.
    write_kit_day(tmp_path, 6)
    with FakeLLM(api_key="sk-test", responder=by_model()) as llm:
        llm.hang_next(seconds=5, times=100)
        settings = settings_for(tmp_path, llm, llm_timeout=0.2, llm_retries=1,
                                llm_concurrency=2)
        with pytest.raises(TranslateError, match="timed out after 0.2 s; no request has "
                                                 "succeeded") as err:
            translate_day(settings, DAY)
        assert llm.calls <= 8  # a few requests and their retries, not 6 x 2 x 2
    assert "llm_timeout" in str(err.value)


# -- a re-fetch keeps an editor's correction of the metadata -----------------------------

def test_a_refetch_keeps_an_editors_title_and_takes_arxivs_journal_ref(tmp_path,
                                                                      arxiv_server):
    # Every difference from arXiv was taken for an arXiv change: a re-run of the day put
    # arXiv's title back over the editor's fix. arXiv changes a title only with a version.
    from digest_cli.records.store import write_paper

    settings = load_settings(tmp_path, environ={
        "DIGEST_ARXIV_API_URL": arxiv_server.query_url, "DIGEST_ARXIV_DELAY": "0",
        "DIGEST_ARXIV_CACHE_TTL": "0"})
    arxiv_server.add_paper(id="2603.08001", published=MONDAY_NOON, categories=["cs.SD"],
                           title="Speech Enhancment With Typos")
    now = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
    fetch_day(settings, TUESDAY, now=now)
    paper = load_day(settings, TUESDAY).papers[0]
    paper.title = "Speech Enhancement with Typos Fixed"
    write_paper(settings.day_path(TUESDAY), paper, Writer())
    arxiv_server.add_paper(id="2603.08001", published=MONDAY_NOON, categories=["cs.SD"],
                           title="Speech Enhancment With Typos", journal_ref="Proc. X 2026")

    report = fetch_day(settings, TUESDAY, now=now + timedelta(hours=1))

    paper = load_day(settings, TUESDAY).papers[0]
    assert paper.title == "Speech Enhancement with Typos Fixed"
    assert paper.journal_ref == "Proc. X 2026"
    assert report.refreshed == {"2603.08001": ["journal_ref"]}
    # a new version brings arXiv's new words
    arxiv_server.add_paper(id="2603.08001", version=2, published=MONDAY_NOON,
                           updated=datetime(2026, 3, 9, 13, 0, tzinfo=UTC),
                           categories=["cs.SD"], title="Speech Enhancement, Revised",
                           journal_ref="Proc. X 2026")
    fetch_day(settings, TUESDAY, now=now + timedelta(hours=2))
    assert load_day(settings, TUESDAY).papers[0].title == "Speech Enhancement, Revised"


# -- a day still under review is not shown again the next day ---------------------------

def test_papers_of_a_day_still_under_review_are_not_shown_again(isolated_git, tmp_path,
                                                                 arxiv_server):
    # The scheduled job checks out main, where a day whose pull request is not merged yet
    # has no records: the next day took its papers for unshown ones and showed them twice.
    site = Site(tmp_path)
    with FakeGitHub(token=TOKEN, owner="owner", repo="site") as gh:
        gh.branch_exists = lambda owner, repo, branch: True
        env = {"DIGEST_ARXIV_API_URL": arxiv_server.query_url, "DIGEST_ARXIV_DELAY": "0"}
        settings = site.settings(gh, **env)
        # an earlier day, merged long ago
        old = date(2026, 3, 3)
        write_day(settings, Day(Manifest(date=old, window_start=MONDAY_NOON,
                                         window_end=MONDAY_NOON, fetched=0, papers=[]), []),
                  Writer())
        git(site.root, "add", "data")
        git(site.root, "-c", "user.name=E", "-c", "user.email=e@x", "commit", "-q", "-m", "old")
        git(site.root, "push", "-q", "origin", "main")
        arxiv_server.add_paper(id="2603.08001", published=MONDAY_NOON, categories=["cs.SD"])
        arxiv_server.add_paper(id="2603.09001", published=MONDAY_EVENING,
                               categories=["cs.SD"])
        # Tuesday's run: fetch, render, publish; the pull request stays open
        fetch_day(settings, TUESDAY, now=datetime(2026, 3, 10, 1, 0, tzinfo=UTC))
        render_days(settings, [TUESDAY], Writer())
        assert publish_day(settings, TUESDAY).pr_created
        # Wednesday's run starts from a fresh checkout of main
        shutil.rmtree(settings.day_path(TUESDAY))
        settings.post_path(TUESDAY).unlink()
        shutil.rmtree(settings.cache_path)
        stem = ArxivId.parse("2603.08001").file_stem
        assert History.load(settings, WEDNESDAY).elsewhere(stem, WEDNESDAY) == set()

        assert restore_day(settings, WEDNESDAY) == []
        report = fetch_day(settings, WEDNESDAY, now=datetime(2026, 3, 11, 1, 0, tzinfo=UTC))

    assert load_day(settings, WEDNESDAY).manifest.papers == ["2603.09001"]
    assert report.late == []
    # the note is for Wednesday's run only: another day's fetch does not trust it
    assert History.load(settings, date(2026, 3, 12)).elsewhere(stem, date(2026, 3, 12)) \
        == set()


def test_a_rerun_keeps_the_checklist_items_editors_ticked(isolated_git, tmp_path):
    # A re-run of the day rewrote the PR body and unticked the editors' review checklist.
    site = Site(tmp_path)
    with FakeGitHub(token=TOKEN, owner="owner", repo="site") as gh:
        gh.branch_exists = lambda owner, repo, branch: True
        settings = site.settings(gh)
        site.write_day()
        publish_day(settings, date(2026, 1, 28))
        body = gh.pulls[0]["body"]
        item = next(line for line in body.split("\n") if line.startswith("- [ ] Titles"))
        gh.pulls[0]["body"] = body.replace(item, item.replace("[ ]", "[x]")).replace(
            "\n", "\r\n")  # ticked in GitHub's web editor
        assert not publish_day(settings, date(2026, 1, 28)).pr_updated  # nothing to change

        day = load_day(settings, date(2026, 1, 28))
        day.manifest.usage = {"translate": {"calls": 3, "input_tokens": 10, "output_tokens": 5}}
        write_day(settings, day, Writer())
        site.render()
        report = publish_day(settings, date(2026, 1, 28))

    assert report.pr_updated
    new_body = gh.pulls[0]["body"]
    assert item.replace("[ ]", "[x]") in new_body and "- **LLM requests**: 3" in new_body
    assert new_body.count("- [x]") == 1
