"""The day's pull request: found by its branch and updated, or created, then labelled;
checklist ticks kept; the Actions job summary."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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
    created = updated = False
    with GitHub.from_settings(settings) as gh:
        pr = gh.find_pull(branch)
        if pr is None:
            pr, created = _create(gh, settings, branch, base, title,
                                  pr_texts(day, settings, branch)[0])
        # Now with the number: the papers link into the pull request's *Files changed*.
        body, overflow = pr_texts(day, settings, branch, number=pr.number)
        mine = _bot_comments(gh, pr, day.manifest.date.isoformat(), bool(overflow))
        body, overflow = _keep_person_boxes([pr.body, *_bodies(mine)], day, body, overflow)
        if pr.title != title or _lines(pr.body) != _lines(body):
            pr = gh.update_pull(pr.number, title=title, body=body)
            updated = not created
        sync_overflow_comments(gh, pr.number, day.manifest.date.isoformat(), overflow, mine)
        missing = [x for x in settings.pr_labels if x not in pr.labels]
        if missing:  # created only when the repository lacks them (needs issues: write)
            gh.ensure_labels(missing)
        labels = gh.add_labels(pr.number, missing) if missing else pr.labels
    log.info("pull request #%s %s", pr.number, pr.url)
    return PullRequestResult(pr.number, pr.url, labels, created, updated)


def refresh_pull_request(settings: Settings, day: Day, branch: str | None = None,
                         head: str | None = None, taken: str | None = None,
                         newer: Callable[[str], bool] | None = None) -> int | None:
    """Make the open PR of the day's branch show the records (the ticks and count, the
    marks); returns its number, or None when there is no open PR.

    Never changes a box whose state is newer than the records: one a person changed since
    the bot last wrote the text (its state line says so), or since `taken` (the text
    whose ticks these records took). `head` is the commit the records were read at;
    `newer(sha)` says whether the text was written from a later commit than `head`: then
    nothing is written (a stale refresh would untick what a later run ticked)."""
    from digest_cli.publish.github import GitHub
    from digest_cli.publish.tasks import parse_state

    branch = branch or f"{settings.branch_prefix}{day.manifest.date.isoformat()}"
    d = day.manifest.date.isoformat()
    with GitHub.from_settings(settings) as gh:
        pr = gh.find_pull(branch)
        if pr is None:
            return None
        state = parse_state(pr.body)
        if state is not None and state[0] and head and state[0] != head and newer is not None \
                and newer(state[0]):
            log.info("the pull request shows the records of %s, newer than %s: left as it is",
                     state[0][:12], head[:12])
            return pr.number
        body, overflow = pr_texts(day, settings, branch, number=pr.number, head=head)
        mine = _bot_comments(gh, pr, d, bool(overflow))
        body, overflow = _keep_person_boxes([pr.body, *_bodies(mine)], day, body, overflow,
                                            taken)
        if _lines(pr.body) != _lines(body):
            gh.update_pull(pr.number, body=body)
        sync_overflow_comments(gh, pr.number, d, overflow, mine)
    return pr.number


def person_boxes(texts: list[str], day: Day,
                 taken: str | None = None) -> dict[str, tuple[bool, str | None]]:
    """The boxes of `texts` (the PR's body and the bot's comments, as they are now) that
    a person changed and the records of `day` do not have yet: changed since the bot
    wrote the text (its state line) while the record's mark stayed as the bot saw it, or
    changed since `taken` (the text whose ticks these records took). id -> (box, the
    paper's state token in that text)."""
    from digest_cli.publish.tasks import parse_state, parse_ticks
    from digest_cli.publish.ticks import pending_change
    from digest_cli.records.review import mark_print

    marks = {p.id.base: (mark_print(p), p.reviewed, p.reviewed_from) for p in day.papers}
    before = parse_ticks(taken) if taken else {}
    found: dict[str, tuple[bool, str | None]] = {}
    for text in texts:
        state = parse_state(text)
        seen = state[1] if state is not None else {}
        for pid, box in parse_ticks(text).items():
            token = seen[pid][3] if pid in seen else None
            if pid in seen and pending_change(box, seen[pid], marks.get(pid)):
                found[pid] = (box, token)
            elif pid in before and before[pid] != box:
                found[pid] = (box, token)
    return found


def _keep_person_boxes(current: list[str], day: Day, body: str, overflow: list[str],
                       taken: str | None = None) -> tuple[str, list[str]]:
    """The new texts with the boxes a person changed (not yet in the records) as they
    are, and what the bot knew of them then (the texts they saw, the mark)."""
    from digest_cli.publish.tasks import keep_state, parse_ticks, set_box

    keep = person_boxes(current, day, taken)
    if not keep:
        return body, overflow
    tokens = {pid: token for pid, (_, token) in keep.items() if token}

    def kept(text: str) -> str:
        for pid, box in parse_ticks(text).items():
            if pid in keep and keep[pid][0] != box:
                log.info("%s: the box a person %s is kept (not in the records yet)", pid,
                         "ticked" if keep[pid][0] else "unticked")
                text = set_box(text, pid, keep[pid][0])
        return keep_state(text, tokens)

    return kept(body), [kept(text) for text in overflow]


def _bot_comments(gh: GitHub, pr: PullRequest, day: str,
                  needed: bool) -> list[dict[str, Any]]:
    """The overflow comments the site wrote on the PR (see `_site_comments`). None asked
    for when the day fits in the body (nearly every day: no request)."""
    return _site_comments(gh, pr.number, day, pr.author) if needed else []


def _site_comments(gh: GitHub, number: int, day: str,
                   publisher: str | None) -> list[dict[str, Any]]:
    """The PR's comments that carry the day's marker and were written by the site: by a
    GitHub App or Actions' bot (publishing with the App's token or GITHUB_TOKEN), or by
    `publisher`, who opened the pull request (the owner of DIGEST_PR_TOKEN, when that
    token publishes). Anyone else's comment that carries the marker is theirs: never
    read, never rewritten."""
    marker = PAPERS_MARKER.format(date=day)

    def by_site(comment: dict[str, Any]) -> bool:
        user = comment.get("user")
        if not isinstance(user, dict):
            return False
        return user.get("type") == "Bot" or (bool(publisher) and user.get("login") == publisher)

    return [c for c in gh.comments(number)
            if str(c.get("body") or "").startswith(marker) and by_site(c)]


def _bodies(comments: list[dict[str, Any]]) -> list[str]:
    return [str(c.get("body") or "") for c in comments]


def sync_overflow_comments(gh: GitHub, number: int, day: str, texts: list[str],
                           mine: list[dict[str, Any]] | None = None,
                           publisher: str | None = None) -> None:
    """The PR's overflow comments (tasks that do not fit in the body) made to be `texts`;
    ones no longer needed say so rather than vanish (a comment is the editors' too). A day
    that fits in the body (nearly every day) costs no request. Only the site's own
    comments are rewritten (`mine`: already fetched; see `_site_comments`)."""
    if not texts:
        return
    marker = PAPERS_MARKER.format(date=day)
    if mine is None:
        mine = _site_comments(gh, number, day, publisher)
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
