"""Rules an LLM answer must pass before it is stored, and the normalisation that fixes
the harmless faults (a preamble, a code fence, `## 1)` headings) without a new request.

Two layers, both plain functions of text so `digest check` can run them on stored texts:

- `normalise_translation` / `normalise_analysis`: rewrite what can be rewritten safely.
- `translation_problems` / `analysis_problems`: what is still wrong, one line per problem,
  phrased so it can go into a repair prompt and into a record's `failures`.

The 详细解读 layout is the old blog's: a `1)  ` line (digit, paren, two spaces), then
`- **小标题**：...` bullets (nested bullets and trailing two-space line breaks allowed),
a blank line, `2)  `, ..., three parts in order.
"""

from __future__ import annotations

import re
from typing import Any

from digest_cli.hygiene import clean_text
from digest_cli.records.sentences import paragraph_sentences
from digest_cli.translate.text_faults import (
    NOT_AN_ANSWER_MESSAGE,
    copied_instructions,
    is_not_an_answer,
    tag_problems,
    unbalanced_bold,
)

# -- shared pieces ----------------------------------------------------------------------

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")  # runs: counted by length
_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^\s{0,3}#{1,6}(\s|$)")
HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(\s[^<>]*)?/?>")
_MATH = re.compile(r"(?<!\\)\$([^$]+?)(?<!\\)\$")
DOLLAR = re.compile(r"(?<!\\)\$")
# Numbers a translation must keep: decimals (27.84) and percentages (15%).
# (One \d+ then either ending: the same matches as `\d+\.\d+|\d+(?=...)`, twice as fast.)
_KEPT_NUMBER = re.compile(r"\d+(?:\.\d+|(?=\s*[%％]))")
_PREAMBLES = [
    re.compile(r"^\s*\**(以下|下面|这)是[^。\n]{0,24}?(翻译|译文|解读|中文)[^。\n]{0,12}?[:：]\**\s*"),
    re.compile(r"^\s*\**(中文)?(翻译|译文|解读|摘要翻译)(如下)?\**[:：]\**\s*"),
    re.compile(r"^\s*\**(Chinese )?(translation|analysis)\**\s*[:：]\**\s*", re.IGNORECASE),
    re.compile(r"^\s*(好的|当然|没问题)[，,！!。][^\n]{0,40}?[:：。]\s*"),
]
# The post's own markers, and placeholders a model writes instead of an answer: stored,
# they would read as "no translation yet" on import, or reach readers.
_PLACEHOLDER = re.compile(r"待翻译|待补充|待填写|\b(TODO|TBD|PLACEHOLDER)\b|lorem ipsum",
                          re.IGNORECASE)
# Searching a long text case-blind is slow, so `_PLACEHOLDER` runs only where one of its
# words occurs; case-blind, these non-ASCII letters match ASCII ones (İ ı: i, ſ: s, K: k).
_PLACEHOLDER_CJK = ("待翻译", "待补充", "待填写")
_PLACEHOLDER_ASCII = ("todo", "tbd", "placeholder", "lorem ipsum")
ODD_CASE = "\u0130\u0131\u017f\u212a"  # looked for one by one: faster than a [class]
MIN_CJK_RATIO = 0.35  # the seed's most English-laden translation has 0.67
MIN_LENGTH_RATIO = 0.1  # Chinese runs about 0.3 characters per English one


def cjk_ratio(text: str) -> float:
    """Share of CJK characters (`CJK`) among them and Latin letters (0.0 for neither)."""
    raw = text.encode("utf-8", "surrogatepass")
    latin = len(raw.translate(None, _NOT_LATIN))
    # Counted in UTF-8, as bytes.translate and bytes.count run in C at memory speed: every
    # character U+4000..U+9FFF starts with a byte E4..E9 (a byte never found elsewhere);
    # E4 B7 is U+4DC0..U+4DFF, outside the ranges; U+3400..U+3FFF are E3 90..BF, and
    # U+F900..U+FAFF are EF A4..AB.
    cjk = len(raw.translate(None, _NOT_E4_E9)) - raw.count(b"\xe4\xb7")
    if b"\xe3" in raw:
        cjk += len(_CJK_E3.findall(raw))
    if b"\xef" in raw:
        cjk += len(_CJK_EF.findall(raw))
    return cjk / (cjk + latin) if cjk + latin else 0.0


