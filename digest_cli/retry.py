"""How long a server asked us to wait: shared by the arXiv, LLM and GitHub clients."""

from __future__ import annotations

import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime


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
