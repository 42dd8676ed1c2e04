"""Writing posts: render a day's post from its records, remember what was rendered (the
manifest's `rendered` hashes, which `digest sync` relies on), and tell stale posts.

A post edited by hand since its last render is never overwritten silently (`PostEdited`).
"""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from digest_cli.errors import DigestError
from digest_cli.posts.importer import read_post
from digest_cli.posts.render import join_post, render_day, render_parts
from digest_cli.records.model import Day, Manifest, text_hash
from digest_cli.records.pool import map_days
from digest_cli.records.store import load_day, write_manifest

if TYPE_CHECKING:
    from digest_cli.records.writer import Writer
    from digest_cli.settings import Settings


class PostEdited(DigestError):
    """The post was edited by hand since the last render: rendering would lose the edit."""

    stage = "render"


def rendered_state(post: str, blocks: dict[str, str]) -> dict[str, Any]:
    return {"post": text_hash(post), "papers": {k: text_hash(v) for k, v in blocks.items()}}


def rendered_blocks(day: Day, settings: Settings) -> tuple[str, dict[str, str]]:
    head, blocks = render_parts(day, settings)
    post = join_post(head, blocks)
    return post, {p.id.base: b for p, b in zip(day.papers, blocks, strict=True)}


def post_edited(path: Path, day: Day) -> bool:
    """True when the post on disk is not what the last render wrote."""
    last = day.manifest.rendered.get("post")
    return bool(last) and path.is_file() and text_hash(read_post(path)) != last


def write_post(settings: Settings, day: Day, writer: Writer, force: bool = False) -> bool:
    """Render a day's post and remember what was rendered; True if the post changed."""
    return _write_rendered(settings, _rendered(settings, day), writer, force)


@dataclass
class _Rendered:
    """A day's post as rendered (in a worker process, for many days), before writing."""

    day: date
    post: str
    state: dict[str, Any]
    last_post: str | None  # the post's hash at the last render
    manifest: Manifest | None  # to write back when its `rendered` state changes


def _rendered(settings: Settings, day: Day) -> _Rendered:
    post, blocks = rendered_blocks(day, settings)  # fully built before anything is written
    state = rendered_state(post, blocks)
    manifest = day.manifest if day.manifest.rendered != state else None
    return _Rendered(day.manifest.date, post, state, day.manifest.rendered.get("post"),
                     manifest)


def _write_rendered(settings: Settings, done: _Rendered, writer: Writer, force: bool) -> bool:
    path = settings.post_path(done.day)
    edited = bool(done.last_post) and path.is_file() and \
        text_hash(read_post(path)) != done.last_post
    if not force and edited and read_post(path) != done.post:
        raise PostEdited("the post was edited since it was last rendered; run `digest sync "
                         f"--date {done.day}` to take the edits into the records, "
                         "or `digest render --force` to drop them", path=path)
    changed = writer.write(path, done.post, durable=False)
    if done.manifest is not None:
        done.manifest.rendered = done.state
        write_manifest(settings.day_path(done.day), done.manifest, writer)
    return changed


def _render_one(settings: Settings, day: date) -> _Rendered | DigestError:
    try:
        return _rendered(settings, load_day(settings, day))
    except DigestError as exc:  # raised, or collected, by the caller in day order
        return exc


@dataclass
class RenderResult:
    """What `render_days` did: the days rendered, with whether each post changed, and the
    failures of the days that could not be (their old posts untouched)."""

    rendered: list[tuple[date, bool]] = field(default_factory=list)
    failed: list[DigestError] = field(default_factory=list)

    @property
    def changed(self) -> list[date]:
        """The days whose post was written anew."""
        return [day for day, changed in self.rendered if changed]


def render_days(settings: Settings, days: list[date], writer: Writer, force: bool = False,
                keep_going: bool = False) -> RenderResult:
    """Render each day's post; a day that fails leaves its old post untouched.

    The first failure is raised, unless `keep_going`: then the other days are still
    rendered and the failures come back in the result. Many days are rendered on every
    core; only this process writes.
    """
    result = RenderResult()
    # closing: a failure stops the workers at once
    with closing(map_days(partial(_render_one, settings), days)) as rendered:
        for day, done in zip(days, rendered, strict=True):
            try:
                if isinstance(done, DigestError):
                    raise done
                result.rendered.append((day, _write_rendered(settings, done, writer, force)))
            except DigestError as exc:
                if not keep_going:
                    raise
                result.failed.append(exc)
    return result


def _day_status(settings: Settings, day: date) -> str | DigestError | None:
    try:
        return post_status(settings, load_day(settings, day))
    except DigestError as exc:  # raised by the caller in day order
        return exc


def stale_posts(settings: Settings, days: list[date]) -> list[tuple[date, str]]:
    """The posts that differ from what their records render to, with why."""
    statuses = list(map_days(partial(_day_status, settings), days))
    stale = []
    for day, why in zip(days, statuses, strict=True):
        if isinstance(why, DigestError):
            raise why  # the first failing day, as when read one by one
        if why:
            stale.append((day, why))
    return stale


def post_status(settings: Settings, day: Day) -> str | None:
    """Why the day's post is not what its records render to (None: it is)."""
    path = settings.post_path(day.manifest.date)
    expected = render_day(day, settings)
    try:
        if path.read_bytes() == expected.encode("utf-8"):
            return None
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return "missing"
    return "differs from its records"
