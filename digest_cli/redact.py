"""Credentials in URL settings (`https://user:pass@host/...`, `?key=...`): found, for
`Settings.secrets`, and masked, for `digest settings`; and a log filter that runs
`errors.scrub` (the one scrubber) over every log line.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl, urlsplit

from digest_cli.errors import URL_USERINFO, scrub

MASK = "***"
_QUERY_VALUE = re.compile(r"([?&][^=&#\s]+=)[^&#\s]+")


def mask_url(url: str) -> str:
    """`url` with its user:password and every query value replaced by ***."""
    return _QUERY_VALUE.sub(rf"\1{MASK}", URL_USERINFO.sub(rf"\1{MASK}@", url))


def url_secrets(url: str) -> list[str]:
    """The credentials a URL carries: user, password and query values."""
    try:
        parts = urlsplit(url.strip())
        found = [parts.username, parts.password]
    except ValueError:  # a malformed port: still scrub what looks like credentials
        parts, found = None, []
    found += [value for _, value in parse_qsl(parts.query if parts else "")]
    return [s for s in found if s and len(s) >= 3]


class ScrubFilter(logging.Filter):
    """Masks secrets in every log record that passes a handler (httpx logs full URLs)."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = scrub(message, self.secrets)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def scrub_logs(secrets: list[str]) -> None:
    """Install (once per secret set) a ScrubFilter on every handler of the root logger."""
    for handler in logging.getLogger().handlers:
        for old in [f for f in handler.filters if isinstance(f, ScrubFilter)]:
            handler.removeFilter(old)
        handler.addFilter(ScrubFilter(secrets))
