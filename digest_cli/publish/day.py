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

import json
import logging
import re
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from digest_cli.errors import PublishError
from digest_cli.records.model import Day
from digest_cli.records.store import MANIFEST, load_day, paper_from_dict

log = logging.getLogger(__name__)

SUBJECT_LIMIT = 72


@dataclass
class CommitInfo:
    sha: str
    message: str


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


def publish_day(settings, day_date: date) -> PublishReport:
    """Commit and push `day_date`'s records and post, then open or update its PR."""
    day = load_day(settings, day_date)  # invalid records stop here, before any commit
    _check_post(settings, day_date)
    report = PublishReport(day=day_date, branch=branch_name(settings, day_date))
    try:
        commit_and_push(settings, day, report)
        if not report.nothing_to_publish:
            _open_pull_request(settings, day, report)
    finally:
        write_step_summary(settings, day, report)
    return report


def branch_name(settings, day_date: date) -> str:
    return f"{settings.branch_prefix}{day_date.isoformat()}"


def _check_post(settings, day_date: date) -> None:
    from digest_cli.posts.sync import stale_posts

    for _, why in stale_posts(settings, [day_date]):
        raise PublishError(f"{settings.post_path(day_date)} {why}: run `digest render --date "
                           f"{day_date.isoformat()}` first")


# -- git ------------------------------------------------------------------------------

class Git:
    """The site repository, driven through GitPython with secrets scrubbed from errors."""

    def __init__(self, settings) -> None:
        import git  # a heavy import: only when publishing

        try:
            self.repo = git.Repo(settings.root, search_parent_directories=True)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            raise PublishError(f"{settings.root} is not inside a git repository") from None
        self.top = Path(self.repo.working_tree_dir).resolve()
        self.remote = settings.remote
        self.secrets = [s for s in (settings.github_token, settings.llm_api_key) if s]
        self.author = {"GIT_AUTHOR_NAME": settings.git_author_name,
                       "GIT_AUTHOR_EMAIL": settings.git_author_email,
                       "GIT_COMMITTER_NAME": settings.git_author_name,
                       "GIT_COMMITTER_EMAIL": settings.git_author_email}

    def run(self, *args: str, env: dict | None = None, what: str = "",
            hint: str = "") -> str:
        """`git ARGS` in the repository; a failure is a one-line PublishError."""
        import git

        env = {"GIT_TERMINAL_PROMPT": "0", **(env or {})}  # never wait for a password
        try:
            return self.repo.git.execute(["git", *args], env=env, strip_newline_in_stdout=True)
        except git.GitCommandError as exc:
            reason = self.scrub(_reason(exc.stderr))
            raise PublishError(f"{what or 'git ' + args[0]} failed: {reason}"
                               + (f"; {hint}" if hint else "")) from None

    def scrub(self, text: str) -> str:
        """`text` without secrets or credentials embedded in URLs."""
        text = re.sub(r"(\w+://)[^/@\s]+@", r"\1***@", text)
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

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


def remote_state(g: Git, settings, branch: str) -> RemoteState:
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


@dataclass
class Change:
    message: str
    paths: list[str]  # relative to the repository's top
    blobs: list[str]


@dataclass
class Plan:
    """Where the commits start, and what the working tree is known to contain."""

    start: str
    base_sha: str | None
    known: str | None  # a commit whose day files the working tree is built on, if known


def day_files(settings, day: Day) -> list[Path]:
    """The day's paper records: manifest order first, then any others, sorted."""
    from digest_cli.records.store import paper_path

    folder = settings.day_path(day.manifest.date)
    ordered = [paper_path(folder, pid) for pid in day.manifest.papers]
    others = sorted(p for p in folder.glob("*.yaml") if p.name != MANIFEST and p not in ordered)
    return [p for p in ordered if p.is_file()] + others


def plan_changes(g: Git, settings, day: Day, plan: Plan) -> list[Change]:
    """One change per record that differs from the start, then the manifest and post."""
    from digest_cli.records.store import load_paper

    records = day_files(settings, day)
    manifest = settings.day_path(day.manifest.date) / MANIFEST
    post = settings.post_path(day.manifest.date)
    blobs = _hash_objects(g, records + [manifest, post])
    changes = []
    for path in records:
        rel, blob = g.rel(path), blobs[g.rel(path)]
        old = g.blob_at(plan.start, rel)
        if old == blob:
            continue
        paper = load_paper(path)
        if old is not None:
            _refuse_unseen_edits(g, plan, rel, paper.id.base)
            _refuse_overwrite(g, old, paper, rel, plan.start)
        verb = "Update" if old else "Add"
        changes.append(Change(commit_message(verb, paper.id.base, paper.title), [rel], [blob]))
    rels = [g.rel(manifest), g.rel(post)]
    if g.blob_at(plan.start, rels[0]) not in (None, blobs[rels[0]]):
        _refuse_unseen_edits(g, plan, rels[0], None)
    if any(g.blob_at(plan.start, r) != blobs[r] for r in rels):
        changes.append(Change(render_message(day), rels, [blobs[r] for r in rels]))
    return changes


