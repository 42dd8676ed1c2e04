"""`digest check`: every record valid, every text up to the quality rules, every post equal
to its render. Problems carry file and line so GitHub can show them on the PR's diff.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from digest_cli import kinds
from digest_cli.errors import DigestError
from digest_cli.posts.importer import IMPORTED_ERROR
from digest_cli.posts.write import post_status
from digest_cli.records.model import ArxivId, Day, MachineText, Paper
from digest_cli.records.pool import map_days
from digest_cli.records.reading import MANIFEST, load_record, read_keys, text_faults
from digest_cli.records.review import review_notes
from digest_cli.records.store import (
    day_dates,
    load_day,
    manifest_from_dict,
    paper_path,
    paper_to_dict,
)
from digest_cli.translate.glossary import glossary_for_review
from digest_cli.translate.text_faults import NOT_AN_ANSWER_MESSAGE, is_not_an_answer
from digest_cli.translate.validate import has_any

if TYPE_CHECKING:
    from digest_cli.records.topics import Topics
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
# arXiv's taxonomy (arxiv.org/category_taxonomy), the archives of old ids (`hep-th`,
# `chao-dyn`, ...), and the other classes arXiv lists among a paper's categories: ACM's
# (`I.2.7`, `H.5.5`, `F.2.m`) and the MSC's (`68T10`, `68Txx`, `68-04`).
_ARXIV = {
    "cs": "AI AR CC CE CG CL CR CV CY DB DC DL DM DS ET FL GL GR GT HC IR IT LG LO MA MM MS "
          "NA NE NI OH OS PF PL RO SC SD SE SI SY",
    "econ": "EM GN TH", "eess": "AS IV SP SY",
    "math": "AC AG AP AT CA CO CT CV DG DS FA GM GN GR GT HO IT KT LO MG MP NA NT OA OC PR "
            "QA RA RT SG SP ST",
    "astro-ph": "CO EP GA HE IM SR",
    "cond-mat": "dis-nn mes-hall mtrl-sci other quant-gas soft stat-mech str-el supr-con",
    "nlin": "AO CD CG PS SI",
    "physics": "acc-ph ao-ph app-ph atm-clus atom-ph bio-ph chem-ph class-ph comp-ph data-an "
               "ed-ph flu-dyn gen-ph geo-ph hist-ph ins-det med-ph optics plasm-ph pop-ph "
               "soc-ph space-ph",
    "q-bio": "BM CB GN MN NC OT PE QM SC TO", "q-fin": "CP EC GN MF PM PR RM ST TR",
    "stat": "AP CO ME ML OT TH",
}
ARXIV_CATEGORIES = frozenset(
    [f"{archive}.{sub}" for archive, subs in _ARXIV.items() for sub in subs.split()]
    + "astro-ph cond-mat gr-qc hep-ex hep-lat hep-ph hep-th math-ph nucl-ex nucl-th quant-ph "
      "q-bio acc-phys adap-org alg-geom ao-sci atom-ph bayes-an chao-dyn chem-ph cmp-lg "
      "comp-gas dg-ga funct-an mtrl-th patt-sol plasm-ph q-alg solv-int supr-con".split())
_OTHER_CLASS = re.compile(r"[A-K]\.(?:\d{1,2}(?:\.(?:\d{1,2}|m))?|m)"  # ACM 1998
                          r"|\d\d(?:[A-Z](?:\d\d|xx)|-(?:\d\d|XX)|XX)")  # MSC 2000-2020


# The rules for the layout this tool's own answers follow, and comparisons with an abstract
# the old blog never stored: for a text the tool did not generate they are notes, not errors.
# Every layout rule is one (the parts, their lines and bullets, bold, HTML, a prompt's note
# copied into a heading); an LLM's own `#` headings, error text and hollow parts are not.
_FORMAT_NOTES = re.compile(r"^(has \d+ paragraphs|much shorter than|drops numbers|drops formulas"
                           r"|has text before part|part lines must be|needs exactly the parts"
                           r"|part \d\) has no `|starts with a preamble|unbalanced `\*\*`"
                           r"|contains HTML tags|raw token|a heading copies the prompt)")
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

    Days are checked on every core when there are many (every record is parsed once).
    A paper shown on two days is found afterwards, from the papers each day's check
    returns and the other days' manifests.
    """
    every_day = day_dates(settings)
    days = days if days is not None else every_day
    glossary = glossary_for_review(settings)  # read once, not once a day
    checked = dict(zip(days, map_days(partial(_check_day, settings, glossary), days),
                       strict=True))
    shown_on = _shown_on(settings, every_day, checked)
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


def _check_day(settings: Settings, glossary: dict[str, Any], day: date) -> _DayCheck:
    try:
        loaded = load_day(settings, day)
    except DigestError as exc:
        problem = Problem(exc.path or settings.day_path(day), exc.message, exc.line,
                          exc.paper_id)
        return _DayCheck([problem], _manifest_ids(settings, day), [])
    return _DayCheck(day_problems(settings, loaded, glossary), [p.id.base for p in loaded.papers],
                     [(paper.id, paper.replacement) for paper in loaded.papers])


def day_problems(settings: Settings, day: Day, glossary: dict[str, Any] | None = None
                 ) -> list[Problem]:
    """The problems of one day's records and post (not those across days), just read:
    each record's top-level keys and removed characters are those of that read
    (`glossary`: the site's, when the caller has read it)."""
    problems: list[Problem] = []
    folder = settings.day_path(day.manifest.date)
    glossary = glossary_for_review(settings) if glossary is None else glossary
    for paper in day.papers:
        path = paper_path(folder, paper.id)
        problems += paper_problems(paper, path, settings.topics, read_keys(path))
        problems += _fault_problems(path, str(paper.id))
        problems += _review_problems(paper, path, glossary)
    why = post_status(settings, day)
    if why:
        problems.append(Problem(settings.post_path(day.manifest.date), f"post {why}: run "
                                f"`digest sync --date {day.manifest.date}` or `digest render "
                                f"--date {day.manifest.date}`", 1))
    return problems


