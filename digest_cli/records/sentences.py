"""A sentence a line: how long texts are laid out in the records.

The post keeps a paragraph (or a list item) on one line, as the old blog did. In a record
the same text is stored one sentence per line, so that a review comment or a suggested
change in a pull request covers one sentence, and the English abstract has the same shape
as its translation. Line breaks are layout, not text:

- `split_lines` (text -> record) breaks prose lines after a sentence end: Chinese 。！？；
  and English . ! ? followed by a space and a capital (not after e.g., Fig., et al., a
  single initial). A continuation line is indented to the item's text column.
- `join_lines` (record -> text) puts continuation lines back: no space where either side
  is a CJK character, one space between Latin words.

`join_lines(split_lines(t)) == t` for every text: a break is only made where the join puts
back exactly the characters it took out, and only before a line the join will join. Lines
that start a Markdown block (a list item, `1)` part line, heading, table, HTML, `$$`, a
fence) are never joined, nor lines after one that does not end a sentence (a hard break,
a soft break in the middle of a sentence: those are the text's own). Library splitters
(pysbd, syntok) work one language a call and change what they cannot place; our paragraphs
mix Chinese, English and TeX and must come back character for character, hence these few
rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# Characters set without spaces around them: CJK ideographs, kana, hangul, CJK and
# full-width punctuation, and the curly quotes Chinese text uses.
_WIDE = re.compile(
    "[\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\u201c\u201d\u2018\u2019\u2026"
    "\U00020000-\U0002fa1f]"
)
_CLOSERS = "”’」』）》】〉\"')]"
# Chinese sentence ends need no space after them; English ones need one.
_ZH_END = re.compile(f"[。！？；]+[{re.escape(_CLOSERS)}]*")
_EN_END = re.compile(f"(?<=[^\\s])[.!?]+[{re.escape(_CLOSERS)}]*(?=[ \\t]+\\S)")
_NEXT_STARTS = re.compile(r"[A-Z0-9(\"“‘'\u4e00-\u9fff]")
# Words a period follows without ending the sentence (compared lower-case, without the dot).
ABBREVIATIONS = frozenset("""
    e.g i.e cf vs etc al fig figs eq eqs sec secs tab ref refs no nos vol pp approx resp
    dr mr mrs ms prof st jr sr inc ltd co corp dept univ ch app alg def thm lem prop
    cor ex viz est mt jan feb mar apr jun jul aug sep sept oct nov dec
""".split()) - {"etc"}
_LAST_WORD = re.compile(r"(?<![A-Za-z'’])([A-Za-z][A-Za-z.]*)$")
# Spans never split inside: TeX, code, and Markdown links with their URLs.
_PROTECTED = re.compile(r"\$\$.+?\$\$|\$[^$\n]+?\$|(`+).+?\1|\[[^\]\n]*\]\([^)\n]*\)")

# A line that starts a Markdown block of its own: never joined to the line before.
_BLOCK_START = re.compile(
    r"[-+*](?:\s|$)|\d+[.)](?:\s|$)|#|>|\||<|\$\$|```|~~~|:|\[|\{|\^|!\[|={3,}|_{3,}|-{3,}"
)
# A line whose unit takes no continuation (a heading, a part line, HTML, a table row ...);
# the old blog's bare `2.` part line too, which ends like a sentence.
_NO_CONTINUATION = re.compile(r"#|<|\||\$\$|```|~~~|>|\d+[.)]\s*$|[-=*_](?:\s*[-=*_]){2,}\s*$")
_LIST_ITEM = re.compile(r"^([ \t]*(?:[-+*]|\d+[.)])[ \t]+)(?=\S)")
_FENCE = re.compile(r"^\s*(```|~~~)")
_RULE_CHARS = re.compile(r"[-=*_\s]*")  # all a thematic break (`- - -`) may hold
# First characters of a line that may indent it or start a block ("" too: a blank line).
_MAYBE_SPECIAL = frozenset(" \t#<|$`~>0123456789-=*_+:[{^!") | {""}


def is_wide(char: str) -> bool:
    """True for a character written without spaces around it (CJK text and punctuation)."""
    return bool(_WIDE.match(char))


def joiner(left: str, right: str) -> str:
    """What goes between two lines that are joined: nothing next to CJK, else a space."""
    return "" if is_wide(left[-1]) or is_wide(right[0]) else " "


def _content_column(line: str) -> int | None:
    """Where a continuation of `line` starts, or None when it takes no continuation."""
    if line[:1] not in _MAYBE_SPECIAL:  # plain text at the margin: most lines
        return 0
    stripped = line.lstrip(" ")
    if stripped[:2] == "- " and stripped[2:3].strip() and \
            (stripped[2] not in "-=*_" or not _RULE_CHARS.fullmatch(stripped)):
        return len(line) - len(stripped) + 2  # `- text`, the usual list item, at once
    return _slow_content_column(line, stripped)


def _slow_content_column(line: str, stripped: str) -> int | None:
    """The full rule (also the reference the tests compare the shortcut with)."""
    if not stripped.strip() or "\t" in line[: len(line) - len(stripped) + 1]:
        return None
    if _NO_CONTINUATION.match(stripped):
        return None
    item = _LIST_ITEM.match(line)
    return len(item.group(1)) if item else len(line) - len(stripped)


def _prose_lines(lines: list[str]) -> Iterator[tuple[str, bool]]:
    """Each line with a flag: False inside a fence or a `$$` block, where lines are kept."""
    fenced = math = False
    for line in lines:
        if _FENCE.match(line):
            fenced = not fenced
            yield line, False
            continue
        if not fenced and line.count("$$") % 2:
            math = not math
            yield line, False
            continue
        yield line, not (fenced or math)


_END_CHARS = frozenset("。！？；.!?")
_CLOSER_CHARS = frozenset(_CLOSERS)
# First characters after which `_BLOCK_START` cannot match: most lines need no regex.
_MAYBE_BLOCK = frozenset("-+*0123456789#>|<$`~:[{^!=_")


def _ends_sentence(line: str) -> bool:
    """True when `line` ends a sentence (closing quotes and brackets may follow)."""
    end = len(line) - 1
    while end >= 0 and line[end] in _CLOSER_CHARS:
        end -= 1
    return end >= 0 and line[end] in _END_CHARS


def join_lines(text: str) -> str:
    """A record's text as the post shows it: continuation lines joined to their line.

    Only a line that ends a sentence is continued: other line breaks (a soft break, a
    hostile `key: value` line) are the text's own and are kept."""
    if "\n" not in text:
        return text
    lines = text.split("\n")
    special = "```" in text or "~~~" in text or "$$" in text
    flags = [p for _, p in _prose_lines(lines)] if special else None
    out: list[str] = []
    head = ""  # the last line appended, which a continuation joins ...
    head_prose = False
    column: int | None = -1  # ... at its content column (-1: not asked yet)
    for n, line in enumerate(lines):
        prose = flags[n] if flags is not None else True
        # A continuation starts with exactly `column` spaces, then its text: its indent is
        # found first, and the head's column asked only of a line that could continue it
        # (a list item's next line starts a block: most heads never need their column).
        indent = 0 if line[:1] != " " else len(line) - len(line.lstrip(" "))
        first = line[indent:indent + 1]
        # (`- `, the usual list item, starts a block: known without the pattern.)
        block = first in _MAYBE_BLOCK and (line.startswith("- ", indent)
                                           or _BLOCK_START.match(line, indent) is not None)
        if prose and head_prose and first.strip() and not block and _ends_sentence(out[-1]):
            if column == -1:
                column = _content_column(head)
            if column == indent:
                rest = line[indent:]
                # out[-1] ends a sentence: its last character is one of `_WIDE_END`'s.
                out[-1] += ("" if _WIDE_END[out[-1][-1]] or is_wide(rest[0]) else " ") + rest
                continue
        out.append(line)
        head, head_prose, column = line, prose, -1
    return "\n".join(out)


