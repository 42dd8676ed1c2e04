"""The parse cache: records parsed by earlier runs, checked against each file's contents.

A fresh clone gives every file a new mtime, so a cache keyed by mtimes would be cold on
every CI run; this one is keyed by a hash of the bytes (like git's blob ids), so a
`.digest-cache` restored from an earlier run is warm for every file that did not change,
and a file whose contents changed is always parsed again, whatever its mtime says.
Entries are keyed by day folder and file name, so a checkout in another folder (a CI
runner's) can use them.
"""

from __future__ import annotations

import functools
import hashlib
import marshal
import os
import sys
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any, TypeGuard, TypeVar

from digest_cli.errors import RecordError
from digest_cli.records.writer import write_atomic
from digest_cli.records.yamlio import parse_text

T = TypeVar("T")
SUFFIX = "marshal"  # of a shard's file name


class MissingRecord(RecordError):
    """No file where a record should be."""


def read_record(path: Path) -> tuple[bytes, str]:
    """The file's content hash and text; a missing or non-UTF-8 file names the file."""
    try:
        raw = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        raise MissingRecord("file not found", path=path) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RecordError(f"not UTF-8 text ({exc.reason})", path=path) from None
    return content_hash(raw), text


def content_hash(raw: bytes) -> bytes:
    """A 128-bit BLAKE2b of the bytes: collisions are out of reach, and it is fast."""
    return hashlib.blake2b(raw, digest_size=16).digest()


@functools.cache
def reader_version(version: int) -> tuple:
    """What a cached value depends on besides the file: our reader and the YAML libraries."""
    import ruamel.yaml

    try:
        import yaml
    except ImportError:
        yaml = None
    return (version, ruamel.yaml.__version__, getattr(yaml, "__version__", None),
            getattr(yaml, "__with_libyaml__", None), sys.version_info[:2], marshal.version)


class ParseCache:
    """Parsed records of earlier runs, keyed by file and content hash.

    One file per day folder under the git-ignored cache folder, loaded when a file of
    that day is first asked for, so reading one day does not load ten thousand records.
    Shards are `marshal` data: three times faster than pickle for plain values, and
    loading one runs no code (a pickle runs whatever a tampered cache holds); an entry of
    another shape is a miss. An entry that holds anything but plain values (a date an
    editor left unquoted) is not cached.
    A missing, unreadable or older-version shard is rebuilt; an entry is used only when
    the file's bytes hash to its key, and a shard only when it was made by the same
    readers (a new ruamel.yaml or PyYAML could read a file differently).
    """

    # 1 was one file keyed by mtime and size, 2 pickles; bump when yamlio reads differently
    VERSION = 3

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.shards: dict[str, dict[str, tuple[bytes, Any]]] = {}
        self.dirty: set[str] = set()
        self.migrated = False

    def _shard(self, day: str) -> dict[str, tuple[bytes, Any]]:
        shard = self.shards.get(day)
        if shard is None:
            shard = self.shards[day] = self._read_shard(day)
        return shard

    def _read_shard(self, day: str) -> dict[str, tuple[bytes, Any]]:
        if self.folder is None:
            return {}
        try:
            version, entries = marshal.loads((self.folder / f"{day}.{SUFFIX}").read_bytes())
            if version == reader_version(self.VERSION) and isinstance(entries, dict):
                return entries
        except Exception:  # missing or damaged: a cache is only ever a shortcut
            pass
        return {}

    def load(self, path: Path) -> Any:
        """The parsed contents of `path`, parsed again unless the cache holds these bytes."""
        digest, text = read_record(path)
        shard = self._shard(path.parent.name)
        hit = shard.get(path.name)
        if _matches(hit, digest):
            return hit[1]  # the *_from_dict readers copy what they keep
        data = parse_text(text, path)
        self.put(path, (digest, data))
        return data

    def put(self, path: Path, entry: tuple[bytes, Any]) -> None:
        """Remember `entry` (content hash, parsed data) for `path`."""
        self._shard(path.parent.name)[path.name] = entry
        self.dirty.add(path.parent.name)

    def fresh(self, path: Path) -> bool:
        """True when the cache holds `path` as it is on disk."""
        try:
            digest, _ = read_record(path)
        except RecordError:
            return False
        return _matches(self._shard(path.parent.name).get(path.name), digest)

    def forget(self) -> None:
        """Drop the shards in memory unsaved (read again from disk when next asked for)."""
        self.shards.clear()
        self.dirty.clear()

    def save(self) -> None:
        """Write the shards that changed; a failure loses only a shortcut."""
        if self.folder is None:
            return
        for day in sorted(self.dirty):
            data = _marshalled((reader_version(self.VERSION), self.shards[day]))
            try:
                write_atomic(self.folder / f"{day}.{SUFFIX}", data, durable=False)
            except OSError:  # a full disk: only a shortcut is lost (and no error is masked)
                return
        self.dirty.clear()
        if not self.migrated:  # versions 2 (a pickle a day) and 1 (one pickle): once a run
            self.migrated = True
            try:
                for old in (*self.folder.glob("*.pickle"), self.folder.parent / "records.pickle"):
                    old.unlink(missing_ok=True)
            except OSError:
                pass  # a read-only cache: they are ignored anyway


