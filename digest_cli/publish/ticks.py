"""Ticks in the pull request's task list -> `reviewed` in the records, and back.

The review workflow runs `digest review --from-pr-body NEW --previous-body OLD --actor
LOGIN` when the body (or an overflow comment) is edited. Only the boxes that changed
between the two texts are taken, so a body that is a step behind the records cannot undo
a mark made elsewhere; and only a user with write access to the repository is obeyed
(anyone who can comment can edit nothing here, but the check costs one request).
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
    day: date | None
    allowed: bool = True
    changed: list[str] = field(default_factory=list)
    ticks: dict[str, bool] = field(default_factory=dict)


def apply_ticks(settings: Settings, new: str, old: str | None, actor: str | None, writer: Writer,
                day: date | None = None,
                permission: Callable[[str], str] | None = None) -> TickReport:
    """Set `reviewed` of each paper whose box changed; nothing when `actor` (if given) has
    no write access. `permission(login) -> role` defaults to asking the GitHub API."""
    day = day or body_day(new)
    if day is None:
        raise PublishError(f"the text has no {MARKER.format(date='YYYY-MM-DD')} or "
                           f"{PAPERS_MARKER.format(date='YYYY-MM-DD')} marker: pass --date")
    from digest_cli.records.store import load_day

    shown = {p.id.base for p in load_day(settings, day).papers}
    ticks = {pid: v for pid, v in changed_ticks(new, old).items() if pid in shown}
    report = TickReport(day, ticks=ticks)
    if not ticks:
        return report
    if actor is not None:
        role = (permission or _api_permission(settings))(actor)
        if role not in WRITE_ROLES:
            log.warning("%s has %s access, not write: their ticks are not taken", actor, role)
            report.allowed = False
            return report
    report.changed = set_reviewed(settings, day, ticks, writer)
    return report


def _api_permission(settings: Settings) -> Callable[[str], str]:
    from digest_cli.publish.github import GitHub

    def ask(user: str) -> str:
        with GitHub.from_settings(settings) as gh:
            return gh.permission(user)

    return ask
