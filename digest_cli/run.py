"""`digest run`: the daily job, one stage after another: fetch, translate, render, publish.

Each stage reads and writes only the records and the post, so a run killed anywhere is
finished by running it again. A failing stage is named in the error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from digest_cli.errors import DigestError, FetchError
from digest_cli.fetch.day import NoPost, fetch_day, format_report
from digest_cli.posts.write import render_days
from digest_cli.publish.branches import restore_day
from digest_cli.publish.day import publish_day
from digest_cli.records.layout import has_day
from digest_cli.records.store import load_day
from digest_cli.records.writer import Writer
from digest_cli.translate.day import translate_day

if TYPE_CHECKING:
    from digest_cli.fetch.day import FetchReport
    from digest_cli.posts.write import RenderResult
    from digest_cli.publish.day import PublishReport
    from digest_cli.settings import Settings
    from digest_cli.translate.report import TranslateReport

log = logging.getLogger(__name__)
Say = Callable[[str], None]


@dataclass
class RunReport:
    """What each stage did, as lines for the terminal, plus the stages' own results."""

    day: date
    lines: list[str] = field(default_factory=list)
    no_post: str | None = None  # why there is no post today (not a failure)
    restored: list[Path] = field(default_factory=list)
    fetch: FetchReport | None = None  # None: offline, from the records already there
    translate: TranslateReport | None = None  # None: skipped (--no-llm)
    render: RenderResult | None = None
    publish: PublishReport | None = None


@dataclass
class RunOptions:
    """The flags of `digest run`."""

    publish: bool = False
    # Take the day's files from its branch first without publishing: the daily workflow
    # publishes in a later step, with a token minted just before it.
    restore: bool = False
    offline: bool = False
    no_llm: bool = False
    force: bool = False


def run_day(settings: Settings, day: date, *, now: datetime, options: RunOptions,
            say: Say = log.info) -> RunReport:
    """Run the day's stages in order; raises the failing stage's DigestError, stage named."""
    report = RunReport(day)

    def note(line: str) -> None:
        report.lines.append(line)
        say(line)

    if options.publish or options.restore:
        with _stage("restore"):
            report.restored = _restore(settings, day, note)
    with _stage("fetch"):
        fetched = _fetch(settings, day, now, options.offline, note)
    if isinstance(fetched, NoPost):
        report.no_post = fetched.reason
        note(fetched.reason)
        return report
    report.fetch = fetched
    with _stage("translate"):
        report.translate = _translate(settings, day, options, note)
    with _stage("render"):
        report.render = _render(settings, day, note)
    if options.publish:
        with _stage("publish"):
            report.publish = _publish(settings, day, note)
    return report


@contextmanager
def _stage(name: str) -> Iterator[None]:
    """Name the stage in the error of a failing one."""
    try:
        yield
    except DigestError as exc:
        exc.stage = name if exc.stage in (None, name) else f"{name}: {exc.stage}"
        raise


def _restore(settings: Settings, day: date, note: Say) -> list[Path]:
    restored = restore_day(settings, day)
    if restored:
        note(f"restore: {len(restored)} files of the day taken from its branch")
    return restored


def _fetch(settings: Settings, day: date, now: datetime, offline: bool,
           note: Say) -> FetchReport | NoPost | None:

    try:
        report = fetch_day(settings, day, now=now, offline=offline)
    except FetchError as exc:
        if not (offline and has_day(settings, day)):
            raise
        log.debug("offline fetch: %s", exc)
        note(f"fetch: offline, and no cached arXiv answer for {day}; using the records "
             f"already in {settings.day_path(day)}")
        return None
    if isinstance(report, NoPost):
        return report
    for line in format_report(report, settings):
        note(line)
    return report


def _translate(settings: Settings, day: date, options: RunOptions,
               note: Say) -> TranslateReport | None:
    if options.no_llm:
        pending = sum(1 for p in load_day(settings, day).papers if p.translation is None)
        note(f"translate: skipped (--no-llm); {pending} papers show their English abstract "
             "marked 待翻译")
        return None

    report = translate_day(settings, day, force=options.force)
    for line in report.summary_lines():
        note(line)
    return report


def _render(settings: Settings, day: date, note: Say) -> RenderResult:
    result = render_days(settings, [day], Writer())
    note(f"render: {'wrote' if result.changed else 'unchanged'} {settings.post_path(day)}")
    return result


def _publish(settings: Settings, day: date, note: Say) -> PublishReport:
    report = publish_day(settings, day)
    for line in report.lines():
        note(f"publish: {line}")
    return report
