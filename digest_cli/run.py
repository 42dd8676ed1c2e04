"""`digest run`: the daily job, one stage after another: fetch, translate, render, publish.

Each stage reads and writes only the records and the post, so a run killed anywhere is
finished by running it again. A failing stage is named in the error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from digest_cli.errors import DigestError, FetchError, NoAnnouncement

if TYPE_CHECKING:
    from digest_cli.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class RunReport:
    """What each stage did, as lines for the terminal, plus the stage reports."""

    day: date
    lines: list[str] = field(default_factory=list)
    no_post: str | None = None  # why there is no post today (not a failure)
    fetch: object = None
    translate: object = None
    publish: object = None


@dataclass
class RunOptions:
    publish: bool = False
    offline: bool = False
    no_llm: bool = False
    force: bool = False


def run_day(settings: Settings, day: date, *, now: datetime, options: RunOptions,
            say: Callable[[str], None] = log.info) -> RunReport:
    """Run the day's stages in order; raises the failing stage's DigestError, stage named."""
    report = RunReport(day)

    def note(line: str) -> None:
        report.lines.append(line)
        say(line)

    stages = [("fetch", _fetch), ("translate", _translate), ("render", _render)]
    if options.publish:
        stages.insert(0, ("restore", _restore))
        stages.append(("publish", _publish))
    for name, stage in stages:
        try:
            stage(settings, day, now, options, report, note)
        except NoAnnouncement as exc:
            report.no_post = str(exc)
            note(str(exc))
            return report
        except DigestError as exc:
            exc.stage = name if exc.stage in (None, name) else f"{name}: {exc.stage}"
            raise
    return report


def _has_records(settings: Settings, day: date) -> bool:
    from digest_cli.records.layout import has_day

    return has_day(settings, day)


def _restore(settings: Settings, day, now, options, report, note) -> None:
    from digest_cli.publish.branches import restore_day

    restored = restore_day(settings, day)
    if restored:
        note(f"restore: {len(restored)} files of the day taken from its branch")


def _fetch(settings: Settings, day, now, options, report, note) -> None:
    from digest_cli.fetch.day import fetch_day, format_report

    try:
        report.fetch = fetch_day(settings, day, now=now, offline=options.offline)
    except FetchError as exc:
        if not (options.offline and _has_records(settings, day)):
            raise
        log.debug("offline fetch: %s", exc)
        note(f"fetch: offline, and no cached arXiv answer for {day}; using the records "
             f"already in {settings.day_path(day)}")
        return
    for line in format_report(report.fetch, settings):
        note(line)


def _translate(settings: Settings, day, now, options, report, note) -> None:
    from digest_cli.records.store import load_day

    if options.no_llm:
        pending = sum(1 for p in load_day(settings, day).papers if p.translation is None)
        note(f"translate: skipped (--no-llm); {pending} papers show their English abstract "
             "marked 待翻译")
        return
    from digest_cli.translate.day import translate_day

    report.translate = translate_day(settings, day, force=options.force)
    for line in report.translate.summary_lines():
        note(line)


def _render(settings: Settings, day, now, options, report, note) -> None:
    from digest_cli.posts.write import render_days
    from digest_cli.records.writer import Writer

    [(_, changed)] = render_days(settings, [day], Writer())
    path = settings.post_path(day)
    note(f"render: {'wrote' if changed else 'unchanged'} {path}")


def _publish(settings: Settings, day, now, options, report, note) -> None:
    from digest_cli.publish.day import publish_day

    report.publish = publish_day(settings, day)
    for line in report.publish.lines():
        note(f"publish: {line}")
