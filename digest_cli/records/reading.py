"""Record files as the stages read them: bounded (`yamlio`: a regular file in the
repository, of bounded size and depth, no aliases), and without the characters that must
never publish (`hygiene.scrub`), remembering where they were for `digest check`
(`text_faults`); the top-level keys no reader takes (`unknown_keys`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from digest_cli.hygiene import faults, has_faults, scrub
from digest_cli.records.yamlio import parse_text, read_text

MANIFEST = "manifest.yaml"

# Where each record read in this process held characters `hygiene.scrub` removed: for
# `digest check`, which runs in the process (or pool worker) that read the day.
_FAULTS: dict[Path, list[tuple[int | None, str]]] = {}
# A backslash in a double-quoted scalar (which may span lines): an escape (\u202e) may
# spell a removed character, so the parsed values are scrubbed too.
_QUOTED_ESCAPE = re.compile(r'"[^"]*\\')


def load_record(path: Path) -> Any:
    """A record's parsed YAML, bounded (`yamlio`) and with `hygiene.scrub`'s characters
    taken out of every value."""
    text = read_text(path)
    found: list[tuple[int | None, str]] = [
        (line, f"line {line}, column {col}: {name}") for line, col, name in faults(text)
    ] if has_faults(text) else []
    data = parse_text(scrub(text) if found else text, path)
    if _QUOTED_ESCAPE.search(text):
        data = _scrubbed(data, found)
    if found:
        _FAULTS[path] = found
    else:
        _FAULTS.pop(path, None)
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


# The top-level keys the readers below take; any other is an editor's note or a misspelt
# key (`Translation:`), kept on writing (`_merge`) and reported by `unknown_keys`.
PAPER_KEYS = frozenset({
    "id", "version", "title", "authors", "categories", "abs_url", "pdf_url", "published",
    "updated", "comment", "journal_ref", "doi", "replacement", "reviewed", "abstract",
    "translation", "analysis", "failures", "title_zh", "summary", "topics", "arxiv_hashes",
    "arxiv_original"})
MANIFEST_KEYS = frozenset({"date", "window", "fetched", "shown", "papers", "left_out",
                           "usage", "rendered"})


def unknown_keys(path: Path) -> list[str]:
    """The top-level keys of the record (or manifest) at `path` that no reader takes, in
    file order: the reader ignores them, `digest check` names them."""
    data = load_record(path)
    known = MANIFEST_KEYS if path.name == MANIFEST else PAPER_KEYS
    return [str(key) for key in data if key not in known] if isinstance(data, dict) else []
