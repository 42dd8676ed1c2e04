"""HTTP requests with a total deadline and a size cap (arXiv, PDFs, the LLM, GitHub).

The project's one HTTP library is httpx2: the maintained continuation of httpx, and the
one the openai SDK is built on (so the lock holds a single HTTP stack for our own use).

A client's timeout is per read: a server that sends one byte a second never trips it, and
a fetch would hang forever. Here each request runs under `asyncio.wait_for`, which ends
it whatever the server does, and its body is counted as it arrives, so a 30 MB answer is
refused before it is held in memory.

Synchronous callers (arXiv, GitHub) hold one `Session` per service for a run: one client,
its connections reused, driven by an event loop of its own. `request()` is the one-off
form (a PDF, a doctor's probe). Neither may be called inside a running event loop (the
translate stage calls the PDF download through `asyncio.to_thread`). SDK clients that read
the body themselves (openai) get `capped_transport()`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx2

MB = 1 << 20
HTTPError = httpx2.HTTPError  # the base of every failure below, for callers' `except`
TimedOut = httpx2.TimeoutException  # a phase's timeout, or DeadlineExceeded
TransportError = httpx2.TransportError  # no (whole) answer: worth asking again


class DeadlineExceeded(httpx2.TimeoutException):
    """The whole request (connect, wait, read) took longer than its deadline."""


class TooLarge(httpx2.TransportError):
    """The answer is larger than the cap for its kind."""


@dataclass
class Reply:
    """A complete answer: status, headers and the whole body."""

    status_code: int
    headers: httpx2.Headers
    content: bytes
    url: str

    def json(self) -> Any:
        """The body as JSON; ValueError when it is not."""
        return json.loads(self.content)


def _cap(declared: str | None, limit: int, url: str) -> None:
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"{url} announced {int(declared) / MB:.1f} MB, more than the "
                       f"{limit / MB:g} MB allowed")


async def _read(client: httpx2.AsyncClient, method: str, url: str, max_bytes: int,
                **kw: Any) -> Reply:
    async with client.stream(method, url, **kw) as resp:
        _cap(resp.headers.get("content-length"), max_bytes, url)
        body = bytearray()
        async for chunk in resp.aiter_bytes():  # decoded: a gzip bomb is counted too
            body += chunk
            if len(body) > max_bytes:
                raise TooLarge(f"{url} sent more than the {max_bytes / MB:g} MB allowed")
        return Reply(resp.status_code, resp.headers, bytes(body), str(resp.url))


async def bounded(client: httpx2.AsyncClient, method: str, url: str, *, deadline: float,
                  max_bytes: int, **kw: Any) -> Reply:
    """One request on `client`, ended after `deadline` seconds in all; DeadlineExceeded
    or TooLarge."""
    try:
        return await asyncio.wait_for(_read(client, method, url, max_bytes, **kw), deadline)
    except asyncio.TimeoutError:
        raise DeadlineExceeded(f"no complete answer from {url} within {deadline:g} s"
                               ) from None


class Session:
    """One service's HTTP client for a run: its connections are reused, and every request
    has the total `deadline` and the `max_bytes` cap. Closed by `close()` (or `with`);
    a closed session opens again on its next request."""

    def __init__(self, *, deadline: float, max_bytes: int, follow_redirects: bool = True,
                 headers: dict[str, str] | None = None) -> None:
        self.deadline, self.max_bytes = deadline, max_bytes
        self._options: dict[str, Any] = {"follow_redirects": follow_redirects,
                                         "headers": headers or {}}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: httpx2.AsyncClient | None = None

    def request(self, method: str, url: str, **kw: Any) -> Reply:
        """One complete answer (`kw` as httpx2's: params, json, headers...)."""
        if self._loop is None or self._client is None:
            self._loop = asyncio.new_event_loop()
            # The client's own timeout bounds each phase; `bounded` bounds the whole.
            self._client = httpx2.AsyncClient(timeout=httpx2.Timeout(self.deadline),
                                              **self._options)
        return self._loop.run_until_complete(bounded(
            self._client, method, url, deadline=self.deadline, max_bytes=self.max_bytes, **kw))

    def get(self, url: str, **kw: Any) -> Reply:
        return self.request("GET", url, **kw)

    def close(self) -> None:
        """Close the connections and the event loop."""
        loop, client = self._loop, self._client
        self._loop = self._client = None
        if loop is not None:
            try:
                if client is not None:
                    loop.run_until_complete(client.aclose())
            finally:
                loop.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def request(method: str, url: str, *, deadline: float, max_bytes: int,
            follow_redirects: bool = True, **kw: Any) -> Reply:
    """One request in a session of its own (not inside a running event loop)."""
    with Session(deadline=deadline, max_bytes=max_bytes,
                 follow_redirects=follow_redirects) as session:
        return session.request(method, url, **kw)


class _CappedStream(httpx2.AsyncByteStream):
    def __init__(self, inner: httpx2.AsyncByteStream, url: str, limit: int) -> None:
        self.inner, self.url, self.limit = inner, url, limit

    async def __aiter__(self) -> AsyncIterator[bytes]:
        seen = 0
        async for chunk in self.inner:
            seen += len(chunk)
            if seen > self.limit:
                raise TooLarge(f"{self.url} sent more than the {self.limit / MB:g} MB allowed")
            yield chunk

    async def aclose(self) -> None:
        await self.inner.aclose()


class _CappedTransport(httpx2.AsyncBaseTransport):
    def __init__(self, limit: int) -> None:
        self.inner, self.limit = httpx2.AsyncHTTPTransport(), limit

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self.inner.handle_async_request(request)
        url = str(request.url.copy_with(query=None))
        _cap(response.headers.get("content-length"), self.limit, url)
        if isinstance(response.stream, httpx2.AsyncByteStream):  # always, from this transport
            response.stream = _CappedStream(response.stream, url, self.limit)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def capped_transport(limit: int) -> httpx2.AsyncBaseTransport:
    """An async transport whose answers are capped at `limit` bytes, for SDK clients that
    read the body themselves (`openai.DefaultAsyncHttpxClient(transport=...)`). Past the
    cap, reading raises TooLarge."""
    return _CappedTransport(limit)
