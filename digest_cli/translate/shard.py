"""A big day's LLM stage split into shards: `digest translate --shard K/N --out DIR` in
each of N processes (Actions jobs), then `digest shards merge` in one.

A shard is a fixed subset of the day's papers: paper P belongs to shard
`sha256(P's base id) mod N + 1`. The id alone decides, so every job, a re-run and the merge
agree without talking to each other, and a paper stays in its shard when a re-fetch adds
papers to the day. A shard runs the ordinary `translate_day` on its papers (editors' texts,
reviewed papers and the answer cache behave exactly as in a whole-day run) and packs what
it wrote into DIR:

    DIR/shard.json                          which shard, its papers, failures and usage
    DIR/records/<stem>.yaml                 the records of its papers that it changed
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

import hashlib
import json
import logging
import math
import os
import re
import shutil
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from digest_cli.errors import RecordError, TranslateError
from digest_cli.records.layout import paper_from_text
from digest_cli.records.model import ArxivId, Failure, MachineText, Paper, content_hash
from digest_cli.records.store import load_day, paper_path, write_paper
from digest_cli.records.writer import Writer, write_atomic
from digest_cli.translate import brief
from digest_cli.translate.day import (
    KINDS,
    Progress,
    TranslateReport,
    fields_to_do,
    problems_of,
    record_usage,
    translate_day,
)

if TYPE_CHECKING:
    from digest_cli.settings import Settings

log = logging.getLogger(__name__)

MAX_SHARDS = 64  # more jobs than this buys nothing against one API's rate limit
SHARD_FILE = "shard.json"
MAX_RECORD_BYTES = 1 << 20
MAX_ANSWER_BYTES = 1 << 20
MAX_REASON = 300  # characters of a failure reason taken from a shard
_QUESTIONS = (*KINDS, brief.KIND)
_ANSWER_NAME = re.compile(r"[0-9a-f]{20}\.json")
_VERSIONED = re.compile(r"(?P<stem>.+)v(?P<version>\d{1,4})")
_SUMMED = ("calls", "input_tokens", "output_tokens", "analysis_input_tokens",
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

    def holds(self, pid: ArxivId | str) -> bool:
        base = pid.base if isinstance(pid, ArxivId) else ArxivId.parse(pid).base
        return shard_of(base, self.count) == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def shard_of(base_id: str, count: int) -> int:
    """The shard (1..count) of a paper, from its base id alone: stable across runs."""
    digest = hashlib.sha256(base_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def partition(ids: Iterable[str], count: int) -> dict[int, list[str]]:
    """Each shard's papers, in the order given (every shard listed, empty ones too)."""
    shards: dict[int, list[str]] = {k: [] for k in range(1, count + 1)}
    for pid in ids:
        shards[shard_of(ArxivId.parse(pid).base, count)].append(pid)
    return shards


# -- one shard ---------------------------------------------------------------------------

def translate_shard(settings: Settings, day_date: date, shard: Shard, out: Path, *,
                    force: bool = False, on_progress: Progress | None = None,
                    translate: Callable[..., TranslateReport] = translate_day) -> TranslateReport:
    """Translate the papers of `shard` (as `translate_day` does) and pack into `out` the
    records and answers it wrote, for `merge_shards`."""
    folder = settings.day_path(day_date)
    mine = [p.id for p in load_day(settings, day_date).papers if shard.holds(p.id)]
    records = {pid.base: _bytes(paper_path(folder, pid)) for pid in mine}
    answers = _answer_files(settings.cache_path, mine)
    report = TranslateReport(day_date)
    try:
        report = translate(settings, day_date, force=force, on_progress=on_progress,
                           keep=lambda paper: shard.holds(paper.id))
    finally:  # a fatal error still packs what was written before it
        changed = [pid for pid in mine if _bytes(paper_path(folder, pid)) != records[pid.base]]
        new = {path for path, mtime in _answer_files(settings.cache_path, mine).items()
               if answers.get(path) != mtime}
        _pack(settings, day_date, shard, out, mine, changed, sorted(new), report)
    return report


