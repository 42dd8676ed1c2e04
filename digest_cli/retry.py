"""Retrying a failed request, shared by the arXiv, LLM and GitHub clients: how long the
server asked us to wait (`retry_after`), how long to wait otherwise (`Backoff`), and the
loop (`retry`, `aretry`) with an injectable sleep, so tests never really wait."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

T = TypeVar("T")


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds from `retry-after-ms`, or `Retry-After` as seconds or an HTTP date; None when
    absent or unreadable. A date counts from the response's `Date` header when there is one
    (the server's clock), else from `now`."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = (headers.get("retry-after") or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        until = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    try:
        sent = parsedate_to_datetime(headers["date"]).timestamp()
    except (KeyError, TypeError, ValueError):
        sent = time.time() if now is None else now
    return max(0.0, until - sent)


class Transient(Exception):
    """A failed try worth repeating: why, the HTTP status if any, how long the server asked
    to wait (Retry-After, in seconds) if it did, and what came back (e.g. the response)."""

    def __init__(self, reason: str, status: int | None = None,
                 retry_after: float | None = None, answer: Any = None) -> None:
        super().__init__(reason)
        self.reason, self.status, self.retry_after, self.answer = (
            reason, status, retry_after, answer)
        self.retries = 0  # set when the retries ran out: how many were made


@dataclass
class Backoff:
    """How long to wait before retry number `attempt` (0 for the first).

    The server's Retry-After when it gave one: it knows when it will be ready. Otherwise
    exponential backoff, `base` x `factor`**attempt, of which the fraction `jitter` is
    random, so that clients failing together do not retry together. Never more than `cap`.
    """

    base: float
    factor: float = 2.0
    jitter: float = 0.0
    cap: float = 300.0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry `attempt`."""
        if retry_after is not None:
            return min(self.cap, retry_after)
        wait = self.base * self.factor ** attempt
        if self.jitter:
            wait *= 1 - self.jitter + self.jitter * self.rng.random()
        return min(self.cap, wait)


OnRetry = Callable[[int, float, Transient], None]


def retry(attempt: Callable[[], T], *, retries: int, backoff: Backoff,
          sleep: Callable[[float], object] = time.sleep, on_retry: OnRetry | None = None) -> T:
    """`attempt()`, called again after each `Transient` it raises, at most `retries` times;
    then the last `Transient` is raised with `.retries` set. `on_retry(attempt, wait, exc)`
    runs before each wait (to log, count, or raise instead)."""
    for number in itertools.count():
        try:
            return attempt()
        except Transient as exc:
            wait = _next_wait(number, exc, retries, backoff, on_retry)
        sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover


async def aretry(attempt: Callable[[], Awaitable[T]], *, retries: int, backoff: Backoff,
                 sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
                 on_retry: OnRetry | None = None) -> T:
    """`retry` for coroutines: the same rules, waiting with an awaitable `sleep`."""
    for number in itertools.count():
        try:
            return await attempt()
        except Transient as exc:
            wait = _next_wait(number, exc, retries, backoff, on_retry)
        await sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover


def _next_wait(number: int, exc: Transient, retries: int, backoff: Backoff,
               on_retry: OnRetry | None) -> float:
    if number >= retries:
        exc.retries = number
        raise exc
    wait = backoff.delay(number, exc.retry_after)
    if on_retry is not None:
        on_retry(number, wait, exc)
    return wait
