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

    @property
    def created(self) -> bool:
        return self.pr_created

    @property
    def updated(self) -> bool:
        return self.pr_updated

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
    try:
        commit_and_push(settings, day, report)
        if not report.nothing_to_publish:
            open_pull_request(settings, day, report)
    finally:
        write_step_summary(settings, day, report)
    return report


def _check_post(settings: Settings, day_date: date) -> None:
    from digest_cli.posts.write import stale_posts

    for _, why in stale_posts(settings, [day_date]):
        raise PublishError(f"{settings.post_path(day_date)} {why}: run `digest render --date "
                           f"{day_date.isoformat()}` first")


def commit_and_push(settings: Settings, day: Day, report: PublishReport) -> None:
    """The git half of publishing: fills `report.base`, `.commits`, `.pushed`."""
    g = Git(settings)
    branch, day_date = report.branch, day.manifest.date
    state = remote_state(g, settings, branch)
    report.base = state.base
    start = start_point(g, state, branch)
    plan = Plan(start, state.base_sha, known_base(g, settings, day_date, start))
    changes = plan_changes(g, settings, day, plan)
    report.commits = make_commits(g, start, changes)
    tip = report.commits[-1].sha if report.commits else start
    if tip == state.base_sha and state.branch_sha is None:
        report.nothing_to_publish = True
        return
    local = g.ref(f"refs/heads/{branch}")
    if local != tip:
        move_branch(g, branch, tip, local, sorted({p for c in changes for p in c.paths}))
    remember_base(settings, day_date, tip)
    if tip != state.branch_sha:
        push(g, branch, tip)
        report.pushed = True
