"""Ticks in the pull request's task list -> `reviewed` in the records, and back.

The review workflow runs `digest review --from-pr-body NEW --previous-body OLD --actor
LOGIN` when the body (or an overflow comment) is edited. The records are made to match
every box of the new text, not only the boxes that changed in this edit: the workflow's
concurrency group keeps one pending run, so of three quick ticks the middle run is
cancelled, and only a comparison with the records takes its tick (else the next refresh
of the body would untick it). The previous text only tells which boxes this actor
ticked, for the log. Only a user with write access to the repository is obeyed, and they
are asked only when a record would change (one request).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from digest_cli.errors import PublishError
from digest_cli.publish.body import MARKER, PAPERS_MARKER, parse_ticks
from digest_cli.records.review import set_reviewed
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


def body_day(text: str) -> date | None:
    """The day a PR body or overflow comment is about, from its marker."""
    match = _DAY.search(text)
    try:
        return date.fromisoformat(match.group(1)) if match else None
    except ValueError:
        return None


@dataclass
class TickReport:
    """What a text's ticks did: `ticks` are the boxes that differed from the records,
    `edited` those this edit changed, `changed` the records written."""

    day: date | None
    allowed: bool = True
    changed: list[str] = field(default_factory=list)
    ticks: dict[str, bool] = field(default_factory=dict)
    edited: dict[str, bool] = field(default_factory=dict)


def apply_ticks(settings: Settings, new: str, old: str | None, actor: str | None, writer: Writer,
                day: date | None = None,
                permission: Callable[[str], str] | None = None) -> TickReport:
    """Make `reviewed` of each paper in `new` equal its box; nothing when `actor` (if
    given) has no write access. `old`, the text before the edit, only fills
    `TickReport.edited`. `permission(login) -> role` defaults to asking the GitHub API."""
    day = day or body_day(new)
    if day is None:
        raise PublishError(f"the text has no {MARKER.format(date='YYYY-MM-DD')} or "
                           f"{PAPERS_MARKER.format(date='YYYY-MM-DD')} marker: pass --date")

    records = {p.id.base: p.reviewed for p in load_day(settings, day).papers}
    boxes = {pid: v for pid, v in parse_ticks(new).items() if pid in records}
    report = TickReport(day, ticks={pid: v for pid, v in boxes.items() if records[pid] != v},
                        edited={pid: v for pid, v in changed_ticks(new, old).items()
                                if pid in records})
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
    report.changed = set_reviewed(settings, day, report.ticks, writer)
    return report


def _api_permission(settings: Settings) -> Callable[[str], str]:
    from digest_cli.publish.github import GitHub

    def ask(user: str) -> str:
        with GitHub.from_settings(settings) as gh:
            return gh.permission(user)

    return ask
