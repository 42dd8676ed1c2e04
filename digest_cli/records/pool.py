"""Reading many days on every core: `map_days`.

A cold `render --all` or `check --all` (a fresh checkout: every record parsed once) is
parsing-bound, and on two cores it is within its 3 s target at 10,000 records only with
both cores reading (docs/performance.md has the figures with and without the pool).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext

T = TypeVar("T")


def pool_context() -> BaseContext:
    """fork where there is one: workers start at once, with the modules loaded."""
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else None)


POOL_MIN_DAYS = 40  # about 800 records: below this, forking costs more than it saves
CHUNKS_PER_WORKER = 4  # the caller works on the first chunks while workers read the rest
_JOB: tuple[Any, Any] | None = None  # (fn, days): set before the pool forks, read by workers


def map_days(fn: Callable[[Any], T], days: list[Any], workers: int | None = None
             ) -> Generator[T, None, None]:
    """`fn(day)` for each of `days`, in their order; on every core for many days.

    Each worker reads its own chunks of days (forked, it shares the loaded modules); only
    the results cross between processes, a chunk at a time, so the caller (which writes
    posts, in day order) works while the workers go on. Close the iterator to stop early.
    """
    global _JOB
    workers = min(workers or os.cpu_count() or 1, len(days))
    context = pool_context()
    if workers < 2 or len(days) < POOL_MIN_DAYS or context.get_start_method() != "fork":
        yield from (fn(day) for day in days)
        return
    from concurrent.futures import ProcessPoolExecutor

    size = -(-len(days) // (workers * CHUNKS_PER_WORKER))
    spans = [(start, min(start + size, len(days))) for start in range(0, len(days), size)]
    pool = ProcessPoolExecutor(workers, mp_context=context)
    _JOB = (fn, days)
    try:
        chunks = pool.map(_run_days, spans)  # with fork, the workers start here
        _JOB = None
        for chunk in chunks:
            yield from chunk
    finally:
        _JOB = None
        pool.shutdown(wait=True, cancel_futures=True)


def _run_days(span: tuple[int, int]) -> list[Any]:
    assert _JOB is not None  # set by map_days before the pool forks
    fn, days = _JOB
    return [fn(day) for day in days[span[0]:span[1]]]
