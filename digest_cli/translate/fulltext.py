"""A paper's full text for the 详细解读: download the PDF, extract its text with pypdf,
drop the references, and trim it to a token budget.

Both the PDF and the extracted text are cached under `<cache_dir>/pdf/`, so a re-run
neither downloads nor parses again. Any failure (HTTP error, timeout, a PDF pypdf cannot
read, a scanned PDF without text) gives None: the caller falls back to the abstract.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from digest_cli import __version__
from digest_cli.cachefile import read_entry, write_entry
from digest_cli.hygiene import clean_text
from digest_cli.records.model import ArxivId
from digest_cli.translate.llm import approx_tokens

if TYPE_CHECKING:
    from digest_cli.settings import Settings

log = logging.getLogger(__name__)

MAX_PDF_BYTES = 64 << 20  # arXiv refuses submissions over 50 MB; more is not a paper
MAX_TEXT_BYTES = 16 << 20  # a PDF's extracted text, cached
MIN_TEXT_CHARS = 500  # less than this from a whole PDF: scanned or broken, not a paper
OMITTED = "[…]"
# A references heading alone on its line ("References", "6. REFERENCES", "R EFERENCES").
_REFERENCES = re.compile(r"^\s*(?:[0-9]+\.?|[IVX]+\.)?\s*(?:R\s?EFERENCES|References|"
                         r"B\s?IBLIOGRAPHY|Bibliography|参考文献)\s*$", re.MULTILINE)
# A top-level section heading: "1 Introduction", "2. Method", "III. EXPERIMENTS".
_SECTION = re.compile(r"^(?:[0-9]{1,2}\.?|[IVX]{1,5}\.)\s+(?P<title>[A-Z][A-Za-z][^\n]{1,70})$"
                      r"|^(?P<bare>Abstract|ABSTRACT|Introduction|INTRODUCTION|Conclusions?|"
                      r"CONCLUSIONS?)\s*$", re.MULTILINE)
# Lower number: kept first when the text is over budget. Anything unnamed ranks 2.
_PRIORITY = [
    (0, ("front", "abstract", "introduction", "conclusion", "summary")),
    (1, ("method", "approach", "propos", "model", "framework", "architecture", "system")),
    (3, ("related", "background", "prior work", "literature", "preliminar")),
    (9, ("acknowledg", "appendix", "supplementary")),
]


@dataclass
class Section:
    """A stretch of the text under one heading (the first has the title and abstract)."""

    title: str
    text: str

    @property
    def priority(self) -> int:
        lowered = self.title.lower()
        for rank, words in _PRIORITY:
            if any(word in lowered for word in words):
                return rank
        return 2


def pdf_url(settings: Settings, pid: ArxivId) -> str:
    """Where the PDF of this version is downloaded from (`pdf_url_template`)."""
    return settings.pdf_url_template.format(id=pid.base, version=pid.version or 1)


def full_text(settings: Settings, pid: ArxivId) -> str | None:
    """The paper's text without references, trimmed to `fulltext_token_budget`; None when
    it cannot be had."""
    text = _cached_text(settings, pid)
    if text is None:
        return None
    return trim_to_budget(text, settings.fulltext_token_budget)


def cache_paths(settings: Settings, pid: ArxivId) -> tuple[Path, Path]:
    """Where the PDF and its extracted text are cached."""
    stem = f"{pid.file_stem}v{pid.version or 1}"  # not Path.with_suffix: ids hold a dot
    folder = settings.cache_path / "pdf"
    return folder / f"{stem}.pdf", folder / f"{stem}.txt"


def _cached_text(settings: Settings, pid: ArxivId) -> str | None:
    """Extracted text, from the cache or from the PDF (itself cached)."""
    pdf, txt = cache_paths(settings, pid)
    cached = read_entry(txt, txt.name, MAX_TEXT_BYTES)  # damaged or absent: None
    if cached is not None:
        return cached.decode("utf-8", "replace")
    data = read_entry(pdf, pdf.name, MAX_PDF_BYTES)
    if data is None:
        data = _download(settings, pid)
        if data is None:
            return None
        write_entry(pdf, pdf.name, data)
    text = extract_text(data, str(pid))
    if text is None:
        return None
    text = drop_references(text)
    write_entry(txt, txt.name, text.encode("utf-8"))
    return text


def _download(settings: Settings, pid: ArxivId) -> bytes | None:
    url = pdf_url(settings, pid)
    from digest_cli.bounded import HTTPError, request

    try:  # a total deadline and a size cap: a trickling or endless answer is given up
        reply = request("GET", url, deadline=settings.pdf_timeout, max_bytes=MAX_PDF_BYTES,
                        headers={"User-Agent": f"digest/{__version__}"})
    except (HTTPError, OSError, ValueError) as exc:
        log.warning("[%s] PDF download failed (%s): %s", pid, url, exc)
        return None
    if reply.status_code != 200:
        log.warning("[%s] PDF download failed (%s): HTTP %d", pid, url, reply.status_code)
        return None
    data = reply.content
    if not data.startswith(b"%PDF"):
        log.warning("[%s] %s did not return a PDF", pid, url)
        return None
    return data


def extract_text(data: bytes, label: str = "") -> str | None:
    """The text of a PDF's pages (pypdf), or None when there is none worth sending."""
    from pypdf import PdfReader  # heavy: only when a PDF is read

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except Exception as exc:  # pypdf raises many kinds; all mean "no text"
        log.warning("[%s] pypdf could not read the PDF: %s", label, exc)
        return None
    text = clean_text("\n".join(pages)).strip()
    if len(text) < MIN_TEXT_CHARS:
        log.warning("[%s] the PDF has almost no text (%d characters)", label, len(text))
        return None
    return text


