"""`digest site serve`: the built site on localhost, under its base path, as Pages serves
it (`/REPO/x/` is `x/index.html`; anything outside the base path is 404, answered with
the site's 404.html)."""

from __future__ import annotations

import functools
import http.server
import logging
from pathlib import Path
from typing import Any

from digest_cli.site.build import SiteError, normal_base_path

log = logging.getLogger(__name__)


class _Handler(http.server.SimpleHTTPRequestHandler):
    base_path = ""

    def translate_path(self, path: str) -> str:
        clean = path.split("?", 1)[0].split("#", 1)[0]
        if self.base_path:
            if clean != self.base_path and not clean.startswith(self.base_path + "/"):
                return str(Path(self.directory) / ".digest-not-found")
            path = path[len(self.base_path):] or "/"
        return super().translate_path(path)

    def send_error(self, code: int, message: str | None = None,
                   explain: str | None = None) -> None:
        """A missing page gets the site's 404.html, as on Pages."""
        page = Path(self.directory) / "404.html"
        if code != 404 or not page.is_file():
            super().send_error(code, message, explain)
            return
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's
        log.debug("%s %s", self.address_string(), format % args)


def make_server(site: Path, base_path: str = "", host: str = "127.0.0.1",
                port: int = 0) -> http.server.ThreadingHTTPServer:
    """A server of `site` (not yet serving); port 0 picks a free port."""
    if not (site / "index.html").is_file():
        raise SiteError("no built site here: run `digest site build` first", path=site)
    handler = type("Handler", (_Handler,), {"base_path": normal_base_path(base_path)})
    return http.server.ThreadingHTTPServer(
        (host, port), functools.partial(handler, directory=str(site)))
