"""The day's pull request: found by its branch and updated, or created, then labelled;
checklist ticks kept; the Actions job summary."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from digest_cli.errors import PublishError
from digest_cli.publish.body import PAPERS_MARKER, job_summary, pr_texts, pr_title
from digest_cli.records.model import Day

if TYPE_CHECKING:
    from digest_cli.publish.day import PublishReport
    from digest_cli.publish.github import GitHub, PullRequest
    from digest_cli.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class PullRequestResult:
    """The day's pull request after publishing, and what publishing did to it."""

    number: int
    url: str
    labels: list[str]
    created: bool = False
    updated: bool = False


def open_pull_request(settings: Settings, day: Day, branch: str, base: str,
                      pushed: bool) -> PullRequestResult:
    """Create or update the PR of `branch` into `base`; a failure says what was already
    done (`pushed`: the branch was pushed just now)."""
    done = f"pushed {branch}" if pushed else f"{branch} is on {settings.remote}"
    missing = [name for name, value in (("GITHUB_TOKEN", settings.github_token),
                                        ("GITHUB_REPOSITORY", settings.github_repository))
               if not value]
    if missing:
        raise PublishError(f"{done}; set {' and '.join(missing)} to open the pull request")
    try:
        return _update_or_create(settings, day, branch, base)
    except PublishError as exc:
        raise PublishError(f"{exc.message} ({done}; run `digest publish --date "
                           f"{day.manifest.date.isoformat()}` again to finish)") from None


def _update_or_create(settings: Settings, day: Day, branch: str,
                      base: str) -> PullRequestResult:
    """Find the open PR of the branch and update it, or create it; then the labels."""
    from digest_cli.publish.github import GitHub

    title = pr_title(day, settings)
    body, overflow = pr_texts(day, settings, branch)
    created = updated = False
    with GitHub.from_settings(settings) as gh:
        pr = gh.find_pull(branch)
        if pr is None:
            pr, created = _create(gh, settings, branch, base, title, body)
        if pr.title != title or _lines(pr.body) != _lines(body):
            pr = gh.update_pull(pr.number, title=title, body=body)
            updated = not created
        sync_overflow_comments(gh, pr.number, day.manifest.date.isoformat(), overflow)
        missing = [x for x in settings.pr_labels if x not in pr.labels]
        if missing:  # created only when the repository lacks them (needs issues: write)
            gh.ensure_labels(missing)
        labels = gh.add_labels(pr.number, missing) if missing else pr.labels
    log.info("pull request #%s %s", pr.number, pr.url)
    return PullRequestResult(pr.number, pr.url, labels, created, updated)


def refresh_pull_request(settings: Settings, day: Day, branch: str | None = None) -> int | None:
    """Make the open PR of the day's branch show the records (the reviewed ticks and
    count, the marks); returns its number, or None when there is no open PR."""
    from digest_cli.publish.github import GitHub

    branch = branch or f"{settings.branch_prefix}{day.manifest.date.isoformat()}"
    body, overflow = pr_texts(day, settings, branch)
    with GitHub.from_settings(settings) as gh:
        pr = gh.find_pull(branch)
        if pr is None:
            return None
        if _lines(pr.body) != _lines(body):
            gh.update_pull(pr.number, body=body)
        sync_overflow_comments(gh, pr.number, day.manifest.date.isoformat(), overflow)
    return pr.number


def sync_overflow_comments(gh: GitHub, number: int, day: str, texts: list[str]) -> None:
    """The PR's overflow comments (tasks that do not fit in the body) made to be `texts`;
    ones no longer needed say so rather than vanish (a comment is the editors' too). A day
    that fits in the body (nearly every day) costs no request."""
    if not texts:
        return
    marker = PAPERS_MARKER.format(date=day)
    mine = [c for c in gh.comments(number) if str(c.get("body") or "").startswith(marker)]
    for n, text in enumerate(texts):
        if n < len(mine):
            if _lines(str(mine[n].get("body") or "")) != _lines(text):
                gh.update_comment(int(mine[n]["id"]), text)
        else:
            gh.create_comment(number, text)
    for extra in mine[len(texts):]:
        done = f"{marker}\n_Every paper of {day} now fits in the pull request's body._\n"
        if _lines(str(extra.get("body") or "")) != _lines(done):
            gh.update_comment(int(extra["id"]), done)


def _lines(text: str) -> list[str]:
    """`text` as lines, whatever line ends GitHub's editor gave it."""
    return text.replace("\r\n", "\n").strip().split("\n")


def _create(gh: GitHub, settings: Settings, branch: str, base: str, title: str,
            body: str) -> tuple[PullRequest, bool]:
    """The new pull request, or one opened meanwhile; True when this call created it."""
    from digest_cli.publish.github import GitHubError

    try:
        return gh.create_pull(branch, base, title, body), True
    except GitHubError as exc:
        if exc.status != 422:
            raise
        if exc.mentions("already exists"):  # opened meanwhile: update that one
            pr = gh.find_pull(branch)
            if pr is not None:
                return pr, False
        if exc.invalid_field("head"):
            raise PublishError(f"GitHub does not know branch {branch} of "
                               f"{gh.repository}: the branch was not pushed there (is remote "
                               f"{settings.remote!r} that repository?)") from None
        if exc.invalid_field("base"):
            raise PublishError(f"GitHub does not know base branch {base} of "
                               f"{gh.repository} (setting `base_branch`)") from None
        raise


def write_step_summary(settings: Settings, day: Day, report: PublishReport) -> None:
    """Append the job summary to $GITHUB_STEP_SUMMARY when Actions provides one."""
    if not settings.github_step_summary:
        return

    try:
        with open(settings.github_step_summary, "a", encoding="utf-8") as fh:
            fh.write(job_summary(day, settings, report))
    except OSError as exc:  # a summary is a nicety: never fail a publish over it
        log.warning("cannot write the job summary to %s: %s", settings.github_step_summary,
                    exc.strerror)