def drop_references(text: str) -> str:
    """The text before its last references heading (found past the first third)."""
    found = [m for m in _REFERENCES.finditer(text) if m.start() > len(text) // 3]
    return text[:found[-1].start()].rstrip() if found else text


def split_sections(text: str) -> list[Section]:
    """The text cut at its top-level headings; the part before the first is "front"."""
    sections, start, title = [], 0, "front"
    for match in _SECTION.finditer(text):
        sections.append(Section(title, text[start:match.start()]))
        start, title = match.start(), (match.group("title") or match.group("bare")).strip()
    sections.append(Section(title, text[start:]))
    return [s for s in sections if s.text.strip()]


def trim_to_budget(text: str, budget: int) -> str:
    """At most about `budget` tokens; introduction, method and conclusion are kept first,
    related work and appendices last, in the paper's order, with `[…]` where text is cut."""
    if approx_tokens(text) <= budget:
        return text
    sections = split_sections(text)
    if len(sections) < 3:  # no usable headings: the start and the end say the most
        head = cut(text, budget * 2 // 3)
        return head + f"\n{OMITTED}\n" + tail(text, budget - approx_tokens(head))
    parts = []
    for section, tokens in zip(sections, _allot(sections, budget), strict=True):
        if tokens >= approx_tokens(section.text):
            parts.append(section.text.rstrip())
        elif tokens:
            parts.append(cut(section.text, tokens) + f"\n{OMITTED}")
        else:
            parts.append(f"{section.title}\n{OMITTED}")
    return "\n".join(parts)


def _allot(sections: list[Section], budget: int) -> list[int]:
    """Tokens each section may keep, handed out by priority, then paper order."""
    allowed = [0] * len(sections)
    order = sorted(range(len(sections)), key=lambda i: (sections[i].priority, i))
    left = budget
    for i in order:
        if sections[i].priority >= 9:
            continue
        allowed[i] = min(left, approx_tokens(sections[i].text))
        left -= allowed[i]
    return allowed


def cut(text: str, tokens: int) -> str:
    """The start of `text` within about `tokens` tokens, ended at a paragraph or sentence."""
    if approx_tokens(text) <= tokens:
        return text
    chars = _chars_for(text, tokens)
    piece = text[:chars]
    for boundary in ("\n\n", ". ", "。", "\n"):
        at = piece.rfind(boundary)
        if at > chars // 2:
            return piece[:at + len(boundary)].rstrip()
    return piece.rstrip()


def tail(text: str, tokens: int) -> str:
    """The end of `text` within about `tokens` tokens, started at a paragraph or line."""
    chars = _chars_for(text[::-1], tokens)
    piece = text[len(text) - chars:]
    at = piece.find("\n")
    return piece[at + 1:] if 0 <= at < chars // 2 else piece


def _chars_for(text: str, tokens: int) -> int:
    """How many leading characters of `text` make about `tokens` tokens."""
    chars = min(len(text), max(0, tokens) * 4)
    while chars > 0 and approx_tokens(text[:chars]) > tokens:
        chars -= max(1, (approx_tokens(text[:chars]) - tokens))
    return max(0, chars)