def _bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _answer_files(cache: Path, ids: list[ArxivId]) -> dict[Path, int]:
    """The answer files of these papers under the cache, with their modification times."""
    found: dict[Path, int] = {}
    for kind in _QUESTIONS:
        for pid in ids:
            folder = cache / "llm" / kind / f"{pid.file_stem}v{pid.version or 0}"
            if folder.is_dir():
                found.update((p, p.stat().st_mtime_ns) for p in folder.glob("*.json"))
    return found


def _pack(settings: Settings, day_date: date, shard: Shard, out: Path, mine: list[ArxivId],
          changed: list[ArxivId], answers: list[Path], report: TranslateReport) -> None:
    if out.exists():
        shutil.rmtree(out)  # a re-run packs afresh: nothing of an older attempt stays
    (out / "records").mkdir(parents=True)
    folder = settings.day_path(day_date)
    for pid in changed:
        source = paper_path(folder, pid)
        shutil.copyfile(source, out / "records" / source.name)
    for path in answers:
        target = out / "cache" / path.relative_to(settings.cache_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    summary = {"day": day_date.isoformat(), "shard": str(shard),
               "papers": [pid.base for pid in mine], "failed": report.failed,
               "usage": {name: report.usage.get(name, 0) for name in _SUMMED}}
    write_atomic(out / SHARD_FILE, json.dumps(summary, ensure_ascii=False, indent=1))


# -- the merge ---------------------------------------------------------------------------

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
        lines += [f"missing: shard {name}: no results arrived (its job failed or was "
                  "cancelled); its papers are left as they were" for name in self.missing]
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
    report = MergeReport(day_date, count)
    taken: dict[int, _Packed] = {}
    for folder in folders:
        try:
            packed = _read_shard(folder, day_date, count, papers)
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
            _mark_unfinished(settings, day_date, Shard(index, count), papers, writer,
                             stamp, report)
    if report.usage.get("calls"):
        record_usage(settings, day_date, report.usage)
    return report


def _read_shard(folder: Path, day_date: date, count: int, papers: dict[str, Paper]) -> _Packed:
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
            paper = _record(path, rel, shard, papers)
            records[paper.id.base] = paper
        elif len(rel.parts) == 5 and rel.parts[:2] == ("cache", "llm"):
            answers[Path(*rel.parts[1:])] = _answer(path, rel, shard, papers)
        else:
            raise Refused(f"{rel}: not a record or a cached answer of a shard")
    return _Packed(shard, records, answers, _failed(summary, shard), _usage(summary))


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


def _own_paper(stem: str, rel: Path, shard: Shard, papers: dict[str, Paper]) -> Paper:
    paper = next((p for p in papers.values() if p.id.file_stem == stem), None)
    if paper is None:
        raise Refused(f"{rel}: not a paper of the day")
    if not shard.holds(paper.id):
        raise Refused(f"{rel}: {paper.id.base} belongs to shard "
                      f"{shard_of(paper.id.base, shard.count)}/{shard.count}, not {shard}")
    return paper


def _record(path: Path, rel: Path, shard: Shard, papers: dict[str, Paper]) -> Paper:
    if not rel.name.endswith(".yaml"):
        raise Refused(f"{rel}: not a record file")
    own = _own_paper(rel.name[:-len(".yaml")], rel, shard, papers)
    text = _text(path, rel, MAX_RECORD_BYTES)
    try:
        paper = paper_from_text(text, rel)
    except (RecordError, ValueError) as exc:
        raise Refused(f"{rel}: unreadable record ({exc})") from None
    if paper.id.base != own.id.base:
        raise Refused(f"{rel}: holds paper {paper.id.base}")
    return paper


def _answer(path: Path, rel: Path, shard: Shard, papers: dict[str, Paper]) -> bytes:
    _, _, kind, versioned, name = rel.parts
    match = _VERSIONED.fullmatch(versioned)
    if kind not in _QUESTIONS or not match or not _ANSWER_NAME.fullmatch(name):
        raise Refused(f"{rel}: not a cached answer's path")
    _own_paper(match.group("stem"), rel, shard, papers)
    data = _json(path, rel, MAX_ANSWER_BYTES)
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


def _failed(summary: dict[str, Any], shard: Shard) -> list[tuple[str, str, str]]:
    items = summary.get("failed", [])
    if not isinstance(items, list):
        raise Refused(f"{SHARD_FILE}: 'failed' is not a list")
    failed = []
    for item in items:
        if not (isinstance(item, list) and len(item) == 3
                and all(isinstance(x, str) for x in item)):
            raise Refused(f"{SHARD_FILE}: a failure is not [id, field, reason]")
        pid, name, reason = item
        try:
            ok = shard.holds(pid)
        except ValueError:
            ok = False
        if not ok:
            raise Refused(f"{SHARD_FILE}: failure of {pid[:40]!r}, not a paper of shard {shard}")
        failed.append((pid, name[:40], " ".join(reason.split())[:MAX_REASON]))
    return failed


def _usage(summary: dict[str, Any]) -> dict[str, float]:
    usage = summary.get("usage", {})
    if not isinstance(usage, dict):
        raise Refused(f"{SHARD_FILE}: 'usage' is not an object")
    clean: dict[str, float] = {}
    for name in _SUMMED:
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
        if _merge_texts(ours, theirs) and write_paper(folder, ours, writer):
            report.papers += 1
    for rel, data in sorted(packed.answers.items()):
        write_atomic(settings.cache_path / rel, data)
        report.answers += 1
    report.merged.append(str(packed.shard))
    report.failed += packed.failed
    for name, value in packed.usage.items():
        report.usage[name] = round(report.usage.get(name, 0) + value, 6)


def _merge_texts(ours: Paper, theirs: Paper) -> bool:
    """Copy into `ours` the machine's texts of `theirs` where `ours` is still the
    machine's to write; True when anything changed."""
    changed = False
    allowed = fields_to_do(ours, force=True)  # missing, or machine-written and untouched
    for name in allowed:
        text: MachineText | None = getattr(theirs, name)
        if text is None or not _machine_made(name, text, ours) or text == getattr(ours, name):
            continue
        setattr(ours, name, text)
        ours.failures = [f for f in ours.failures if f.field != name]
        changed = True
    for failure in theirs.failures:
        if failure.field in allowed and getattr(ours, failure.field) is None \
                and failure not in ours.failures:
            ours.failures = [f for f in ours.failures if f.field != failure.field]
            ours.failures.append(Failure(failure.field, failure.reason[:MAX_REASON], failure.at))
            changed = True
    return changed


def _machine_made(name: str, text: MachineText, paper: Paper) -> bool:
    """A text as translate writes it: machine provenance, its hash, and (for the texts
    with rules) an answer that passes them, as `digest check` would ask."""
    if text.source not in ("abstract", "full_text") or text.hash != content_hash(text.text):
        log.warning("[%s] %s from a shard is not machine-written; not taken", paper.id, name)
        return False
    if name in KINDS and problems_of(name, text.text, paper):
        log.warning("[%s] %s from a shard breaks the rules; not taken", paper.id, name)
        return False
    return True


def _mark_unfinished(settings: Settings, day_date: date, shard: Shard,
                     papers: dict[str, Paper], writer: Writer, stamp: str,
                     report: MergeReport) -> None:
    """The papers of a shard that never arrived: each text still to do is a failure."""
    report.missing.append(str(shard))
    reason = f"shard {shard} did not finish (its job failed or was cancelled); run the day again"
    for base, paper in sorted(papers.items()):
        todo = [name for name in fields_to_do(paper) if settings.llm_brief
                or name not in brief.FIELDS] if shard.holds(paper.id) else []
        if not todo:
            continue
        named = [name for name in todo if name in KINDS] or todo
        report.failed.append((base, ", ".join(named), reason))
        paper.failures = [f for f in paper.failures if f.field not in todo]
        paper.failures += [Failure(name, reason, stamp) for name in todo]
        write_paper(settings.day_path(day_date), paper, writer)