_NOT_LATIN = bytes(b for b in range(256) if not chr(b).isascii() or not chr(b).isalpha())
_NOT_E4_E9 = bytes(b for b in range(256) if not 0xE4 <= b <= 0xE9)
_NOT_E5_E9 = bytes(b for b in range(256) if not 0xE5 <= b <= 0xE9)


def is_chinese(text: str) -> bool:
    """`cjk_ratio(text) >= MIN_CJK_RATIO`, mostly without counting every CJK character:
    characters U+5000..U+9FFF (UTF-8 lead bytes E5..E9, all within `CJK`) are some of
    them, and when these alone make the share, all of them do."""
    raw = text.encode("utf-8", "surrogatepass")
    latin = len(raw.translate(None, _NOT_LATIN))
    some = len(raw.translate(None, _NOT_E5_E9))
    if some and some / (some + latin) >= MIN_CJK_RATIO:
        return True  # a larger count only raises the share
    return cjk_ratio(text) >= MIN_CJK_RATIO
_CJK_E3 = re.compile(rb"\xe3[\x90-\xbf]")
_CJK_EF = re.compile(rb"\xef[\xa4-\xab]")


def strip_fences(text: str) -> str:
    """Drop Markdown code fence lines (```markdown ... ```), keeping what they wrap."""
    return "\n".join(line for line in text.split("\n") if not _FENCE.match(line))


def strip_preamble(text: str) -> str:
    """Drop a chatty lead-in such as `以下是翻译：` from the start of an answer."""
    text = text.lstrip()
    for pattern in _PREAMBLES:
        match = pattern.match(text)
        if match:
            return text[match.end():].lstrip()
    return text


def _has_fence(text: str) -> bool:
    return ("```" in text or "~~~" in text) and \
        any(_FENCE.match(line) for line in text.split("\n"))


def _has_heading(text: str) -> bool:
    return "#" in text and any(_HEADING.match(line) for line in text.split("\n"))


def has_any(text: str, words: tuple[str, ...], ascii_words: tuple[str, ...]) -> bool:
    """True when `text` may match a case-blind pattern made of `words` (as written) and
    `ascii_words` (lower case): the cheap test before a slow search."""
    # (A word's first character is found much faster than the word: most texts lack it.)
    if any(word[0] in text and word in text for word in words) or \
            any(char in text for char in ODD_CASE):
        return True
    # Case-blind, an ASCII word matches only ASCII letters (the odd ones are ruled out
    # above): look in the text's ASCII characters, lower-cased, which is much shorter.
    letters = text.encode("ascii", "ignore").lower().decode("ascii")
    return any(word in letters for word in ascii_words)


def _common_problems(text: str) -> list[str]:
    """Faults that break any stored text."""
    problems = []
    if _has_fence(text):
        problems.append("contains a code fence (```); answer with plain Markdown")
    if "<" in text:
        problems += tag_problems(text)
    if "$" in text and len(DOLLAR.findall(text)) % 2:
        problems.append("unbalanced `$` (every inline formula needs an opening and a closing $)")
    if has_any(text, _PLACEHOLDER_CJK, _PLACEHOLDER_ASCII) and _PLACEHOLDER.search(text):
        problems.append("contains a placeholder (such as 待翻译) instead of the answer")
    if is_not_an_answer(text):
        problems.append(NOT_AN_ANSWER_MESSAGE)
    if strip_preamble(text) != text.lstrip():
        problems.append("starts with a preamble (such as 以下是翻译); give only the answer")
    if not is_chinese(text):
        problems.append("not written in Chinese")
    return problems


def _math(text: str) -> set[str]:
    if "$" not in text:  # most texts: no need to scan them
        return set()
    return {re.sub(r"\s+", "", m) for m in _MATH.findall(text)}


_FULL_WIDTH = str.maketrans("０１２３４５６７８９．", "0123456789.")
_ANY_FULL_WIDTH = re.compile("[０-９．]")


def _numbers(text: str) -> set[str]:
    if _ANY_FULL_WIDTH.search(text):  # translate() is slow on long text
        text = text.translate(_FULL_WIDTH)
    return set(_KEPT_NUMBER.findall(text.replace(",", "")))


# -- translation ------------------------------------------------------------------------

def normalise_translation(text: str) -> str:
    """The answer without fences, preamble, stray headings marks or surrounding blank lines."""
    text = strip_preamble(strip_fences(clean_text(text)))
    lines = [_HEADING.sub("", line) for line in text.split("\n")]
    return "\n".join(line.rstrip() for line in lines).strip()


