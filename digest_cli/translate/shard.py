"""A big day's LLM stage split into shards: `digest translate --shard K/N --out DIR` in
each of N processes (Actions jobs), then `digest shards merge` (`translate.shard_merge`)
in one.

A shard is a fixed subset of the day's papers: the paper at position i (from 0) of the
day's manifest belongs to shard `i mod N + 1`. Every job, a re-run of a job and the merge
read the same manifest (the day fetched once, handed to them all), so they agree without
talking to each other, and each shard gets the same number of papers (give or take one;
a hash of the id would be stable across re-fetches too, but measured 17% over the mean
for 4 shards of 800 papers, and the slowest shard sets the day's wall time). A shard runs
the ordinary `translate_day` on its papers (editors' texts, reviewed papers and the answer
cache behave exactly as in a whole-day run) and packs what it wrote into DIR:

    DIR/shard.json                          which shard, its papers, failures and usage
    DIR/records/<stem>.yaml                 the records of its papers
    DIR/cache/llm/<kind>/<stem>v<N>/<h>.json  the answers it cached for them

The merge treats each DIR as untrusted (an artifact another job uploaded): a folder with
anything else in it (another path, a symlink, a paper of another shard or of no shard,
an unreadable record or answer) is refused as a whole and its papers are listed as failed.
From an accepted shard it takes, per paper, only the machine's texts (translation,
详细解读, brief) and their failures, and only into fields that are still the machine's in
the day's own record: an editor's text or a reviewed paper is never replaced. A shard that
did not arrive (its job killed or failed) leaves its papers as they were, listed as failed
with the reason; the day is still rendered and published.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from digest_cli import kinds
from digest_cli.errors import TranslateError
from digest_cli.records.model import ArxivId
from digest_cli.records.store import load_day, paper_path
from digest_cli.records.writer import write_atomic
from digest_cli.translate.day import Progress, translate_day
from digest_cli.translate.report import TranslateReport

if TYPE_CHECKING:
    from digest_cli.fetch.day import NoPost
    from digest_cli.settings import Settings

log = logging.getLogger(__name__)

MAX_SHARDS = 64  # more jobs than this buys nothing against one API's rate limit
SHARD_FILE = "shard.json"


def questions() -> tuple[str, ...]:
    """The answer cache's folders: one per registered text kind."""
    return tuple(kind.name for kind in kinds.kinds())


SUMMED = ("calls", "input_tokens", "output_tokens", "analysis_input_tokens",
           "brief_input_tokens", "brief_output_tokens", "cost", "wall_seconds")


@dataclass(frozen=True)
class Shard:
    """Shard `index` of `count` (1-based, as written: `2/4`)."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """`K/N` with 1 <= K <= N <= MAX_SHARDS; TranslateError otherwise."""
        match = re.fullmatch(r"\s*(\d{1,3})\s*/\s*(\d{1,3})\s*", text)
        if not match:
            raise TranslateError(f"--shard {text!r}: expected K/N, e.g. 2/4")
        index, count = int(match.group(1)), int(match.group(2))
        if not 1 <= count <= MAX_SHARDS:
            raise TranslateError(f"--shard {text}: N must be 1 to {MAX_SHARDS}")
        if not 1 <= index <= count:
            raise TranslateError(f"--shard {text}: K must be 1 to {count}")
        return cls(index, count)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def owners(ids: Iterable[str | ArxivId], count: int) -> dict[str, int]:
    """The shard (1..count) of each paper of a day, by base id: the papers in manifest
    order, dealt out in turn."""
    return {(pid if isinstance(pid, ArxivId) else ArxivId.parse(pid)).base: i % count + 1
            for i, pid in enumerate(ids)}


def partition(ids: Iterable[str], count: int) -> dict[int, list[str]]:
    """Each shard's papers, in manifest order (every shard listed, empty ones too)."""
    shards: dict[int, list[str]] = {k: [] for k in range(1, count + 1)}
    for base, index in owners(ids, count).items():
        shards[index].append(base)
    return shards


def prepare_day(settings: Settings, day_date: date, now: datetime,
                say: Callable[[str], None]) -> NoPost | None:
    """What every shard starts from: the day's branch brought back (editors' work on an
    open pull request) and the day fetched, once; the NoPost when arXiv was silent."""
    from digest_cli.fetch.day import NoPost, fetch_day, format_report
    from digest_cli.publish.branches import restore_day

    restored = restore_day(settings, day_date)
    if restored:
        say(f"restore: {len(restored)} files of the day taken from its branch")
    fetched = fetch_day(settings, day_date, now=now)
    if isinstance(fetched, NoPost):
        return fetched
    for line in format_report(fetched, settings):
        say(line)
    return None


# -- one shard ---------------------------------------------------------------------------

def translate_shard(settings: Settings, day_date: date, shard: Shard, out: Path, *,
                    force: bool = False,
                    on_progress: Progress | None = None) -> TranslateReport:
    """Translate the papers of `shard` (as `translate_day` does) and pack into `out` the
    records and cached answers of its papers, for `merge_shards`."""
    _check_out(settings, out)
    papers = load_day(settings, day_date).papers
    owner = owners([p.id for p in papers], shard.count)
    mine = [p.id for p in papers if owner[p.id.base] == shard.index]
    report = TranslateReport(day_date)
    try:
        report = translate_day(settings, day_date, force=force, on_progress=on_progress,
                               keep=lambda paper: owner[paper.id.base] == shard.index)
    finally:  # a fatal error still packs what was written before it
        # All of its papers, not only what this run changed: a re-run that found
        # everything done still hands the merge the texts of the run before.
        _pack(settings, day_date, shard, out, mine,
              sorted(_answer_files(settings.cache_path, mine)), report)
    return report


def _check_out(settings: Settings, out: Path) -> None:
    """`out` is emptied before packing: refuse anything but a new or empty folder or an
    earlier pack, and never one holding the site."""
    where = out.resolve()
    if settings.root.resolve().is_relative_to(where):
        raise TranslateError(f"--out {out}: holds the site; give a folder of its own")
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise TranslateError(f"--out {out}: not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / SHARD_FILE).is_file():
        raise TranslateError(f"--out {out}: not empty and not an earlier shard's folder")


def _answer_files(cache: Path, ids: list[ArxivId]) -> list[Path]:
    """The answer files of these papers under the cache."""
    found: list[Path] = []
    for kind in questions():
        for pid in ids:
            folder = cache / "llm" / kind / f"{pid.file_stem}v{pid.version or 0}"
            if folder.is_dir():
                found += folder.glob("*.json")
    return found


def _pack(settings: Settings, day_date: date, shard: Shard, out: Path, mine: list[ArxivId],
          answers: list[Path], report: TranslateReport) -> None:
    if out.exists():
        shutil.rmtree(out)  # a re-run packs afresh: nothing of an older attempt stays
    (out / "records").mkdir(parents=True)
    folder = settings.day_path(day_date)
    for pid in mine:
        source = paper_path(folder, pid)
        if source.is_file():
            shutil.copyfile(source, out / "records" / source.name)
    for path in answers:
        target = out / "cache" / path.relative_to(settings.cache_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    summary = {"day": day_date.isoformat(), "shard": str(shard),
               "papers": [pid.base for pid in mine], "failed": report.failed,
               "usage": {name: report.usage.get(name, 0) for name in SUMMED}}
    write_atomic(out / SHARD_FILE, json.dumps(summary, ensure_ascii=False, indent=1))
