"""Shared machinery for the fake HTTP services used by the tests.

Every fake is a small :class:`http.server.ThreadingHTTPServer` bound to
``127.0.0.1`` on an ephemeral port and served from a daemon thread, so tests
never touch the network. Subclasses implement :meth:`FakeServer.handle`, which
turns a :class:`RecordedRequest` into a :class:`Response` (or a special
response: a delay, a dropped connection, a body cut short).

Only the standard library is used here.
"""

from __future__ import annotations

import json
import socket
import threading
import traceback
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["FakeServer", "RecordedRequest", "Response"]


@dataclass
class RecordedRequest:
    """One request as the fake received it.

    ``query`` maps each parameter to its last value (``parse_qs`` with blank
    values kept); ``query_lists`` keeps every value. ``headers`` has lower-case
    names. ``json`` is the decoded JSON body, or ``None`` when the body is empty
    or not JSON (``body`` always has the raw bytes).
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any = None
    body: bytes = b""
    query_lists: dict[str, list[str]] = field(default_factory=dict)
    raw_path: str = ""

    @property
    def json_error(self) -> bool:
        """True when a non-empty body could not be decoded as JSON."""
        return bool(self.body.strip()) and self.json is None

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    # Dict-style access, for tests that prefer ``req["path"]``.
    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default)


@dataclass
class Response:
    """What a fake answers.

    ``delay`` seconds are slept (interruptibly: ``stop()`` wakes the thread)
    before anything is sent. ``reset=True`` closes the connection without an
    answer. ``cut_after`` sends the status line, the headers (with the full
    ``Content-Length``) and only that many bytes of the body, then closes the
    connection, like a peer that dies mid-answer. ``trickle`` sends the status
    line, headers and body one byte every ``trickle`` seconds (a per-read timeout
    never fires; only a total deadline ends it).
    """

    status: int = 200
    body: bytes | str | Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    reset: bool = False
    cut_after: int | None = None
    trickle: float | None = None  # send the whole answer a byte at a time, this far apart

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: dict[str, str] | None = None,
             content_type: str = "application/json", **kw: Any) -> Response:
        h = {"Content-Type": content_type}
        h.update(headers or {})
        return cls(status=status, body=json.dumps(data, ensure_ascii=False).encode("utf-8"),
                   headers=h, **kw)

    def body_bytes(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        return json.dumps(self.body, ensure_ascii=False).encode("utf-8")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real services do
    server_version = "FakeServer/1.0"
    fake: FakeServer  # set on the per-server subclass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence
        pass

    def setup(self) -> None:
        super().setup()
        try:  # no Nagle: answers go out at once (avoids 40 ms delayed-ACK stalls)
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        self.fake._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.fake._track(self.connection, add=False)

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        qs = parse_qs(split.query, keep_blank_values=True)
        data: Any = None
        if body.strip():
            try:
                data = json.loads(body)
            except ValueError:
                data = None
        req = RecordedRequest(
            method=self.command,
            path=split.path,
            query={k: v[-1] for k, v in qs.items()},
            headers={k.lower(): v for k, v in self.headers.items()},
            json=data,
            body=body,
            query_lists=qs,
            raw_path=self.path,
        )
        self.fake._record(req)
        try:
            resp = self.fake.handle(req)
        except Exception:  # a bug in the fake: answer 500 and keep it visible
            tb = traceback.format_exc()
            self.fake.errors.append(tb)
            resp = Response(status=500, body=tb, headers={"Content-Type": "text/plain"})
        self._send(resp)

    def _send(self, resp: Response) -> None:
        if resp.delay and self.fake._sleep(resp.delay):
            # The server is stopping: drop the connection instead of answering.
            self._drop()
            return
        if resp.reset:
            self._drop()
            return
        body = resp.body_bytes()
        self.send_response(resp.status)
        headers = dict(resp.headers)
        headers.setdefault("Content-Type", "application/octet-stream")
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        if resp.cut_after is not None:
            self.send_header("Connection", "close")
        if resp.cut_after is not None:
            self.end_headers()
            self.wfile.write(body[: resp.cut_after])
            self.wfile.flush()
            self._drop()
            return
        # Status line, headers and body in one write.
        self._headers_buffer.append(b"\r\n")
        if self.command != "HEAD":
            self._headers_buffer.append(body)
        if resp.trickle is not None:
            self._trickle(b"".join(self._headers_buffer), resp.trickle)
            self._headers_buffer = []
            return
        self.flush_headers()

    def _trickle(self, data: bytes, pause: float) -> None:
        for i in range(len(data)):
            try:
                self.wfile.write(data[i:i + 1])
                self.wfile.flush()
            except OSError:  # the client gave up
                break
            if self.fake._sleep(pause):
                break
        self._drop()

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.wfile.flush()
        except OSError:
            pass
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _dispatch


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default listen backlog (5) drops connections when a client opens 8 at
    # once, and the kernel retries the dropped ones a second later: real services take it.
    request_queue_size = 128


class FakeServer:
    """Base class: start/stop, URL, request log, context manager."""

    host = "127.0.0.1"

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.errors: list[str] = []  # tracebacks of exceptions raised inside the fake
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._conns: set[socket.socket] = set()
        self.connections = 0  # TCP connections accepted: a client that reuses one opens few

    # -- lifecycle -----------------------------------------------------------
    def start(self) -> FakeServer:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        handler = type(f"{type(self).__name__}Handler", (_Handler,), {"fake": self})
        self._httpd = _HTTPServer((self.host, 0), handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01},
            name=f"{type(self).__name__}-server", daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()  # wakes handlers sleeping in a delay or a hang
        httpd.shutdown()
        httpd.server_close()
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError(f"{type(self).__name__} is not running")
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """Base URL, without a trailing slash: ``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    # -- request log ---------------------------------------------------------
    def _record(self, req: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(req)

    def requests_to(self, path_prefix: str, method: str | None = None) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests
                    if r.path.startswith(path_prefix) and (method is None or r.method == method)]

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    # -- helpers for subclasses ----------------------------------------------
    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            (self._conns.add if add else self._conns.discard)(conn)
            self.connections += add

    def _sleep(self, seconds: float) -> bool:
        """Sleep; return True if interrupted because the server is stopping."""
        return self._stopping.wait(seconds)

    def handle(self, req: RecordedRequest) -> Response:  # pragma: no cover - abstract
        raise NotImplementedError