def translation_problems(text: str, abstract: str) -> list[str]:
    """Why `text` is not an acceptable translation of `abstract` (empty list: it is)."""
    if not text.strip():
        return ["the answer is empty"]
    problems = _common_problems(text)
    if _has_heading(text):
        problems.append("contains Markdown headings; give one plain paragraph")
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    wanted = max(1, len([p for p in re.split(r"\n\s*\n", abstract.strip()) if p.strip()]))
    if len(paragraphs) > wanted:
        problems.append(f"has {len(paragraphs)} paragraphs; the abstract has {wanted} "
                        "(translate only the abstract, add no notes)")
    if abstract.strip() and len(text) < MIN_LENGTH_RATIO * len(abstract):
        problems.append("much shorter than the abstract; translate all of it")
    kept = _numbers(abstract)  # (none: the translation's need not be looked for)
    missing = sorted(kept - _numbers(text)) if kept else []
    if missing:
        problems.append("drops numbers of the abstract: " + ", ".join(missing))
    lost_math = sorted(_math(abstract) - _math(text))
    if lost_math:
        problems.append("drops formulas of the abstract: " + ", ".join(f"${m}$" for m in lost_math))
    return problems


def alignment_problems(text: str, abstract: str) -> list[str]:
    """Why `text` does not keep the abstract's sentences one to one (empty: it does), so
    that line i of each, as the record lays them out, is a pair. Asked of the tool's own
    answers only, and worth one repair prompt, never a failure (docs/records.md)."""
    en, zh = paragraph_sentences(abstract), paragraph_sentences(text)
    en_counts, zh_counts = [len(p) for p in en], [len(p) for p in zh]
    if not en or en_counts == zh_counts:
        return []
    if sum(en_counts) != sum(zh_counts):
        return [f"has {sum(zh_counts)} sentences; the abstract has {sum(en_counts)}: write one "
                "Chinese sentence for each English sentence, in order (end each with 。)"]
    return [f"its paragraphs hold {', '.join(map(str, zh_counts))} sentences; the abstract's "
            f"hold {', '.join(map(str, en_counts))}: one Chinese sentence for each English "
            "sentence, paragraph by paragraph"]


# -- 详细解读 ----------------------------------------------------------------------------

PARTS = ("1", "2", "3")
# A part marker as models write it: `1)`, `1）背景`, `## 1) 背景`, `**2. 方法**`, `### 3、结果`.
_MARKER = re.compile(
    r"^(?P<hash>#{1,6}\s*)?(?:\*\*)?(?P<num>[1-9])\s*(?P<sep>[)）.、:：])\s*"
    r"(?P<title>.*?)\s*(?:\*\*)?\s*[:：]?\s*$")
_GOOD_MARKER = re.compile(r"^([1-9])\)  $")
_BULLET = re.compile(r"^\s*[-*+]\s")
_TITLE_CHARS = 20  # longer "titles" on a part line are sentences


def _marker(line: str) -> tuple[str, str] | None:
    """(part number, title) when `line` starts a part; plain `1. x` lines are list items."""
    match = _MARKER.match(line)
    if not match:
        return None
    if not match.group("hash") and match.group("sep") not in ")）":
        return None
    return match.group("num"), match.group("title").strip("*：: ").strip()


# The old blog's part lines, and list-style ones models write: `1. **研究背景与既有方法的问题**`,
# a bare `1.`, `**2. 方法**`. Elsewhere `1. x` is a list item, so these are parts only in a
# text with no other part line, and only in order (1, 2, 3).
_OLD_MARKER = re.compile(r"^(?:(?P<num>[1-9])\.(?:\s*\*\*(?P<title>[^*\n]+)\*\*\s*[:：]?)?"
                         r"|\*\*(?P<num2>[1-9])\.\s*(?P<title2>[^*\n]*)\*\*\s*[:：]?)\s*$")
# The lines `_marker` may take start with one of these: the first line, and those found
# after a newline (a search for `\n`, where a `^` of re.M is tried at every character).
_MARKER_FIRST = frozenset("#*123456789")
_MAYBE_MARKER = re.compile(r"\n[#*1-9]")


