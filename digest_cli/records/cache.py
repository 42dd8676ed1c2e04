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
import os
import pickle
from pathlib import Path
from typing import Any

from digest_cli.errors import RecordError
from digest_cli.records.writer import write_atomic
from digest_cli.records.yamlio import parse_text

POOL_MIN_FILES = 1000  # below this a pool of processes costs more than it saves


def read_record(path: Path) -> tuple[bytes, str]:
    """The file's content hash and text; a missing or non-UTF-8 file names the file."""
    try:
        raw = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        raise RecordError("file not found", path=path) from None
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
            getattr(yaml, "__with_libyaml__", None))


class ParseCache:
    """Parsed records of earlier runs, keyed by file and content hash.

    One pickle per day folder under the git-ignored cache folder, loaded when a file of
    that day is first asked for, so reading one day does not load ten thousand records.
    A missing, unreadable or older-version shard is rebuilt; an entry is used only when
    the file's bytes hash to its key, and a shard only when it was made by the same
    readers (a new ruamel.yaml or PyYAML could read a file differently).
    """

    VERSION = 2  # 1 was one file keyed by mtime and size; bump when yamlio reads differently

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.shards: dict[str, dict[str, tuple[bytes, Any]]] = {}
        self.dirty: set[str] = set()

    def _shard(self, day: str) -> dict[str, tuple[bytes, Any]]:
        shard = self.shards.get(day)
        if shard is None:
            shard = self.shards[day] = self._read_shard(day)
        return shard

    def _read_shard(self, day: str) -> dict[str, tuple[bytes, Any]]:
        if self.folder is None:
            return {}
        try:
            with (self.folder / f"{day}.pickle").open("rb") as fh:
                version, entries = pickle.load(fh)
            return entries if version == reader_version(self.VERSION) else {}
        except Exception:  # missing or damaged: a cache is only ever a shortcut
            return {}

    def load(self, path: Path) -> Any:
        """The parsed contents of `path`, parsed again unless the cache holds these bytes."""
        digest, text = read_record(path)
        shard = self._shard(path.parent.name)
        hit = shard.get(path.name)
        if hit is not None and hit[0] == digest:
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
        hit = self._shard(path.parent.name).get(path.name)
        return hit is not None and hit[0] == digest

    def prefetch(self, paths: list[Path], workers: int | None = None) -> None:
        """Parse the uncached files among `paths` on every core: a cold bulk read is
        bound by YAML parsing, which is pure CPU."""
        workers = workers or os.cpu_count() or 1
        todo = [path for path in paths if not self.fresh(path)]
        if len(todo) < POOL_MIN_FILES or workers < 2:
            return  # a pool costs more than it saves
        for path, entry in parse_in_pool(todo, workers):
            self.put(path, entry)

    def save(self) -> None:
        """Write the shards that changed; a failure loses only a shortcut."""
        if self.folder is None:
            return
        for day in sorted(self.dirty):
            data = pickle.dumps((reader_version(self.VERSION), self.shards[day]), protocol=5)
            try:
                write_atomic(self.folder / f"{day}.pickle", data, durable=False)
            except OSError:  # a full disk: only a shortcut is lost (and no error is masked)
                return
        self.dirty.clear()
        (self.folder.parent / "records.pickle").unlink(missing_ok=True)  # version 1's file


def parse_in_pool(paths: list[Path], workers: int) -> list[tuple[Path, tuple]]:
    """(path, (hash, data)) for each file that parses; errors are left to `load`, which
    raises them with their file name."""
    from concurrent.futures import ProcessPoolExecutor

    chunks = [paths[n::workers] for n in range(workers)]
    out = []
    with ProcessPoolExecutor(workers, mp_context=pool_context()) as pool:
        for chunk, results in zip(chunks, pool.map(_parse_chunk, chunks), strict=True):
            out += [(path, entry) for path, entry in zip(chunk, results, strict=True)
                    if entry is not None]
    return out


def pool_context():
    """fork where there is one: workers start at once, with the modules loaded."""
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else None)


def _parse_chunk(paths: list[Path]) -> list[tuple[bytes, Any] | None]:
    out: list[tuple[bytes, Any] | None] = []
    for path in paths:
        try:
            digest, text = read_record(path)
            out.append((digest, parse_text(text, path)))
        except RecordError:
            out.append(None)
    return out


def parse_cache(settings) -> ParseCache:
    """The parse cache of a site (`.digest-cache/records/DAY.pickle`)."""
    return ParseCache(settings.cache_path / "records")


POOL_MIN_DAYS = 40  # about 800 records: below this, forking costs more than it saves
_JOB: tuple | None = None  # (fn, cache, days): set before the pool forks, read by workers


def map_days(fn, days: list, cache: ParseCache, workers: int | None = None) -> list:
    """`[fn(day, cache) for day in days]`, on every core for a long list of days.

    Each worker reads its own days (forked, it shares the loaded modules) and saves
    their cache shards itself, so no parsed record crosses between processes; only the
    results do, and they come back in the order of `days`.
    """
    global _JOB
    workers = min(workers or os.cpu_count() or 1, len(days))
    context = pool_context()
    if workers < 2 or len(days) < POOL_MIN_DAYS or context.get_start_method() != "fork":
        return [fn(day, cache) for day in days]
    from concurrent.futures import ProcessPoolExecutor

    _JOB = (fn, cache, days)
    try:
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            parts = list(pool.map(_run_days, [(n, workers) for n in range(workers)]))
    finally:
        _JOB = None
    results: list = [None] * len(days)
    for n, part in enumerate(parts):
        results[n::workers] = part
    return results


def _run_days(share: tuple[int, int]) -> list:
    assert _JOB is not None  # set by map_days before the pool forks
    fn, cache, days = _JOB
    start, step = share
    try:
        return [fn(day, cache) for day in days[start::step]]
    finally:
        cache.save()
