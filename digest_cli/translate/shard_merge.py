"""`digest shards merge`: the folders packed by `translate_shard` taken into the day.

Each folder is untrusted (an artifact another job uploaded), and checked whole before
anything of it is used: `shard.json` names this day and a shard of N; every other entry is
a regular file at `records/<stem>.yaml` or `cache/llm/<kind>/<stem>v<N>/<20 hex>.json` of a
paper of the day that belongs to that shard, readable and within a size cap; no symlink,
no other path. A folder that fails one check is refused as a whole. What is taken is only
the machine's texts, and only where the day's record is still the machine's to write (see
`translate.shard`).
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import stat
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from digest_cli import kinds
from digest_cli.cachefile import read_json
from digest_cli.errors import RecordError, TranslateError
from digest_cli.records.layout import paper_from_text
from digest_cli.records.model import MachineText, Paper, failure_reason, machine_text_hash
from digest_cli.records.store import load_day, write_paper
from digest_cli.records.writer import Writer, write_atomic
from digest_cli.translate.day import fields_to_do
from digest_cli.translate.report import record_usage
from digest_cli.translate.shard import (
    MAX_SHARDS,
    SHARD_FILE,
    SUMMED,
    Shard,
    owners,
    questions,
)

if TYPE_CHECKING:
    from digest_cli.records.topics import Topics
    from digest_cli.settings import Settings

log = logging.getLogger(__name__)

MAX_RECORD_BYTES = 1 << 20
MAX_ANSWER_BYTES = 1 << 20
_ANSWER_NAME = re.compile(r"[0-9a-f]{20}\.json")
_VERSIONED = re.compile(r"(?P<stem>.+)v(?P<version>\d{1,4})")


class Refused(Exception):
    """A shard folder that is not what a shard packs: taken as a whole or not at all."""


@dataclass
class _Packed:
    """A shard folder that passed every check: what the merge may take from it."""

    shard: Shard
    records: dict[str, Paper]  # base id -> the shard's record
    answers: dict[Path, bytes]  # path under the cache folder -> contents
    failed: list[tuple[str, str, str]]
    usage: dict[str, float]


@dataclass
class MergeReport:
    """What `merge_shards` did: plain data for the CLI."""

    day: date
    count: int
    merged: list[str] = field(default_factory=list)  # shards taken, as K/N
    missing: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (folder, why)
    papers: int = 0  # records updated
    answers: int = 0
    failed: list[tuple[str, str, str]] = field(default_factory=list)
    usage: dict[str, float] = field(default_factory=dict)

    def summary_lines(self) -> list[str]:
        lines = [f"merge {self.day.isoformat()}: {len(self.merged)} of {self.count} shards "
                 f"merged, {self.papers} records updated, {self.answers} cached answers"]
        u = self.usage
        if u.get("calls"):
            lines.append(f"LLM: {int(u['calls'])} requests, {int(u['input_tokens']):,} tokens "
                         f"in, {int(u['output_tokens']):,} out, cost ≈ ${u['cost']:.4f}")
        why = "none arrived or was refused" if self.refused else \
            "none arrived (its job failed or was cancelled)"
        lines += [f"missing: shard {name}: no results taken, {why}; its papers are left as "
                  "they were" for name in self.missing]
        lines += [f"refused: {where}: {why}" for where, why in self.refused]
        lines += [f"failed: {pid} {name}: {reason}" for pid, name, reason in self.failed]
        return lines


def merge_shards(settings: Settings, day_date: date, count: int, folders: list[Path], *,
                 now: datetime | None = None) -> MergeReport:
    """Take the shard folders' records, answers and usage into the day (see the module
    docstring); the papers of missing or refused shards are marked failed."""
    if not 1 <= count <= MAX_SHARDS:
        raise TranslateError(f"--shards {count}: must be 1 to {MAX_SHARDS}")
    day = load_day(settings, day_date)
    papers = {p.id.base: p for p in day.papers}
    owner = owners(list(papers), count)
    by_stem = {p.id.file_stem: p for p in day.papers}
    report = MergeReport(day_date, count)
    taken: dict[int, _Packed] = {}
    for folder in folders:
        try:
            packed = _read_shard(folder, day_date, count, by_stem, owner)
            if packed.shard.index in taken:
                raise Refused(f"a second folder for shard {packed.shard}")
        except Refused as exc:
            report.refused.append((str(folder), str(exc)))
            log.warning("shard folder %s refused: %s", folder, exc)
            continue
        taken[packed.shard.index] = packed
    stamp = (now or datetime.now(timezone.utc)).isoformat(timespec="seconds")
    writer = Writer()
    for index in range(1, count + 1):
        if index in taken:
            _take(settings, day_date, taken[index], papers, writer, report)
        else:
            _mark_unfinished(settings, day_date, Shard(index, count), papers, owner, writer,
                             stamp, report)
    # As translate does: spending is added to the manifest only when a record changed,
    # so merging what a re-run learned nothing from commits nothing.
    if report.usage.get("calls") and writer.changed:
        record_usage(settings, day_date, report.usage)
    return report


def _read_shard(folder: Path, day_date: date, count: int, papers: dict[str, Paper],
                owner: dict[str, int]) -> _Packed:
    """Check every entry of a shard folder; Refused names the first that is wrong."""
    if folder.is_symlink() or not folder.is_dir():
        raise Refused("not a folder")
    summary = _summary(folder, day_date)
    shard = Shard.parse(str(summary["shard"]))
    if shard.count != count:
        raise Refused(f"{SHARD_FILE}: shard {shard}, not one of {count}")
    records: dict[str, Paper] = {}
    answers: dict[Path, bytes] = {}
    for path in _entries(folder):
        rel = path.relative_to(folder)
        if rel.parts == (SHARD_FILE,):
            continue
        if len(rel.parts) == 2 and rel.parts[0] == "records":
            paper = _record(path, rel, shard, papers, owner)
            records[paper.id.base] = paper
        elif len(rel.parts) == 5 and rel.parts[:2] == ("cache", "llm"):
            answers[Path(*rel.parts[1:])] = _answer(path, rel, shard, papers, owner)
        else:
            raise Refused(f"{rel}: not a record or a cached answer of a shard")
    return _Packed(shard, records, answers, _failed(summary, shard, owner), _usage(summary))


def _summary(folder: Path, day_date: date) -> dict[str, Any]:
    path = folder / SHARD_FILE
    data = _json(path, Path(SHARD_FILE))
    if not isinstance(data, dict):
        raise Refused(f"{SHARD_FILE}: not an object")
    if data.get("day") != day_date.isoformat():
        raise Refused(f"{SHARD_FILE}: not a shard of {day_date.isoformat()}")
    try:
        Shard.parse(str(data.get("shard")))
    except TranslateError as exc:
        raise Refused(f"{SHARD_FILE}: {exc}") from None
    return data


def _entries(folder: Path) -> list[Path]:
    """Every file below `folder`; Refused at the first symlink or special file."""
    found = []
    for top, dirs, files in os.walk(folder, followlinks=False):
        for name in sorted(dirs + files):
            path = Path(top) / name
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                raise Refused(f"{path.relative_to(folder)}: a symlink")
            if stat.S_ISREG(mode):
                found.append(path)
            elif not stat.S_ISDIR(mode):
                raise Refused(f"{path.relative_to(folder)}: not a regular file")
    return found


def _own_paper(stem: str, rel: Path, shard: Shard, papers: dict[str, Paper],
               owner: dict[str, int]) -> Paper:
    paper = papers.get(stem)  # keyed by file stem
    if paper is None:
        raise Refused(f"{rel}: not a paper of the day")
    if owner[paper.id.base] != shard.index:
        raise Refused(f"{rel}: {paper.id.base} belongs to shard "
                      f"{owner[paper.id.base]}/{shard.count}, not {shard}")
    return paper


def _record(path: Path, rel: Path, shard: Shard, papers: dict[str, Paper],
            owner: dict[str, int]) -> Paper:
    if not rel.name.endswith(".yaml"):
        raise Refused(f"{rel}: not a record file")
    own = _own_paper(rel.name[:-len(".yaml")], rel, shard, papers, owner)
    text = _text(path, rel, MAX_RECORD_BYTES)
    try:
        paper = paper_from_text(text, rel)
    except (RecordError, ValueError) as exc:
        raise Refused(f"{rel}: unreadable record ({exc})") from None
    if paper.id.base != own.id.base:
        raise Refused(f"{rel}: holds paper {paper.id.base}")
    return paper


def _answer(path: Path, rel: Path, shard: Shard, papers: dict[str, Paper],
            owner: dict[str, int]) -> bytes:
    _, _, kind, versioned, name = rel.parts
    match = _VERSIONED.fullmatch(versioned)
    if kind not in questions() or not match or not _ANSWER_NAME.fullmatch(name):
        raise Refused(f"{rel}: not a cached answer's path")
    _own_paper(match.group("stem"), rel, shard, papers, owner)
    if path.is_symlink() or not path.is_file():
        raise Refused(f"{rel}: not a regular file")
    # A verified entry (cachefile: its length and hash of key and bytes), as AnswerCache
    # keys it under cache/llm: anything else is refused, not left to be a miss later.
    data = read_json(path, f"{kind}/{versioned}/{name}", MAX_ANSWER_BYTES)
    if not (isinstance(data, dict) and isinstance(data.get("text"), str)):
        raise Refused(f"{rel}: not a cached answer")
    return path.read_bytes()


def _text(path: Path, rel: Path, limit: int) -> str:
    try:
        if path.lstat().st_size > limit:
            raise Refused(f"{rel}: larger than {limit // 1024} KiB")
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise Refused(f"{rel}: missing") from None
    except UnicodeDecodeError:
        raise Refused(f"{rel}: not UTF-8") from None


def _json(path: Path, rel: Path, limit: int = MAX_RECORD_BYTES) -> Any:
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise Refused(f"{rel}: not a regular file")
    try:
        return json.loads(_text(path, rel, limit))
    except ValueError:
        raise Refused(f"{rel}: not JSON") from None


def _failed(summary: dict[str, Any], shard: Shard,
            owner: dict[str, int]) -> list[tuple[str, str, str]]:
    items = summary.get("failed", [])
    if not isinstance(items, list):
        raise Refused(f"{SHARD_FILE}: 'failed' is not a list")
    failed = []
    for item in items:
        if not (isinstance(item, list) and len(item) == 3
                and all(isinstance(x, str) for x in item)):
            raise Refused(f"{SHARD_FILE}: a failure is not [id, field, reason]")
        pid, name, reason = item
        if owner.get(pid) != shard.index:
            raise Refused(f"{SHARD_FILE}: failure of {pid[:40]!r}, not a paper of shard {shard}")
        failed.append((pid, name[:40], failure_reason(reason)))
    return failed


def _usage(summary: dict[str, Any]) -> dict[str, float]:
    usage = summary.get("usage", {})
    if not isinstance(usage, dict):
        raise Refused(f"{SHARD_FILE}: 'usage' is not an object")
    clean: dict[str, float] = {}
    for name in SUMMED:
        value = usage.get(name, 0)
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value) or value < 0:
            raise Refused(f"{SHARD_FILE}: usage {name} is not a count")
        clean[name] = value
    return clean


def _take(settings: Settings, day_date: date, packed: _Packed, papers: dict[str, Paper],
          writer: Writer, report: MergeReport) -> None:
    """Write an accepted shard's machine texts, answers and usage into the day."""
    folder = settings.day_path(day_date)
    for base, theirs in sorted(packed.records.items()):
        ours = papers[base]
        if _merge_texts(ours, theirs, settings.topics) and write_paper(folder, ours, writer):
            report.papers += 1
    for rel, data in sorted(packed.answers.items()):
        write_atomic(settings.cache_path / rel, data)
        report.answers += 1
    report.merged.append(str(packed.shard))
    report.failed += packed.failed
    for name, value in packed.usage.items():
        report.usage[name] = round(report.usage.get(name, 0) + value, 6)


