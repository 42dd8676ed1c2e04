"""Publish a day: commit its records and post to branch `digest/D`, push, open the PR.

How the commits are made, and why this way
-------------------------------------------
The day's files are written into the working tree by the earlier stages, wherever that
working tree happens to be: the Actions checkout (detached, or on main, with data/D/ new
and untracked), or an editor's clone on any branch with unrelated work in progress.
Checking out `digest/D` there would have to move those files around, could clash with
uncommitted changes, and a crash half-way would leave a mess.

So publishing never checks anything out and never touches the working tree, HEAD or the
real index. It builds the commits with git plumbing on a *temporary index*:

1. `git ls-remote` tells the remote's default branch and whether `digest/D` exists there;
   both are fetched. The commits start from the remote `digest/D` when it exists (a
   re-run continues the branch, editors' commits included; nothing is ever force-pushed),
   from the local `digest/D` when it is ahead of that (commits whose push failed), else
   from the base branch.
2. A temporary index (GIT_INDEX_FILE) is loaded with the start commit's tree. Each paper
   record under data/D/ whose bytes differ from that tree becomes one commit (`Add ID:
   title` or `Update ID: title`), then the manifest and the post become one commit
   (`Render D: N papers`), with `git hash-object`, `update-index`, `write-tree` and
   `commit-tree`. Only paths under data/D/ and the day's post are ever staged; records
   missing from the working tree are not deleted from the branch.
3. `refs/heads/digest/D` is moved to the new tip and pushed without force. If HEAD is that
   branch, the real index entries of the committed paths are refreshed so `git status`
   stays clean.

A record on the branch whose text an editor wrote or changed is never replaced by a
machine-written one: publishing stops and says which file, so nothing an editor pushed is
silently overwritten by a re-run (`restore_day` brings the branch's records back first).

Then the pull request, through the GitHub REST API (`digest_cli.publish.github`): found by its head
branch and updated, or created, then labelled. Every step is idempotent, so a failure at
any point is finished by running `digest publish` again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from digest_cli.errors import PublishError
from digest_cli.posts.write import stale_posts
from digest_cli.publish.commits import (
    CommitInfo,
    Plan,
    known_base,
    make_commits,
    plan_changes,
    remember_base,
)
from digest_cli.publish.git import Git, branch_name, move_branch, push, remote_state, start_point
from digest_cli.publish.pull_request import open_pull_request, write_step_summary
from digest_cli.records.model import Day
from digest_cli.records.store import load_day

if TYPE_CHECKING:
    from digest_cli.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class PublishReport:
    """What `publish_day` did; `digest run --publish` prints it."""

    day: date
    branch: str
    base: str = ""
    commits: list[CommitInfo] = field(default_factory=list)
    pushed: bool = False
    nothing_to_publish: bool = False
    pr_number: int | None = None
    pr_url: str | None = None
    pr_created: bool = False
    pr_updated: bool = False
    labels: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """Plain lines for the terminal."""
        out = [f"committed {c.sha[:10]} {c.message.splitlines()[0]}" for c in self.commits]
        if self.nothing_to_publish:
            return out + [f"nothing to publish: {self.branch} would not differ from "
                          f"{self.base}"]
        out.append(f"pushed {self.branch}" if self.pushed else f"{self.branch} is up to date")
        if self.pr_url and (self.pr_created or self.pr_updated):
            verb = "opened" if self.pr_created else "updated"
            out.append(f"{verb} pull request #{self.pr_number} {self.pr_url}")
        elif self.pr_url:
            out.append(f"pull request #{self.pr_number} is up to date: {self.pr_url}")
        return out


def publish_day(settings: Settings, day_date: date) -> PublishReport:
    """Commit and push `day_date`'s records and post, then open or update its PR."""
    day = load_day(settings, day_date)  # invalid records stop here, before any commit
    _check_post(settings, day_date)
    report = PublishReport(day=day_date, branch=branch_name(settings, day_date))
    try:  # the report grows stage by stage: the job summary says how far a failure got
        g = Git(settings)
        committed = commit_day(g, settings, day, report.branch)
        report.base, report.commits = committed.base, committed.commits
        report.nothing_to_publish = committed.nothing_to_publish
        if report.nothing_to_publish:
            return report
        report.pushed = push_day(g, settings, report.branch, committed)
        pr = open_pull_request(settings, day, report.branch, report.base, report.pushed)
        report.pr_number, report.pr_url, report.labels = pr.number, pr.url, pr.labels
        report.pr_created, report.pr_updated = pr.created, pr.updated
    finally:
        write_step_summary(settings, day, report)
    return report


def _check_post(settings: Settings, day_date: date) -> None:
    for _, why in stale_posts(settings, [day_date]):
        raise PublishError(f"{settings.post_path(day_date)} {why}: run `digest render --date "
                           f"{day_date.isoformat()}` first")


@dataclass
class Committed:
    """The day's new commits, and what pushing them needs."""

    day: date
    base: str  # the branch the pull request targets
    base_sha: str | None
    commits: list[CommitInfo]
    tip: str  # where the day's branch is to point
    remote_tip: str | None  # where it points on the remote (None: not there yet)
    paths: list[str]  # the files committed, relative to the repository's top

    @property
    def nothing_to_publish(self) -> bool:
        """True when the branch would not differ from its base (the day is merged)."""
        return self.remote_tip is None and self.tip == self.base_sha


def commit_day(g: Git, settings: Settings, day: Day, branch: str) -> Committed:
    """Commit the day's changed records, then its manifest and post, on top of the branch
    (see the module docstring); moves no branch."""
    state = remote_state(g, settings, branch)
    start = start_point(g, state, branch)
    plan = Plan(start, state.base_sha, known_base(g, settings, day.manifest.date, start))
    changes = plan_changes(g, settings, day, plan)
    commits = make_commits(g, start, changes)
    return Committed(day.manifest.date, state.base, state.base_sha, commits,
                     tip=commits[-1].sha if commits else start, remote_tip=state.branch_sha,
                     paths=sorted({p for c in changes for p in c.paths}))


def push_day(g: Git, settings: Settings, branch: str, committed: Committed) -> bool:
    """Point the local `branch` at the new tip and push it, never forced; True if pushed."""
    local = g.ref(f"refs/heads/{branch}")
    if local != committed.tip:
        move_branch(g, branch, committed.tip, local, committed.paths)
    remember_base(settings, committed.day, committed.tip)
    if committed.tip == committed.remote_tip:
        return False
    push(g, branch, committed.tip)
    return True
