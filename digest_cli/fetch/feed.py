"""One page of the arXiv API's answer (Atom 1.0), read strictly: what came back.

arXiv's answers are well-formed Atom with three extra namespaces; lxml reads them with
entities and network access off. Strictly, unlike the `arxiv` package (lxml with
`recover=True`): a page cut short must be retried, not read as a shorter list, or the
papers after the cut would vanish without an error. An entry that cannot be read (a
malformed date) is skipped with a warning naming it, instead of failing the whole fetch.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from lxml import etree

from digest_cli.retry import Transient

log = logging.getLogger(__name__)

_NS = {"atom": "http://www.w3.org/2005/Atom", "arxiv": "http://arxiv.org/schemas/atom",
       "opensearch": "http://a9.com/-/spec/opensearch/1.1/"}
_STRICT = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


class Rejected(Exception):
    """arXiv answered that the query itself is wrong: retrying cannot help."""


@dataclass(frozen=True)
class Entry:
    """One paper of a page, as the API gives it (text not yet cleaned)."""

    entry_id: str  # http://arxiv.org/abs/2603.08812v1
    published: datetime  # the v1 submission, UTC
    updated: datetime  # this version's submission, UTC
    title: str
    authors: list[str]
    summary: str
    categories: list[str]
    primary_category: str = ""
    abs_url: str | None = None  # the `alternate` link
    pdf_url: str | None = None  # the link titled `pdf`
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None

    @property
    def short_id(self) -> str:
        """`2603.08812v1` (or `cs/0701001v1`): the id after `arxiv.org/abs/`."""
        return self.entry_id.split("arxiv.org/abs/")[-1]


@dataclass(frozen=True)
class Page:
    """One answer: how many results the whole search has, and this page's entries."""

    total: int
    entries: list[Entry] = field(default_factory=list)


def parse_page(body: bytes, first_page: bool = True) -> Page:
    """Read one API page. Raises `Transient` for a malformed, foreign or unexpectedly empty
    later page (worth asking again) and `Rejected` for arXiv's error entries."""
    try:
        root = etree.fromstring(body, parser=_STRICT)
    except etree.XMLSyntaxError as exc:
        raise Transient(f"malformed XML ({exc})") from None
    if root is None or root.tag != f"{{{_NS['atom']}}}feed":
        raise Transient("not an Atom feed")
    if any("/api/errors" in (text or "") for text in _texts(root, "atom:entry/atom:id")):
        raise Rejected("error" + error_summary(body))
    entries = [e for e in map(_entry, root.iterfind("atom:entry", _NS)) if e is not None]
    if not entries and not first_page:
        raise Transient("empty page")
    return Page(_int(root.findtext("opensearch:totalResults", None, _NS)), entries)


def error_summary(body: bytes) -> str:
    """`: <message>` from arXiv's Atom error entry, or '' when the body has none."""
    try:
        root = etree.fromstring(body, parser=_STRICT)
    except etree.XMLSyntaxError:
        return ""
    summary = root.findtext("atom:entry/atom:summary", None, _NS) if root is not None else None
    return f": {summary.strip()}" if summary else ""


def _entry(element: Any) -> Entry | None:
    entry_id = (element.findtext("atom:id", "", _NS) or "").strip()
    try:
        published = _time(element.findtext("atom:published", None, _NS))
        updated = _time(element.findtext("atom:updated", None, _NS))
    except (ValueError, TypeError, OverflowError) as exc:
        log.warning("skipping the malformed API entry %s: %s", entry_id or "(no id)", exc)
        return None
    if not entry_id:
        log.warning("skipping an API entry without an id")
        return None
    links = element.findall("atom:link", _NS)
    primary = element.find("arxiv:primary_category", _NS)
    return Entry(
        entry_id=entry_id, published=published, updated=updated,
        title=re.sub(r"\s+", " ", element.findtext("atom:title", "", _NS) or ""),
        authors=[a or "" for a in _texts(element, "atom:author/atom:name")],
        summary=element.findtext("atom:summary", "", _NS) or "",
        categories=[c.get("term") for c in element.iterfind("atom:category", _NS)
                    if c.get("term") is not None],
        primary_category=(primary.get("term") or "") if primary is not None else "",
        abs_url=_link(links, rel="alternate"), pdf_url=_link(links, title="pdf"),
        comment=element.findtext("arxiv:comment", None, _NS),
        journal_ref=element.findtext("arxiv:journal_ref", None, _NS),
        doi=element.findtext("arxiv:doi", None, _NS))


def _texts(element: Any, path: str) -> list[str | None]:
    return [found.text for found in element.iterfind(path, _NS)]


def _link(links: list[Any], **wanted: str) -> str | None:
    for link in links:
        if link.get("href") and all(link.get(k) == v for k, v in wanted.items()):
            return str(link.get("href"))
    return None


def _time(text: str | None) -> datetime:
    """An RFC 3339 stamp (`2026-03-09T16:42:10Z`) as an aware UTC datetime."""
    if not text:
        raise ValueError("no date")
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _int(text: str | None) -> int:
    try:
        return int((text or "").strip())
    except ValueError:
        return 0