def _old_marker(line: str) -> tuple[str, str] | None:
    """(part number, title) of an old-style part line (`_OLD_MARKER`)."""
    match = _OLD_MARKER.match(line)
    if not match:
        return None
    number = match.group("num") or match.group("num2")
    return number, (match.group("title") or match.group("title2") or "").strip("*：: ").strip()


def _markers(text: str) -> list[tuple[int, int, str, tuple[str, str]]]:
    """Each part line: where it starts and ends in `text`, the line, (number, title)."""
    found: list[tuple[int, int, str, tuple[str, str]]] = []
    old: list[tuple[int, int, str, tuple[str, str]]] = []
    starts = [0] if text[:1] in _MARKER_FIRST else []
    starts += [match.start() + 1 for match in _MAYBE_MARKER.finditer(text)]
    for start in starts:  # a few lines, not every line of the text
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        line = text[start:end]
        part = _marker(line)
        if part:
            found.append((start, end, line, part))
        elif not found and (part := _old_marker(line)) and part[0] == str(len(old) + 1):
            old.append((start, end, line, part))
    return found or old


def _split_parts(text: str, markers: list[Any] | None = None
                 ) -> tuple[list[str], list[tuple[str, str, list[str]]]]:
    """Lines before the first marker, and (number, title, lines) for each part."""
    markers = _markers(text) if markers is None else markers
    if not markers:
        return text.split("\n"), []
    parts = []
    for n, (_, end, _, (number, title)) in enumerate(markers):
        stop = markers[n + 1][0] if n + 1 < len(markers) else len(text) + 1
        parts.append((number, title, _lines(text, end + 1, stop)))
    return _lines(text, 0, markers[0][0]), parts


def _lines(text: str, start: int, stop: int) -> list[str]:
    """The lines from `start` up to the line starting at `stop` (past the end: all)."""
    if stop > len(text):
        return text[start:].split("\n") if start <= len(text) else []
    return text[start:stop - 1].split("\n") if stop > start else []


def _part_body(title: str, lines: list[str]) -> list[str]:
    """A part's lines, trimmed, with the marker line's own words kept where they say
    something: `1) 背景：...` becomes a bullet; a bare heading title leads a bullet-less body."""
    lines = [_demote(line) for line in lines]
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    label, _, rest = re.split(r"([:：])", title, maxsplit=1) if re.search("[:：]", title) \
        else (title, "", "")
    label, rest = label.strip(" *"), rest.strip(" *")
    if rest:
        lines.insert(0, f"- **{label}**：{rest}")
    elif title and lines and not any(_BULLET.match(line) for line in lines):
        lines[0] = f"- **{title}**：{lines[0].strip()}"
    elif len(title) > _TITLE_CHARS:  # a sentence rather than a title: keep it
        lines.insert(0, title)
    return lines


def _demote(line: str) -> str:
    """A `### 小标题` line inside a part becomes a bold line: headings break the layout."""
    if _HEADING.match(line):
        title = _HEADING.sub("", line).strip().strip("*").strip()
        return f"**{title}**" if title else ""
    return line


def normalise_analysis(text: str) -> str:
    """The answer in the 详细解读 layout as far as rewriting can get it there."""
    text = strip_fences(clean_text(text))
    _, parts = _split_parts(text)  # text before part 1 is a preamble: dropped
    if not parts:
        return text.strip()
    blocks = []
    for number, title, lines in parts:
        body = _part_body(title, lines)
        blocks.append("\n".join([f"{number})  "] + body))
    return "\n\n".join(blocks)


def analysis_problems(text: str) -> list[str]:
    """Why `text` does not fit the 详细解读 layout (empty list: it does)."""
    if not text.strip():
        return ["the answer is empty"]
    problems = _common_problems(text)
    if _has_heading(text):
        problems.append("contains Markdown headings (#); use the `1)  ` lines and bullets")
    markers = _markers(text)
    preamble, parts = _split_parts(text, markers)
    numbers = tuple(number for number, _, _ in parts)
    if numbers != PARTS:
        problems.append(f"needs exactly the parts 1), 2), 3) in order, found "
                        f"{', '.join(n + ')' for n in numbers) or 'none'}")
    if any(line.strip() for line in preamble):
        problems.append("has text before part 1)")
    problems += _layout_problems([line for _, _, line, _ in markers], parts)
    problems += _content_problems(parts or [("", "", preamble)])  # no parts: the whole text
    copied = copied_instructions(text, [line for _, _, line, _ in markers])
    if copied:
        problems.append(f"a heading copies the prompt's instruction {copied[0]}: take it out")
    if "**" in text and unbalanced_bold(text):
        problems.append("unbalanced `**` (bold needs an opening and a closing **)")
    return problems


