"""Planning the day's commits, with editor protection, and making them on a temporary index.

See `digest_cli.publish.day` for how the commits are made and why this way.
"""

from __future__ import annotations

import logging
import re
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from digest_cli import kinds
from digest_cli.errors import PublishError
from digest_cli.publish.git import Git
from digest_cli.records.layout import manifest_path, paper_from_text, record_files
from digest_cli.records.model import Day, Paper
from digest_cli.records.store import load_paper, paper_path
from digest_cli.records.writer import Writer

if TYPE_CHECKING:
    from digest_cli.settings import Settings

log = logging.getLogger(__name__)

SUBJECT_LIMIT = 72


@dataclass
class CommitInfo:
    sha: str
    message: str


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


def day_files(settings: Settings, day: Day) -> list[Path]:
    """The day's paper records: manifest order first, then any others, sorted."""
    folder = settings.day_path(day.manifest.date)
    ordered = [paper_path(folder, pid) for pid in day.manifest.papers]
    others = [p for p in record_files(folder) if p not in ordered]
    return [p for p in ordered if p.is_file()] + others


def plan_changes(g: Git, settings: Settings, day: Day, plan: Plan) -> list[Change]:
    """One change per record that differs from the start, then the manifest and post."""
    records = day_files(settings, day)
    manifest = manifest_path(settings, day.manifest.date)
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


def _refuse_overwrite(g: Git, old_blob: str, new: Paper, rel: str, start: str) -> None:
    """Stop when the branch's record has an editor's text that `new` would replace with a
    machine's (or drop)."""
    text = g.repo.odb.stream(bytes.fromhex(old_blob)).read().decode("utf-8", "replace")
    try:
        old = paper_from_text(text, Path(rel))
    except Exception:  # an unreadable old version holds nothing to protect
        return
    for name in kinds.field_names():
        before, after = kinds.get_text(old, name), kinds.get_text(new, name)
        if before is None or before.machine_owned:
            continue
        if after is None or (after.machine_owned and after.text != before.text):
            raise PublishError(
                f"{rel} on the branch has an editor's {kinds.label(name)} that this version "
                "would replace;"
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


def _marker(settings: Settings, day_date: date) -> Path:
    """Where the commit that the working tree's day files match is remembered."""
    return settings.cache_path / "publish" / f"{day_date.isoformat()}.base"


def known_base(g: Git, settings: Settings, day_date: date, start: str) -> str | None:
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


def remember_base(settings: Settings, day_date: date, sha: str) -> None:
    Writer().write(_marker(settings, day_date), sha + "\n")
