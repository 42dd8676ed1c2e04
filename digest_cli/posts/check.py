"""`digest check`: every record valid, every text up to the quality rules, every post equal
to its render. Problems carry file and line so GitHub can show them on the PR's diff.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from digest_cli.errors import DigestError
from digest_cli.posts.importer import IMPORTED_ERROR
from digest_cli.records.model import Paper
from digest_cli.records.store import day_dates, load_day, paper_path

# Text the old blog wrote when the LLM failed, and placeholders: never content.
_ERROR_TEXT = re.compile(r"(全文解读|详细解读|解读|翻译)失败|Traceback \(most recent|"
                         r"Error code: \d{3}|"
                         r"\b(TODO|TBD|PLACEHOLDER|lorem ipsum)\b|待补充", re.IGNORECASE)


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


def check_days(settings, days: list[date] | None = None) -> list[Problem]:
    """All problems of the given days (default: every day under data/)."""
    from digest_cli.posts.write import post_status
    from digest_cli.records.store import parse_cache

    problems, cache = [], parse_cache(settings)  # one cache for all days: read once
    shown_on = _shown_on(settings, cache)
    for day in days if days is not None else day_dates(settings):
        try:
            loaded = load_day(settings, day, cache)
        except DigestError as exc:
            problems.append(Problem(exc.path or settings.day_path(day), exc.message, exc.line,
                                    exc.paper_id))
            continue
        folder = settings.day_path(day)
        problems += _shown_twice(settings, loaded, shown_on)
        for paper in loaded.papers:
            problems += paper_problems(paper, paper_path(folder, paper.id))
        why = post_status(settings, loaded)
        if why:
            problems.append(Problem(settings.post_path(day), f"post {why}: run `digest sync "
                                    f"--date {day}` or `digest render --date {day}`", 1))
    cache.save()
    return problems


def _shown_on(settings, cache) -> dict[str, list[date]]:
    """The days whose manifest shows each paper (base id), read from every manifest."""
    from digest_cli.records.model import ArxivId
    from digest_cli.records.store import MANIFEST, manifest_from_dict

    shown: dict[str, list[date]] = {}
    for day in day_dates(settings):
        path = settings.day_path(day) / MANIFEST
        try:
            papers = manifest_from_dict(cache.load(path), path).papers
        except DigestError:
            continue  # reported with the day itself
        for pid in papers:
            shown.setdefault(ArxivId.parse(str(pid)).base, []).append(day)
    return shown


def _shown_twice(settings, day, shown_on: dict[str, list[date]]) -> list[Problem]:
    """A paper an earlier day shows too, unless this day shows it as a new version (each
    pair is reported once: on the later day, the copy)."""
    found = []
    folder = settings.day_path(day.manifest.date)
    for paper in day.papers:
        others = [d for d in shown_on.get(paper.id.base, []) if d < day.manifest.date]
        if others and not paper.replacement:
            path, other = paper_path(folder, paper.id), paper_path(settings.day_path(others[0]),
                                                                   paper.id)
            found.append(Problem(path, f"also shown on {others[0]} ({other}): a paper belongs "
                                       "to one day; take it out of one manifest",
                                 paper_id=paper.id.base))
    return found


def paper_problems(paper: Paper, path: Path) -> list[Problem]:
    """Schema-level and quality problems of one record."""
    from digest_cli.translate.validate import analysis_problems, translation_problems

    lines = _field_lines(path)
    found = [Problem(path, msg, lines.get(field), paper.id.base,
                     warning=_old_style_link(paper, field))
             for field, msg in _link_problems(paper)]
    if not paper.title.strip():
        found.append(Problem(path, "the title is empty", lines.get("title"), paper.id.base))
    found += [Problem(path, f"{f.field}: {f.reason} (write the text, or run `digest translate`)",
                      lines.get("failures"), paper.id.base)
              for f in paper.failures if f.reason.startswith(IMPORTED_ERROR)]
    checks = (("translation", paper.translation, lambda t: translation_problems(
        t, paper.abstract)), ("analysis", paper.analysis, analysis_problems))
    for field, text, rules in checks:
        if text is None or (not text.text.strip() and not text.machine_owned):
            continue  # none yet, or an editor took it out on purpose
        messages = list(rules(text.text))
        if _ERROR_TEXT.search(text.text):
            messages.append("contains error text or a placeholder")
        generated = text.source in ("full_text", "abstract")
        found += [Problem(path, f"{field}: {msg}", lines.get(field), paper.id.base,
                          warning=not generated and bool(_FORMAT_NOTES.match(msg)))
                  for msg in messages]
    return found


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
    elif not all(re.fullmatch(r"[a-z\-]+(\.[A-Za-z\-]+)?", c) for c in paper.categories):
        problems.append(("categories", f"not arXiv categories: {paper.categories}"))
    return problems


def _field_lines(path: Path) -> dict[str, int]:
    """Line of each top-level key in a YAML file (1-based), for annotations."""
    lines = {}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return lines
    for number, line in enumerate(text.split("\n"), start=1):
        match = re.match(r"^([A-Za-z_]+):", line)
        if match:
            lines.setdefault(match.group(1), number)
    return lines
