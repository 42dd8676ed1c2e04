"""HTTP requests with a total deadline and a size cap (arXiv, PDFs, the LLM, GitHub).

A client's timeout is per read: a server that sends one byte a second never trips it, and
a fetch would hang forever. Here each request runs under `asyncio.wait_for`, which ends
it whatever the server does, and its body is counted as it arrives, so a 30 MB answer is
refused before it is held in memory. Synchronous callers get `request()`, which runs one
request in its own event loop (callers are never inside a running loop: the translate
stage calls the PDF download through `asyncio.to_thread`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import httpx

MB = 1 << 20


class DeadlineExceeded(httpx.TimeoutException):
    """The whole request (connect, wait, read) took longer than its deadline."""


class TooLarge(httpx.TransportError):
    """The answer is larger than the cap for its kind."""


@dataclass
class Reply:
    """A complete answer: status, headers and the whole body."""

    status_code: int
    headers: httpx.Headers
    content: bytes
    url: str

    def json(self) -> Any:
        """The body as JSON; ValueError when it is not."""
        return json.loads(self.content)


def _cap(declared: str | None, limit: int, url: str) -> None:
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"{url} announced {int(declared) / MB:.1f} MB, more than the "
                       f"{limit / MB:g} MB allowed")


async def _read(client: httpx.AsyncClient, method: str, url: str, max_bytes: int,
                **kw: Any) -> Reply:
    async with client.stream(method, url, **kw) as resp:
        _cap(resp.headers.get("content-length"), max_bytes, url)
        body = bytearray()
        async for chunk in resp.aiter_bytes():  # decoded: a gzip bomb is counted too
            body += chunk
            if len(body) > max_bytes:
                raise TooLarge(f"{url} sent more than the {max_bytes / MB:g} MB allowed")
        return Reply(resp.status_code, resp.headers, bytes(body), str(resp.url))


async def arequest(method: str, url: str, *, deadline: float, max_bytes: int,
                   follow_redirects: bool = True, **kw: Any) -> Reply:
    """One request, ended after `deadline` seconds in all; DeadlineExceeded or TooLarge."""
    timeout = httpx.Timeout(deadline)
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=follow_redirects) as client:
        try:
            return await asyncio.wait_for(_read(client, method, url, max_bytes, **kw),
                                          deadline)
        except asyncio.TimeoutError:
            raise DeadlineExceeded(f"no complete answer from {url} within {deadline:g} s"
                                   ) from None


def request(method: str, url: str, *, deadline: float, max_bytes: int, **kw: Any) -> Reply:
    """`arequest` for synchronous code (not to be called inside a running event loop)."""
    return asyncio.run(arequest(method, url, deadline=deadline, max_bytes=max_bytes, **kw))


def capped_transport(limit: int, http: ModuleType = httpx) -> Any:
    """An async transport of the HTTP package `http` (httpx, or httpx2 that newer openai
    SDKs are built on) whose answers are capped at `limit` bytes: for SDK clients that
    read the body themselves. Past the cap, reading raises TooLarge."""

    class CappedStream(http.AsyncByteStream):  # type: ignore[name-defined]
        def __init__(self, inner: Any, url: str) -> None:
            self.inner, self.url = inner, url

        async def __aiter__(self) -> AsyncIterator[bytes]:
            seen = 0
            async for chunk in self.inner:
                seen += len(chunk)
                if seen > limit:
                    raise TooLarge(f"{self.url} sent more than the {limit / MB:g} MB allowed")
                yield chunk

        async def aclose(self) -> None:
            await self.inner.aclose()

    class CappedTransport(http.AsyncBaseTransport):  # type: ignore[name-defined]
        def __init__(self) -> None:
            self.inner = http.AsyncHTTPTransport()

        async def handle_async_request(self, request: Any) -> Any:
            response = await self.inner.handle_async_request(request)
            url = str(request.url.copy_with(query=None))
            _cap(response.headers.get("content-length"), limit, url)
            response.stream = CappedStream(response.stream, url)
            return response

        async def aclose(self) -> None:
            await self.inner.aclose()

    return CappedTransport()
