"""Writing posts: render a day's post from its records, remember what was rendered (the
manifest's `rendered` hashes, which `digest sync` relies on), and tell stale posts.

A post edited by hand since its last render is never overwritten silently (`PostEdited`).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from digest_cli.errors import DigestError
from digest_cli.posts.importer import read_post
from digest_cli.posts.render import join_post, render_parts
from digest_cli.records.model import Day, text_hash
from digest_cli.records.store import load_day, parse_cache, write_manifest

if TYPE_CHECKING:
    from digest_cli.settings import Settings


class PostEdited(DigestError):
    """The post was edited by hand since the last render: rendering would lose the edit."""

    stage = "render"


def rendered_state(post: str, blocks: dict[str, str]) -> dict:
    return {"post": text_hash(post), "papers": {k: text_hash(v) for k, v in blocks.items()}}


def rendered_blocks(day: Day, settings: Settings) -> tuple[str, dict[str, str]]:
    head, blocks = render_parts(day, settings)
    post = join_post(head, blocks)
    return post, {p.id.base: b for p, b in zip(day.papers, blocks, strict=True)}


def post_edited(path, day: Day) -> bool:
    """True when the post on disk is not what the last render wrote."""
    last = day.manifest.rendered.get("post")
    return bool(last) and path.is_file() and text_hash(read_post(path)) != last


def write_post(settings: Settings, day: Day, writer, force: bool = False) -> bool:
    """Render a day's post and remember what was rendered; True if the post changed."""
    path = settings.post_path(day.manifest.date)
    post, blocks = rendered_blocks(day, settings)  # fully built before anything is written
    if not force and post_edited(path, day) and read_post(path) != post:
        raise PostEdited("the post was edited since it was last rendered; run `digest sync "
                         f"--date {day.manifest.date}` to take the edits into the records, "
                         "or `digest render --force` to drop them", path=path)
    changed = writer.write(path, post, durable=False)
    state = rendered_state(post, blocks)
    if day.manifest.rendered != state:
        day.manifest.rendered = state
        write_manifest(settings.day_path(day.manifest.date), day.manifest, writer)
    return changed


def render_days(settings: Settings, days: list[date], writer, force: bool = False,
                failed: list[DigestError] | None = None) -> list[tuple[date, bool]]:
    """Render each day's post; a day that fails leaves its old post untouched.

    The first failure is raised, unless `failed` is given: then failures are collected
    there and the other days are still rendered.
    """
    cache, results = parse_cache(settings), []
    cache.prefetch([p for day in days for p in settings.day_path(day).glob("*.yaml")])
    try:
        for day in days:
            try:
                post = write_post(settings, load_day(settings, day, cache), writer, force)
            except DigestError as exc:
                if failed is None:
                    raise
                failed.append(exc)
                continue
            results.append((day, post))
    finally:
        cache.save()
    return results


def stale_posts(settings: Settings, days: list[date]) -> list[tuple[date, str]]:
    """The posts that differ from what their records render to, with why."""
    cache, stale = parse_cache(settings), []
    cache.prefetch([p for day in days for p in settings.day_path(day).glob("*.yaml")])
    for day in days:
        why = post_status(settings, load_day(settings, day, cache))
        if why:
            stale.append((day, why))
    cache.save()
    return stale


def post_status(settings: Settings, day: Day) -> str | None:
    """Why the day's post is not what its records render to (None: it is)."""
    path = settings.post_path(day.manifest.date)
    expected, _ = rendered_blocks(day, settings)
    if not path.is_file():
        return "missing"
    if path.read_bytes() != expected.encode("utf-8"):
        return "differs from its records"
    return None
