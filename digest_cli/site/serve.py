"""`digest site serve`: the built site on localhost, under its base path, as Pages serves
it (`/REPO/x/` is `x/index.html`; anything outside the base path is 404)."""

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