def render_message(day: Day) -> str:
    n = day.manifest.shown
    return f"Render {day.manifest.date.isoformat()}: {n} paper{'' if n == 1 else 's'}"


def _hash_objects(g: Git, paths: list[Path]) -> dict[str, str]:
    """Write the files as blobs; their ids by relative path."""
    rels = [g.rel(p) for p in paths]
    out = g.run("hash-object", "-w", "--", *rels, what="git hash-object").split()
    return dict(zip(rels, out, strict=True))


def commit_message(verb: str, paper_id: str, title: str) -> str:
    """`Add 2601.19786: <title>` on one line of at most 72 characters; the full title below
    when it had to be shortened."""
    title = " ".join(title.split())
    subject = f"{verb} {paper_id}: {title}"
    if len(subject) <= SUBJECT_LIMIT:
        return subject
    room = SUBJECT_LIMIT - len(f"{verb} {paper_id}: ") - 1
    cut = title[:room]
    if " " in cut[room // 2:]:
        cut = cut[: cut.rfind(" ")]
    return f"{verb} {paper_id}: {cut.rstrip(' ,;:-')}…\n\n{title}"


_OWN_SUBJECT = re.compile(r"^(?:(?:Add|Update) \S+|Render \d{4}-\d{2}-\d{2}): ")


def _refuse_unseen_edits(g: Git, plan: Plan, rel: str, paper_id: str | None) -> None:
    """Stop when someone else changed `rel` on the branch after the version this working
    tree is built on: writing ours would silently undo their change."""
    since = plan.known or plan.base_sha
    if since == plan.start:
        return
    span = f"{since}..{plan.start}" if since else plan.start
    out = g.run("log", "--format=%H%x1f%an%x1f%s", span, "--", rel, what="git log")
    for line in out.splitlines():
        sha, author, subject = line.split("\x1f", 2)
        if _OWN_SUBJECT.match(subject):
            return  # our own commit is the newest: the working tree carries it on
        raise PublishError(
            f"{rel} was changed on the branch by {author} ({sha[:10]} {subject!r}) and this "
            "working tree does not have that change; run `digest publish` from a checkout of "
            f"the branch, or take its version first (`git checkout {plan.start[:12]} -- "
            f"{rel}`)", paper_id=paper_id)


def _refuse_overwrite(g: Git, old_blob: str, new, rel: str, start: str) -> None:
    """Stop when the branch's record has an editor's text that `new` would replace with a
    machine's (or drop)."""
    from ruamel.yaml import YAML

    text = g.repo.odb.stream(bytes.fromhex(old_blob)).read().decode("utf-8", "replace")
    try:
        old = paper_from_dict(YAML(typ="safe").load(text), Path(rel))
    except Exception:  # an unreadable old version holds nothing to protect
        return
    for name in ("translation", "analysis"):
        before, after = getattr(old, name), getattr(new, name)
        if before is None or before.machine_owned:
            continue
        if after is None or (after.machine_owned and after.text != before.text):
            raise PublishError(
                f"{rel} on the branch has an editor's {name} that this version would replace;"
                f" keep the branch's record (`git checkout {start[:12]} -- {rel}`), then "
                "translate and render again", paper_id=new.id.base)


def make_commits(g: Git, start: str, changes: list[Change]) -> list[CommitInfo]:
    """Commit `changes` one after another on top of `start`, using a temporary index."""
    made: list[CommitInfo] = []
    with tempfile.TemporaryDirectory(prefix="digest-index-") as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
        g.run("read-tree", start, env=env, what="git read-tree")
        parent, parent_tree = start, g.run("rev-parse", f"{start}^{{tree}}")
        for change in changes:
            for path, blob in zip(change.paths, change.blobs, strict=True):
                g.run("update-index", "--add", "--cacheinfo", f"100644,{blob},{path}",
                      env=env, what="git update-index")
            tree = g.run("write-tree", env=env, what="git write-tree")
            if tree == parent_tree:
                continue
            parent = g.run("commit-tree", tree, "-p", parent, "-m", change.message,
                           env=g.author, what="git commit-tree")
            parent_tree = tree
            made.append(CommitInfo(parent, change.message))
            log.info("committed %s %s", parent[:10], change.message.splitlines()[0])
    return made


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


def _marker(settings, day_date: date) -> Path:
    """Where the commit that the working tree's day files match is remembered."""
    return settings.cache_path / "publish" / f"{day_date.isoformat()}.base"


def known_base(g: Git, settings, day_date: date, start: str) -> str | None:
    """A commit on the branch whose day files this working tree is known to be built on:
    the branch tip when HEAD contains it, else the one `restore_day` or the last publish
    remembered."""
    if g.is_ancestor(start, "HEAD"):
        return start
    marker = _marker(settings, day_date)
    sha = marker.read_text(encoding="utf-8").strip() if marker.is_file() else ""
    if sha and g.ref(sha) and g.is_ancestor(sha, start):
        return sha
    return None


def _remember(settings, day_date: date, sha: str) -> None:
    from digest_cli.records.writer import Writer

    Writer().write(_marker(settings, day_date), sha + "\n")


def commit_and_push(settings, day: Day, report: PublishReport) -> None:
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
    _remember(settings, day_date, tip)
    if tip != state.branch_sha:
        push(g, branch, tip)
        report.pushed = True


def restore_day(settings, day_date: date) -> list[Path]:
    """Copy the day's files from the remote branch `digest/D` into the working tree where
    the working tree has none, so that a re-run starts from what editors pushed. Returns the
    files written; files that exist are never touched."""
    from digest_cli.records.writer import Writer

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
    _remember(settings, day_date, state.branch_sha)
    return writer.changed


def pending_path(settings) -> Path:
    """Where `restore_day` notes the papers of other days still under review."""
    return settings.cache_path / "publish" / "pending.json"


def note_pending_days(g: Git, settings, day_date: date) -> dict[str, list[str]]:
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
    from digest_cli.records.writer import Writer

    Writer().write(pending_path(settings), json.dumps({"for": day_date.isoformat(),
                                                       "days": pending}, indent=1) + "\n")
    return pending


def _other_branches(g: Git, settings, day_date: date) -> dict[date, tuple[str, str]]:
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


def _branch_stems(g: Git, settings, day_date: date, sha: str) -> list[str]:
    """The record file stems of `day_date` on commit `sha`, and its manifest's left_out."""
    from ruamel.yaml import YAML

    from digest_cli.records.model import ArxivId

    folder = g.rel(settings.day_path(day_date))
    names = g.run("ls-tree", "--name-only", sha, "--", folder + "/").splitlines()
    stems = [Path(n).stem for n in names if n.endswith(".yaml") and Path(n).name != MANIFEST]
    try:
        text = g.repo.commit(sha).tree.join(f"{folder}/{MANIFEST}").data_stream.read()
        left_out = (YAML(typ="safe").load(text) or {}).get("left_out") or []
        stems += [ArxivId.parse(str(item["id"])).file_stem for item in left_out]
    except Exception:  # noqa: BLE001 - no manifest, or an unreadable one: the records count
        pass
    return sorted(set(stems))


# -- the pull request -----------------------------------------------------------------

def _open_pull_request(settings, day: Day, report: PublishReport) -> None:
    """Create or update the PR; a failure says what was already done."""
    done = (f"pushed {report.branch}" if report.pushed
            else f"{report.branch} is on {settings.remote}")
    missing = [name for name, value in (("GITHUB_TOKEN", settings.github_token),
                                        ("GITHUB_REPOSITORY", settings.github_repository))
               if not value]
    if missing:
        raise PublishError(f"{done}; set {' and '.join(missing)} to open the pull request")
    try:
        open_pull_request(settings, day, report)
    except PublishError as exc:
        raise PublishError(f"{exc.message} ({done}; run `digest publish --date "
                           f"{day.manifest.date.isoformat()}` again to finish)") from None


def open_pull_request(settings, day: Day, report: PublishReport) -> None:
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
        if missing:  # created only when the repository lacks them (needs issues: write)
            gh.ensure_labels(missing)
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


def _create(gh, settings, report: PublishReport, title: str, body: str):
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


def write_step_summary(settings, day: Day, report: PublishReport) -> None:
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
