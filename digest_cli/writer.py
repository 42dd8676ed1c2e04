"""The one place that writes files: atomically, and only when the bytes change.

Like Pelican's Writer, it remembers what it changed in a run; that list feeds "commit only
if something changed" and the summary a command prints.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write a temp file beside `path`, fsync it, then rename: a kill leaves old or new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Writer:
    """Writes files atomically and reports which ones changed."""

    def __init__(self) -> None:
        self.changed: list[Path] = []
        self.unchanged: list[Path] = []

    def write(self, path: Path, data: str) -> bool:
        """Write `data` to `path` unless it already holds exactly that; True if it changed."""
        raw = data.encode("utf-8")
        if path.is_file() and path.read_bytes() == raw:
            self.unchanged.append(path)
            return False
        write_atomic(path, raw)
        self.changed.append(path)
        return True
