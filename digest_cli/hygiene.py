"""Text hygiene in one place: the characters that never reach a record, a post, the feed,
the pull request or a terminal, and values shortened before an error shows them.

Removed from arXiv's and the LLM's text at intake (`clean_text`), and from records as they
are read (`scrub`), so rendering, the site and the pull request never see them; reported
by `digest check` with their line and column (`faults`) where an editor wrote them:

- control characters other than newline and tab (C0, DEL, C1), and whole ANSI escape
  sequences (`ESC [ ... m` and the like): they make `feed.xml` ill-formed and can drive
  a terminal;
- bidi controls (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C): they reorder
  what a reader sees (a title spoofed);
- zero-width characters (U+200B-U+200D, U+2060, U+FEFF), except a zero-width joiner
  between two emoji (👩‍💻 is one picture).
"""

from __future__ import annotations

import re
import reprlib
import unicodedata
from typing import Any

_EMOJI = "[\u2190-\u21ff\u2300-\u23ff\u2600-\u27bf\u2b00-\u2bff\U0001f000-\U0001faff]"
_EMOJI_TAIL = "[\ufe0f\U0001f3fb-\U0001f3ff]?"  # a presentation selector or skin tone
_ANSI = "\x1b(?:\\[[0-?]*[ -/]*[@-~]|\\][^\x07\x1b]{0,512}(?:\x07|\x1b\\\\)?)"
_CONTROL = "\x00-\x08\x0b-\x1f\x7f-\x9f"  # newline (\x0a) and tab (\x09) kept
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_ZERO_WIDTH = "\u200b-\u200d\u2060\ufeff"
_BAD = f"[{_CONTROL}{_BIDI}{_ZERO_WIDTH}]"
# One pass: an emoji and its joiner are kept (group 1), any other match removed.
_UNSAFE = re.compile(f"({_EMOJI}{_EMOJI_TAIL}\u200d)(?={_EMOJI})|{_ANSI}|{_BAD}")
_ANY_BAD = re.compile(_BAD)  # the quick test: nearly every text has none


def scrub(text: str) -> str:
    """`text` without the characters above (a joiner inside an emoji sequence kept)."""
    if _ANY_BAD.search(text) is None:
        return text
    return _UNSAFE.sub(_kept, text)


def _kept(match: re.Match[str]) -> str:
    return match.group(1) or ""


def clean_text(text: str) -> str:
    """Normalise text before it is stored: `\\r\\n` -> `\\n`, U+2028 -> newline, and `scrub`."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n\n")
    return scrub(text)


def has_faults(text: str) -> bool:
    """True when `scrub` would change `text`."""
    return _ANY_BAD.search(text) is not None and scrub(text) != text


def faults(text: str, limit: int = 5) -> list[tuple[int, int, str]]:
    """(line, column, name) of the first `limit` characters `scrub` removes, 1-based."""
    found: list[tuple[int, int, str]] = []
    for match in _UNSAFE.finditer(text):
        if match.group(1) or len(found) >= limit:
            continue
        start = match.start()
        line = text.count("\n", 0, start) + 1
        column = start - (text.rfind("\n", 0, start) + 1) + 1
        found.append((line, column, char_name(match.group())))
    return found


def char_name(chars: str) -> str:
    """`U+202E RIGHT-TO-LEFT OVERRIDE`, or `an ANSI escape sequence`."""
    if len(chars) > 1:
        return "an ANSI escape sequence"
    return f"U+{ord(chars):04X} {unicodedata.name(chars, 'control character')}"


def for_terminal(text: str) -> str:
    """Text safe to print: `scrub`, and carriage returns out (they overwrite a line)."""
    return scrub(text.replace("\r", ""))


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother = 2, 60, 60
_SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxdict = _SHORT.maxset = 4


def short(value: Any) -> str:
    """A repr of bounded length and cost, for error messages: a value from a record may
    be 20,000 levels deep or share its parts a billion times over."""
    return for_terminal(_SHORT.repr(value))
