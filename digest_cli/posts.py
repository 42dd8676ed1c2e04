"""Posts on disk: render them from the records, check them, and sync editors' edits.

The day manifest's `rendered` field remembers what the last render wrote (a hash of the
post and of each paper's block). With it, `digest sync` can always tell which side an
editor changed since: the records, the post, or (a conflict) both.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from digest_cli.errors import DigestError
from digest_cli.importer import merge_paper, parse_post, post_blocks
from digest_cli.model import Day, text_hash
from digest_cli.render import join_post, render_parts
from digest_cli.store import load_day, parse_cache, write_manifest, write_paper

log = logging.getLogger(__name__)


class SyncConflict(DigestError):
    """The same paper was edited in its record and in the post."""

    stage = "sync"


class PostEdited(DigestError):
    """The post was edited by hand since the last render: rendering would lose the edit."""

    stage = "render"


def rendered_state(post: str, blocks: dict[str, str]) -> dict:
    return {"post": text_hash(post), "papers": {k: text_hash(v) for k, v in blocks.items()}}


def _blocks(day: Day, settings) -> tuple[str, dict[str, str]]:
    head, blocks = render_parts(day, settings)
    post = join_post(head, blocks)
    return post, {p.id.base: b for p, b in zip(day.papers, blocks, strict=True)}


def _post_edited(path, day: Day) -> bool:
    """True when the post on disk is not what the last render wrote."""
    last = day.manifest.rendered.get("post")
    return bool(last) and path.is_file() and text_hash(path.read_text("utf-8")) != last


def write_post(settings, day: Day, writer, force: bool = False) -> bool:
    """Render a day's post and remember what was rendered; True if the post changed."""
    path = settings.post_path(day.manifest.date)
    post, blocks = _blocks(day, settings)  # fully built before anything is written
    if not force and _post_edited(path, day) and path.read_text("utf-8") != post:
        raise PostEdited("the post was edited since it was last rendered; run `digest sync "
                         f"--date {day.manifest.date}` to take the edits into the records, "
                         "or `digest render --force` to drop them", path=path)
    changed = writer.write(path, post, durable=False)
    state = rendered_state(post, blocks)
    if day.manifest.rendered != state:
        day.manifest.rendered = state
        write_manifest(settings.day_path(day.manifest.date), day.manifest, writer)
    return changed


def render_days(settings, days: list[date], writer, force: bool = False
                ) -> list[tuple[date, bool]]:
    """Render each day's post; a day that fails leaves its old post untouched."""
    cache, results = parse_cache(settings), []
    cache.prefetch([p for day in days for p in settings.day_path(day).glob("*.yaml")])
    try:
        for day in days:
            results.append((day, write_post(settings, load_day(settings, day, cache), writer,
                                            force)))
    finally:
        cache.save()
    return results


def stale_posts(settings, days: list[date]) -> list[tuple[date, str]]:
    """The posts that differ from what their records render to, with why."""
    cache, stale = parse_cache(settings), []
    cache.prefetch([p for day in days for p in settings.day_path(day).glob("*.yaml")])
    for day in days:
        path = settings.post_path(day)
        expected, _ = _blocks(load_day(settings, day, cache), settings)
        if not path.is_file():
            stale.append((day, "missing"))
        elif path.read_bytes() != expected.encode("utf-8"):
            stale.append((day, "differs from its records"))
    cache.save()
    return stale


@dataclass
class SyncReport:
    day: date
    action: str  # "in sync", "rendered", "imported"
    imported: dict[str, list[str]] = field(default_factory=dict)


def sync_day(settings, day_date: date, writer) -> SyncReport:
    """Bring post and records together: whichever side an editor changed wins; both -> stop."""
    day = load_day(settings, day_date)
    path = settings.post_path(day_date)
    expected, rec_blocks = _blocks(day, settings)
    if not path.is_file() or path.read_text("utf-8") == expected:
        write_post(settings, day, writer)
        return SyncReport(day_date, "in sync" if path.is_file() else "rendered")
    if not _post_edited(path, day):
        write_post(settings, day, writer)
        return SyncReport(day_date, "rendered")
    if not day.manifest.rendered.get("papers"):
        raise SyncConflict("no record of the last render, so edits cannot be told apart: "
                           "import the post (`digest import`) or re-render it "
                           "(`digest render --force`)", path=path)
    edited = _edited_in_post(path, day, rec_blocks)
    imported = _take_post_edits(settings, path, day, edited, writer)
    write_post(settings, load_day(settings, day_date), writer, force=True)
    return SyncReport(day_date, "imported", imported)


def _edited_in_post(path, day: Day, rec_blocks: dict[str, str]) -> list[str]:
    """Papers whose block the editor changed in the post; a paper also changed in its
    record since the last render is a conflict, named with both versions."""
    last = day.manifest.rendered["papers"]
    post = post_blocks(path.read_text("utf-8"))
    edited = []
    for pid, block in post.items():
        if text_hash(block) == last.get(pid):
            continue
        mine = rec_blocks.get(pid)
        if mine is not None and text_hash(mine) != last.get(pid) and mine != block:
            raise SyncConflict(f"edited both in its record and in the post; keep one.\n"
                               f"--- record renders to:\n{mine}--- post has:\n{block}",
                               path=path, paper_id=pid)
        edited.append(pid)
    return edited


def _take_post_edits(settings, path, day: Day, edited: list[str], writer) -> dict:
    _, imported = parse_post(path, settings)
    by_id = {item.paper.id.base: item.paper for item in imported}
    records = {p.id.base: p for p in day.papers}
    folder = settings.day_path(day.manifest.date)
    changes = {}
    for pid in edited:
        if pid not in by_id:
            continue
        if records.get(pid) is not None and records[pid].reviewed:
            log.warning("%s is marked reviewed: its post edit is taken in all the same", pid)
        paper, changed = merge_paper(records.get(pid), by_id[pid])
        if changed:
            write_paper(folder, paper, writer)
            changes[pid] = changed
            log.info("%s: took %s from the post", pid, ", ".join(changed))
    return changes
