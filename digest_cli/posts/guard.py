"""What `digest import` may not replace: a record's value that the post was not rendered
from and that is an editor's. Editors win in every path (issue 11)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from digest_cli import kinds
from digest_cli.errors import ImportError_
from digest_cli.posts.render import CLASSIC, paper_block
from digest_cli.records.model import Paper, text_hash

if TYPE_CHECKING:
    from digest_cli.settings import Settings


def refuse_replacing(old: Paper | None, changed: list[str], last: str | None, path: Path,
                     line: int, settings: Settings) -> None:
    """Stop before the post replaces a record's value that the post was not rendered from
    and that is an editor's (or, the record being changed since the last render, any)."""
    if old is None or not changed or changed == ["new"]:
        return
    block = paper_block(old, settings.post_format != CLASSIC, settings.topics)
    as_rendered = last is not None and text_hash(block) == last
    if as_rendered:
        return  # the post shows this very record: its differences are the post's edits
    mine = [name for name in changed if last is not None or old.reviewed
            or editors_value(old, name)]
    if mine:
        raise ImportError_(f"[{old.id.base}] the record's {', '.join(mine)} differ from the "
                           "post's and are not what the post was rendered from (an editor's "
                           "change"
                           f"{', and the paper is reviewed' if old.reviewed else ''}): keep "
                           "them by re-rendering the post, or make the post's edit in the "
                           "record", path=path, line=line)


def editors_value(paper: Paper, name: str) -> bool:
    """True when a record field holds an editor's value rather than a machine's: a text as
    its kind declares (`kinds`), the title and authors by arXiv's fingerprints."""
    if kinds.is_text(name):
        return kinds.editors_version(paper, name)
    return name in ("title", "authors") and name in paper.arxiv_hashes and paper.editors(name)
