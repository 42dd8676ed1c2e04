"""The arXiv API client: the `arxiv` package's `Client`, made to survive arXiv.

The package pages through a search (`Client.results`) and parses each Atom page; this
subclass keeps both and replaces only its page fetch, `Client._parse_feed`, because in
arxiv 4.0.2 that fetch has no timeout, does not retry a timeout, retries an HTTP 400 as if
it could succeed, ignores Retry-After, and parses a truncated page leniently (so the papers
after the cut would vanish without an error). Here each page is:

* served from the cache folder when a fresh copy is there (`--offline`: whatever its age);
* otherwise requested at least `arxiv_delay` seconds after the previous answer, with a
  timeout, and retried on 429/5xx (waiting as long as Retry-After asks), timeouts, broken
  connections, malformed XML and an unexpectedly empty later page; never on another 4xx;
* checked strictly, parsed by the package, and only then written to the cache.

Every request is counted in `client.stats`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import arxiv
import httpx
import requests
from arxiv import _feed
from lxml import etree

from digest_cli import __version__
from digest_cli.bounded import MB, Reply, TooLarge, request
from digest_cli.cachefile import read_entry, write_entry
from digest_cli.errors import FetchError
from digest_cli.retry import Backoff, Transient, retry, retry_after

if TYPE_CHECKING:
    from digest_cli.settings import Settings

log = logging.getLogger(__name__)

USER_AGENT = f"digest/{__version__} (arxiv.py/{arxiv.__version__})"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# A Retry-After longer than this fails the run at once: a scheduled job that sleeps for
# an hour helps nobody, and the next run picks the papers up.
MAX_WAIT = 300.0
MAX_PAGE_BYTES = 64 * MB  # a page of 200 results is about 1 MB
_ATOM = "{http://www.w3.org/2005/Atom}"
_STRICT = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


@dataclass
class RequestStats:
    """What talking to arXiv cost: requests sent (retries included) and pages from the cache."""

    requests: int = 0
    retries: int = 0
    cache_hits: int = 0
    waited: float = 0.0  # seconds slept for the rate limit and the backoff


class _Rejected(Exception):
    """arXiv answered that the query itself is wrong: retrying cannot help."""


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


class BoundedSession:
    """What `_try` asks of a session, with a total deadline per request (the `timeout`)
    and a size cap: a server trickling one byte a second cannot hang a fetch."""

    def get(self, url: str, *, timeout: float, headers: dict[str, str]) -> Reply:
        return request("GET", url, deadline=timeout, max_bytes=MAX_PAGE_BYTES,
                       headers=headers)


class ArxivClient(arxiv.Client):
    """`arxiv.Client` with a timeout, honest retries, a response cache and a request count."""

    def __init__(self, settings: Settings, *, now: datetime, offline: bool = False,
                 session: requests.Session | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(page_size=settings.arxiv_page_size,
                         delay_seconds=settings.arxiv_delay, num_retries=settings.arxiv_retries)
        self.query_url_format = settings.arxiv_api_url + "?{}"
        self._session = session if session is not None else BoundedSession()
        self.timeout = settings.arxiv_timeout
        self.cache = ResponseCache(settings.cache_path / "arxiv", settings.arxiv_cache_ttl, now)
        self.offline = offline
        self.stats = RequestStats()
        self._sleep, self._clock = sleep, clock
        # Exponential from the normal delay; without jitter: one client, arXiv's own pace.
        self.backoff = Backoff(settings.arxiv_delay, cap=MAX_WAIT)
        self._last_answer: float | None = None

    def search(self, query: str) -> list[arxiv.Result]:
        """Every result of `query`, newest submission first, all pages (no 100-result cap)."""
        search = arxiv.Search(query=query, max_results=None,
                              sort_by=arxiv.SortCriterion.SubmittedDate,
                              sort_order=arxiv.SortOrder.Descending)
        return list(self.results(search))

    # -- the page fetch the package calls for each page ----------------------------------

    def _parse_feed(self, url: str, first_page: bool = True, _try_index: int = 0):
        cached = self.cache.get(url, any_age=self.offline)
        if cached is not None:
            feed = self._cached_feed(url, cached, first_page)
            if feed is not None:
                return feed
        if self.offline:
            raise FetchError(f"no cached answer for {url} in {self.cache.folder} (run "
                             "`digest fetch` once without --offline)", url=url)
        body, feed = self._fetch(url, first_page)
        self.cache.put(url, body)
        return feed

    def _cached_feed(self, url: str, body: bytes, first_page: bool):
        try:
            feed = check_page(body, first_page)
        except (Transient, _Rejected) as exc:
            log.warning("ignoring a bad cached answer %s: %s", self.cache.path(url), exc)
            return None
        self.stats.cache_hits += 1
        log.debug("from the cache: %s", url)
        return feed

    def _fetch(self, url: str, first_page: bool):
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

    def _try(self, url: str, first_page: bool):
        self._wait_turn()
        self.stats.requests += 1
        log.info("GET %s", url)
        try:
            resp = self._session.get(url, timeout=self.timeout,
                                     headers={"User-Agent": USER_AGENT})
        except (requests.Timeout, httpx.TimeoutException):
            raise Transient(f"no answer within {self.timeout:g} s") from None
        except TooLarge as exc:
            raise FetchError(f"arXiv API: {exc}", url=url) from None
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError,
                httpx.TransportError) as exc:
            raise Transient(f"connection broken ({type(exc).__name__})") from None
        except (requests.RequestException, httpx.HTTPError) as exc:
            raise FetchError(f"cannot request {url}: {exc}", url=url) from None
        finally:
            self._last_answer = self._clock()
        return resp.content, self._check(url, resp, first_page)

    def _check(self, url: str, resp: requests.Response | Reply, first_page: bool):
        status = resp.status_code
        if status in RETRY_STATUSES:
            raise Transient(f"HTTP {status}", status, retry_after(resp.headers))
        try:
            if status != 200:
                raise _Rejected(f"HTTP {status}" + _error_summary(resp.content))
            return check_page(resp.content, first_page)
        except _Rejected as exc:
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


def check_page(body: bytes, first_page: bool = True):
    """Parse one API page with the package's parser, after a strict well-formedness check.

    The package parses leniently (lxml `recover=True`): a page cut short would lose its
    last papers silently. Raises `Transient` for a malformed or unexpectedly empty page,
    `_Rejected` for arXiv's error entries.
    """
    try:
        root = etree.fromstring(body, parser=_STRICT)
    except etree.XMLSyntaxError as exc:
        raise Transient(f"malformed XML ({exc})") from None
    if root is None or root.tag != _ATOM + "feed":
        raise Transient("not an Atom feed")
    for entry_id in root.iterfind(f"{_ATOM}entry/{_ATOM}id"):
        if "/api/errors" in (entry_id.text or ""):
            raise _Rejected("error" + _error_summary(body))
    feed = _feed.ParsedFeed(header=_feed.parse(_without_entries(root)).header,
                            results=_entries(root))
    if not feed.results and not first_page:
        raise Transient("empty page")
    return feed


def _entries(root) -> list[arxiv.Result]:
    """The page's results; an entry the package cannot read (a malformed date) is skipped
    with a warning naming its id, instead of failing the whole fetch."""
    results = []
    for entry in root.iterfind(f"{_ATOM}entry"):
        try:
            result = _feed._build_result(entry)
        except (ValueError, TypeError, OverflowError) as exc:
            entry_id = (entry.findtext(f"{_ATOM}id") or "(no id)").strip()
            log.warning("skipping the malformed API entry %s: %s", entry_id, exc)
            continue
        if result is not None:
            results.append(result)
    return results


def _without_entries(root) -> bytes:
    """The feed's header alone (the package reads the page counts from it)."""
    from copy import deepcopy

    head = deepcopy(root)
    for entry in head.findall(f"{_ATOM}entry"):
        head.remove(entry)
    return etree.tostring(head)


def _error_summary(body: bytes) -> str:
    """`: <message>` from arXiv's Atom error entry, or '' when the body has none."""
    try:
        root = etree.fromstring(body, parser=_STRICT)
    except etree.XMLSyntaxError:
        return ""
    summary = root.findtext(f"{_ATOM}entry/{_ATOM}summary") if root is not None else None
    return f": {summary.strip()}" if summary else ""


def query_of(url: str) -> str:
    """The `search_query` parameter of an API URL."""
    return parse_qs(urlsplit(url).query).get("search_query", [""])[0]


def _gave_up(url: str, exc: Transient, retries: int) -> FetchError:
    return FetchError(f"arXiv API failed: {exc.reason} after {retries} retries; URL: {url}",
                      url=url, status=exc.status, retries=retries)
