"""Errors that say what happened: which paper, which file and line, which stage.

The CLI turns every `DigestError` into one line on stderr and exit status 1, and so an
OSError about a file (a full disk); anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any


class DigestError(Exception):
    """Base error. `str()` is the one line a user sees."""

    stage: str | None = None

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        line: int | None = None,
        paper_id: str | None = None,
        stage: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line
        self.paper_id = paper_id
        if stage is not None:
            self.stage = stage

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep path, line, paper id and stage when the error crosses a process boundary.
        return _rebuild, (type(self), self.message, dict(self.__dict__))

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = str(self.path) + (f":{self.line}" if self.line else "") + ": "
        paper = f"[{self.paper_id}] " if self.paper_id else ""
        return f"{where}{paper}{self.message}"


def _rebuild(cls: type[DigestError], message: str, state: dict[str, Any]) -> DigestError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class SettingsError(DigestError):
    """A setting is missing or has a wrong value."""

    stage = "settings"


class RecordError(DigestError):
    """A record or manifest under data/ cannot be read or is invalid."""

    stage = "records"


class ImportError_(DigestError):
    """A post cannot be parsed into records."""

    stage = "import"


class FetchError(DigestError):
    """The arXiv API could not be queried."""

    stage = "fetch"

    def __init__(self, message: str, *, url: str | None = None, status: int | None = None,
                 retries: int | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.url, self.status, self.retries = url, status, retries


class TranslateError(DigestError):
    """The LLM stage could not run (a missing key, an unreachable endpoint)."""

    stage = "translate"


class PublishError(DigestError):
    """Git or the GitHub API refused to publish."""

    stage = "publish"


# `scheme://user:password@`: the credentials part of a URL, wherever a URL is shown.
URL_USERINFO = re.compile(r"(\w+://)[^/@\s]+@")


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` without the given secrets and without credentials embedded in URLs
    (`https://user:token@host`): for every error message, log line or output that may show
    what a library said."""
    text = URL_USERINFO.sub(r"\1***@", text)
    # Stripped: a secret pasted with its line break is still the secret, the break is not.
    for secret in sorted({raw.strip() for raw in secrets if raw.strip()}, key=len,
                         reverse=True):
        text = text.replace(secret, "***")
    return text