def _matches(hit: Any, digest: bytes) -> TypeGuard[tuple[bytes, Any]]:
    """True when a shard's entry is (content hash, data) for these bytes."""
    return type(hit) is tuple and len(hit) == 2 and hit[0] == digest


def _marshalled(shard: tuple[tuple, dict[str, tuple[bytes, Any]]]) -> bytes:
    """The shard as marshal data, without the entries marshal cannot hold."""
    try:
        return marshal.dumps(shard)
    except ValueError:
        version, entries = shard
        kept = {}
        for name, entry in entries.items():
            try:
                marshal.dumps(entry)
            except ValueError:
                continue
            kept[name] = entry
        return marshal.dumps((version, kept))


def pool_context():
    """fork where there is one: workers start at once, with the modules loaded."""
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else None)


def parse_cache(settings) -> ParseCache:
    """The parse cache of a site (`.digest-cache/records/DAY.marshal`)."""
    return ParseCache(settings.cache_path / "records")


POOL_MIN_DAYS = 40  # about 800 records: below this, forking costs more than it saves
CHUNKS_PER_WORKER = 4  # the caller works on the first chunks while workers read the rest
_JOB: tuple | None = None  # (fn, cache, days): set before the pool forks, read by workers


def map_days(fn: Callable[[Any, ParseCache], T], days: list, cache: ParseCache,
             workers: int | None = None) -> Generator[T, None, None]:
    """`fn(day, cache)` for each of `days`, in their order; on every core for many days.

    Each worker reads its own chunks of days (forked, it shares the loaded modules) and
    saves their cache shards itself, so no parsed record crosses between processes; only
    the results do, a chunk at a time, so the caller (which writes posts, in day order)
    works while the workers go on. Close the iterator to stop early.
    """
    global _JOB
    workers = min(workers or os.cpu_count() or 1, len(days))
    context = pool_context()
    if workers < 2 or len(days) < POOL_MIN_DAYS or context.get_start_method() != "fork":
        yield from (fn(day, cache) for day in days)
        return
    from concurrent.futures import ProcessPoolExecutor

    size = -(-len(days) // (workers * CHUNKS_PER_WORKER))
    spans = [(start, min(start + size, len(days))) for start in range(0, len(days), size)]
    # What this process parsed so far is saved now and inherited by the workers; each
    # worker saves every shard it touched, so this process must not write its older
    # copies of those shards over theirs afterwards (it forgets them).
    cache.save()
    pool = ProcessPoolExecutor(workers, mp_context=context)
    _JOB = (fn, cache, days)
    try:
        chunks = pool.map(_run_days, spans)  # with fork, the workers start here
        _JOB = None
        for chunk in chunks:
            yield from chunk
    finally:
        _JOB = None
        pool.shutdown(wait=True, cancel_futures=True)
        cache.forget()


def _run_days(span: tuple[int, int]) -> list:
    assert _JOB is not None  # set by map_days before the pool forks
    fn, cache, days = _JOB
    try:
        return [fn(day, cache) for day in days[span[0]:span[1]]]
    finally:
        cache.save()
