"""Secrets out of everything the tool writes or prints: keys, tokens, and credentials
embedded in URL settings (`https://user:pass@host/...`, `?key=...`).

Every secret is stripped before use (a key pasted with its line break is still the key),
so the value that is sent is the value that is scrubbed.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl, urlsplit

MASK = "***"
_USERINFO = re.compile(r"(\w+://)[^/@\s]+@")
_QUERY_VALUE = re.compile(r"([?&][^=&#\s]+=)[^&#\s]+")


def mask_url(url: str) -> str:
    """`url` with its user:password and every query value replaced by ***."""
    return _QUERY_VALUE.sub(rf"\1{MASK}", _USERINFO.sub(rf"\1{MASK}@", url))


def url_secrets(url: str) -> list[str]:
    """The credentials a URL carries: user, password and query values."""
    try:
        parts = urlsplit(url.strip())
        found = [parts.username, parts.password]
    except ValueError:  # a malformed port: still scrub what looks like credentials
        parts, found = None, []
    found += [value for _, value in parse_qsl(parts.query if parts else "")]
    return [s for s in found if s and len(s) >= 3]


def settings_secrets(settings) -> list[str]:
    """Every secret the settings hold: keys, tokens, and credentials in URL settings."""
    found = [settings.llm_api_key, settings.github_token]
    for name in ("llm_base_url", "arxiv_api_url", "github_api_url", "pdf_url_template"):
        found += url_secrets(getattr(settings, name))
    return sorted({s.strip() for s in found if s and s.strip()}, key=len, reverse=True)


def scrub(text: str, secrets: list[str]) -> str:
    """`text` with the user:password of URLs and each of `secrets` masked."""
    text = _USERINFO.sub(rf"\1{MASK}@", text)
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


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
