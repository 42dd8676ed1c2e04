"""An async client for any OpenAI-compatible chat API, with the retries done here.

The SDK's own retries are off (`max_retries=0`) so that this module can honour
`Retry-After`, count what it spends, and lower the concurrency when the provider says
"too many requests": an AIMD limiter, like TCP's congestion window, halves the number of
requests in flight on a 429 and grows it back by one per `limit` successes.

Errors split in two: `CallFailed` (this request gave up; the paper gets a Failure and the
others go on) and `TranslateError` (no request can succeed: a bad key, an unknown model,
no quota; the run stops). Neither ever carries the API key.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import math
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from digest_cli.errors import TranslateError, scrub
from digest_cli.redact import mask_url
from digest_cli.retry import Backoff, Transient, aretry, retry_after

if TYPE_CHECKING:
    from digest_cli.settings import Settings

log = logging.getLogger(__name__)

MAX_WAIT = 120.0  # longest single pause, whatever a Retry-After header asks for
MAX_ANSWER_BYTES = 4 << 20  # a full answer is a few kB; megabytes are a broken proxy
_RETRY_STATUS = {408, 409, 429}  # plus every 5xx
_FATAL_STATUS = {401: "the API key was rejected", 403: "the API key may not use this model",
                 404: "unknown model or wrong base URL"}

Sleep = Callable[[float], Awaitable[Any]]


def approx_tokens(text: str) -> int:
    """A rough token count: one per CJK character, one per four other characters."""
    cjk = sum(1 for ch in text if "\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef")
    return cjk + math.ceil((len(text) - cjk) / 4)


class CallFailed(Exception):
    """One request gave up after its retries; `reason` is safe to store and show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Answer:
    """What the model said, and what it cost."""

    text: str
    finish_reason: str | None
    input_tokens: int
    output_tokens: int


@dataclass
class Usage:
    """Requests and tokens spent in one run, in total and per kind of text."""

    calls: int = 0
    retries: int = 0
    rate_limited: int = 0
    waits: list[float] = field(default_factory=list)
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, kind: str, answer: Answer) -> None:
        """Count one answered request."""
        row = self.by_kind.setdefault(kind, {"calls": 0, "input_tokens": 0, "output_tokens": 0})
        row["calls"] += 1
        row["input_tokens"] += answer.input_tokens
        row["output_tokens"] += answer.output_tokens

    def total(self, name: str) -> int:
        return sum(row[name] for row in self.by_kind.values())

    def cost(self, settings: Settings) -> float:
        """Estimated cost in the currency of the price settings."""
        return (self.total("input_tokens") * settings.price_input_per_mtok
                + self.total("output_tokens") * settings.price_output_per_mtok) / 1e6