def _merge_texts(ours: Paper, theirs: Paper, topics: Topics) -> bool:
    """Copy into `ours` the machine's texts of `theirs` where `ours` is still the
    machine's to write; True when anything changed."""
    changed = False
    allowed = fields_to_do(ours, force=True)  # missing, or machine-written and untouched
    for name in allowed:
        text = kinds.get_text(theirs, name)
        if text is None or not _machine_made(name, text, ours, topics) \
                or text == kinds.get_text(ours, name):
            continue
        kinds.set_text(ours, name, text)
        ours.failures = [f for f in ours.failures if f.field != name]
        changed = True
    for failure in theirs.failures:
        if failure.field in allowed and kinds.get_text(ours, failure.field) is None:
            before = list(ours.failures)
            ours.failed(failure.field, failure.reason, (failure.at or "")[:40] or None)
            changed = changed or ours.failures != before
    return changed


def _machine_made(name: str, text: MachineText, paper: Paper, topics: Topics) -> bool:
    """A text as translate writes it: machine provenance, its hash, and (for the texts
    with rules) an answer that passes them, as `digest check` would ask."""
    if text.source not in ("abstract", "full_text") or text.hash != machine_text_hash(text.text):
        log.warning("[%s] %s from a shard is not machine-written; not taken", paper.id, name)
        return False
    if kinds.field(name).rules(text.text, paper, topics):
        log.warning("[%s] %s from a shard breaks the rules; not taken", paper.id, name)
        return False
    return True


def _mark_unfinished(settings: Settings, day_date: date, shard: Shard,
                     papers: dict[str, Paper], owner: dict[str, int], writer: Writer,
                     stamp: str, report: MergeReport) -> None:
    """The papers of a shard that never arrived: each text still to do is a failure."""
    report.missing.append(str(shard))
    reason = (f"shard {shard} did not finish (its job failed or was cancelled) or was "
              "refused; run the day again")
    for base, paper in sorted(papers.items()):
        todo = [name for name in fields_to_do(paper)
                if kinds.kind_of(name).enabled(settings)] if owner[base] == shard.index else []
        if not todo:
            continue
        named = [name for name in todo if kinds.kind_of(name).essential] or todo
        report.failed.append((base, ", ".join(named), reason))
        for name in todo:
            paper.failed(name, reason, stamp)
        write_paper(settings.day_path(day_date), paper, writer)
