"""The arXiv API client: what to ask (`Search`), how to ask (`ArxivClient`: paging,
pace, retries, cache), what came back (`feed.Entry`), after the `arxiv` package's shape.

The package itself is not used: its `Client` fetches through a `requests` session of its
own with no timeout and no public way to give it one or another transport, retries an
HTTP 400 as if it could succeed, ignores Retry-After, and parses a truncated page
leniently (tests/test_fakes.py pinned each of these against the fake arXiv). So the Atom
pages are read here with the project's HTTP session (digest_cli.bounded) and parsed
strictly with lxml (digest_cli.fetch.feed). Each page is:

* served from the cache folder when a fresh copy is there (`--offline`: whatever its age);
* otherwise requested at least `arxiv_delay` seconds after the previous answer, with a
  total deadline and a size cap, and retried on 429/5xx (waiting as long as Retry-After
  asks), timeouts, broken connections, malformed XML and an unexpectedly empty later
  page; never on another 4xx;
* checked strictly and parsed, and only then written to the cache.

Every request is counted in `client.stats`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import parse_qs, urlencode, urlsplit

from digest_cli import __version__
from digest_cli.bounded import (
    MB,
    HTTPError,
    Reply,
    Session,
    TimedOut,
    TooLarge,
    TransportError,
)
from digest_cli.cachefile import read_entry, write_entry
from digest_cli.errors import FetchError
from digest_cli.fetch.feed import Entry, Page, Rejected, error_summary, parse_page
from digest_cli.retry import Backoff, Transient, retry, retry_after

if TYPE_CHECKING:
    from digest_cli.settings import Settings

log = logging.getLogger(__name__)

USER_AGENT = f"digest/{__version__}"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# A Retry-After longer than this fails the run at once: a scheduled job that sleeps for
# an hour helps nobody, and the next run picks the papers up.
MAX_WAIT = 300.0
MAX_PAGE_BYTES = 64 * MB  # a page of 200 results is about 1 MB


@dataclass(frozen=True)
class Search:
    """What to ask: a query (arXiv's syntax) and/or ids, and the order of the results.
    `max_results` None: every result, page after page (the API has no 100-result cap)."""

    query: str = ""
    id_list: tuple[str, ...] = ()
    sort_by: str = "submittedDate"  # or relevance, lastUpdatedDate
    sort_order: str = "descending"
    max_results: int | None = None

    def params(self, start: int, size: int) -> dict[str, str]:
        """The query string of one page (in the order the `arxiv` package used, so the
        cache keys of earlier runs still match)."""
        return {"search_query": self.query, "id_list": ",".join(self.id_list),
                "sortBy": self.sort_by, "sortOrder": self.sort_order,
                "start": str(start), "max_results": str(size)}


class Getter(Protocol):
    """What the client needs of an HTTP session (tests pass one that notes the time)."""

    def get(self, url: str, **kw: object) -> Reply: ...

    def close(self) -> None: ...


@dataclass
class RequestStats:
    """What talking to arXiv cost: requests sent (retries included) and pages from the cache."""

    requests: int = 0
    retries: int = 0
    cache_hits: int = 0
    waited: float = 0.0  # seconds slept for the rate limit and the backoff


class ResponseCache:
    """Raw API answers, one file per URL. A file's mtime is the (injected) time it was fetched."""

    def __init__(self, folder: Path, ttl: float, now: datetime) -> None:
        self.folder, self.ttl, self.now = folder, ttl, now.timestamp()

    def path(self, url: str) -> Path:
        return self.folder / (hashlib.sha256(url.encode("utf-8")).hexdigest()[:32] + ".xml")

    def get(self, url: str, any_age: bool = False) -> bytes | None:
        """The cached answer for `url` if there is one young enough (or any, with `any_age`)."""
        path = self.path(url)
        if not path.is_file():
            return None
        age = self.now - path.stat().st_mtime
        if not any_age and not 0 <= age <= self.ttl:
            return None
        return read_entry(path, url, MAX_PAGE_BYTES)  # damaged, or another URL's: a miss

    def put(self, url: str, body: bytes) -> None:
        path = self.path(url)
        write_entry(path, url, body)
        os.utime(path, (self.now, self.now))


class ArxivClient:
    """Pages through a search with a timeout, honest retries, a response cache and a
    request count; one HTTP session for the run (closed when a search ends)."""

    def __init__(self, settings: Settings, *, now: datetime, offline: bool = False,
                 session: Getter | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.page_size = settings.arxiv_page_size
        self.delay_seconds = settings.arxiv_delay  # arXiv asks for one request every 3 s
        self.num_retries = settings.arxiv_retries
        self.api_url = settings.arxiv_api_url
        self.timeout = settings.arxiv_timeout
        self._session: Getter = session if session is not None else Session(
            deadline=self.timeout, max_bytes=MAX_PAGE_BYTES, headers={"User-Agent": USER_AGENT})
        self.cache = ResponseCache(settings.cache_path / "arxiv", settings.arxiv_cache_ttl, now)
        self.offline = offline
        self.stats = RequestStats()
        self._sleep, self._clock = sleep, clock
        # Exponential from the normal delay; without jitter: one client, arXiv's own pace.
        self.backoff = Backoff(settings.arxiv_delay, cap=MAX_WAIT)
        self._last_answer: float | None = None

    def search(self, query: str) -> list[Entry]:
        """Every result of `query`, newest submission first, all pages (no 100-result cap)."""
        try:
            return list(self.results(Search(query=query)))
        finally:
            self.close()

    def results(self, search: Search) -> Iterator[Entry]:
        """The results of `search`, a page at a time, until the first page's total (or
        `search.max_results`) is reached; an empty first page is no result, not a fault.
        The total is the first page's, as the `arxiv` package did: papers announced while
        paging push others to a later page, which the next day's fetch finds."""
        offset, wanted = 0, search.max_results
        page = self._page(search, offset, first_page=True)
        total = page.total if wanted is None else min(page.total, wanted)
        while page.entries:
            for entry in page.entries:
                if wanted is not None and offset >= wanted:
                    return
                offset += 1
                yield entry
            if offset >= total:
                return
            page = self._page(search, offset, first_page=False)

    def close(self) -> None:
        """Close the HTTP session (a later search opens it again)."""
        self._session.close()

    def url(self, search: Search, start: int) -> str:
        return f"{self.api_url}?{urlencode(search.params(start, self.page_size))}"

    # -- one page ------------------------------------------------------------------------

    def _page(self, search: Search, start: int, first_page: bool) -> Page:
        url = self.url(search, start)
        cached = self.cache.get(url, any_age=self.offline)
        if cached is not None:
            page = self._cached_page(url, cached, first_page)
            if page is not None:
                return page
        if self.offline:
            raise FetchError(f"no cached answer for {url} in {self.cache.folder} (run "
                             "`digest fetch` once without --offline)", url=url)
        body, page = self._fetch(url, first_page)
        self.cache.put(url, body)
        return page

    def _cached_page(self, url: str, body: bytes, first_page: bool) -> Page | None:
        try:
            page = parse_page(body, first_page)
        except (Transient, Rejected) as exc:
            log.warning("ignoring a bad cached answer %s: %s", self.cache.path(url), exc)
            return None
        self.stats.cache_hits += 1
        log.debug("from the cache: %s", url)
        return page

    def _fetch(self, url: str, first_page: bool) -> tuple[bytes, Page]:
        """Request `url` until it gives a good page or the retries run out."""
        def before_retry(attempt: int, wait: float, exc: Transient) -> None:
            if exc.retry_after is not None and exc.retry_after > MAX_WAIT:
                raise FetchError(f"arXiv API answered {exc.reason} and asked to retry after "
                                 f"{exc.retry_after:.0f} s (more than {MAX_WAIT:.0f} s); "
                                 f"URL: {url}", url=url, status=exc.status, retries=attempt)
            log.warning("arXiv API: %s; retry %d of %d in %.1f s: %s",
                        exc.reason, attempt + 1, self.num_retries, wait, url)
            self.stats.retries += 1

        try:
            return retry(lambda: self._try(url, first_page), retries=self.num_retries,
                         backoff=self.backoff, sleep=self._pause, on_retry=before_retry)
        except Transient as exc:
            raise _gave_up(url, exc, exc.retries) from None

    def _try(self, url: str, first_page: bool) -> tuple[bytes, Page]:
        self._wait_turn()
        self.stats.requests += 1
        log.info("GET %s", url)
        try:
            resp = self._session.get(url)
        except TooLarge as exc:
            raise FetchError(f"arXiv API: {exc}", url=url) from None
        except TimedOut:
            raise Transient(f"no answer within {self.timeout:g} s") from None
        except TransportError as exc:  # resets, refused connections: worth a retry
            raise Transient(f"connection broken ({type(exc).__name__})") from None
        except HTTPError as exc:  # too many redirects, an undecodable body
            raise FetchError(f"cannot request {url}: {exc}", url=url) from None
        finally:
            self._last_answer = self._clock()
        return resp.content, self._check(url, resp, first_page)

    def _check(self, url: str, resp: Reply, first_page: bool) -> Page:
        status = resp.status_code
        if status in RETRY_STATUSES:
            raise Transient(f"HTTP {status}", status, retry_after(resp.headers))
        try:
            if status != 200:
                raise Rejected(f"HTTP {status}" + error_summary(resp.content))
            return parse_page(resp.content, first_page)
        except Rejected as exc:
            raise FetchError(f"arXiv rejected the query ({exc}); query: {query_of(url)!r}; "
                             f"URL: {url}", url=url, status=status) from None

    # -- pacing --------------------------------------------------------------------------

    def _wait_turn(self) -> None:
        """Keep `delay_seconds` between the previous answer and the next request."""
        if self._last_answer is not None:
            remaining = self.delay_seconds - (self._clock() - self._last_answer)
            if remaining > 0:
                self._pause(remaining)

    def _pause(self, seconds: float) -> None:
        self.stats.waited += seconds
        self._sleep(seconds)


def query_of(url: str) -> str:
    """The `search_query` parameter of an API URL."""
    return parse_qs(urlsplit(url).query).get("search_query", [""])[0]


def _gave_up(url: str, exc: Transient, retries: int) -> FetchError:
    return FetchError(f"arXiv API failed: {exc.reason} after {retries} retries; URL: {url}",
                      url=url, status=exc.status, retries=retries)
