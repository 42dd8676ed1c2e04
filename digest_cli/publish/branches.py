"""Other days' branches: bring a day's branch back into the working tree before a re-run,
and note the papers of days still under review for `fetch`."""

from __future__ import annotations

import logging
import re
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from digest_cli.errors import PublishError
from digest_cli.publish.commits import remember_base
from digest_cli.publish.git import Git, branch_name, remote_state
from digest_cli.records.layout import is_record_name, left_out_stems_in, manifest_path
from digest_cli.records.pending import write_pending
from digest_cli.records.writer import Writer

if TYPE_CHECKING:
    from digest_cli.settings import Settings

log = logging.getLogger(__name__)


def restore_day(settings: Settings, day_date: date) -> list[Path]:
    """Copy the day's files from the remote branch `digest/D` into the working tree where
    the working tree has none, so that a re-run starts from what editors pushed. Returns the
    files written; files that exist are never touched."""
    g = Git(settings)
    state = remote_state(g, settings, branch_name(settings, day_date))
    note_pending_days(g, settings, day_date)
    if state.branch_sha is None:
        return []
    prefixes = (g.rel(settings.day_path(day_date)) + "/", g.rel(settings.post_path(day_date)))
    listed = g.run("ls-tree", "-r", "--name-only", state.branch_sha, "--", *prefixes)
    writer = Writer()
    for rel in listed.splitlines():
        data = g.repo.commit(state.branch_sha).tree.join(rel).data_stream.read()
        target = g.top / rel
        if not target.exists():
            writer.write(target, data.decode("utf-8"))
        elif target.read_bytes() != data:
            return writer.changed  # the working tree differs: it is not built on the branch
    remember_base(settings, day_date, state.branch_sha)
    return writer.changed


def note_pending_days(g: Git, settings: Settings, day_date: date) -> dict[str, list[str]]:
    """Note, for `fetch`, the papers on the remote's other daily branches near `day_date`.

    Until its pull request is merged, a day's records live only on its branch, not in the
    checkout (the scheduled job checks out main): without this note the next day would
    take that day's papers for unshown ones and show them a second time."""
    branches = _other_branches(g, settings, day_date)
    try:
        if branches:
            g.run("fetch", "--quiet", "--no-tags", g.remote,
                  *(f"+refs/heads/{n}:refs/remotes/{g.remote}/{n}" for n, _ in branches.values()),
                  what=f"git fetch {g.remote}")
        pending = {d.isoformat(): _branch_stems(g, settings, d, sha)
                   for d, (_, sha) in sorted(branches.items())}
    except PublishError as exc:  # e.g. a branch deleted meanwhile, its pull request merged
        log.warning("cannot read the other days' branches (%s); papers of days under "
                    "review may be shown again", exc)
        pending = {}
    write_pending(settings, day_date, pending)
    return pending


def _other_branches(g: Git, settings: Settings, day_date: date) -> dict[date, tuple[str, str]]:
    """(branch, sha) by day of the remote's daily branches within the look-back of
    `day_date`, its own excluded."""
    out = g.run("ls-remote", "--heads", g.remote, f"refs/heads/{settings.branch_prefix}*",
                what=f"reading remote {g.remote!r}")
    branches = {}
    for sha, name in re.findall(r"^([0-9a-f]{40})\s+refs/heads/(\S+)$", out, re.M):
        try:
            other = date.fromisoformat(name.removeprefix(settings.branch_prefix))
        except ValueError:
            continue
        if other != day_date and abs((other - day_date).days) <= settings.lookback_days:
            branches[other] = (name, sha)
    return branches


def _branch_stems(g: Git, settings: Settings, day_date: date, sha: str) -> list[str]:
    """The record file stems of `day_date` on commit `sha`, and its manifest's left_out."""
    folder = g.rel(settings.day_path(day_date))
    names = g.run("ls-tree", "--name-only", sha, "--", folder + "/").splitlines()
    stems = [Path(n).stem for n in names if is_record_name(n)]
    manifest = g.rel(manifest_path(settings, day_date))
    try:
        text = g.repo.commit(sha).tree.join(manifest).data_stream.read().decode("utf-8")
        stems += left_out_stems_in(text, Path(manifest))
    except Exception:  # no manifest, or an unreadable one: the records count
        pass
    return sorted(set(stems))