class AdaptiveLimiter:
    """At most `limit` holders at once, served in priority order (lowest first, then in
    order of arrival); the limit halves on overload and creeps back up.

    Each waiter has its own future, and a freed slot wakes only the waiter it goes to:
    with a shared condition every acquire and release woke every waiter (quadratic: 800
    papers queued 3.9 million wake-ups). `grants` counts the hand-overs.

    A burst of 429s answers requests that all started under the same limit, so only the
    first of them halves it: each holder gets the limiter's epoch, and a decrease from an
    older epoch is ignored.
    """

    def __init__(self, ceiling: int) -> None:
        self.ceiling = max(1, ceiling)
        self.limit = float(self.ceiling)
        self.lowest = self.ceiling
        self.in_flight = 0
        self.epoch = 0
        self.grants = 0  # slots handed to a waiter: one per request at most
        self._loop: asyncio.AbstractEventLoop | None = None
        # a heap of (priority, arrival, future); arrivals are unique, futures never compared
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()

    @asynccontextmanager
    async def slot(self, priority: int = 0) -> AsyncIterator[int]:
        """Hold one slot; yields the epoch to pass to `overloaded`."""
        await self._acquire(priority)
        try:
            yield self.epoch
        finally:
            self.in_flight -= 1
            self._wake()

    async def _acquire(self, priority: int) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a client may serve several runs, each in its own loop:
            self._loop, self._waiting = loop, []  # the old loop's waiters are gone with it
        turn: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._waiting, (priority, next(self._arrivals), turn))
        self._wake()  # a free slot and nobody ahead: `turn` is done and await returns at once
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.in_flight -= 1  # granted, but cancelled before it ran: give it back
                self._wake()
            turn.cancel()  # still queued: `_wake` skips it
            raise

    def _wake(self) -> None:
        """Hand the free slots to the first waiters in line, counting them as holders."""
        while self._waiting and self.in_flight < int(self.limit):
            turn = heapq.heappop(self._waiting)[2]
            if turn.done():  # cancelled while it waited
                continue
            self.in_flight += 1
            self.grants += 1
            turn.set_result(None)

    def succeeded(self) -> None:
        """Additive increase: one more slot after about `limit` successes."""
        self.limit = min(float(self.ceiling), self.limit + 1.0 / self.limit)
        self._wake()

    def overloaded(self, epoch: int) -> None:
        """Multiplicative decrease, once per burst."""
        if epoch != self.epoch:
            return
        self.epoch += 1
        self.limit = max(1.0, self.limit / 2)
        self.lowest = min(self.lowest, int(self.limit))
        log.info("rate limited: at most %d LLM requests in flight now", int(self.limit))


