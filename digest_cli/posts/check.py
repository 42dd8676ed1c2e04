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
from digest_cli.posts.importer import IMPORTED_ERROR
from digest_cli.records.model import ArxivId, Day, Paper
from digest_cli.records.store import day_dates, load_day, paper_path

if TYPE_CHECKING:
    from digest_cli.records.cache import ParseCache
    from digest_cli.settings import Settings

# Text the old blog wrote when the LLM failed, and placeholders: never content.
_ERROR_TEXT = re.compile(r"(全文解读|详细解读|解读|翻译)失败|Traceback \(most recent|"
                         r"Error code: \d{3}|"
                         r"\b(TODO|TBD|PLACEHOLDER|lorem ipsum)\b|待补充", re.IGNORECASE)
# Searching a long text with that pattern is slow (case-blind alternatives at every
# character), so it runs only where one of its literal parts occurs (`has_any`).
_ERROR_CJK = ("解读失败", "翻译失败", "待补充")
_ERROR_ASCII = ("traceback (most recent", "error code: ", "todo", "tbd", "placeholder",
                "lorem ipsum")
_CATEGORY = re.compile(r"[a-z\-]+(\.[A-Za-z\-]+)?")


# The rules for the layout this tool's own answers follow, and comparisons with an abstract
# the old blog never stored: for a text the tool did not generate they are notes, not errors.
_FORMAT_NOTES = re.compile(r"^(has \d+ paragraphs|much shorter than|drops numbers|drops formulas"
                           r"|has text before part|part lines must be|part \d\) is empty"
                           r"|part \d\) has no|starts with a preamble)")
# An old-style link to the right paper (http, no version): a format note in imported records.
_OLD_LINK = r"^https?://(?:export\.)?arxiv\.org/{kind}/{id}(?:v\d+)?(?:\.pdf)?$"


@dataclass
class Problem:
    path: Path
    message: str
    line: int | None = None
    paper_id: str | None = None
    warning: bool = False  # a format note: shown, but `digest check` still passes

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        kind = "warning: " if self.warning else ""
        return (f"{where}: {kind}" + (f"[{self.paper_id}] " if self.paper_id else "")
                + self.message)

    def annotation(self, root: Path) -> str:
        """A GitHub Actions workflow command: shows on the PR's diff at that line."""
        try:
            rel = self.path.resolve().relative_to(root.resolve())
        except ValueError:
            rel = self.path
        line = f",line={self.line}" if self.line else ""
        text = (f"[{self.paper_id}] " if self.paper_id else "") + self.message
        text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        return f"::{'warning' if self.warning else 'error'} file={rel}{line}::{text}"


def check_days(settings: Settings, days: list[date] | None = None) -> list[Problem]:
    """All problems of the given days (default: every day under data/).

    Days are checked on every core when there are many (a fresh checkout parses every
    record), with one parse cache for the whole run. A paper shown on two days is found
    afterwards, from the papers each day's check returns and the other days' manifests.
    """
    from functools import partial

    from digest_cli.records.cache import map_days
    from digest_cli.records.store import parse_cache

    cache = parse_cache(settings)  # one cache for all days: read once
    every_day = day_dates(settings)
    days = days if days is not None else every_day
    checked = dict(zip(days, map_days(partial(_check_day, settings), days, cache),
                       strict=True))
    shown_on = _shown_on(settings, cache, every_day, checked)
    cache.save()
    problems: list[Problem] = []
    for day, report in checked.items():
        problems += _shown_twice(settings, day, report.papers, shown_on) + report.problems
    return problems


@dataclass
class _DayCheck:
    """One day's problems, and what the check across days needs from it."""

    problems: list[Problem]
    shown: list[str] | None  # base ids the manifest lists (None: it could not be read)
    papers: list[tuple[ArxivId, bool]]  # loaded papers: id, shown as a new version


def _check_day(settings: Settings, day: date, cache: ParseCache) -> _DayCheck:
    try:
        loaded = load_day(settings, day, cache)
    except DigestError as exc:
        problem = Problem(exc.path or settings.day_path(day), exc.message, exc.line,
                          exc.paper_id)
        return _DayCheck([problem], _manifest_ids(settings, day, cache), [])
    return _DayCheck(day_problems(settings, loaded), [p.id.base for p in loaded.papers],
                     [(paper.id, paper.replacement) for paper in loaded.papers])


def day_problems(settings: Settings, day: Day) -> list[Problem]:
    """The problems of one day's records and post (not those across days)."""
    from digest_cli.posts.write import post_status

    problems: list[Problem] = []
    folder = settings.day_path(day.manifest.date)
    glossary = _glossary(settings)
    for paper in day.papers:
        problems += paper_problems(paper, paper_path(folder, paper.id))
        problems += _review_problems(paper, paper_path(folder, paper.id), glossary)
    why = post_status(settings, day)
    if why:
        problems.append(Problem(settings.post_path(day.manifest.date), f"post {why}: run "
                                f"`digest sync --date {day.manifest.date}` or `digest render "
                                f"--date {day.manifest.date}`", 1))
    return problems


