"""`digest check`: every record valid, every text up to the quality rules, every post equal
to its render. Problems carry file and line so GitHub can show them on the PR's diff.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from digest_cli.errors import DigestError
from digest_cli.records.model import Paper
from digest_cli.records.store import day_dates, load_day, paper_path

if TYPE_CHECKING:
    from digest_cli.records.cache import ParseCache
    from digest_cli.settings import Settings

# Text the old blog wrote when the LLM failed, and placeholders: never content.
_ERROR_TEXT = re.compile(r"(全文解读|详细解读|解读|翻译)失败|Traceback \(most recent|"
                         r"Error code: \d{3}|"
                         r"\b(TODO|TBD|PLACEHOLDER|lorem ipsum)\b|待补充", re.IGNORECASE)
# Searching a long text with that pattern is slow (case-blind alternatives at every
# character), so it runs only where one of its literal parts occurs. Case-blind, these
# four non-ASCII letters match ASCII ones (İ ı: i, ſ: s, K: k): a text with one goes
# to the pattern too.
_ERROR_CJK = ("解读失败", "翻译失败", "待补充")
_ERROR_ASCII = ("traceback (most recent", "error code: ", "todo", "tbd", "placeholder",
                "lorem ipsum")
_ODD_CASE = re.compile("[\u0130\u0131\u017f\u212a]")
_CATEGORY = re.compile(r"[a-z\-]+(\.[A-Za-z\-]+)?")


@dataclass
class Problem:
    path: Path
    message: str
    line: int | None = None
    paper_id: str | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: " + (f"[{self.paper_id}] " if self.paper_id else "") + self.message

    def annotation(self, root: Path) -> str:
        """A GitHub Actions workflow command: shows on the PR's diff at that line."""
        try:
            rel = self.path.resolve().relative_to(root.resolve())
        except ValueError:
            rel = self.path
        line = f",line={self.line}" if self.line else ""
        text = (f"[{self.paper_id}] " if self.paper_id else "") + self.message
        text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        return f"::error file={rel}{line}::{text}"


def check_days(settings: Settings, days: list[date] | None = None) -> list[Problem]:
    """All problems of the given days (default: every day under data/).

    Days are checked on every core when there are many (a fresh checkout parses every
    record), with one parse cache for the whole run.
    """
    from functools import partial

    from digest_cli.records.cache import map_days
    from digest_cli.records.store import parse_cache

    cache = parse_cache(settings)  # one cache for all days: read once
    days = days if days is not None else day_dates(settings)
    found = map_days(partial(day_problems, settings), days, cache)
    cache.save()
    return [problem for problems in found for problem in problems]


def day_problems(settings: Settings, day: date, cache: ParseCache) -> list[Problem]:
    """The problems of one day's records and post."""
    from digest_cli.posts.write import post_status

    try:
        loaded = load_day(settings, day, cache)
    except DigestError as exc:
        return [Problem(exc.path or settings.day_path(day), exc.message, exc.line,
                        exc.paper_id)]
    problems = []
    folder = settings.day_path(day)
    for paper in loaded.papers:
        problems += paper_problems(paper, paper_path(folder, paper.id))
    why = post_status(settings, loaded)
    if why:
        problems.append(Problem(settings.post_path(day), f"post {why}: run `digest sync "
                                f"--date {day}` or `digest render --date {day}`", 1))
    return problems


def paper_problems(paper: Paper, path: Path) -> list[Problem]:
    """Schema-level and quality problems of one record."""
    from digest_cli.translate.validate import analysis_problems, translation_problems

    found = list(_link_problems(paper))
    if not paper.title.strip():
        found.append(("title", "the title is empty"))
    checks = (("translation", paper.translation, lambda t: translation_problems(
        t, paper.abstract)), ("analysis", paper.analysis, analysis_problems))
    for field, text, rules in checks:
        if text is None or (not text.text.strip() and not text.machine_owned):
            continue  # none yet, or an editor took it out on purpose
        messages = list(rules(text.text))
        if has_error_text(text.text):
            messages.append("contains error text or a placeholder")
        found += [(field, f"{field}: {msg}") for msg in messages]
    if not found:
        return []
    lines = _field_lines(path)  # read only for a record with problems: most have none
    return [Problem(path, msg, lines.get(field), paper.id.base) for field, msg in found]


def has_error_text(text: str) -> bool:
    """True when `text` holds error text or a placeholder (`_ERROR_TEXT`)."""
    if any(word in text for word in _ERROR_CJK) or _ODD_CASE.search(text):
        return _ERROR_TEXT.search(text) is not None
    lower = text.lower()
    return any(word in lower for word in _ERROR_ASCII) and \
        _ERROR_TEXT.search(text) is not None


def _link_problems(paper: Paper) -> list[tuple[str, str]]:
    problems = []
    version = f"v{paper.id.version}" if paper.id.version else ""
    for field, kind in (("abs_url", "abs"), ("pdf_url", "pdf")):
        expected = f"https://arxiv.org/{kind}/{paper.id.base}{version}"
        if getattr(paper, field) != expected:
            problems.append((field, f"{field} should be {expected}, is "
                                    f"{getattr(paper, field)!r}"))
    if not paper.categories:
        problems.append(("categories", "no categories"))
    elif not all(_CATEGORY.fullmatch(c) for c in paper.categories):
        problems.append(("categories", f"not arXiv categories: {paper.categories}"))
    return problems


def _field_lines(path: Path) -> dict[str, int]:
    """Line of each top-level key in a YAML file (1-based), for annotations."""
    lines: dict[str, int] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return lines
    for number, line in enumerate(text.split("\n"), start=1):
        match = re.match(r"^([A-Za-z_]+):", line)
        if match:
            lines.setdefault(match.group(1), number)
    return lines
