"""`digest sync`: bring a day's post and records together after editors' edits.

The day manifest's `rendered` field remembers what the last render wrote (a hash of the
post and of each paper's block). With it, `digest sync` can always tell which side an
editor changed since: the records, the post, or (a conflict) both.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from digest_cli import kinds
from digest_cli.errors import DigestError
from digest_cli.posts.importer import (
    merge_paper,
    parse_post,
    post_blocks,
    read_post,
    stored_paper,
    update_left_out,
)
from digest_cli.posts.render import render_parts
from digest_cli.posts.write import post_edited, rendered_blocks, write_post
from digest_cli.records.model import (
    ArxivId,
    Day,
    MachineText,
    Manifest,
    Paper,
    machine_text_hash,
    text_hash,
)
from digest_cli.records.store import MANIFEST, load_day, write_manifest, write_paper

if TYPE_CHECKING:
    from digest_cli.records.topics import Topics
    from digest_cli.records.writer import Writer
    from digest_cli.settings import Settings

log = logging.getLogger(__name__)


class SyncConflict(DigestError):
    """The same paper was edited in its record and in the post."""

    stage = "sync"


@dataclass
class SyncReport:
    day: date
    action: Literal["in sync", "rendered", "imported"]
    imported: dict[str, list[str]] = field(default_factory=dict)


def sync_day(settings: Settings, day_date: date, writer: Writer) -> SyncReport:
    """Bring post and records together: whichever side an editor changed wins; both -> stop."""
    day = load_day(settings, day_date)
    path = settings.post_path(day_date)
    expected, rec_blocks = rendered_blocks(day, settings)
    if not path.is_file() or read_post(path) == expected:
        write_post(settings, day, writer)
        return SyncReport(day_date, "in sync" if path.is_file() else "rendered")
    if not post_edited(path, day):
        write_post(settings, day, writer)
        return SyncReport(day_date, "rendered")
    if not day.manifest.rendered.get("papers"):
        raise SyncConflict("no record of the last render, so edits cannot be told apart: "
                           "import the post (`digest import`) or re-render it "
                           "(`digest render --force`)", path=path)
    imported = _take_post(settings, day, path, expected, rec_blocks, writer)
    write_post(settings, load_day(settings, day_date), writer, force=True)
    return SyncReport(day_date, "imported", imported)


def _take_post(settings: Settings, day: Day, path: Path, expected: str,
               rec_blocks: dict[str, str], writer: Writer) -> dict[str, list[str]]:
    """Take an edited post's changes into the records; refuse what would be lost."""
    _, posted = parse_post(path, settings)  # the whole post parses before anything is written
    by_id = {item.paper.id.base: item.paper for item in posted}
    edited = _edited_in_post(path, day, rec_blocks)
    order = _post_order(day, list(by_id), rec_blocks, path)
    manifest = day.manifest if order is None else _ordered(day, order)
    # The header the post's own papers give (the digest format's contents list is made
    # from them), in the post's order.
    shown = [by_id[pid] for pid in manifest.papers if pid in by_id]
    after = _prefix(render_parts(Day(manifest, shown), settings)[0] + "\n")
    if _header_edited(read_post(path), expected, after, day.manifest.rendered, rec_blocks):
        raise SyncConflict("the front matter or header (before the first paper) was edited; "
                           f"it is made from the day's {MANIFEST} and the settings (title, "
                           "tags, layout), so the edit would be lost: make it there, or undo "
                           "it in the post", path=path)
    imported = _take_post_edits(settings, day, by_id, edited, writer)
    if order is not None:  # papers added, taken out or moved in the post
        write_manifest(settings.day_path(manifest.date), manifest, writer)
        imported.update({pid: imported.get(pid, []) + ["removed"] for pid in
                         _ids(day.manifest.rendered["papers"]) if pid not in order})
    return imported


# A paper block: its heading, the digest format's anchor line, the Authors line.
_FIRST_BLOCK = re.compile(r'^## .*\n(?:\{: #arxiv-[\w-]+(?: lang="en")?\}\n)?- \*\*Authors\*\*',
                          re.M)


def _prefix(post: str) -> str:
    """The front matter and header: the post before its first paper block."""
    match = _FIRST_BLOCK.search(post)
    return (post[:match.start()] if match else post).rstrip("\n") + "\n\n"


def _header_edited(post: str, expected: str, after: str, last: dict[str, Any],
                   rec_blocks: dict[str, str]) -> bool:
    """True when the post's header differs from the last render's and from `after`, the
    one the post's papers will get. Known for sure when either side's paper blocks are
    all as last rendered (the post's hash then tells)."""
    mine, theirs = _prefix(expected), _prefix(post)
    if theirs in (mine, after):
        return False
    if _as_last(rec_blocks, last) and _joined(mine, rec_blocks) == last.get("post"):
        return True  # the records' header is the last render's, and the post's is not
    posted = post_blocks(post)
    if _as_last(posted, last):
        return _joined(theirs, posted) != last.get("post")
    return False  # paper blocks changed on both sides: the header's last state is unknown


def _as_last(blocks: dict[str, str], last: dict[str, Any]) -> bool:
    """True when these are the paper blocks of the last render, in its order."""
    papers = last["papers"]
    return list(blocks) == list(papers) and all(
        text_hash(block) == papers[pid] for pid, block in blocks.items())


def _joined(prefix: str, blocks: dict[str, str]) -> str:
    return text_hash(prefix + "\n".join(blocks.values()))


def _ids(papers: Iterable[object]) -> list[str]:
    return [ArxivId.parse(str(pid)).base for pid in papers]


