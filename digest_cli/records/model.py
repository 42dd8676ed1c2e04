"""Plain data: arXiv ids, paper records and day manifests.

These types are what the stages pass around. `store` turns them into YAML and back;
nothing here does I/O.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from digest_cli.hygiene import clean_text
from digest_cli.records.sentences import join_lines

if TYPE_CHECKING:
    from digest_cli.records.topics import Topics



# New-style ids (0704.0001, 2601.19786) and old-style ones (hep-th/9901001, math.GT/0309136).
_NEW_ID = re.compile(r"^(?P<base>\d{4}\.\d{4,5})(?:v(?P<version>\d+))?$")
_OLD_ID = re.compile(r"^(?P<base>[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(?:v(?P<version>\d+))?$")
_ABS_URL = re.compile(r"^https?://(?:export\.)?arxiv\.org/(?:abs|pdf)/(?P<id>.+?)(?:\.pdf)?$")

# The paper's own words, which an editor may correct and arXiv changes with a version.
EDITABLE_FIELDS = ("title", "authors", "abstract")
# Where a machine-written text came from.
SOURCES = ("full_text", "abstract", "import", "human")


@dataclass(frozen=True)
class ArxivId:
    """An arXiv identifier split into its base id and version (None when not given)."""

    base: str
    version: int | None = None

    @classmethod
    def parse(cls, text: str) -> ArxivId:
        """Parse `2601.19786v1`, `hep-th/9901001`, or an abs/pdf URL; ValueError otherwise."""
        return _parsed_id(text)

    @classmethod
    def _parse(cls, text: str) -> ArxivId:
        text = text.strip()
        url = _ABS_URL.match(text)
        if url:
            text = url.group("id")
        for pattern in (_NEW_ID, _OLD_ID):
            match = pattern.match(text)
            if match:
                version = match.group("version")
                return cls(match.group("base"), int(version) if version else None)
        raise ValueError(f"not an arXiv id: {text!r}")

    @property
    def versioned(self) -> str:
        return f"{self.base}v{self.version}" if self.version else self.base

    @property
    def file_stem(self) -> str:
        """A safe file name: old-style ids have a slash (`hep-th/9901001` -> `hep-th_9901001`)."""
        return self.base.replace("/", "_")

    def __str__(self) -> str:
        return self.versioned


@functools.lru_cache(maxsize=1 << 15)  # a check reads each id three times; ids are immutable
def _parsed_id(text: str) -> ArxivId:
    return ArxivId._parse(text)


def text_hash(text: str) -> str:
    """The fingerprint of a text as generated, to tell later whether an editor changed it."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def field_hash(value: str | list[str]) -> str:
    """The fingerprint of a title, author list or abstract as arXiv gave it."""
    return text_hash(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))


def machine_text_hash(text: str) -> str:
    """The fingerprint of a record's text with line breaks as layout: a text split a
    sentence a line (`records.sentences`) has the hash of its one-line paragraphs."""
    return text_hash(join_lines(text))


@dataclass
class MachineText:
    """A text the LLM wrote (or that was imported), with where it came from."""

    text: str
    model: str | None = None
    prompt_version: str | None = None
    generated_at: str | None = None
    source: str | None = None
    hash: str | None = None
    # False: the tool asked for the source's sentences one to one and did not get them
    # (a translation still holding another sentence count after a repair prompt), so
    # line i of the abstract and of the text are not a pair. Written only when False.
    aligned: bool = True

    @property
    def edited(self) -> bool:
        """True when the text no longer matches what the machine wrote."""
        return self.hash is not None and machine_text_hash(self.text) != self.hash

    @property
    def generated(self) -> bool:
        """True when this tool's LLM wrote it (not an import, not an editor)."""
        return self.source in ("full_text", "abstract")

    @property
    def machine_owned(self) -> bool:
        """True when a later run may rewrite the text: written by a machine and untouched."""
        # No hash (its line deleted): what the machine wrote can no longer be told, so the
        # text counts as an editor's.
        return self.generated and self.hash is not None and not self.edited


MAX_REASON = 500  # characters of a failure's reason kept in a record


def failure_reason(text: str) -> str:
    """A failure's reason as a record keeps it: one line, no hidden characters, bounded.
    Every path that records a failure (translate, a shard's merge) writes it so, and so
    compares it so: the same failure again is recognised as the same."""
    return " ".join(clean_text(text).split())[:MAX_REASON]


@dataclass
class Failure:
    """Why the machine could not produce a text: shown to editors, never in the post."""

    field: str
    reason: str
    at: str | None = None


