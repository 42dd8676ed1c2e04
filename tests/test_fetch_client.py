"""The arXiv client against a fake arXiv that misbehaves like the real one.

Faults are served over real HTTP on 127.0.0.1 to the real client and its HTTP session
(digest_cli.bounded). Waits go through an injected clock, so a Retry-After of 2 s is
asserted without being slept.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import httpx2
import pytest

from digest_cli.bounded import Session
from digest_cli.errors import FetchError
from digest_cli.fetch.client import MAX_PAGE_BYTES, ArxivClient, Search
from digest_cli.fetch.day import NoPost, fetch_day, paper_from_result
from digest_cli.records.store import load_day
from digest_cli.retry import retry_after
from digest_cli.settings import load_settings
from tests.fakes.fixtures import shared_arxiv_fixture

UTC = timezone.utc
DAY = date(2026, 3, 10)
NOW = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
MONDAY = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
OWN_FIXTURES = Path(__file__).parent / "fixtures" / "arxiv"
USED_OWN_FIXTURES = {"audio_current.xml", "audio_classic.xml", "empty.xml", "error400_date.json"}


class FakeClock:
    """Monotonic time that only moves when the client sleeps; records every sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class TimedSession(Session):
    """A real session that notes the (fake) time each request is sent at."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(deadline=5.0, max_bytes=MAX_PAGE_BYTES)
        self.fake_clock, self.sent = clock, []

    def get(self, url, **kw):
        self.sent.append(self.fake_clock.now)
        return super().get(url, **kw)


@pytest.fixture
def settings(site, arxiv_server, settings_for):
    return settings_for(site, arxiv_api_url=arxiv_server.query_url, arxiv_delay=0.0,
                        arxiv_retries=2, arxiv_timeout=5.0)


@pytest.fixture
def fake_clock():
    return FakeClock()


def client_for(settings, clock: FakeClock | None = None, **kw) -> ArxivClient:
    if clock is not None:
        kw.update(sleep=clock.sleep, clock=clock.clock)
    return ArxivClient(settings, now=kw.pop("now", NOW), **kw)


def add_papers(server, count: int, start: int = 1) -> list[str]:
    ids = [f"2603.{n:05d}" for n in range(start, start + count)]
    for n, pid in enumerate(ids):
        server.add_paper(id=pid, published=MONDAY - timedelta(minutes=n))
    return ids


def search(client: ArxivClient) -> list[str]:
    return [r.short_id for r in client.search("cat:cs.SD")]


# -- paging --------------------------------------------------------------------------------

def test_every_result_is_fetched_in_pages_with_no_100_cap(arxiv_server, settings_for, site):
    ids = add_papers(arxiv_server, 250)
    settings = settings_for(site, arxiv_api_url=arxiv_server.query_url, arxiv_delay=0.0,
                            arxiv_page_size=100)
    report = fetch_day(settings, DAY, now=NOW)
    assert report.shown == 250 and load_day(settings, DAY).manifest.papers == ids[::-1]
    assert report.requests == math.ceil(250 / 100) == 3
    assert [r.query["start"] for r in arxiv_server.query_requests] == ["0", "100", "200"]
    assert arxiv_server.connections == 1  # one HTTP client for the run, its connection kept


def test_delay_between_requests_is_kept(arxiv_server, site, settings_for, fake_clock):
    add_papers(arxiv_server, 3)
    settings = settings_for(site, arxiv_api_url=arxiv_server.query_url, arxiv_delay=3.0,
                            arxiv_page_size=1)
    session = TimedSession(fake_clock)
    client = client_for(settings, fake_clock, session=session)
    assert len(search(client)) == 3
    gaps = [b - a for a, b in zip(session.sent, session.sent[1:], strict=False)]
    assert len(gaps) == 2 and min(gaps) >= 3.0


def test_duplicates_across_pages_are_dropped(arxiv_server, settings_for, site):
    add_papers(arxiv_server, 4, start=8001)

    def announce_between_pages(request):
        if request.query.get("start") == "2":  # a newer paper pushes page 2 back by one
            arxiv_server.add_paper(id="2603.08100", published=MONDAY + timedelta(hours=1))

    arxiv_server.on_query = announce_between_pages
    settings = settings_for(site, arxiv_api_url=arxiv_server.query_url, arxiv_delay=0.0,
                            arxiv_page_size=2)
    report = fetch_day(settings, DAY, now=NOW)
    assert report.duplicates == 1
    # The package stops at the first page's total, so the paper pushed off the end is
    # missed by this run; the next day's fetch finds it in no digest and shows it.
    assert load_day(settings, DAY).manifest.papers == ["2603.08003", "2603.08002", "2603.08001"]
    arxiv_server.on_query = None
    later = fetch_day(settings, date(2026, 3, 11), now=NOW + timedelta(days=1))
    assert sorted(later.late) == ["2603.08004", "2603.08100"]


# -- faults --------------------------------------------------------------------------------

def test_http_400_is_not_retried_and_names_the_query(arxiv_server, settings, fake_clock):
    arxiv_server.fail_next(400, message="incorrect id format for abc")
    with pytest.raises(FetchError) as caught:
        search(client_for(settings, fake_clock))
    assert caught.value.status == 400 and len(arxiv_server.query_requests) == 1
    assert str(caught.value) == (
        "arXiv rejected the query (HTTP 400: incorrect id format for abc); query: 'cat:cs.SD'; "
        f"URL: {caught.value.url}")
    assert fake_clock.sleeps == []


@pytest.mark.parametrize("status", [429, 503])
def test_429_and_503_are_retried_after_retry_after(arxiv_server, settings, fake_clock, status):
    add_papers(arxiv_server, 2)
    arxiv_server.fail_next(status, retry_after="2")
    client = client_for(settings, fake_clock)
    assert len(search(client)) == 2
    assert len(arxiv_server.query_requests) == 2 and client.stats.retries == 1
    assert fake_clock.sleeps == [2.0]


def test_backoff_grows_when_there_is_no_retry_after(arxiv_server, site, settings_for,
                                                     fake_clock):
    add_papers(arxiv_server, 1)
    arxiv_server.fail_next(503, retry_after=None, times=3)
    settings = settings_for(site, arxiv_api_url=arxiv_server.query_url, arxiv_delay=3.0,
                            arxiv_retries=3)
    assert len(search(client_for(settings, fake_clock))) == 1
    assert fake_clock.sleeps == [3.0, 6.0, 12.0]


def test_retries_run_out_with_an_error_naming_url_status_and_count(arxiv_server, settings,
                                                                   fake_clock):
    arxiv_server.fail_next(503, times=3)
    with pytest.raises(FetchError) as caught:
        search(client_for(settings, fake_clock))
    error = caught.value
    assert (error.status, error.retries, len(arxiv_server.query_requests)) == (503, 2, 3)
    assert str(error) == f"arXiv API failed: HTTP 503 after 2 retries; URL: {error.url}"
    assert error.url.startswith(arxiv_server.query_url + "?search_query=cat%3Acs.SD")


def test_a_retry_after_of_an_hour_fails_at_once(arxiv_server, settings, fake_clock):
    arxiv_server.fail_next(429, retry_after="3600")
    with pytest.raises(FetchError, match="asked to retry after 3600 s"):
        search(client_for(settings, fake_clock))
    assert len(arxiv_server.query_requests) == 1 and fake_clock.sleeps == []


def test_retry_after_as_an_http_date_counts_from_the_servers_date():
    headers = httpx2.Headers({"Retry-After": "Tue, 10 Mar 2026 01:00:30 GMT",
                              "Date": "Tue, 10 Mar 2026 01:00:00 GMT"})
    assert retry_after(headers) == 30.0
    assert retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    headers["Retry-After"] = "soon"
    assert retry_after(headers) is None


def test_an_empty_later_page_is_retried(arxiv_server, site, settings_for):
    ids = add_papers(arxiv_server, 5)
    settings = settings_for(site, arxiv_api_url=arxiv_server.query_url, arxiv_delay=0.0,
                            arxiv_page_size=2)
    arxiv_server.ok_next(1)
    arxiv_server.empty_page_next(1)
    client = client_for(settings)
    assert sorted(search(client)) == sorted(f"{i}v1" for i in ids)
    assert client.stats.requests == 4 and client.stats.retries == 1


def test_an_empty_first_page_is_an_empty_result_not_a_fault(arxiv_server, settings):
    client = client_for(settings)
    assert search(client) == [] and client.stats.requests == 1


def test_malformed_xml_is_retried_then_reported(arxiv_server, settings):
    add_papers(arxiv_server, 3)
    arxiv_server.malformed_next(1)
    assert len(search(client_for(settings))) == 3  # the package alone would keep a cut page
    arxiv_server.malformed_next(3)
    with pytest.raises(FetchError, match=r"malformed XML .* after 2 retries; URL: http://"):
        search(client_for(settings, now=NOW + timedelta(days=1)))


def test_a_reset_connection_is_retried(arxiv_server, settings):
    add_papers(arxiv_server, 2)
    arxiv_server.reset_next(2)
    client = client_for(settings)
    assert len(search(client)) == 2 and client.stats.retries == 2


def test_a_timeout_is_retried_then_reported(arxiv_server, site, settings_for):
    add_papers(arxiv_server, 1)
    settings = settings_for(site, arxiv_api_url=arxiv_server.query_url, arxiv_delay=0.0,
                            arxiv_timeout=0.2, arxiv_retries=1)
    arxiv_server.delay_next(1.0)
    assert len(search(client_for(settings))) == 1
    arxiv_server.delay_next(1.0, times=2)
    with pytest.raises(FetchError, match=r"no answer within 0.2 s after 1 retries; URL: "):
        search(client_for(settings, now=NOW + timedelta(days=1)))


# -- the cache -----------------------------------------------------------------------------

def test_answers_are_cached_and_replayed_offline(arxiv_server, settings):
    add_papers(arxiv_server, 2)
    first = fetch_day(settings, DAY, now=NOW)
    assert first.requests == 1 and len(list((settings.cache_path / "arxiv").glob("*.xml"))) == 1
    again = fetch_day(settings, DAY, now=NOW + timedelta(minutes=30))
    assert (again.requests, again.cache_hits) == (0, 1)
    arxiv_server.stop()
    shutil_rmtree(settings.day_path(DAY))
    offline = fetch_day(settings, DAY, now=NOW + timedelta(days=30), offline=True)
    assert (offline.requests, offline.shown) == (0, 2)


def test_a_stale_cache_asks_arxiv_again(arxiv_server, settings):
    add_papers(arxiv_server, 1)
    fetch_day(settings, DAY, now=NOW)
    arxiv_server.add_paper(id="2603.09000", published=MONDAY)
    report = fetch_day(settings, DAY, now=NOW + timedelta(seconds=settings.arxiv_cache_ttl + 1))
    assert report.requests == 1 and report.added == ["2603.09000"]


def test_offline_without_a_cache_says_what_to_do(settings):
    with pytest.raises(FetchError, match=r"no cached answer for .* \(run `digest fetch` once "
                                         r"without --offline\)"):
        fetch_day(settings, DAY, now=NOW, offline=True)


def test_the_api_url_comes_from_the_environment(arxiv_server, site):
    add_papers(arxiv_server, 1)
    settings = load_settings(site, environ={"DIGEST_ARXIV_API_URL": arxiv_server.query_url,
                                            "DIGEST_ARXIV_DELAY": "0"})
    assert fetch_day(settings, DAY, now=NOW).shown == 1
    assert len(arxiv_server.query_requests) == 1


def shutil_rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path)


# -- recorded answers ----------------------------------------------------------------------

def test_own_current_format_fixture(arxiv_server, settings):
    arxiv_server.serve_file(OWN_FIXTURES / "audio_current.xml")
    report = fetch_day(settings, DAY, now=NOW)
    day = load_day(settings, DAY)
    assert day.manifest.papers == ["2603.08812", "2603.08650", "2603.08011"]
    assert report.deferred == 1 and report.requests == 1
    first, cross, v2 = day.papers
    assert first.title == ("Streaming Speech Enhancement with $\\mathcal{O}(1)$ Latency for "
                           "Hearing Aids < 5 ms")
    assert first.authors == ["Mei Chen", "Jonas Müller"] and "{braces}" in first.abstract
    assert cross.categories == ["cs.CV", "cs.AI", "cs.SD", "eess.AS"]
    assert (v2.id.versioned, v2.doi, v2.journal_ref) == (
        "2603.08011v2", "10.1109/ICASSP.2026.0001", "Proc. ICASSP 2026, pp. 1-5")
    assert v2.abstract == ("We adapt codec language models to singing.\n\n"
                           "The second paragraph reports a MOS of 4.2.")
    assert v2.published == datetime(2026, 3, 8, 22, 15, tzinfo=UTC)
    assert report.categories == {"cs.SD": (1, 2), "eess.AS": (1, 2)}


def test_own_classic_format_fixture(arxiv_server, settings):
    arxiv_server.serve_file(OWN_FIXTURES / "audio_classic.xml")
    fetch_day(settings, DAY, now=NOW)
    day = load_day(settings, DAY)
    assert day.manifest.papers == ["2603.07777", "cs/0701001"]
    wrapped, old = day.papers
    assert wrapped.title == ("A Very Long Title About Self-Supervised Speech Representations "
                             "That arXiv Wrapped Over Two Lines")
    assert "\n" not in wrapped.abstract and wrapped.abstract.startswith("Self-supervised")
    assert (wrapped.abs_url, wrapped.pdf_url) == ("https://arxiv.org/abs/2603.07777v1",
                                                  "https://arxiv.org/pdf/2603.07777v1")
    assert (settings.day_path(DAY) / "cs_0701001.yaml").is_file() and old.id.base == "cs/0701001"


def test_own_empty_fixture(arxiv_server, settings):
    arxiv_server.serve_file(OWN_FIXTURES / "empty.xml")
    result = fetch_day(settings, DAY, now=NOW)
    assert isinstance(result, NoPost) and result.announced


def test_own_error_fixture(arxiv_server, settings):
    arxiv_server.serve_file(OWN_FIXTURES / "error400_date.json")
    with pytest.raises(FetchError, match=r"HTTP 400: invalid date range 2026031\)"):
        fetch_day(settings, DAY, now=NOW)
    assert len(arxiv_server.query_requests) == 1


def test_every_own_fixture_is_used():
    present = {p.name for p in OWN_FIXTURES.iterdir() if p.name != "README.md"}
    assert present == USED_OWN_FIXTURES


# Contract tests: real answers recorded from arXiv (../shared beside the checkout).


def first_page(client: ArxivClient, size: int) -> list:
    return list(client.results(Search(query="all:testing", max_results=size,
                                      sort_by="relevance")))


def test_contract_current_format(arxiv_server, settings):
    arxiv_server.serve_file(shared_arxiv_fixture("api_query_all-testing_2026-04-12.xml"))
    papers = [paper_from_result(r) for r in first_page(client_for(settings), 100)]
    assert len(papers) == 100 and len(arxiv_server.query_requests) == 1
    by_id = {p.id.base: p for p in papers}
    old = by_id["hep-ph/0301050"]
    assert old.id.version == 2 and old.abs_url == "https://arxiv.org/abs/hep-ph/0301050v2"
    assert all(p.abs_url.startswith("https://arxiv.org/abs/") for p in papers)
    assert all(p.title and "\n" not in p.title and p.authors and p.categories for p in papers)
    assert any(p.doi for p in papers) and any(p.journal_ref for p in papers)
    first = papers[0]
    assert (first.id.versioned, first.categories[0]) == ("2202.12139v1", "cs.SE")


def test_contract_classic_format(arxiv_server, settings):
    arxiv_server.serve_file(shared_arxiv_fixture("api_classic_au-del_maestro_2016-10-09.xml"))
    papers = [paper_from_result(r) for r in first_page(client_for(settings), 10)]
    assert len(papers) == 10
    assert all("\n" not in p.abstract and p.abstract == p.abstract.strip() for p in papers)
    assert all(p.abs_url.startswith("https://arxiv.org/abs/") for p in papers)
    assert papers[0].id.versioned == "1201.4869v1"


def test_contract_error_400(arxiv_server, settings):
    arxiv_server.serve_file(shared_arxiv_fixture("api_error400_id-abc_2026-04-12.json"))
    with pytest.raises(FetchError, match=r"HTTP 400: incorrect id format for abc") as caught:
        first_page(client_for(settings), 10)
    assert caught.value.status == 400 and len(arxiv_server.query_requests) == 1