# Whether each character a sentence may end with is wide (`joiner` without a search).
_WIDE_END = {char: is_wide(char) for char in _END_CHARS | _CLOSER_CHARS}


def split_lines(text: str) -> str:
    """A text laid out for a record: each sentence of a prose line on a line of its own."""
    out: list[str] = []
    for line, prose in _prose_lines(text.split("\n")):
        column = _content_column(line) if prose else None
        if column is None:
            out.append(line)
            continue
        head, *rest = split_sentences(line[column:])
        laid = [line[:column] + head] + [" " * column + sentence for sentence in rest]
        # A piece may look different alone (an odd `$$` of two adjacent `$x$$y$`): a line
        # is only split when it joins back.
        out += laid if not rest or join_lines("\n".join(laid)) == line else [line]
    return "\n".join(out)


def paragraph_sentences(text: str) -> list[list[str]]:
    """The sentences of each paragraph of `text` (blank lines part them), as the record
    lays them out, a line each: what aligning a translation with its abstract counts."""
    paragraphs: list[list[str]] = [[]]
    for line in split_lines(join_lines(text.strip())).split("\n"):
        if line.strip():
            paragraphs[-1].append(line.strip())
        elif paragraphs[-1]:
            paragraphs.append([])
    return [p for p in paragraphs if p]


def split_sentences(text: str) -> list[str]:
    """`text` cut after each sentence end where joining the pieces gives `text` back."""
    protected = [m.span() for m in _PROTECTED.finditer(text)]
    pieces, start = [], 0
    for end, resume in _sentence_ends(text):
        if any(lo < end < hi for lo, hi in protected):
            continue
        left, right = text[start:end], text[resume:]
        if not left.strip() or not right or _BLOCK_START.match(right):
            continue
        if text[end:resume] != joiner(left, right):
            continue  # the join would not give these characters back
        pieces.append(left)
        start = resume
    pieces.append(text[start:])
    return pieces


def _sentence_ends(text: str) -> list[tuple[int, int]]:
    """(end of a sentence, start of the next) pairs, in order."""
    ends = []
    for match in _ZH_END.finditer(text):
        resume = match.end() + len(text[match.end():]) - len(text[match.end():].lstrip(" "))
        if resume < len(text):
            ends.append((match.end(), resume))
    for match in _EN_END.finditer(text):
        resume = match.end() + len(text[match.end():]) - len(text[match.end():].lstrip(" \t"))
        if _NEXT_STARTS.match(text, resume) and not _abbreviation(text, match):
            ends.append((match.end(), resume))
    return sorted(set(ends))


def _abbreviation(text: str, match: re.Match[str]) -> bool:
    """A period after `e.g`, `Fig`, `et al` or a single initial does not end a sentence."""
    if not match.group(0).startswith("."):
        return False
    word = _LAST_WORD.search(text, 0, match.start())
    if word is None:
        return False
    name = word.group(1).lower().rstrip(".")
    return name in ABBREVIATIONS or len(name) == 1 or "." in name
