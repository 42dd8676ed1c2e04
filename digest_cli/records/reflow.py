"""`digest records reflow`: lay out existing records a sentence a line, once.

Records written before the layout of `records.sentences` hold each paragraph on one line.
Reading a record joins its lines and writing it splits them again, so loading and writing
every record is the whole migration: the texts, and so the post, do not change, and the
hashes ignore line breaks, so nothing is marked as edited.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import TYPE_CHECKING

from digest_cli.records.store import MANIFEST, day_dates, load_paper, write_paper
from digest_cli.records.writer import Writer

if TYPE_CHECKING:
    from digest_cli.settings import Settings

log = logging.getLogger(__name__)


def reflow_records(settings: Settings, days: list[date] | None, writer: Writer) -> int:
    """Rewrite every paper record of `days` (None: every day) in the sentence-a-line
    layout; returns how many files changed."""
    before = len(writer.changed)
    for day in days if days is not None else day_dates(settings):
        folder = settings.day_path(day)
        for path in sorted(folder.glob("*.yaml")):
            if path.name == MANIFEST:
                continue
            if write_paper(folder, load_paper(path), writer):
                log.info("reflowed %s", path)
    return len(writer.changed) - before