def _post_order(day: Day, posted: list[str], rec_blocks: dict[str, str],
                path: Path) -> list[str] | None:
    """The day's papers as the post now lists them, when an editor added, removed or moved
    a block (None when not). A paper taken out of the post but changed in its record, or
    a list changed on both sides, is a conflict."""
    last = day.manifest.rendered["papers"]
    if posted == list(last):
        return None
    for pid in (p for p in last if p not in posted):
        if pid in rec_blocks and text_hash(rec_blocks[pid]) != last[pid]:
            raise SyncConflict("taken out of the post but edited in its record since the last "
                               "render; put its block back or undo the record's edit",
                               path=path, paper_id=pid)
    if _ids(day.manifest.papers) != list(last) and _ids(day.manifest.papers) != posted:
        raise SyncConflict("papers were added, taken out or moved both in the post and in "
                           f"the day's {MANIFEST} since the last render; make the change "
                           "on one side", path=path)
    return posted


def _ordered(day: Day, order: list[str]) -> Manifest:
    """The manifest with the papers in the post's order; those taken out are left out
    (their records stay)."""
    written = {ArxivId.parse(str(pid)).base: str(pid) for pid in day.manifest.papers}
    manifest = replace(day.manifest, papers=[written.get(pid, pid) for pid in order])
    update_left_out(manifest, [p for p in day.papers if p.id.base not in order])
    return manifest


def _edited_in_post(path: Path, day: Day, rec_blocks: dict[str, str]) -> list[str]:
    """Papers whose block the editor changed in the post; a paper also changed in its
    record since the last render is a conflict, named with both versions."""
    last = day.manifest.rendered["papers"]
    post = post_blocks(read_post(path))
    edited = []
    for pid, block in post.items():
        if text_hash(block) == last.get(pid):
            continue
        mine = rec_blocks.get(pid)
        if mine is not None and text_hash(mine) != last.get(pid) and mine != block:
            offset, ours, theirs = sentence_diff(mine, block)
            raise SyncConflict(f"edited both in its record and in the post; keep one: the "
                               f"post has «{theirs}» where the record has «{ours}»",
                               path=path, paper_id=pid,
                               line=_line_of(read_post(path), block) + offset)
        edited.append(pid)
    return edited


def sentence_diff(mine: str, theirs: str) -> tuple[int, str, str]:
    """Where two renderings of a paper first differ, a sentence each: (the line in
    `theirs`, counted from 0, the record's sentence, the post's)."""
    import difflib
    import itertools

    from digest_cli.records.sentences import split_sentences

    a, b = mine.splitlines(), theirs.splitlines()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        ours = split_sentences(" ".join(a[i1:i2])) or [""]
        post = split_sentences(" ".join(b[j1:j2])) or [""]
        for x, y in itertools.zip_longest(ours, post, fillvalue=""):
            if x != y:
                return j1, _short(x), _short(y)
        return j1, _short(" ".join(a[i1:i2])), _short(" ".join(b[j1:j2]))
    return 0, "", ""


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split()) or "(nothing)"
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _line_of(post: str, block: str) -> int:
    """The line (from 1) where `block` starts in `post`."""
    at = post.find(block)
    return post.count("\n", 0, at) + 1 if at >= 0 else 1


def _take_post_edits(settings: Settings, day: Day, by_id: dict[str, Paper], edited: list[str],
                     writer: Writer) -> dict[str, list[str]]:
    records = {p.id.base: p for p in day.papers}
    folder = settings.day_path(day.manifest.date)
    changes = {}
    for pid in edited:
        if pid not in by_id:
            continue
        record = records.get(pid) or stored_paper(settings, day.manifest.date, by_id[pid].id)
        if record is not None and record.reviewed:
            log.warning("%s is marked reviewed: its post edit is taken in all the same", pid)
        paper, changed = merge_paper(record, by_id[pid], settings.topics)
        if record is not None and record.analysis is not None \
                and _details_taken_out(record, by_id[pid]):
            paper.analysis = replace(record.analysis, text="")  # edited: never refilled
            changed.append("analysis")
        for name in _emptied(record, by_id[pid], settings.topics):
            # Shown as missing, and `translate` makes a new one: no text for the
            # translation; an empty machine's text for the others (a missing one would be
            # taken for a record written before they existed, and kept as it was).
            kinds.set_text(paper, name, None if name == "translation" else
                           MachineText("", source="abstract", hash=machine_text_hash("")))
            changed.append(f"{name} cleared")
        if changed:
            write_paper(folder, paper, writer)
            changes[pid] = changed
            log.info("%s: took %s from the post", pid, ", ".join(changed))
    return changes


def _emptied(record: Paper | None, posted: Paper, topics: Topics) -> list[str]:
    """The texts the last render showed that the editor emptied or took out of the post
    (the translation also when replaced by the 待翻译 marker): taken as "make a new one",
    never silently put back."""
    if record is None:
        return []
    return [name for name in kinds.field_names() if name != "analysis"  # its own rule below
            and kinds.in_post(name) and _shown(record, name, topics)
            and kinds.get_text(posted, name) is None]


def _shown(paper: Paper, name: str, topics: Topics) -> bool:
    text = kinds.get_text(paper, name)
    if name == "topics":
        return bool(paper.topic_slugs(topics))
    return text is not None and bool(" ".join(text.text.split()))


def _details_taken_out(record: Paper | None, posted: Paper) -> bool:
    """The editor deleted the 详细解读 block that the last render showed (a block with the
    old blog's error text instead is a failure, not a deletion)."""
    return (record is not None and record.analysis is not None
            and bool(record.analysis.text.strip()) and posted.analysis is None
            and not any(f.field == "analysis" for f in posted.failures))
