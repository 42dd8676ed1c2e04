"""Ticks in the pull request's task list -> `reviewed` in the records, and back.

The review workflow runs `digest review --from-pr-body NEW --previous-body OLD --actor
LOGIN` when the body (or one of the bot's overflow comments) is edited. Taken are only
the boxes a person changed: those this edit changed (NEW against OLD, GitHub's
`changes.body.from`), and those that differ from the text's state line (the boxes as the
bot last wrote them: a change whose own run was replaced while pending, still to take).
A box nobody touched never moves a record, so a stale body cannot untick a paper. Only a
user with write access to the repository is obeyed (asked once, when a record would
change).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from digest_cli.errors import PublishError
from digest_cli.publish.body import MARKER, PAPERS_MARKER
from digest_cli.publish.tasks import parse_state, parse_ticks
from digest_cli.records.review import approved, mark_print, set_reviewed
from digest_cli.records.store import load_day
from digest_cli.records.writer import Writer

if TYPE_CHECKING:
    from digest_cli.settings import Settings

log = logging.getLogger(__name__)

WRITE_ROLES = frozenset({"admin", "maintain", "write"})
_DAY = re.compile(r"<!-- digest(?:-papers)?:(\d{4}-\d{2}-\d{2}) -->")


def changed_ticks(new: str, old: str | None) -> dict[str, bool]:
    """The boxes of `new` that differ from `old` (all of them when there is no `old`)."""
    now = parse_ticks(new)
    if old is None:
        return now
    before = parse_ticks(old)
    return {pid: ticked for pid, ticked in now.items() if before.get(pid) != ticked}


def person_ticks(new: str, old: str | None,
                 records: dict[str, tuple[str, bool, str | None]] | None = None
                 ) -> dict[str, bool]:
    """The boxes of `new` a person changed: in this edit, or since the bot wrote the text
    (its state line) and not yet in the records (`records`: id -> (mark fingerprint,
    reviewed)). Without `old` and a state line (a text by hand): every box."""
    state = parse_state(new)
    now = parse_ticks(new)
    if old is None and state is None:
        return now
    found = changed_ticks(new, old) if old and old.strip() else {}
    if state is not None:
        for pid, box in now.items():
            if pid in state[1] and pending_change(box, state[1][pid], (records or {}).get(pid)):
                found[pid] = box
    return {pid: now[pid] for pid in now if pid in found}


def pending_change(box: bool, seen: tuple[Any, ...], record: tuple[str, bool, str | None] | None
                   ) -> bool:
    """True when a person set `box` after the bot wrote `seen` (its box, mark fingerprint,
    ...) and the record (mark fingerprint, reviewed, the fingerprint its mark was taken
    from) does not have it yet: a changed box whose record's mark is still the one the
    bot saw, or says otherwise (a mark changed to this box took it, even if a text changed
    since); or a box put back after its change was taken from this very text."""
    if record is None:
        return False
    mark, reviewed, taken_from = record
    if box == seen[0]:
        return mark != seen[1] and reviewed != box and taken_from == seen[1]
    return mark == seen[1] or reviewed != box


def body_day(text: str) -> date | None:
    """The day a PR body or overflow comment is about, from its marker."""
    match = _DAY.search(text)
    try:
        return date.fromisoformat(match.group(1)) if match else None
    except ValueError:
        return None


@dataclass
class TickReport:
    """What a text's ticks did: `ticks` are the person's boxes that differed from the
    records, `edited` those this edit changed, `changed` the records written."""

    day: date | None
    allowed: bool = True
    changed: list[str] = field(default_factory=list)
    ticks: dict[str, bool] = field(default_factory=dict)
    edited: dict[str, bool] = field(default_factory=dict)


def apply_ticks(settings: Settings, new: str, old: str | None, actor: str | None, writer: Writer,
                day: date | None = None,
                permission: Callable[[str], str] | None = None,
                now: datetime | None = None) -> TickReport:
    """Make `reviewed` of each paper whose box a person changed in `new` equal its box;
    nothing when `actor` (if given) has no write access. `permission(login) -> role`
    defaults to asking the GitHub API."""
    day = day or body_day(new)
    if day is None:
        raise PublishError(f"the text has no {MARKER.format(date='YYYY-MM-DD')} or "
                           f"{PAPERS_MARKER.format(date='YYYY-MM-DD')} marker: pass --date")

    papers = load_day(settings, day).papers
    records = {p.id.base: approved(p) for p in papers}
    marks = {p.id.base: (mark_print(p), p.reviewed, p.reviewed_from) for p in papers}
    boxes = {pid: v for pid, v in person_ticks(new, old, marks).items() if pid in records}
    edited = changed_ticks(new, old) if old is not None else {}
    report = TickReport(day, ticks={pid: v for pid, v in boxes.items() if records[pid] != v},
                        edited={pid: v for pid, v in edited.items() if pid in records})
    if report.edited:
        log.info("%s changed %d box(es): %s", actor or "the text", len(report.edited),
                 ", ".join(report.edited))
    if not report.ticks:
        return report
    if actor is not None:
        role = (permission or _api_permission(settings))(actor)
        if role not in WRITE_ROLES:
            log.warning("%s has %s access, not write: their ticks are not taken", actor, role)
            report.allowed = False
            return report
    state = parse_state(new)  # the texts the body showed: those are what a tick approves
    seen = state[1] if state is not None else {}
    report.changed = set_reviewed(settings, day, report.ticks, writer, by=actor, now=now,
                                  seen={pid: v[2] for pid, v in seen.items()},
                                  taken_from={pid: v[1] for pid, v in seen.items()})
    return report


def commit_message(report: TickReport, actor: str | None) -> str:
    """The mark commit's message: the person and the papers."""
    ticked = [pid for pid in report.changed if report.ticks.get(pid)]
    unticked = [pid for pid in report.changed if not report.ticks.get(pid)]
    who = f"@{actor}" if actor else "an editor"
    parts = ([f"reviewed {', '.join(ticked)}"] if ticked else []) + \
        ([f"unmarked {', '.join(unticked)}"] if unticked else [])
    subject = f"Review of {report.day}: {who} " + "; ".join(parts)
    if len(subject) > 72:
        n = len(report.changed)
        subject = f"Review of {report.day}: {who} changed {n} mark{'s' if n != 1 else ''}"
    body = "\n".join([*(f"reviewed: {pid}" for pid in ticked),
                      *(f"unmarked: {pid}" for pid in unticked)])
    return f"{subject}\n\nTicked in the pull request's task list by {who}.\n{body}\n"


def _api_permission(settings: Settings) -> Callable[[str], str]:
    from digest_cli.publish.github import GitHub

    def ask(user: str) -> str:
        with GitHub.from_settings(settings) as gh:
            return gh.permission(user)

    return ask