def _layout_problems(markers: list[str], parts: list[tuple[str, str, list[str]]]
                     ) -> list[str]:
    problems = []
    if any(not _GOOD_MARKER.match(line) for line in markers):
        problems.append("part lines must be exactly `1)  `, `2)  `, `3)  ` with nothing after")
    for number, _, lines in parts:
        # (A labelled line is never blank: looked for first, it is usually the first line.)
        if not any(_LABELLED.match(line) for line in lines) and any(map(str.strip, lines)):
            problems.append(f"part {number}) has no `- **小标题**：` bullets")
    return problems


# -- real content, not a hollow answer -------------------------------------------------

MIN_PART_CHARS = 20  # characters of text a part needs; the seed's shortest part has 98
# Words a model writes instead of the text (`- 内容`), and the prompt's own placeholders.
PLACEHOLDER_WORDS = frozenset(
    "待定 待补充 待填写 内容 正文 文本 暂无 无 略 省略 同上 此处 小标题 …… … ... "
    "todo tbd n/a na none null xxx placeholder".split())
_LABELLED = re.compile(r"^\s*[-*+]\s+\*\*[^*\n]+\*\*\s*[:：]")
# A line's bullet (or list number) and `**小标题**：` label, before its text.
_ITEM_MARKUP = re.compile(r"[ \t]*(?:(?:[-*+]|\d+[.)])[ \t]+)?"
                          r"(?:\*\*[^*\n]*\*\*[ \t]*[:：]?)?[ \t]*")
_ENDINGS = tuple({form for word in PLACEHOLDER_WORDS
                  for form in (word, word.upper(), word.title())})
_ENDING_LAST = frozenset(form[-1] for form in _ENDINGS)  # a line ending otherwise has none
_TRAILING = " \t。.，,；;：:"
_HOLLOW_LINE = 48  # longer lines hold more than a bullet, a label and a placeholder
_LABEL = re.compile(r"\*\*[^*]*\*\*[:：]?")


def _content_problems(parts: list[tuple[str, str, list[str]]]) -> list[str]:
    """A part whose bullets hold placeholders, or too little text to say anything."""
    problems = []
    for number, title, lines in parts:
        if ":" in title or "：" in title:  # `1） 背景：...`: text on the part's own line
            lines = [re.split("[:：]", title, maxsplit=1)[1], *lines]
        hollow = None
        for line in lines:  # the first placeholder; a placeholder's line is short
            if len(line) <= _HOLLOW_LINE and (hollow := _placeholder(line)):
                break
        size = _text_size(lines, enough=MIN_PART_CHARS)
        what = f"part {number})" if number else "the 详细解读"
        if hollow:
            problems.append(f"{what} holds a placeholder ({hollow}) instead of text")
        elif not size:
            problems.append(f"{what} is empty")
        elif size < MIN_PART_CHARS:
            problems.append(f"{what} has too little text ({size} characters, at least "
                            f"{MIN_PART_CHARS}): say what the paper does")
    return problems


def _placeholder(line: str) -> str | None:
    """The placeholder a line holds as its only text (`- 内容`, `- **结果**：待定`), if any."""
    tail = line.rstrip(_TRAILING)
    if tail[-1:] not in _ENDING_LAST or not tail.endswith(_ENDINGS):  # most lines
        return None
    match = _ITEM_MARKUP.match(tail)
    word = tail[match.end():] if match else tail
    return word if word.lower() in PLACEHOLDER_WORDS else None


def _text_size(lines: list[str], enough: int | None = None) -> int:
    """Characters of text in `lines`: spaces, `**小标题**：` labels, bullets and `*` aside;
    `enough` instead when the text after the last `*` alone has that many (no label holds
    it, but for the colon that may end one): most parts, told without removing labels."""
    joined = "".join(lines)
    if enough is not None:
        tail = "".join(joined[joined.rfind("*") + 1:].split())
        if len(tail) - tail.count("-") - tail.count("+") - 1 >= enough:
            return enough
    text = _LABEL.sub("", "".join(joined.split()))
    return len(text) - text.count("-") - text.count("*") - text.count("+")
