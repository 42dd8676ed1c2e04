"""Record files as the stages read them: bounded (`yamlio`: a regular file in the
repository, of bounded size and depth, no aliases), and without the characters that must
never publish (`hygiene.scrub`), remembering where they were for `digest check`
(`text_faults`), and its top-level keys (`read_keys`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from digest_cli.hygiene import faults, has_faults, scrub
from digest_cli.records.yamlio import parse_text, read_file, utf8_text

MANIFEST = "manifest.yaml"

# Where each record read in this process held characters `hygiene.scrub` removed: for
# `digest check`, which runs in the process (or pool worker) that read the day.
_FAULTS: dict[Path, list[tuple[int | None, str]]] = {}
_KEYS: dict[Path, list[str]] = {}  # and its top-level keys, for the same reason
# A backslash in a double-quoted scalar (which may span lines): an escape (\u202e) may
# spell a removed character, so the parsed values are scrubbed too.
_QUOTED_ESCAPE = re.compile(r'"[^"]*\\')


def load_record(path: Path) -> Any:
    """A record's parsed YAML, bounded (`yamlio`) and with `hygiene.scrub`'s characters
    taken out of every value."""
    raw = read_file(path)
    text = utf8_text(raw, path)
    found: list[tuple[int | None, str]] = [
        (line, f"line {line}, column {col}: {name}") for line, col, name in faults(text)
    ] if has_faults(text) else []
    # (The bytes read are the text's UTF-8, unless characters were taken out.)
    data = parse_text(scrub(text), path) if found else parse_text(text, path, utf8=raw)
    if _QUOTED_ESCAPE.search(text):
        data = _scrubbed(data, found)
    if found:
        _FAULTS[path] = found
    else:
        _FAULTS.pop(path, None)
    _KEYS[path] = [str(key) for key in data] if isinstance(data, dict) else []
    return data


def record_from_text(text: str, where: Path) -> Any:
    """The same for a record's YAML text read elsewhere (a git blob); `where` names it."""
    data = parse_text(scrub(text), where)
    return _scrubbed(data, []) if _QUOTED_ESCAPE.search(text) else data


def _scrubbed(value: Any, found: list[tuple[int | None, str]], where: str = "") -> Any:
    if isinstance(value, str):
        if has_faults(value):
            found += [(None, f"field {where or '?'}: {name}") for _, _, name in faults(value, 1)]
            return scrub(value)
        return value
    if isinstance(value, dict):
        return {k: _scrubbed(v, found, where or str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v, found, where) for v in value]
    return value


def text_faults(path: Path) -> list[tuple[int | None, str]]:
    """Where the record at `path`, when last read, held a control, bidi or zero-width
    character (taken out of what was read): (3, `line 3, column 9: U+202E ...`), or
    (None, `field title: ...`) for one written as a YAML escape."""
    return list(_FAULTS.get(path, []))


def read_keys(path: Path) -> list[str]:
    """The top-level keys of the record at `path` when it was last read, in file order:
    `digest check` compares them with the schema's (a misspelt `Translation:` reads as a
    missing translation), with no second read."""
    return list(_KEYS.get(path, []))
