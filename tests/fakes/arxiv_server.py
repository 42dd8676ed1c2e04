"""A fake arXiv API (``GET /api/query``) that answers in the current Atom format.

The XML layout, element order and escaping copy what the real API returned in
2026 (see ``shared/fixtures/arxiv/api_query_all-testing_2026-04-12.xml``):
``<feed>`` with the atom, opensearch and arxiv namespaces, a header with
``opensearch:itemsPerPage/totalResults/startIndex``, then one ``<entry>`` per
paper: id, title, updated, alternate and pdf links (https), summary,
categories, published, ``arxiv:comment``, ``arxiv:primary_category``,
``arxiv:journal_ref``, authors, ``arxiv:doi`` and the doi link.

Usage::

    with FakeArxiv() as arxiv:
        arxiv.add_paper(id="2601.19786", categories=["eess.AS", "cs.SD"],
                        published=datetime(2026, 1, 27, 18, 0, tzinfo=timezone.utc))
        client = arxiv_lib.Client(delay_seconds=0)
        client.query_url_format = arxiv.query_url_format
        ...

Query support: ``cat:X`` terms (any of them matches: they are taken as joined
by OR, ``*`` wildcards allowed), ``submittedDate:[A TO B]`` and
``lastUpdatedDate:[A TO B]`` ranges (UTC, ``YYYYMMDD``, ``YYYYMMDDHHMM`` or
``YYYYMMDDHHMMSS``, both ends inclusive at the resolution given; ANDed with the
categories, except that ranges in one parenthesised group joined by ``OR``, such as
``(submittedDate:[A TO B] OR lastUpdatedDate:[A TO B])``, match when any of them
does). Other terms (``all:``, ``ti:``, ``au:``...) are ignored. A query
with neither ``search_query`` nor ``id_list`` matches nothing. ``id_list``
ids are validated like arXiv does (HTTP 400 with an Atom error entry when one
is malformed); an unknown well-formed id is simply absent from the answer.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import re
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from xml.sax.saxutils import escape, quoteattr

from ._base import FakeServer, RecordedRequest, Response

__all__ = ["FakeArxiv", "render_feed", "render_error_feed"]

ATOM_CONTENT_TYPE = "application/atom+xml; charset=utf-8"
_NS_DECL = ('xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
            'xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom"')
_NEW_ID = re.compile(r"^\d{4}\.\d{4,5}(v\d+)?$")
_OLD_ID = re.compile(r"^[a-z]+(-[a-z]+)*(\.[A-Z]{2})?/\d{7}(v\d+)?$")
_CAT_TERM = re.compile(r"\bcat:([^\s()]+)", re.I)
_RANGE_TERM = re.compile(r"\b(submittedDate|lastUpdatedDate):\[\s*(\d{8,14})\s+TO\s+(\d{8,14})\s*\]", re.I)
_OR_GROUP = re.compile(r"\((?:\s*(?:submittedDate|lastUpdatedDate):\[[^\]]*\]\s*OR)+"
                       r"\s*(?:submittedDate|lastUpdatedDate):\[[^\]]*\]\s*\)", re.I)
_DEFAULT_PUBLISHED = datetime(2026, 1, 27, 18, 0, 0, tzinfo=timezone.utc)
_UNSET: Any = object()

_STATUS_BODIES = {
    429: "Rate exceeded.",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


def _ts(dt: datetime) -> str:
    return _utc(dt).strftime("%Y-%m-%dT%H:%M:%SZ")


def _x(s: str) -> str:
    return escape(s)


def _range_bounds(lo: str, hi: str) -> tuple[datetime, datetime]:
    """Inclusive bounds: the end is stretched to the end of its resolution unit."""
    fmts = {8: ("%Y%m%d", timedelta(days=1)), 12: ("%Y%m%d%H%M", timedelta(minutes=1)),
            14: ("%Y%m%d%H%M%S", timedelta(seconds=1))}

    def parse(s: str) -> tuple[datetime, timedelta]:
        fmt, unit = fmts.get(len(s), (None, None))
        if fmt is None:
            raise ValueError(s)
        return datetime.strptime(s, fmt).replace(tzinfo=timezone.utc), unit

    start, _ = parse(lo)
    end, unit = parse(hi)
    return start, end + unit - timedelta(microseconds=1)


def _feed_id(query_string: str) -> str:
    digest = hashlib.sha1(query_string.encode("utf-8")).digest()
    return "https://arxiv.org/api/" + base64.b64encode(digest, b"-_").decode("ascii").rstrip("=")


def render_entry(paper: dict[str, Any], version: int | None = None) -> str:
    """One ``<entry>`` in the current arXiv API format."""
    v = version or paper["version"]
    vid = f"{paper['id']}v{v}"
    lines = [
        "  <entry>",
        f"    <id>http://arxiv.org/abs/{vid}</id>",
        f"    <title>{_x(paper['title'])}</title>",
        f"    <updated>{_ts(paper['updated'])}</updated>",
        f'    <link href="https://arxiv.org/abs/{vid}" rel="alternate" type="text/html"/>',
        f'    <link href="https://arxiv.org/pdf/{vid}" rel="related" type="application/pdf" title="pdf"/>',
        f"    <summary>{_x(paper['summary'])}</summary>",
    ]
    for cat in paper["categories"]:
        lines.append(f'    <category term={quoteattr(cat)} scheme="http://arxiv.org/schemas/atom"/>')
    lines.append(f"    <published>{_ts(paper['published'])}</published>")
    if paper.get("comment"):
        lines.append(f"    <arxiv:comment>{_x(paper['comment'])}</arxiv:comment>")
    lines.append(f"    <arxiv:primary_category term={quoteattr(paper['primary_category'])}/>")
    if paper.get("journal_ref"):
        lines.append(f"    <arxiv:journal_ref>{_x(paper['journal_ref'])}</arxiv:journal_ref>")
    for author in paper["authors"]:
        lines.append("    <author>")
        lines.append(f"      <name>{_x(author['name'])}</name>")
        for aff in author.get("affiliation") or []:
            lines.append(f"      <arxiv:affiliation>{_x(aff)}</arxiv:affiliation>")
        lines.append("    </author>")
    if paper.get("doi"):
        lines.append(f"    <arxiv:doi>{_x(paper['doi'])}</arxiv:doi>")
        lines.append(f'    <link rel="related" href={quoteattr("https://doi.org/" + paper["doi"])} title="doi"/>')
    lines.append("  </entry>")
    return "\n".join(lines)


def render_feed(entries: list[str], *, search_query: str, id_list: str, start: int,
                max_results: int, total: int, now: datetime) -> str:
    title_qs = f"search_query={search_query}&id_list={id_list}&start={start}&max_results={max_results}"
    link_qs = f"search_query={search_query}&start={start}&max_results={max_results}&id_list={id_list}"
    head = [
        "<?xml version='1.0' encoding='UTF-8'?>",
        f"<feed {_NS_DECL}>",
        f"  <id>{_feed_id(title_qs)}</id>",
        f"  <title>arXiv Query: {_x(title_qs)}</title>",
        f"  <updated>{_ts(now)}</updated>",
        f'  <link href={quoteattr("https://arxiv.org/api/query?" + link_qs)} type="application/atom+xml"/>',
        f"  <opensearch:itemsPerPage>{max_results}</opensearch:itemsPerPage>",
        f"  <opensearch:totalResults>{total}</opensearch:totalResults>",
        f"  <opensearch:startIndex>{start}</opensearch:startIndex>",
    ]
    return "\n".join(head + entries + ["</feed>"]) + "\n"


def render_error_feed(message: str, now: datetime) -> str:
    """The Atom body arXiv sends with HTTP 400 (one error entry, no <published>)."""
    anchor = "https://arxiv.org/api/errors#" + re.sub(r"\s+", "_", message.strip())
    ts = _ts(now)
    return (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        f"<feed {_NS_DECL}>\n"
        "  <id>https://arxiv.org/</id>\n"
        "  <title>arXiv Search Results</title>\n"
        f"  <updated>{ts}</updated>\n"
        "  <opensearch:itemsPerPage>1</opensearch:itemsPerPage>\n"
        "  <opensearch:totalResults>1</opensearch:totalResults>\n"
        "  <opensearch:startIndex>0</opensearch:startIndex>\n"
        "  <entry>\n"
        f"    <id>{_x(anchor)}</id>\n"
        "    <title>Error</title>\n"
        f"    <updated>{ts}</updated>\n"
        f'    <link href={quoteattr(anchor)} rel="alternate" type="text/html"/>\n'
        f"    <summary>{_x(message)}</summary>\n"
        "    <author>\n"
        "      <name>arXiv api core</name>\n"
        "    </author>\n"
        "  </entry>\n"
        "</feed>\n"
    )


class _BadRequest(Exception):
    pass


class FakeArxiv(FakeServer):
    """Fake arXiv query API. See the module docstring for the query language.

    Attributes: ``papers`` (list of paper dicts, insertion order = relevance
    order), ``requests`` (every request), ``query_requests`` (only
    ``/api/query``), ``now`` (callable giving the feed's ``<updated>`` time),
    ``on_query`` (called with each ``/api/query`` request before it is answered,
    e.g. to add a paper between two pages as arXiv does when it announces).
    """

    def __init__(self, now: Callable[[], datetime] | None = None) -> None:
        super().__init__()
        self.papers: list[dict[str, Any]] = []
        self.now: Callable[[], datetime] = now or (lambda: datetime.now(timezone.utc))
        self._faults: list[dict[str, Any] | None] = []
        self._served: tuple[int, bytes, str] | None = None
        self._seq = 0
        self._state_lock = threading.Lock()
        self.on_query: Callable[[RecordedRequest], None] | None = None
        self._scheduled: list[tuple[datetime, dict[str, Any]]] = []  # (visible from, paper)

    # -- URLs ---------------------------------------------------------------
    @property
    def query_url(self) -> str:
        return f"{self.url}/api/query"

    @property
    def query_url_format(self) -> str:
        """Drop-in value for ``arxiv.Client.query_url_format``."""
        return f"{self.url}/api/query?{{}}"

    @property
    def query_requests(self) -> list[RecordedRequest]:
        return self.requests_to("/api/query")

    # -- data ---------------------------------------------------------------
    def add_paper(
        self,
        id: str | None = None,  # noqa: A002 - matches arXiv's vocabulary
        version: int = 1,
        title: str = "A Fake Paper on Speech",
        authors: list[str | dict[str, Any]] | None = None,
        summary: str = "We study a fake problem and report fake results.",
        categories: list[str] | None = None,
        published: datetime | None = None,
        updated: datetime | None = None,
        comment: str | None = None,
        journal_ref: str | None = None,
        doi: str | None = None,
        primary_category: str | None = None,
        visible_at: datetime | None = None,
    ) -> dict[str, Any]:
        """Add (or replace, same id) a paper; returns the stored dict.

        ``authors`` items are names or ``{"name": ..., "affiliation": [...]}``.
        Naive datetimes are taken as UTC. ``updated`` defaults to ``published``;
        ``primary_category`` to the first category.

        ``visible_at`` simulates arXiv's timeline: the API shows this version only
        once ``now()`` >= ``visible_at`` (its API lags the announcement; a replacement,
        same id with a higher version, appears when it is announced). Each id then
        shows its latest visible version, and rewinding ``now`` hides them again.
        Such versions are kept apart: do not also add the same id without it.
        """
        with self._state_lock:
            if id is None:
                self._seq += 1
                id = f"2601.{self._seq:05d}"  # noqa: A001 - arXiv's word, as the parameter
            cats = list(categories or ["cs.SD"])
            pub = _utc(published or _DEFAULT_PUBLISHED)
            paper = {
                "id": id,
                "version": int(version),
                "title": title,
                "authors": [a if isinstance(a, dict) else {"name": a} for a in (authors or ["Ada Lovelace"])],
                "summary": summary,
                "categories": cats,
                "primary_category": primary_category or cats[0],
                "published": pub,
                "updated": _utc(updated) if updated else pub,
                "comment": comment,
                "journal_ref": journal_ref,
                "doi": doi,
            }
            if visible_at is not None:  # a version the API shows from that moment on
                self._scheduled.append((_utc(visible_at), paper))
                return paper
            self.papers = [p for p in self.papers if p["id"] != id] + [paper]
            return paper

    def visible_papers(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """What a query answered at ``now`` (default ``self.now()``) searches: the added
        papers, then each scheduled id's latest version visible by then."""
        moment = _utc(now or self.now())
        with self._state_lock:
            scheduled = sorted((item for item in self._scheduled if item[0] <= moment),
                               key=lambda item: (item[1]["version"], item[0]))
            latest = {paper["id"]: paper for _, paper in scheduled}
            return list(self.papers) + list(latest.values())

    def clear_papers(self) -> None:
        with self._state_lock:
            self.papers = []
            self._scheduled = []

    # -- fault injection (one queued item is consumed per /api/query request) --
    def _queue(self, item: dict[str, Any] | None, times: int) -> None:
        with self._state_lock:
            self._faults.extend([dict(item) if item else None for _ in range(times)])

    def ok_next(self, times: int = 1) -> None:
        """Let the next ``times`` queries through normally (to aim a later fault)."""
        self._queue(None, times)

    def fail_next(self, status: int = 429, retry_after: str | None = _UNSET, times: int = 1,
                  message: str | None = None, body: str | bytes | None = None,
                  content_type: str | None = None) -> None:
        """Answer the next ``times`` queries with HTTP ``status``.

        400 sends arXiv's Atom error feed (``message`` defaults to
        "incorrect id format for abc"); other statuses send a short text body.
        ``Retry-After`` defaults to "2" for 429 and 503, no header otherwise;
        pass ``retry_after=None`` to omit it.
        """
        if retry_after is _UNSET:
            retry_after = "2" if status in (429, 503) else None
        self._queue({"kind": "status", "status": status, "retry_after": retry_after,
                     "message": message, "body": body, "content_type": content_type}, times)

    def delay_next(self, seconds: float, times: int = 1) -> None:
        """Sleep ``seconds`` before answering the next ``times`` queries normally."""
        self._queue({"kind": "delay", "seconds": seconds}, times)

    def empty_page_next(self, times: int = 1) -> None:
        """HTTP 200, the usual ``totalResults``, but no ``<entry>``."""
        self._queue({"kind": "empty"}, times)

    def malformed_next(self, times: int = 1, keep_fraction: float = 0.6) -> None:
        """HTTP 200 with the normal feed truncated to ``keep_fraction`` of its bytes."""
        self._queue({"kind": "malformed", "keep": keep_fraction}, times)

    def reset_next(self, times: int = 1) -> None:
        """Close the connection without answering."""
        self._queue({"kind": "reset"}, times)

    def trickle_next(self, pause: float = 0.05, times: int = 1) -> None:
        """Send the next ``times`` answers one byte every ``pause`` seconds."""
        self._queue({"kind": "trickle", "pause": pause}, times)

    def clear_faults(self) -> None:
        with self._state_lock:
            self._faults.clear()

    @property
    def pending_faults(self) -> int:
        with self._state_lock:
            return sum(1 for f in self._faults if f)

    # -- recorded bodies ------------------------------------------------------
    def serve_file(self, path: str | Path | None, status: int | None = None) -> None:
        """Serve a recorded body verbatim for every query (``None`` to stop).

        ``.json`` files in the ``{url, status_code, body}`` form are served with
        their recorded status; anything else is served as Atom XML (status 200
        unless ``status`` is given). Faults still take precedence.
        """
        if path is None:
            self._served = None
            return
        p = Path(path)
        if p.suffix == ".json":
            rec = json.loads(p.read_text(encoding="utf-8"))
            self.serve_body(rec["body"], status=status or int(rec.get("status_code", 200)))
        else:
            self.serve_body(p.read_bytes(), status=status or 200)

    def serve_body(self, body: str | bytes, status: int = 200,
                   content_type: str = ATOM_CONTENT_TYPE) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self._served = (status, data, content_type)

    # -- request handling -----------------------------------------------------
    def handle(self, req: RecordedRequest) -> Response:
        if req.path.rstrip("/") != "/api/query" or req.method not in ("GET", "HEAD"):
            return Response(404, "<html><body><h1>Not Found</h1></body></html>",
                            {"Content-Type": "text/html; charset=utf-8"})
        if self.on_query is not None:
            self.on_query(req)
        with self._state_lock:
            fault = self._faults.pop(0) if self._faults else None
        kind = fault["kind"] if fault else None
        if kind == "status":
            return self._status_response(fault)
        if kind == "reset":
            return Response(reset=True)
        if self._served is not None:
            status, data, ctype = self._served
            resp = Response(status, data, {"Content-Type": ctype})
        else:
            try:
                resp = self._answer(req, empty=(kind == "empty"))
            except _BadRequest as e:
                return Response(400, render_error_feed(str(e), self.now()),
                                {"Content-Type": ATOM_CONTENT_TYPE})
        if kind == "delay":
            resp.delay = fault["seconds"]
        elif kind == "trickle":
            resp.trickle = fault["pause"]
        elif kind == "malformed":
            data = resp.body_bytes()
            resp.body = data[: max(1, int(len(data) * fault["keep"]))]
        return resp

    def _status_response(self, fault: dict[str, Any]) -> Response:
        status = fault["status"]
        headers: dict[str, str] = {}
        if fault["body"] is not None:
            body: str | bytes = fault["body"]
            headers["Content-Type"] = fault["content_type"] or "text/plain; charset=utf-8"
        elif status == 400:
            body = render_error_feed(fault["message"] or "incorrect id format for abc", self.now())
            headers["Content-Type"] = ATOM_CONTENT_TYPE
        else:
            body = fault["message"] or _STATUS_BODIES.get(status, "Error")
            headers["Content-Type"] = fault["content_type"] or "text/plain; charset=utf-8"
        if fault["retry_after"] is not None:
            headers["Retry-After"] = str(fault["retry_after"])
        return Response(status, body, headers)

    @staticmethod
    def _int_param(req: RecordedRequest, name: str, default: int) -> int:
        raw = req.query.get(name, "")
        if raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise _BadRequest(f"{name} must be an integer") from None
        if value < 0:
            raise _BadRequest(f"{name} must be non-negative")
        return value

    def _answer(self, req: RecordedRequest, empty: bool) -> Response:
        search_query = req.query.get("search_query", "")
        id_list_raw = req.query.get("id_list", "")
        start = self._int_param(req, "start", 0)
        max_results = self._int_param(req, "max_results", 10)
        ids = [i.strip() for i in id_list_raw.split(",") if i.strip()]
        for i in ids:
            if not (_NEW_ID.match(i) or _OLD_ID.match(i)):
                raise _BadRequest(f"incorrect id format for {i}")

        papers = self.visible_papers()
        matched: list[tuple[dict[str, Any], int | None]]
        if ids:
            by_id = {p["id"]: p for p in papers}
            matched = []
            for i in ids:
                base, ver = self._split_version(i)
                p = by_id.get(base)
                if p is not None and (ver is None or ver <= p["version"]):
                    matched.append((p, ver))
            if search_query.strip():
                matched = [(p, v) for p, v in matched if self._matches(p, search_query)]
        elif search_query.strip():
            matched = [(p, None) for p in papers if self._matches(p, search_query)]
        else:
            matched = []

        sort_by = req.query.get("sortBy", "relevance")
        descending = req.query.get("sortOrder", "descending") != "ascending"
        if sort_by in ("submittedDate", "lastUpdatedDate"):
            key = "published" if sort_by == "submittedDate" else "updated"
            matched.sort(key=lambda pv: (pv[0][key], pv[0]["id"]), reverse=descending)
        total = len(matched)
        page = [] if empty else matched[start:start + max_results]
        xml = render_feed([render_entry(p, v) for p, v in page], search_query=search_query,
                          id_list=id_list_raw, start=start, max_results=max_results,
                          total=total, now=self.now())
        return Response(200, xml, {"Content-Type": ATOM_CONTENT_TYPE})

    @staticmethod
    def _split_version(arxiv_id: str) -> tuple[str, int | None]:
        m = re.match(r"^(.*?)(?:v(\d+))?$", arxiv_id)
        assert m is not None
        return m.group(1), (int(m.group(2)) if m.group(2) else None)

    @staticmethod
    def _matches(paper: dict[str, Any], query: str) -> bool:
        cats = [c.lower() for c in _CAT_TERM.findall(query)]
        if cats:
            have = [c.lower() for c in paper["categories"]]
            if not any(fnmatch.fnmatchcase(h, c) for c in cats for h in have):
                return False
        for group in _OR_GROUP.findall(query):  # (range OR range): any of them
            if not any(FakeArxiv._in_range(paper, *term) for term in _RANGE_TERM.findall(group)):
                return False
        rest = _OR_GROUP.sub(" ", query)
        return all(FakeArxiv._in_range(paper, *term) for term in _RANGE_TERM.findall(rest))

    @staticmethod
    def _in_range(paper: dict[str, Any], field_name: str, lo: str, hi: str) -> bool:
        try:
            start, end = _range_bounds(lo, hi)
        except ValueError:
            return True  # a range we do not understand is ignored
        when = paper["published"] if field_name.lower() == "submitteddate" else paper["updated"]
        return start <= when <= end

    # convenience for tests that build URLs by hand
    def build_query(self, **params: Any) -> str:
        return f"{self.query_url}?{urlencode(params)}"