@dataclass
class Paper:
    """One paper record: the source of truth for one block of a post."""

    id: ArxivId
    title: str
    authors: list[str]
    categories: list[str]  # primary first
    abs_url: str
    pdf_url: str
    abstract: str = ""
    published: datetime | None = None
    updated: datetime | None = None
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    translation: MachineText | None = None
    analysis: MachineText | None = None
    # The short extra answer (docs/records.md): a Chinese title, a one-sentence summary
    # (一句话总结) and the topics, comma-separated slugs of the site's topics.
    title_zh: MachineText | None = None
    summary: MachineText | None = None
    topics: MachineText | None = None
    # The texts of text kinds declared beyond the built-in ones (`digest_cli.kinds`).
    more_texts: dict[str, MachineText] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    replacement: bool = False
    reviewed: bool = False
    # Who ticked the paper, when (ISO 8601, UTC), and the fingerprint of the texts they
    # approved (`records.review.review_hash`): a text changed since shows as "changed
    # since review" until someone ticks again.
    reviewed_by: str | None = None
    reviewed_at: str | None = None
    reviewed_hash: str | None = None
    # The pull request's state the mark was taken from (its box's fingerprint there): a
    # person who puts the box back afterwards is told from a mark made elsewhere.
    reviewed_from: str | None = None
    REVIEW_KEYS = ("reviewed_by", "reviewed_at", "reviewed_hash", "reviewed_from")  # not fields
    # Fingerprints (`field_hash`) of arXiv's EDITABLE_FIELDS as last fetched: a field that
    # no longer matches is an editor's correction, which no fetch replaces.
    arxiv_hashes: dict[str, str] = field(default_factory=dict)
    # arXiv's own value of a field, kept beside an editor's correction that differs.
    arxiv_original: dict[str, str | list[str]] = field(default_factory=dict)

    def editors(self, name: str) -> bool:
        """True when the editable field `name` holds an editor's value rather than arXiv's
        as last fetched. An empty one is nobody's; one of unknown origin (an imported record,
        or one fetched before fingerprints) is the editor's."""
        value = getattr(self, name)
        if not value:
            return False
        known = self.arxiv_hashes.get(name)
        return known is None or field_hash(value) != known

    def failed(self, name: str, reason: str, at: str | None) -> None:
        """Record that the machine could not produce the text `name`. A failure already
        recorded with the same reason stays as it is: its `at` says since when, and a
        re-run that fails the same way changes nothing. The failures keep their order."""
        new = Failure(name, failure_reason(reason), at)
        old = [i for i, f in enumerate(self.failures) if f.field == name]
        if not old:
            self.failures.append(new)
            return
        kept = self.failures[old[0]]
        self.failures[old[0]] = kept if failure_reason(kept.reason) == new.reason else new
        self.failures = [f for i, f in enumerate(self.failures) if i not in old[1:]]

    @property
    def primary_category(self) -> str:
        return self.categories[0] if self.categories else ""

    def topic_slugs(self, topics: Topics) -> list[str]:
        """The paper's slugs among the site's `topics`; an unreadable text counts as none."""
        return topics.slugs(self.topics.text if self.topics else None)

    @property
    def status(self) -> str:
        """translated, abstract only, failed or 待翻译: the PR table's status column."""
        if self.failures and (self.translation is None or self.analysis is None):
            return "failed"
        if self.translation is None:
            return "待翻译"
        if self.analysis is None or self.analysis.source == "abstract":
            return "abstract only"
        return "translated"


def kept_corrections(paper: Paper) -> list[str]:
    """The fields where an editor's value stands against a different one of arXiv's."""
    return [name for name in EDITABLE_FIELDS
            if paper.arxiv_original.get(name) not in (None, getattr(paper, name))]


@dataclass
class LeftOut:
    """A fetched paper that is not shown, and why."""

    id: str
    reason: str
    title: str = ""


@dataclass
class Manifest:
    """A day: its window, its counts and the order of its papers."""

    date: date
    window_start: datetime
    window_end: datetime
    fetched: int
    papers: list[str]  # base ids, in post order
    left_out: list[LeftOut] = field(default_factory=list)
    usage: dict[str, Any] = field(default_factory=dict)
    rendered: dict[str, Any] = field(default_factory=dict)

    @property
    def shown(self) -> int:
        return len(self.papers)

    @property
    def capped(self) -> list[LeftOut]:
        """Papers left out by the `max_papers` limit: the header must say so."""
        return [item for item in self.left_out if item.reason.startswith("max_papers")]


@dataclass
class Day:
    """A manifest with its papers, in post order."""

    manifest: Manifest
    papers: list[Paper]
