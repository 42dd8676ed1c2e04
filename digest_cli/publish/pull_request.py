"""The day's pull request: found by its branch and updated, or created, then labelled;
checklist ticks kept; the Actions job summary."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from digest_cli.errors import PublishError
from digest_cli.records.model import Day

if TYPE_CHECKING:
    from digest_cli.publish.day import PublishReport
    from digest_cli.settings import Settings

log = logging.getLogger(__name__)


def open_pull_request(settings: Settings, day: Day, report: PublishReport) -> None:
    """Create or update the PR; a failure says what was already done."""
    done = (f"pushed {report.branch}" if report.pushed
            else f"{report.branch} is on {settings.remote}")
    missing = [name for name, value in (("GITHUB_TOKEN", settings.github_token),
                                        ("GITHUB_REPOSITORY", settings.github_repository))
               if not value]
    if missing:
        raise PublishError(f"{done}; set {' and '.join(missing)} to open the pull request")
    try:
        _update_or_create(settings, day, report)
    except PublishError as exc:
        raise PublishError(f"{exc.message} ({done}; run `digest publish --date "
                           f"{day.manifest.date.isoformat()}` again to finish)") from None


def _update_or_create(settings: Settings, day: Day, report: PublishReport) -> None:
    """Find the open PR of the branch and update it, or create it; then the labels."""
    from digest_cli.publish.body import pr_body, pr_title
    from digest_cli.publish.github import GitHub

    title, body = pr_title(day, settings), pr_body(day, settings, report.branch)
    with GitHub.from_settings(settings) as gh:
        pr = gh.find_pull(report.branch)
        if pr is None:
            pr = _create(gh, settings, report, title, body)
        body = keep_ticks(pr.body, body)
        if pr.title != title or _lines(pr.body) != _lines(body):
            pr = gh.update_pull(pr.number, title=title, body=body)
            report.pr_updated = not report.pr_created
        missing = [x for x in settings.pr_labels if x not in pr.labels]
        report.labels = gh.add_labels(pr.number, missing) if missing else pr.labels
    report.pr_number, report.pr_url = pr.number, pr.url
    log.info("pull request #%s %s", pr.number, pr.url)


_TICKED = re.compile(r"^(\s*[-*] )\[[xX]\]( .*)$")


def keep_ticks(old: str, new: str) -> str:
    """`new` with the checklist items that editors ticked in `old` still ticked: a re-run
    rewrites the body, not the review's progress."""
    ticked = {_TICKED.sub(r"\1[ ]\2", line) for line in _lines(old) if _TICKED.match(line)}
    return "\n".join(line.replace("[ ]", "[x]", 1) if line in ticked else line
                     for line in new.split("\n"))


def _lines(text: str) -> list[str]:
    """`text` as lines, whatever line ends GitHub's editor gave it."""
    return text.replace("\r\n", "\n").strip().split("\n")


def _create(gh, settings: Settings, report: PublishReport, title: str, body: str):
    from digest_cli.publish.github import GitHubError

    try:
        pr = gh.create_pull(report.branch, report.base, title, body)
        report.pr_created = True
        return pr
    except GitHubError as exc:
        if exc.status != 422:
            raise
        if exc.mentions("already exists"):  # opened meanwhile: update that one
            pr = gh.find_pull(report.branch)
            if pr is not None:
                return pr
        if exc.invalid_field("head"):
            raise PublishError(f"GitHub does not know branch {report.branch} of "
                               f"{gh.repository}: the branch was not pushed there (is remote "
                               f"{settings.remote!r} that repository?)") from None
        if exc.invalid_field("base"):
            raise PublishError(f"GitHub does not know base branch {report.base} of "
                               f"{gh.repository} (setting `base_branch`)") from None
        raise


def write_step_summary(settings: Settings, day: Day, report: PublishReport) -> None:
    """Append the job summary to $GITHUB_STEP_SUMMARY when Actions provides one."""
    if not settings.github_step_summary:
        return
    from digest_cli.publish.body import job_summary

    try:
        with open(settings.github_step_summary, "a", encoding="utf-8") as fh:
            fh.write(job_summary(day, settings, report))
    except OSError as exc:  # a summary is a nicety: never fail a publish over it
        log.warning("cannot write the job summary to %s: %s", settings.github_step_summary,
                    exc.strerror)
