"""Fetch: which papers a day shows, merging re-runs, empty windows, the `digest fetch` command.

Every test runs the real fetch code and the real `arxiv` client against the fake arXiv on
127.0.0.1. Dates: the post of Tuesday 2026-03-10 (US daylight time since 8 March) covers
Monday's 20:00 EDT announcement, i.e. submissions from Fri 6 March 14:00 EST (19:00 UTC)
to Mon 9 March 14:00 EDT (18:00 UTC); its window closes at 00:50 UTC on 10 March.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from digest_cli.errors import FetchError
from digest_cli.fetch.day import (
    NO_ANNOUNCEMENT,
    NoPost,
    build_query,
    default_day,
    fetch_day,
    format_report,
    merge_order,
)
from digest_cli.fetch.select import id_order
from digest_cli.posts.render import header
from digest_cli.records.model import MachineText, text_hash
from digest_cli.records.store import load_day, load_paper, write_day
from digest_cli.records.writer import Writer
from digest_cli.settings import load_settings
from tests.clikit import run_cli
from tests.conftest import make_day, make_paper

UTC = timezone.utc
DAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)  # ten minutes after the window closed
MONDAY = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)  # before Monday's cut-off: the post of DAY
AFTER_CUTOFF = datetime(2026, 3, 9, 19, 0, tzinfo=UTC)  # announced Tuesday: the next post


@pytest.fixture
def make_settings(site, arxiv_server, settings_for):
    def make(**overrides):
        values = dict(arxiv_api_url=arxiv_server.query_url, arxiv_delay=0.0, arxiv_retries=2,
                      arxiv_timeout=5.0)
        values.update(overrides)
        return settings_for(site, **values)

    return make


def add(server, pid: str, published: datetime = MONDAY, **kw):
    return server.add_paper(id=pid, published=published, title=kw.pop("title", f"Paper {pid}"),
                            **kw)


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*"))}


# -- what a day shows --------------------------------------------------------------------

def test_a_day_shows_its_window_newest_id_first_with_cross_lists(arxiv_server, make_settings):
    add(arxiv_server, "2603.08001", categories=["eess.AS", "cs.SD"])
    add(arxiv_server, "2603.08300", categories=["cs.CV", "cs.AI", "cs.SD"])  # like the seed
    add(arxiv_server, "2603.08100", published=MONDAY - timedelta(days=2), categories=["cs.SD"])
    add(arxiv_server, "2603.09900", published=AFTER_CUTOFF, categories=["cs.SD"])
    add(arxiv_server, "2603.08500", categories=["cs.CL"])  # not followed: arXiv filters it
    settings = make_settings()

    report = fetch_day(settings, DAY, now=NOW)

    day = load_day(settings, DAY)
    assert day.manifest.papers == ["2603.08300", "2603.08100", "2603.08001"]
    assert (report.fetched, report.shown, report.deferred) == (3, 3, 1)
    assert report.categories == {"cs.SD": (1, 2), "eess.AS": (1, 0)}
    paper = day.papers[0]
    assert paper.categories == ["cs.CV", "cs.AI", "cs.SD"]
    assert paper.translation is None and paper.abs_url == "https://arxiv.org/abs/2603.08300v1"
    assert (day.manifest.window_start, day.manifest.window_end) == (
        datetime(2026, 3, 9, 0, 50, tzinfo=UTC), datetime(2026, 3, 10, 0, 50, tzinfo=UTC))


def test_the_query_spans_the_lookback_and_sorts_by_submission(arxiv_server, make_settings):
    add(arxiv_server, "2603.08001")
    settings = make_settings(lookback_days=9, arxiv_page_size=50)
    fetch_day(settings, DAY, now=NOW)
    (request,) = arxiv_server.query_requests
    assert request.query["search_query"] == (
        "(cat:cs.SD OR cat:eess.AS) AND submittedDate:[202603010050 TO 202603100050]")
    assert (request.query["sortBy"], request.query["sortOrder"]) == ("submittedDate", "descending")
    assert request.query["max_results"] == "50"


def test_a_week_long_lookback_covers_a_weekend_and_a_holiday(make_settings):
    # Tuesday 2026-01-20's post follows MLK day (19 Jan, no announcement) and a weekend.
    query = build_query(make_settings(), date(2026, 1, 21))
    start = datetime.strptime(query.split("[")[1][:12], "%Y%m%d%H%M").replace(tzinfo=UTC)
    friday_cutoff = datetime(2026, 1, 16, 19, 0, tzinfo=UTC)
    assert start <= friday_cutoff - timedelta(days=1)


def test_primary_only_leaves_cross_lists_out_and_says_why(arxiv_server, make_settings):
    add(arxiv_server, "2603.08001", categories=["eess.AS"])
    add(arxiv_server, "2603.08300", categories=["cs.CV", "cs.SD"])
    settings = make_settings(primary_only=True)
    report = fetch_day(settings, DAY, now=NOW)
    manifest = load_day(settings, DAY).manifest
    assert manifest.papers == ["2603.08001"]
    assert [(x.id, x.reason) for x in manifest.left_out] == [
        ("2603.08300", "primary_only: primary category cs.CV is not followed")]
    assert report.fetched == 2 and manifest.fetched == 2


def test_max_papers_is_never_a_silent_cap(arxiv_server, make_settings):
    for n in range(1, 5):
        add(arxiv_server, f"2603.0800{n}")
    settings = make_settings(max_papers=3)
    report = fetch_day(settings, DAY, now=NOW)
    day = load_day(settings, DAY)
    assert day.manifest.papers == ["2603.08004", "2603.08003", "2603.08002"]
    assert [x.id for x in day.manifest.capped] == ["2603.08001"]
    assert day.manifest.capped[0].reason.startswith("max_papers")
    assert "未显示：1 篇" in header(day, settings)
    lines = format_report(report, settings)
    assert any(line.startswith("left out 2603.08001: max_papers") for line in lines)


# -- replacements, held and later papers -------------------------------------------------

@pytest.fixture
def published_earlier(make_settings):
    """2603.07000 v1 was shown on 6 March."""
    settings = make_settings()
    paper = make_paper(1, id="2603.07000", translated=True)
    write_day(settings, make_day([paper], date(2026, 3, 6)), Writer())
    return paper


def test_a_replacement_of_a_published_paper_is_not_shown_again(
        arxiv_server, make_settings, published_earlier):
    add(arxiv_server, "2603.07000", version=2, published=datetime(2026, 3, 4, 12, tzinfo=UTC),
        updated=MONDAY)
    add(arxiv_server, "2603.08001")
    settings = make_settings()
    fetch_day(settings, DAY, now=NOW)
    manifest = load_day(settings, DAY).manifest
    assert manifest.papers == ["2603.08001"]
    assert [(x.id, x.reason) for x in manifest.left_out] == [
        ("2603.07000", "replacement v2 of a paper already published")]


def test_replacements_are_shown_marked_when_the_setting_asks(
        arxiv_server, make_settings, published_earlier):
    # v1 went out a month ago: only the lastUpdatedDate half of the query finds it.
    add(arxiv_server, "2603.07000", version=3, published=datetime(2026, 2, 4, 12, tzinfo=UTC),
        updated=MONDAY)
    settings = make_settings(include_replacements=True)
    fetch_day(settings, DAY, now=NOW)
    (request,) = arxiv_server.query_requests
    assert "lastUpdatedDate:[" in request.query["search_query"]
    (paper,) = load_day(settings, DAY).papers
    assert (paper.id.versioned, paper.replacement) == ("2603.07000v3", True)
    # The original record is untouched, and the next day does not show v3 again.
    assert load_paper(settings.day_path(date(2026, 3, 6)) / "2603.07000.yaml").id.version == 1
    add(arxiv_server, "2603.09900", published=AFTER_CUTOFF)
    assert fetch_day(settings, date(2026, 3, 11), now=NOW + timedelta(days=1)).added == [
        "2603.09900"]


def test_a_paper_first_seen_as_v2_is_a_new_paper(arxiv_server, make_settings):
    add(arxiv_server, "2603.08001", version=2, updated=MONDAY + timedelta(hours=2))
    settings = make_settings()
    fetch_day(settings, DAY, now=NOW)
    (paper,) = load_day(settings, DAY).papers
    assert (paper.id.versioned, paper.replacement) == ("2603.08001v2", False)


def test_a_held_paper_goes_into_the_first_digest_after_it_appears(arxiv_server, make_settings):
    settings = make_settings()
    shown = make_paper(1, id="2603.06000")  # the site's digests start on 5 March
    write_day(settings, make_day([shown], date(2026, 3, 5)), Writer())
    add(arxiv_server, "2603.06000", published=datetime(2026, 3, 6, 12, tzinfo=UTC))
    # Computed for the post of Saturday 7 March (Thursday's 20:00 EST announcement), but
    # arXiv held it: it shows up only now, and no digest has it.
    add(arxiv_server, "2603.05500", published=datetime(2026, 3, 5, 12, tzinfo=UTC))
    add(arxiv_server, "2603.08001")
    report = fetch_day(settings, DAY, now=NOW)
    assert load_day(settings, DAY).manifest.papers == ["2603.08001", "2603.05500"]
    assert report.late == ["2603.05500"]


def test_a_paper_of_a_later_window_waits_for_its_day(arxiv_server, make_settings):
    add(arxiv_server, "2603.08001")
    add(arxiv_server, "2603.09900", published=AFTER_CUTOFF)
    settings = make_settings()
    fetch_day(settings, DAY, now=NOW)
    assert load_day(settings, DAY).manifest.papers == ["2603.08001"]
    fetch_day(settings, date(2026, 3, 11), now=NOW + timedelta(days=1))
    assert load_day(settings, date(2026, 3, 11)).manifest.papers == ["2603.09900"]


def test_papers_from_before_a_new_sites_first_day_are_not_late(arxiv_server, make_settings):
    add(arxiv_server, "2603.05500", published=datetime(2026, 3, 5, 12, tzinfo=UTC))
    add(arxiv_server, "2603.08001")
    settings = make_settings()
    fetch_day(settings, DAY, now=NOW)
    assert load_day(settings, DAY).manifest.papers == ["2603.08001"]


# -- empty windows -----------------------------------------------------------------------

def test_a_window_without_announcement_is_not_a_failure(arxiv_server, make_settings, site):
    settings = make_settings()
    saturday = date(2026, 3, 14)  # Friday and Saturday evenings have no announcement
    result = fetch_day(settings, saturday, now=NOW + timedelta(days=5))
    assert isinstance(result, NoPost) and result.day == saturday
    assert result.reason == NO_ANNOUNCEMENT == "arXiv made no announcement in this window"
    assert not result.announced
    assert not settings.day_path(saturday).exists()


def test_an_announcement_the_api_does_not_show_yet_is_reported_apart(make_settings):
    settings = make_settings()
    result = fetch_day(settings, DAY, now=NOW)
    assert isinstance(result, NoPost) and result.announced
    assert "API has no new paper" in result.reason and NO_ANNOUNCEMENT not in result.reason
    assert not settings.day_path(DAY).exists()


# -- re-running a day --------------------------------------------------------------------

def test_a_rerun_keeps_translations_and_edits_and_refreshes_what_arxiv_changed(
        arxiv_server, make_settings, caplog):
    add(arxiv_server, "2603.08001", title="Old title")
    add(arxiv_server, "2603.08002")
    add(arxiv_server, "2603.08003", title="Reviewed title")
    settings = make_settings(arxiv_cache_ttl=0.0)
    fetch_day(settings, DAY, now=NOW)
    folder = settings.day_path(DAY)
    day = load_day(settings, DAY)
    by_id = {p.id.base: p for p in day.papers}
    text = "机器译文。"
    by_id["2603.08001"].translation = MachineText(text, "m", "v1", "t", "abstract", text_hash(text))
    by_id["2603.08002"].translation = MachineText("编辑改过的译文。", "m", "v1", "t", "abstract",
                                                  text_hash("原来的译文。"))
    by_id["2603.08003"].reviewed = True
    write_day(settings, day, Writer())

    add(arxiv_server, "2603.08001", version=2, title="New title", updated=MONDAY + timedelta(1))
    add(arxiv_server, "2603.08003", title="arXiv retitled it")
    # Friday after the cut-off: this day's paper, which the API showed only late.
    add(arxiv_server, "2603.05500", published=datetime(2026, 3, 6, 20, tzinfo=UTC))
    with caplog.at_level(logging.INFO, logger="digest_cli.fetch.day"):
        report = fetch_day(settings, DAY, now=NOW + timedelta(hours=2))

    day = load_day(settings, DAY)
    by_id = {p.id.base: p for p in day.papers}
    assert day.manifest.papers == ["2603.08003", "2603.08002", "2603.08001", "2603.05500"]
    assert by_id["2603.08001"].translation.text == text
    assert (by_id["2603.08001"].title, by_id["2603.08001"].id.version) == ("New title", 2)
    assert by_id["2603.08002"].translation.edited
    assert by_id["2603.08003"].title == "Reviewed title"
    assert report.refreshed == {
        "2603.08001": ["title", "abs_url", "pdf_url", "updated", "version"]}
    assert report.added == ["2603.05500"]
    assert "2603.08001: arXiv changed title, abs_url, pdf_url, updated, version" in caplog.text
    assert "2603.08003: arXiv changed title, but the paper is reviewed" in caplog.text
    assert (folder / "2603.05500.yaml").is_file()


def test_a_rerun_from_the_cache_changes_nothing(arxiv_server, make_settings):
    add(arxiv_server, "2603.08001")
    settings = make_settings()
    fetch_day(settings, DAY, now=NOW)
    before = files(settings.day_path(DAY))
    report = fetch_day(settings, DAY, now=NOW + timedelta(minutes=5))
    assert (report.requests, report.cache_hits, report.written, report.refreshed) == (0, 1, [], {})
    assert files(settings.day_path(DAY)) == before
    assert len(arxiv_server.query_requests) == 1


def test_an_editors_order_is_kept_and_late_papers_go_last(arxiv_server, make_settings):
    add(arxiv_server, "2603.08001")
    add(arxiv_server, "2603.08002")
    settings = make_settings(arxiv_cache_ttl=0.0)
    fetch_day(settings, DAY, now=NOW)
    day = load_day(settings, DAY)
    day.manifest.papers.reverse()
    write_day(settings, day, Writer())
    add(arxiv_server, "2603.08003")
    fetch_day(settings, DAY, now=NOW + timedelta(hours=1))
    assert load_day(settings, DAY).manifest.papers == ["2603.08001", "2603.08002", "2603.08003"]


def test_a_failure_mid_fetch_leaves_the_day_as_it_was(arxiv_server, make_settings):
    for n in range(1, 4):
        add(arxiv_server, f"2603.0800{n}")
    settings = make_settings(arxiv_page_size=1, arxiv_retries=1, arxiv_cache_ttl=0.0)
    fetch_day(settings, DAY, now=NOW)
    before = files(settings.day_path(DAY))
    add(arxiv_server, "2603.08004")
    arxiv_server.ok_next(2)
    arxiv_server.fail_next(503, retry_after="0", times=2)
    with pytest.raises(FetchError) as caught:
        fetch_day(settings, DAY, now=NOW + timedelta(hours=1))
    assert caught.value.status == 503 and "start=2" in caught.value.url
    assert f"HTTP 503 after 1 retries; URL: {caught.value.url}" in str(caught.value)
    assert files(settings.day_path(DAY)) == before


def test_an_open_window_is_refused(make_settings):
    with pytest.raises(FetchError, match="window of 2026-03-10 is still open"):
        fetch_day(make_settings(), DAY, now=datetime(2026, 3, 10, 0, 49, tzinfo=UTC))


# -- small pure parts --------------------------------------------------------------------

def test_default_day_is_the_latest_closed_window(make_settings):
    settings = make_settings()
    assert default_day(settings, NOW) == DAY
    assert default_day(settings, datetime(2026, 3, 10, 0, 49, tzinfo=UTC)) == date(2026, 3, 9)


def test_ids_sort_newest_first_across_digit_counts_and_old_style():
    ids = ["2601.9999", "hep-th/9901001", "2601.19786", "2512.00001"]
    assert sorted(ids, key=id_order, reverse=True) == [
        "2601.19786", "2601.9999", "2512.00001", "hep-th/9901001"]
    assert merge_order(["2603.3", "2603.1"], ["2603.2"]) == ["2603.3", "2603.2", "2603.1"]


# -- the command -------------------------------------------------------------------------

def invoke(site: Path, server, *args: str):
    env = {"DIGEST_ARXIV_API_URL": server.query_url, "DIGEST_ARXIV_DELAY": "0",
           "DIGEST_ARXIV_RETRIES": "1"}
    return run_cli(site, "fetch", *args, env=env)


def test_digest_fetch_prints_the_window_counts_and_categories(site, arxiv_server):
    add(arxiv_server, "2603.08001", categories=["eess.AS", "cs.SD"])
    add(arxiv_server, "2603.08300", categories=["cs.CV", "cs.SD"])
    result = invoke(site, arxiv_server, "--date", "2026-03-10")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:4] == ["2026-03-10: window 2026-03-09 08:50 — 2026-03-10 08:50 CST",
                         "fetched 2, shown 2",
                         "  cs.SD: 0 new, 2 cross-listed",
                         "  eess.AS: 1 new, 0 cross-listed"]
    assert "arXiv API: 1 requests (0 retries), 0 pages from the cache" in result.output
    offline = invoke(site, arxiv_server, "--date", "2026-03-10", "--offline")
    assert offline.exit_code == 0 and "0 requests (0 retries), 1 pages from the cache" in (
        offline.output)
    assert len(arxiv_server.query_requests) == 1


def test_digest_fetch_on_an_empty_window_exits_0_with_the_message(site, arxiv_server):
    result = invoke(site, arxiv_server, "--date", "2026-03-14")
    assert (result.exit_code, result.output) == (
        0, "2026-03-14: arXiv made no announcement in this window\n")
    lag = invoke(site, arxiv_server, "--date", "2026-03-10")
    assert lag.exit_code == 0 and "API has no new paper" in lag.output
    assert not (site / "data" / "2026-03-10").exists()


def test_digest_fetch_failure_exits_1_naming_url_and_status(site, arxiv_server):
    arxiv_server.fail_next(400, message="invalid query")
    result = run_cli(site, "fetch", "--date", "2026-03-10",
                     env={"DIGEST_ARXIV_API_URL": arxiv_server.query_url}, catch_exceptions=True)
    assert result.exit_code == 1
    assert result.output.startswith("Error (fetch): arXiv rejected the query (HTTP 400: "
                                    "invalid query); query: '(cat:cs.SD OR cat:eess.AS) AND ")
    assert f"URL: {arxiv_server.query_url}?search_query=" in result.output
    assert "Traceback" not in result.output


def test_refetching_the_imported_sample_day_keeps_its_post(sample_site, arxiv_server,
                                                           settings_for):
    from digest_cli.posts.render import render_day

    settings = settings_for(sample_site, arxiv_api_url=arxiv_server.query_url, arxiv_delay=0.0)
    seed_day = date(2026, 1, 28)  # Monday 26 January's 20:00 EST announcement
    for paper in load_day(settings, seed_day).papers:
        arxiv_server.add_paper(id=paper.id.base, title=paper.title, authors=paper.authors,
                               categories=paper.categories, summary="An abstract from arXiv.",
                               published=datetime(2026, 1, 26, 12, tzinfo=UTC))
    report = fetch_day(settings, seed_day, now=datetime(2026, 1, 28, 1, tzinfo=UTC))
    day = load_day(settings, seed_day)
    assert report.added == [] and day.manifest.fetched == 21 and day.manifest.shown == 20
    # The import had no abstract or dates: the fetch fills them in, and nothing else.
    assert report.refreshed == {pid: ["abstract", "published", "updated"]
                                for pid in day.manifest.papers}
    assert all(p.translation.source == "import" and not p.translation.edited for p in day.papers)
    post = settings.post_path(seed_day).read_text(encoding="utf-8")
    assert render_day(day, settings) == post


def test_a_refetch_keeps_an_editors_title_and_takes_arxivs_journal_ref(tmp_path,
                                                                      arxiv_server):
    # Every difference from arXiv was taken for an arXiv change: a re-run of the day put
    # arXiv's title back over the editor's fix. arXiv changes a title only with a version.
    from digest_cli.records.store import write_paper

    settings = load_settings(tmp_path, environ={
        "DIGEST_ARXIV_API_URL": arxiv_server.query_url, "DIGEST_ARXIV_DELAY": "0",
        "DIGEST_ARXIV_CACHE_TTL": "0"})
    arxiv_server.add_paper(id="2603.08001", published=MONDAY, categories=["cs.SD"],
                           title="Speech Enhancment With Typos")
    now = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
    fetch_day(settings, DAY, now=now)
    paper = load_day(settings, DAY).papers[0]
    paper.title = "Speech Enhancement with Typos Fixed"
    write_paper(settings.day_path(DAY), paper, Writer())
    arxiv_server.add_paper(id="2603.08001", published=MONDAY, categories=["cs.SD"],
                           title="Speech Enhancment With Typos", journal_ref="Proc. X 2026")

    report = fetch_day(settings, DAY, now=now + timedelta(hours=1))

    paper = load_day(settings, DAY).papers[0]
    assert paper.title == "Speech Enhancement with Typos Fixed"
    assert paper.journal_ref == "Proc. X 2026"
    assert report.refreshed == {"2603.08001": ["journal_ref"]}
    # a new version brings arXiv's new words: taken beside the editor's, which stays
    # (issue 11: an editor's correction is never replaced, the conflict is reported)
    arxiv_server.add_paper(id="2603.08001", version=2, published=MONDAY,
                           updated=datetime(2026, 3, 9, 13, 0, tzinfo=UTC),
                           categories=["cs.SD"], title="Speech Enhancement, Revised",
                           journal_ref="Proc. X 2026")
    report = fetch_day(settings, DAY, now=now + timedelta(hours=2))
    paper = load_day(settings, DAY).papers[0]
    assert (paper.title, paper.id.version) == ("Speech Enhancement with Typos Fixed", 2)
    assert paper.arxiv_original == {"title": "Speech Enhancement, Revised"}
    assert report.kept == {"2603.08001": ["title"]}