def _glossary(settings: Settings) -> dict:
    """The glossary's terms, for the review notes (none when the file is unreadable: the
    glossary's own problems are `digest glossary`'s to report)."""
    from digest_cli.translate.glossary import load_glossary

    try:
        return load_glossary(settings)
    except DigestError:
        return {}


def _review_problems(paper: Paper, path: Path, glossary: dict) -> list[Problem]:
    """Warnings for the reviewer: changed since review, a glossary term not kept."""
    from digest_cli.records.review import review_notes

    notes = review_notes(paper, glossary)
    if not notes:
        return []
    lines = _field_lines(path)
    return [Problem(path, msg, lines.get(field), paper.id.base, warning=True)
            for field, msg in notes]


def _manifest_ids(settings: Settings, day: date, cache: ParseCache) -> list[str] | None:
    """The base ids a day's manifest lists; None when it cannot be read (reported with
    the day itself, when the day is checked)."""
    from digest_cli.records.store import MANIFEST, manifest_from_dict

    path = settings.day_path(day) / MANIFEST
    try:
        papers = manifest_from_dict(cache.load(path), path).papers
    except DigestError:
        return None
    return [ArxivId.parse(str(pid)).base for pid in papers]


def _shown_on(settings: Settings, cache: ParseCache, days: list[date],
              checked: dict[date, _DayCheck]) -> dict[str, list[date]]:
    """The days whose manifest shows each paper (base id), oldest first: from the checked
    days' reports, and the manifests of the others."""
    shown: dict[str, list[date]] = {}
    for day in days:
        ids = checked[day].shown if day in checked else _manifest_ids(settings, day, cache)
        for base in ids or []:
            shown.setdefault(base, []).append(day)
    return shown


def _shown_twice(settings: Settings, day: date, papers: list[tuple[ArxivId, bool]],
                 shown_on: dict[str, list[date]]) -> list[Problem]:
    """A paper an earlier day shows too, unless this day shows it as a new version (each
    pair is reported once: on the later day, the copy)."""
    found = []
    for pid, replacement in papers:
        others = [d for d in shown_on.get(pid.base, []) if d < day]
        if others and not replacement:
            path = paper_path(settings.day_path(day), pid)
            other = paper_path(settings.day_path(others[0]), pid)
            found.append(Problem(path, f"also shown on {others[0]} ({other}): a paper belongs "
                                       "to one day; take it out of one manifest",
                                 paper_id=pid.base))
    return found


def paper_problems(paper: Paper, path: Path) -> list[Problem]:
    """Schema-level and quality problems of one record."""
    from digest_cli.translate.brief_rules import BRIEF_RULES
    from digest_cli.translate.validate import analysis_problems, translation_problems

    found = [(field, msg, _old_style_link(paper, field)) for field, msg in _link_problems(paper)]
    if not paper.title.strip():
        found.append(("title", "the title is empty", False))
    found += [("failures", f"{f.field}: {f.reason} (write the text, or run `digest translate`)",
               False) for f in paper.failures if f.reason.startswith(IMPORTED_ERROR)]
    checks = (("translation", paper.translation, lambda t: translation_problems(
        t, paper.abstract)), ("analysis", paper.analysis, analysis_problems),
        *((name, getattr(paper, name), rules) for name, rules in BRIEF_RULES.items()))
    for field, text, rules in checks:
        if text is None or (not text.text.strip() and not text.machine_owned):
            continue  # none yet, or an editor took it out on purpose
        messages = list(rules(text.text))
        if has_error_text(text.text):
            messages.append("contains error text or a placeholder")
        generated = text.source in ("full_text", "abstract")
        found += [(field, f"{field}: {msg}", not generated and bool(_FORMAT_NOTES.match(msg)))
                  for msg in messages]
    if not found:
        return []
    lines = _field_lines(path)  # read only for a record with problems: most have none
    return [Problem(path, msg, lines.get(field), paper.id.base, warning=note)
            for field, msg, note in found]


def has_error_text(text: str) -> bool:
    """True when `text` holds error text or a placeholder (`_ERROR_TEXT`)."""
    from digest_cli.translate.validate import has_any

    return has_any(text, _ERROR_CJK, _ERROR_ASCII) and _ERROR_TEXT.search(text) is not None


def _old_style_link(paper: Paper, field: str) -> bool:
    """An imported record's http or version-less link to the right paper: a format note."""
    if field not in ("abs_url", "pdf_url") or paper.arxiv_hashes or paper.updated:
        return False
    pattern = _OLD_LINK.format(kind="abs" if field == "abs_url" else "pdf",
                               id=re.escape(paper.id.base))
    return re.match(pattern, getattr(paper, field)) is not None


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
