"""The one place that writes files: atomically, and only when the bytes change.

Like Pelican's Writer, it remembers what it changed in a run; that list feeds "commit only
if something changed" and the summary a command prints.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

_TEMP_PID = re.compile(r"\.p(\d+)\.[^.]+\.tmp$")


def _umask() -> int:
    mask = os.umask(0o022)  # read once, at import: os.umask is process-wide, not thread-safe
    os.umask(mask)
    return mask


# mkstemp makes 0600 files, which would hide posts and records from the web server and
# other users: written files get the usual mode under the umask (0644 under 022), also
# when an earlier version left them 0600.
FILE_MODE = 0o666 & ~_umask()


def write_atomic(path: Path, data: str | bytes, durable: bool = True) -> None:
    """Write a temp file beside `path`, then rename: a kill leaves the old file or the new.

    `durable` also fsyncs before the rename, so a power cut cannot leave an empty file;
    files that can be re-made from the records (posts, caches) skip it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.p{os.getpid()}.", suffix=".tmp",
                               dir=path.parent)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:  # a full disk, a read-only folder: name the file, not the fd
        Path(tmp).unlink(missing_ok=True)
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_stale_temps(path: Path, temps: list[str]) -> None:
    """Delete temp files that a killed write of `path` left behind (`.NAME.pPID.XXXX.tmp`);
    never one whose process is alive (another run, or this one, may be writing it).
    `temps`: the names `temp_names` found in its folder."""
    prefix = f".{path.name}."
    for name in temps:
        if not name.startswith(prefix) or len(name) < len(prefix) + len(".tmp"):
            continue  # another file's, or `.NAME.tmp`, which no write of ours makes
        owner = _TEMP_PID.search(name)
        if owner is None or not pid_alive(int(owner.group(1))):
            (path.parent / name).unlink(missing_ok=True)


def temp_names(folder: Path) -> list[str]:
    """The names in `folder` that may be temp files of `write_atomic` (`.*.tmp`)."""
    try:
        with os.scandir(folder) as entries:
            return [e.name for e in entries if e.name[:1] == "." and e.name.endswith(".tmp")]
    except OSError:  # no folder yet, or one we may not list: nothing to clean up
        return []


def pid_alive(pid: int) -> bool:
    """True when a process `pid` exists (perhaps owned by another user)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return pid > 0


class Writer:
    """Writes files atomically and reports which ones changed."""

    def __init__(self) -> None:
        self.changed: list[Path] = []
        self.unchanged: list[Path] = []
        # Each folder's temp files, listed once: a render writes 500 posts to one folder.
        self._temps: dict[Path, list[str]] = {}

    def write(self, path: Path, data: str, durable: bool = True) -> bool:
        """Write `data` to `path` unless it already holds exactly that; True if it changed.

        `durable=False` for derived files (posts, previews) that the records can re-make.
        """
        raw = data.encode("utf-8")
        temps = self._temps.get(path.parent)
        if temps is None:
            temps = self._temps[path.parent] = temp_names(path.parent)
        if temps:
            remove_stale_temps(path, temps)
        if path.is_file() and path.read_bytes() == raw:
            self.unchanged.append(path)
            return False
        write_atomic(path, raw, durable)
        self.changed.append(path)
        return True
