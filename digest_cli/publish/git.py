"""Git plumbing for publishing: the repository (secrets scrubbed from its errors), what the
remote holds, and moving and pushing a branch. Nothing here touches the working tree."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from digest_cli.errors import PublishError, scrub

if TYPE_CHECKING:
    from digest_cli.settings import Settings

log = logging.getLogger(__name__)


def branch_name(settings: Settings, day_date: date) -> str:
    return f"{settings.branch_prefix}{day_date.isoformat()}"


class Git:
    """The site repository, driven through GitPython with secrets scrubbed from errors."""

    def __init__(self, settings: Settings) -> None:
        import git  # a heavy import: only when publishing

        try:
            self.repo = git.Repo(settings.root, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise PublishError(f"{settings.root} is not inside a git repository") from None
        self.top = Path(self.repo.working_tree_dir or settings.root).resolve()
        self.remote = settings.remote
        self.secrets = settings.secrets  # keys, and credentials in URL settings
        self.author = {"GIT_AUTHOR_NAME": settings.git_author_name,
                       "GIT_AUTHOR_EMAIL": settings.git_author_email,
                       "GIT_COMMITTER_NAME": settings.git_author_name,
                       "GIT_COMMITTER_EMAIL": settings.git_author_email}

    def run(self, *args: str, env: dict[str, str] | None = None, what: str = "",
            hint: str = "") -> str:
        """`git ARGS` in the repository; a failure is a one-line PublishError."""
        import git

        env = {"GIT_TERMINAL_PROMPT": "0", **(env or {})}  # never wait for a password
        try:
            return str(self.repo.git.execute(["git", *args], env=env,
                                             strip_newline_in_stdout=True))
        except git.GitCommandError as exc:
            reason = self.scrub(_reason(exc.stderr))
            raise PublishError(f"{what or 'git ' + args[0]} failed: {reason}"
                               + (f"; {hint}" if hint else "")) from None

    def scrub(self, text: str) -> str:
        """`text` without secrets or credentials embedded in URLs."""
        return scrub(text, self.secrets)

    def rel(self, path: Path) -> str:
        """`path` relative to the top of the repository, with forward slashes."""
        return path.resolve().relative_to(self.top).as_posix()

    def ref(self, name: str) -> str | None:
        """The commit `name` points to, or None."""
        try:
            return self.run("rev-parse", "--verify", "--quiet", f"{name}^{{commit}}")
        except PublishError:
            return None

    def is_ancestor(self, older: str, newer: str) -> bool:
        try:
            self.run("merge-base", "--is-ancestor", older, newer)
            return True
        except PublishError:
            return False

    def blob_at(self, commit: str, path: str) -> str | None:
        """The blob id of `path` in `commit`, or None when it has no such file."""
        try:
            return self.repo.commit(commit).tree.join(path).hexsha
        except KeyError:
            return None


def _reason(text: str | bytes | None) -> str:
    """The informative part of git's stderr, on one line: what the remote said and why it
    rejected a push, else the last fatal/error line."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    lines = [ln.strip() for ln in (text or "").splitlines()]
    lines = [ln.removeprefix("stderr: ") for ln in lines]
    lines = [ln.strip("'").strip() for ln in lines if ln.strip("'").strip()]
    remote = [ln[len("remote:"):].strip() for ln in lines if ln.startswith("remote:")]
    remote = [ln for ln in remote if ln] + [ln for ln in lines if ln.startswith("!")]
    if remote:
        return "; ".join(remote)[:300]
    useful = [ln for ln in lines if ln.lower().startswith(("error", "fatal"))]
    return (useful or lines or ["no message"])[-1][:300]


@dataclass
class RemoteState:
    base: str  # branch name
    base_sha: str | None
    branch_sha: str | None  # of digest/D on the remote, None when absent


def remote_state(g: Git, settings: Settings, branch: str) -> RemoteState:
    """Ask the remote for its default branch and `branch`, and fetch both."""
    if g.remote not in [r.name for r in g.repo.remotes]:
        raise PublishError(f"the repository has no remote {g.remote!r} (setting `remote`)")
    out = g.run("ls-remote", "--symref", g.remote, "HEAD", f"refs/heads/{branch}",
                what=f"reading remote {g.remote!r}")
    default = re.search(r"^ref: refs/heads/(\S+)\s+HEAD$", out, re.M)
    base = settings.base_branch or (default.group(1) if default else "main")
    heads = {m.group(2): m.group(1)
             for m in re.finditer(r"^([0-9a-f]{40})\s+refs/heads/(\S+)$", out, re.M)}
    specs = [f"+refs/heads/{base}:refs/remotes/{g.remote}/{base}"]
    if branch in heads:
        specs.append(f"+refs/heads/{branch}:refs/remotes/{g.remote}/{branch}")
    try:
        g.run("fetch", "--quiet", "--no-tags", g.remote, *specs, what=f"git fetch {g.remote}")
    except PublishError:
        if branch in heads:
            raise
        log.warning("base branch %s not found on %s; starting from the local one", base,
                    g.remote)
    base_sha = g.ref(f"refs/remotes/{g.remote}/{base}") or g.ref(f"refs/heads/{base}")
    return RemoteState(base, base_sha, heads.get(branch))


def start_point(g: Git, state: RemoteState, branch: str) -> str:
    """The commit the new commits go on top of (see the module docstring)."""
    local = g.ref(f"refs/heads/{branch}")
    remote = state.branch_sha
    if local and remote is None and state.base_sha and g.is_ancestor(local, state.base_sha):
        local = None  # merged long ago (and deleted on the remote): start afresh from base
    if local and (remote is None or g.is_ancestor(remote, local)):
        return local
    if remote:
        if local:
            log.warning("local %s differs from %s's; continuing from the remote", branch,
                        g.remote)
        return remote
    if state.base_sha is None:
        raise PublishError(f"branch {state.base!r} exists neither on {g.remote!r} nor "
                           "locally (setting `base_branch`)")
    return state.base_sha


def move_branch(g: Git, branch: str, new: str, old: str | None, paths: list[str]) -> None:
    """Point `branch` at `new`; if it is checked out, refresh the index for `paths`."""
    ref = f"refs/heads/{branch}"
    g.run("update-ref", "-m", "digest publish", ref, new, *([old] if old else []),
          what=f"moving {branch}")
    try:
        checked_out = g.run("symbolic-ref", "--quiet", "HEAD") == ref
    except PublishError:  # detached HEAD
        checked_out = False
    if checked_out and paths:
        g.run("reset", "--quiet", new, "--", *paths, what="refreshing the index")


def push(g: Git, branch: str, sha: str) -> None:
    """Push `sha` to the remote's `branch`, never forced."""
    g.run("push", "--quiet", g.remote, f"{sha}:refs/heads/{branch}",
          what=f"git push to {g.remote!r}",
          hint=f"the commits are on the local branch {branch}; run again to push them")
    log.info("pushed %s to %s", branch, g.remote)