class LLM:
    """Chat completions with retries, Retry-After, adaptive concurrency and usage counts."""

    def __init__(self, settings: Settings, *, sdk: Any = None, sleep: Sleep = asyncio.sleep,
                 rng: random.Random | None = None) -> None:
        self.settings = settings
        self.limiter = AdaptiveLimiter(settings.llm_concurrency)
        self.usage = Usage()
        self._sdk, self._own_sdk = sdk, sdk is None
        self._sleep = sleep
        # Half of each wait is random, so that the retries of a burst do not land together.
        self.backoff = Backoff(settings.llm_backoff, jitter=0.5, cap=MAX_WAIT,
                               rng=rng or random.Random())

    @classmethod
    def from_settings(cls, settings: Settings, **kw: Any) -> LLM:
        """A client for `settings`; TranslateError naming the variable when there is no key."""
        if not settings.llm_api_key:
            raise TranslateError(
                f"no LLM API key: set the environment variable {settings.llm_api_key_env} "
                "(the setting llm_api_key_env names the variable to read)")
        return cls(settings, **kw)

    def _client(self) -> Any:
        if self._sdk is None:
            import openai  # heavy: only when a request is made

            from digest_cli.bounded import capped_transport

            # The SDK's public way to take a transport: its own client class (httpx2,
            # the project's HTTP library too) with the SDK's defaults, capped in size.
            self._sdk = openai.AsyncOpenAI(
                base_url=self.settings.llm_base_url,
                api_key=self.settings.llm_api_key.strip(),  # a pasted line break breaks headers
                timeout=self.settings.llm_timeout, max_retries=0,
                http_client=openai.DefaultAsyncHttpxClient(
                    transport=capped_transport(MAX_ANSWER_BYTES)))
        return self._sdk

    async def aclose(self) -> None:
        """Close the HTTP connections of a client this object created."""
        if self._own_sdk and self._sdk is not None:
            await self._sdk.close()
            self._sdk = None

    async def complete(self, messages: list[dict[str, str]], model: str, kind: str,
                       priority: int = 0) -> Answer:
        """One answer, retried on 429, 5xx, timeouts and broken bodies. Lower `priority`
        goes first when requests queue (so papers finish in order, not all at the end)."""
        async def attempt() -> Answer:
            async with self.limiter.slot(priority) as epoch:
                completions = self._client().chat.completions  # imports outside the deadline
                try:  # a total deadline: the SDK's timeout is per read
                    answer = await asyncio.wait_for(self._ask(completions, messages, model),
                                                    self.settings.llm_timeout)
                except Exception as exc:  # sorted by _on_error: retry, give up or stop
                    raise self._on_error(exc, epoch) from None
            self.limiter.succeeded()
            self.usage.add(kind, answer)
            return answer

        def count(number: int, wait: float, exc: Transient) -> None:
            self.usage.retries += 1
            self.usage.waits.append(wait)

        try:
            return await aretry(attempt, retries=self.settings.llm_retries,
                                backoff=self.backoff, sleep=self._sleep, on_retry=count)
        except Transient as exc:
            last = exc.reason
        if last.startswith(("connection", "timed out")) and not self.usage.by_kind:
            # Nothing has got through in this run: the endpoint is down, wrong or hanging,
            # and every other paper would fail the same way (after hours of timeouts, in a
            # scheduled job).
            hint = "llm_base_url" + ("" if last.startswith("connection") else " or llm_timeout")
            raise TranslateError(f"{last}; no request has succeeded (is {hint} right?)")
        raise CallFailed(f"{last} (gave up after {self.settings.llm_retries} retries)")

    async def _ask(self, completions: Any, messages: list[dict[str, str]],
                   model: str) -> Answer:
        self.usage.calls += 1
        response = await completions.create(
            model=model, messages=messages, temperature=self.settings.llm_temperature)
        try:  # the SDK does not check the shape: a proxy's `{"error": ...}` with status 200
            choice = response.choices[0]
            text, finish = choice.message.content or "", choice.finish_reason
        except (AttributeError, IndexError, KeyError, TypeError):
            raise ValueError("no choices in the answer") from None
        if not isinstance(text, str):
            raise ValueError("the answer's content is not text")
        usage = getattr(response, "usage", None)
        return Answer(
            text=text, finish_reason=finish,
            input_tokens=_count(usage, "prompt_tokens") or approx_tokens(str(messages)),
            output_tokens=_count(usage, "completion_tokens") or approx_tokens(text))

    def _on_error(self, exc: Exception, epoch: int) -> Transient:
        """The `Transient` for a retryable error; raises the others."""
        import openai

        from digest_cli.bounded import TooLarge

        if isinstance(exc.__cause__, TooLarge):  # asking again would cost as much again
            raise CallFailed(f"answer refused: more than {MAX_ANSWER_BYTES >> 20} MB")
        if isinstance(exc, asyncio.TimeoutError):
            return Transient(f"timed out after {self.settings.llm_timeout:g} s")
        if isinstance(exc, openai.APIStatusError):
            return self._on_status(exc, epoch)
        if isinstance(exc, openai.APITimeoutError):
            return Transient(f"timed out after {self.settings.llm_timeout:g} s")
        if isinstance(exc, openai.APIConnectionError):
            return Transient(f"connection to {mask_url(self.settings.llm_base_url)} failed")
        if isinstance(exc, (ValueError, openai.APIResponseValidationError)):
            return Transient("malformed response body")
        raise exc

    def _on_status(self, exc: Any, epoch: int) -> Transient:
        status = exc.status_code
        code = _error_code(exc)
        reason = f"HTTP {status}" + (f" ({code})" if code else "")
        if status in _FATAL_STATUS or code == "insufficient_quota":
            what = _FATAL_STATUS.get(status, "the account has no quota left")
            raise TranslateError(f"{mask_url(self.settings.llm_base_url)}: {reason}: {what} "
                                 f"(the key comes from {self.settings.llm_api_key_env})")
        if status == 429:
            self.usage.rate_limited += 1
            self.limiter.overloaded(epoch)
            return Transient(reason, status, retry_after(exc.response.headers) or None)
        if status in _RETRY_STATUS or status >= 500:
            return Transient(reason, status)
        raise CallFailed(f"{reason}: {scrub(_error_message(exc), self.settings.secrets)}")



def _count(usage: Any, name: str) -> int | None:
    """A token count of the answer's `usage`, when it has a usable one."""
    value = getattr(usage, name, None)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _error_code(exc: Any) -> str | None:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("code"):
            return str(inner["code"])
    return getattr(exc, "code", None)


def _error_message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])[:300]
    return str(exc)[:300]
