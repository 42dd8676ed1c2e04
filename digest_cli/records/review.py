"""What is left to review in a day, and marking papers reviewed (`digest review`).

`reviewed: true` in a record says an editor has checked the paper. It is set from the
command line (`digest review --mark ID`) or by ticking the paper's box in the pull request
body (`digest review --from-pr-body`, run by the review workflow). The mark keeps who
(`reviewed_by`), when (`reviewed_at`) and a fingerprint of the texts approved
(`reviewed_hash`): a text changed since shows as "changed since review" until someone
ticks again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from digest_cli import kinds
from digest_cli.errors import RecordError
from digest_cli.kinds import edited_by_person as edited_by_person  # read here by others
from digest_cli.records.model import ArxivId, Day, Paper, text_hash
from digest_cli.records.sentences import paragraph_sentences
from digest_cli.records.store import load_day, paper_path, write_paper
from digest_cli.records.writer import Writer

if TYPE_CHECKING:
    from digest_cli.settings import Settings



def review_hash(paper: Paper) -> str:
    """The fingerprint of the texts a reviewer approves by ticking: the paper's title and
    abstract and every text kind's fields (`kinds`); line breaks are layout."""
    texts = [(name, getattr(paper, name)) for name in ("title", "abstract")]
    texts += [(name, value.text if (value := kinds.get_text(paper, name)) else "")
              for name in kinds.field_names()]
    return text_hash("\0".join(f"{name}\0{' '.join(text.split())}" for name, text in texts))


def changed_since_review(paper: Paper) -> bool:
    """True when a text of a reviewed paper changed after the tick."""
    return paper.reviewed and paper.reviewed_hash is not None \
        and paper.reviewed_hash != review_hash(paper)


def mark_print(paper: Paper) -> str:
    """A short fingerprint of the paper's mark (ticked or not, by whom, when, what, from
    which state): it changes whenever a tick or untick reaches the record, even one made
    in the same second as the last."""
    mark = (paper.reviewed, paper.reviewed_by, paper.reviewed_at, paper.reviewed_hash,
            paper.reviewed_from)
    return text_hash("|".join(map(str, mark)))[7:13]


def approved(paper: Paper) -> bool:
    """The paper's box: reviewed, and nothing changed since."""
    return paper.reviewed and not changed_since_review(paper)


@dataclass
class ReviewRow:
    """One paper as `digest review` lists it."""

    id: str
    title: str
    status: str
    edited: bool
    reviewed: bool
    replacement: bool
    path: str
    changed: bool = False
    by: str | None = None
    at: str | None = None


def review_rows(settings: Settings, day: Day) -> list[ReviewRow]:
    """Each paper of `day` with its status, in post order."""
    folder = settings.day_path(day.manifest.date)
    return [ReviewRow(id=p.id.base, title=p.title, status=p.status,
                      edited=edited_by_person(p), reviewed=p.reviewed,
                      replacement=p.replacement, path=record_path(settings, folder, p),
                      changed=changed_since_review(p), by=p.reviewed_by, at=p.reviewed_at)
            for p in day.papers]


def record_path(settings: Settings, folder: Path, paper: Paper) -> str:
    """The record's path relative to the site root (as git and GitHub name it)."""
    path = paper_path(folder, paper.id)
    try:
        return path.relative_to(settings.root).as_posix()
    except (ValueError, AttributeError):
        return path.as_posix()


def set_reviewed(settings: Settings, day_date: date, marks: dict[str, bool],
                 writer: Writer, by: str | None = None, now: datetime | None = None,
                 seen: dict[str, str] | None = None,
                 taken_from: dict[str, str] | None = None) -> list[str]:
    """Set `reviewed` of the papers in `marks` (id -> value), with who and when; returns
    the ids that changed. A paper changed since its review is marked anew. `seen`: the
    hash of the texts the reviewer was shown, when not the record's (a text changed
    since then shows as changed since review). `taken_from`: the fingerprint of the
    pull request's box the mark was taken from (`publish.ticks`).

    Every id is checked before anything is written: an id the day does not show is an
    error naming it."""
    day = load_day(settings, day_date)
    by_id = {p.id.base: p for p in day.papers}
    wanted = {}
    for raw, value in marks.items():
        try:
            base = ArxivId.parse(raw).base
        except ValueError as exc:
            raise RecordError(str(exc), path=settings.day_path(day_date)) from None
        if base not in by_id:
            raise RecordError(f"paper {base} is not shown on {day_date.isoformat()}",
                              path=settings.day_path(day_date))
        wanted[base] = value
    folder, changed = settings.day_path(day_date), []
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%SZ")
    for base, value in wanted.items():
        paper = by_id[base]
        if approved(paper) != value or paper.reviewed != value:
            new = marked(paper, value, by, stamp, (seen or {}).get(base))
            write_paper(folder, replace(new, reviewed_from=(taken_from or {}).get(base)), writer)
            changed.append(base)
    return changed


def marked(paper: Paper, value: bool, by: str | None, stamp: str,
           seen: str | None = None) -> Paper:
    """`paper` ticked (by whom, when, what) or unticked (the mark's details go)."""
    if not value:
        return replace(paper, reviewed=False, reviewed_by=None, reviewed_at=None,
                       reviewed_hash=None, reviewed_from=None)
    return replace(paper, reviewed=True, reviewed_by=by, reviewed_at=stamp,
                   reviewed_hash=seen or review_hash(paper))


def glossary_misses(paper: Paper, glossary: dict[str, Any]) -> list[tuple[str, str]]:
    """The glossary's terms the English abstract uses whose agreed Chinese (or, for
    `keep`, the term itself) the translation lacks: (term, agreed)."""
    import re

    if paper.translation is None or not paper.translation.text.strip():
        return []
    english, chinese = paper.abstract.lower(), paper.translation.text
    misses = []
    for term, agreed in glossary.items():
        term, agreed = str(term), str(agreed)
        if term.lower() not in english:  # cheap first: most terms are absent
            continue
        if not re.search(rf"(?<![\w-]){re.escape(term.lower())}(?![\w-])", english):
            continue
        want = term if agreed == "keep" else agreed
        if want.lower() not in chinese.lower():
            misses.append((term, want))
    return misses


def review_notes(paper: Paper, glossary: dict[str, Any]) -> list[tuple[str, str]]:
    """What `digest check` tells a reviewer (warnings): (field, message)."""
    notes = []
    if changed_since_review(paper):
        who = f" by {paper.reviewed_by}" if paper.reviewed_by else ""
        notes.append(("reviewed", f"changed since it was reviewed{who}: check the texts "
                                  "and tick the paper again"))
    notes += [("translation", f"translation: the abstract says {term!r}, but the "
                              f"glossary's {want!r} is not in the translation")
              for term, want in glossary_misses(paper, glossary)]
    text = paper.translation
    if text is not None and not text.aligned and text.machine_owned:  # the tool's own only
        en, zh = (sum(map(len, paragraph_sentences(t))) for t in (paper.abstract, text.text))
        notes.append(("translation", f"translation: not aligned ({zh} sentences, the abstract "
                                     f"{en}): line i of each is not a pair; review it as a "
                                     "whole"))
    return notes
