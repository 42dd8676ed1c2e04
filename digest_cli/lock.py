"""One run per repository: commands that write hold a lock on the site.

Two runs at once lose manifest updates and can set a post's `rendered` hash back to an
older render. The lock is an advisory `flock`, so the kernel drops it when its holder dies
(a killed run never blocks the next); the file names the holder's pid and command for the
one-line refusal. It lives in the user's temp folder, keyed by the repository's resolved
path, not in the repository: a run that changes nothing leaves every file untouched.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from digest_cli.errors import DigestError

log = logging.getLogger(__name__)


class LockHeld(DigestError):
    """Another run holds the repository's lock."""

    stage = "lock"


def _holder(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 4096).decode("utf-8", "replace").strip()
    return " ".join(text.split()) or "an unknown process"


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True


def lock_path(root: Path) -> Path:
    """The lock file of the repository at `root` (the same for every path to it)."""
    key = hashlib.sha256(str(root.resolve()).encode("utf-8")).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / f"digest-locks-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder / f"{key}.lock"


@contextmanager
def repo_lock(root: Path, command: str, wait: float = 0.0,
              poll: float = 0.2) -> Iterator[Path]:
    """Hold the lock of the repository at `root` while the block runs; LockHeld naming
    the holder when another live process has it after `wait` seconds."""
    path = lock_path(root)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                raise LockHeld(f"another digest run is working on this repository "
                               f"({_holder(fd)}); wait for it to finish", path=root)
            time.sleep(poll)
        previous = _holder(fd)
        if previous != "an unknown process":  # its holder died without unlocking
            log.info("took over the lock left by %s (no longer running)", previous)
        _stamp(fd, command)
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)  # released: the next run finds no holder to report
    finally:
        os.close(fd)  # closing drops the flock


def _stamp(fd: int, command: str) -> None:
    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    line = f"pid {os.getpid()}: {command} (since {started})\n"
    os.ftruncate(fd, 0)
    os.pwrite(fd, line.encode("utf-8"), 0)