def _fault_problems(path: Path, paper_id: str) -> list[Problem]:
    """Control, bidi and zero-width characters the record held (read without them)."""
    return [Problem(path, f"{where}: a character that must not be published (delete it)",
                    line, paper_id) for line, where in text_faults(path)]


def _review_problems(paper: Paper, path: Path, glossary: dict[str, Any]) -> list[Problem]:
    """Warnings for the reviewer: changed since review, a glossary term not kept."""
    notes = review_notes(paper, glossary)
    if not notes:
        return []
    lines = _field_lines(path)
    return [Problem(path, msg, lines.get(field), paper.id.base, warning=True)
            for field, msg in notes]


def _manifest_ids(settings: Settings, day: date) -> list[str] | None:
    """The base ids a day's manifest lists; None when it cannot be read (reported with
    the day itself, when the day is checked)."""
    path = settings.day_path(day) / MANIFEST
    try:
        papers = manifest_from_dict(load_record(path), path).papers
    except DigestError:
        return None
    return [ArxivId.parse(str(pid)).base for pid in papers]


def _shown_on(settings: Settings, days: list[date],
              checked: dict[date, _DayCheck]) -> dict[str, list[date]]:
    """The days whose manifest shows each paper (base id), oldest first: from the checked
    days' reports, and the manifests of the others."""
    shown: dict[str, list[date]] = {}
    for day in days:
        ids = checked[day].shown if day in checked else _manifest_ids(settings, day)
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


def paper_problems(paper: Paper, path: Path, topics: Topics,
                   keys: Iterable[str] = ()) -> list[Problem]:
    """Schema-level and quality problems of one record, each text by its kind's rules
    (`keys`: its file's top-level keys, checked against the schema)."""
    found = [(field, msg, _old_style_link(paper, field)) for field, msg in _link_problems(paper)]
    if not paper.title.strip():
        found.append(("title", "the title is empty", False))
    found += [("failures", f"{f.field}: {f.reason} (write the text, or run `digest translate`)",
               False) for f in paper.failures if f.reason.startswith(IMPORTED_ERROR)]
    for _, declared in kinds.fields():
        text = kinds.get_text(paper, declared.name)
        if text is None or (not text.text.strip() and not text.machine_owned):
            continue  # none yet, or an editor took it out on purpose
        field = declared.name
        messages = list(declared.rules(text.text, paper, topics))
        if NOT_AN_ANSWER_MESSAGE not in messages and (has_error_text(text.text) or (
                field not in ("translation", "analysis") and is_not_an_answer(text.text))):
            messages.append("contains error text or a placeholder")  # (those two: above)
        found += [(field, f"{field}: {msg}",
                   not text.generated and bool(_FORMAT_NOTES.match(msg))) for msg in messages]
    found += _key_problems(keys)
    if not found:
        return []
    lines = _field_lines(path)  # read only for a record with problems: most have none
    return [Problem(path, msg, lines.get(field), paper.id.base, warning=note)
            for field, msg, note in found]


def _key_problems(keys: Iterable[str]) -> list[tuple[str, str, bool]]:
    """Keys the schema does not know. One close to a known key is a misspelling, an error
    in any record (the field it meant reads as missing: `Translation:` shows 【待翻译】; the
    old blog's import never writes one); another is an editor's own (`note:`), kept and
    not read: a note."""
    known = record_keys()
    found = []
    for key in keys:
        if key in known:
            continue
        near = [k for k in known if k.lower() == key.lower()] or \
            difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.75)
        if near:
            found.append((key, f"unknown key {key!r}: did you mean {near[0]!r}? (as it is, "
                               f"{near[0]} reads as missing)", False))
        else:
            found.append((key, f"unknown key {key!r}: kept, but not read by digest", True))
    return found


def record_keys() -> frozenset[str]:
    """The top-level keys of a record: those the schema (`store.paper_to_dict`) writes for
    a paper with every field set, and the fields of every registered text kind."""
    return _record_keys(kinds.field_names())


@functools.lru_cache(maxsize=8)  # asked once per record; kinds are registered rarely
def _record_keys(text_fields: tuple[str, ...]) -> frozenset[str]:
    return _schema_keys() | frozenset(text_fields)


@functools.cache
def _schema_keys() -> frozenset[str]:
    text = MachineText("")
    paper = Paper(ArxivId("2601.00001", 1), "", [], [], "", "", title_zh=text, summary=text,
                  topics=text, arxiv_hashes={"title": ""}, arxiv_original={"title": "x"},
                  reviewed=True)
    for key in Paper.REVIEW_KEYS:  # who reviewed, when and what: written only when set
        setattr(paper, key, "x")
    return frozenset(paper_to_dict(paper))


def has_error_text(text: str) -> bool:
    """True when `text` holds error text or a placeholder (`_ERROR_TEXT`)."""
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
    elif unknown := [c for c in paper.categories if not is_category(c)]:
        problems.append(("categories", f"not arXiv categories: {unknown}"))
    return problems


def is_category(name: str) -> bool:
    """True for an arXiv category, or an ACM or MSC class arXiv lists with them."""
    return name in ARXIV_CATEGORIES or _OTHER_CLASS.fullmatch(name) is not None


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
