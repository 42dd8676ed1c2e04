"""Cache entries that verify their payload on load: a damaged entry is a miss.

Every cache under `.digest-cache` (arXiv's answers, the LLM's answers, PDFs and the text
taken from them) writes its entries through `write_entry` and reads them through
`read_entry`. An entry is one file:

    digest-cache 1 <payload length> <BLAKE2b-128 of key and payload, hex>\\n<payload>

`read_entry` returns the payload only when the file is a regular file (no symbolic link,
FIFO or device), of at most the caller's bound, whose header is whole, whose length is
the payload's and whose hash is that of this key and these bytes; anything else (a
truncated or bit-flipped file, an entry copied under another key's name, a file of an
older version, a giant) is None: a miss, which the caller fetches or asks again.

What this guarantees: a cache never gives other bytes than the ones written for that
key, and never reads more than its bound. What it does not: someone who can write the
cache folder can write a valid entry; callers still check what they read as they would
a fresh answer (arXiv pages are parsed strictly, LLM answers validated, text cleaned).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from digest_cli.errors import DigestError
from digest_cli.records.writer import write_atomic
from digest_cli.records.yamlio import read_file

MAGIC = b"digest-cache 1 "
_HEADER_MAX = 80  # magic, a length, 32 hex digits and spaces


def _digest(key: str, payload: bytes) -> str:
    hasher = hashlib.blake2b(digest_size=16)
    hasher.update(key.encode("utf-8") + b"\0")
    hasher.update(payload)
    return hasher.hexdigest()


def seal(key: str, payload: bytes) -> bytes:
    """The file contents of an entry holding `payload` for `key`."""
    return MAGIC + f"{len(payload)} {_digest(key, payload)}\n".encode("ascii") + payload


def unseal(key: str, data: bytes, max_bytes: int) -> bytes | None:
    """The payload of an entry's file contents, or None unless it verifies."""
    head, newline, payload = data[:_HEADER_MAX].partition(b"\n")
    if not newline or not head.startswith(MAGIC):
        return None
    fields = head[len(MAGIC):].split(b" ")
    if len(fields) != 2 or not fields[0].isdigit():
        return None
    length = int(fields[0])
    payload = data[len(head) + 1:]
    if length > max_bytes or len(payload) != length:
        return None
    if fields[1].decode("ascii", "replace") != _digest(key, payload):
        return None
    return payload


def read_entry(path: Path, key: str, max_bytes: int) -> bytes | None:
    """The verified payload of the entry at `path` for `key`, or None (a miss)."""
    try:
        data = read_file(path, max_bytes + _HEADER_MAX)
    except (DigestError, OSError):  # missing, a link, a FIFO, too big: all a miss
        return None
    return unseal(key, data, max_bytes)


def write_entry(path: Path, key: str, payload: bytes) -> None:
    """Write the entry for `key` atomically (a cache: no fsync, it can be made again)."""
    write_atomic(path, seal(key, payload), durable=False)


def read_json(path: Path, key: str, max_bytes: int = 1 << 20) -> Any:
    """A verified JSON entry's value; None when it is missing, damaged or not JSON."""
    payload = read_entry(path, key, max_bytes)
    try:
        return json.loads(payload) if payload is not None else None
    except ValueError:  # verified bytes that are not JSON: written by something else
        return None


def write_json(path: Path, key: str, value: Any) -> None:
    """`write_entry` of `value` as JSON (non-ASCII kept as it is)."""
    write_entry(path, key, json.dumps(value, ensure_ascii=False, indent=1).encode("utf-8"))
