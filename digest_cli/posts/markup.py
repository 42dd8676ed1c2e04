"""Make untrusted text safe for Liquid and kramdown, and undo it exactly.

Jekyll runs Liquid over a post before kramdown sees it: `{% ... %}` fails the build and
`{{ x }}` vanishes. kramdown then turns `<tag>` into raw HTML, a line starting with `#`
into a heading, a line with `|` into a table, `---` under a line into a heading, a ```
line into a code block that runs into the next paper, `[x]: url` or `{::comment}` lines
into nothing at all, and `[x](javascript:...)` into a link that runs script.

The escapes are HTML character references (`&#35;` for `#`, ...), which kramdown and the
browser show as the plain character, and Liquid's `raw` tag. Ordinary text, the seed post's
included, contains none of the trigger sequences and is left byte for byte. Every escape
is undone by the matching `unescape_*`, so a post can be imported back into its records.

TeX between `$...$` or `$$...$$` is for MathJax, which reads the page text in the browser:
there every character kramdown would act on (`\\`, `*`, `_`, quotes, ...) is a reference,
so the TeX reaches MathJax as written (`$\\{x\\}$` keeps its braces, `$x^*$` no emphasis).
"""

from __future__ import annotations

import re
from collections.abc import Callable

_RAW = {"{{": "{% raw %}{{{% endraw %}", "{%": "{% raw %}{%{% endraw %}"}
_RAW_BACK = {v: k for k, v in _RAW.items()}
_LIQUID = re.compile(r"\{[{%]")
_LIQUID_BACK = re.compile("|".join(re.escape(v) for v in _RAW.values()))

# An `&` that would be read as a character reference must itself be escaped.
_ENTITY_LIKE = re.compile(r"&(?=#?\w+;)")
_ENTITIES = re.compile(r"&(amp|lt|#\d+);")
_ENTITY_CHARS = {"amp": "&", "lt": "<"}

_CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)")
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
# Only http(s) links: `[x](javascript:...)`, `data:` and the like stay text.
_UNSAFE_LINK = re.compile(r"\]\((?![ \t]*https?://)", re.IGNORECASE)
_DOUBLE_DOLLAR = re.compile(r"\$(?=\$)")  # kramdown's own math: MathJax does it instead
_ESCAPED_DOLLAR = re.compile(r"\\(?=\$)")  # `\$` must reach MathJax with its backslash
# The list items and block quotes a line may open with (`- `, `1. `, `> `): a definition
# inside them is still a definition.
_IN = r"^((?:[ \t]*(?:[-+*]|\d+\.)[ \t]+|[ \t]*>[ \t]?)*[ \t]*)"
# Each with the characters it needs: a line holding none of them is not searched.
_LINE_TRIGGERS = [
    (re.compile(_IN + r"(#)"), "#"),  # a heading
    (re.compile(r"^(\s{0,3})([-=*_])(?=(?:\s*\2){2,}\s*$)"), "-=*_"),  # hr, setext line
    (re.compile(_IN + r"(\[)(?=[^\]]*\]:)"), "["),  # link or footnote definition
    (re.compile(_IN + r"(\*)(?=\[)"), "["),  # abbreviation definition
    (re.compile(_IN + r"(\^)(?=\s*$)"), "^"),  # end-of-block marker
    (re.compile(_IN + r"(:)(?=\s)"), ":"),  # definition list
]
# A fence opens a code block that runs to the next fence, in whatever paper that is.
_FENCE = re.compile(_IN + r"([`~])(?=\2\2+[ \t]*\S*[ \t]*$)")
# A fence line as `_escape_line` leaves it (only it writes a reference for its first
# character): escaped as a whole, so its backticks hold no code span.
_FENCE_BACK = re.compile(_IN + r"&#(?:96|126);")
# A newline would end the heading or list item: `&#10;` keeps the line whole.
_INLINE_CHARS = {c: f"&#{ord(c)};" for c in "\\*_`[]#|\n"}
_INLINE_TABLE = str.maketrans(_INLINE_CHARS)  # translate(): one C call, not one per character

# TeX: `$$...$$` (may span lines, not paragraphs) or `$...$` on one line.
_MATH = re.compile(r"(?<![\\$])\$\$(?:(?!\n[ \t]*\n)[^$])+?\$\$"
                   r"|(?<![\\$])\$(?!\$)[^$\n]+?(?<!\\)\$")
_MATH_CHARS = {c: f"&#{ord(c)};" for c in "\\*_`[]'\"~|>"}
_MATH_LINE_START = re.compile(r"^([ \t]*)([-+]|\d+(?=\.))")
_MASK = "\ue000"  # stands for code span text while looking for TeX


def _liquid(text: str) -> str:
    return _LIQUID.sub(lambda m: _RAW[m.group(0)], text)


def _ref(char: str) -> str:
    return f"&#{ord(char)};"


# Every character an inline escape below acts on: most titles and names have none.
_INLINE_ACTIVE = re.compile(r"[&<\\*_`\[\]#|\n{$]")


def escape_inline(text: str) -> str:
    """A title or an author list: every Markdown character shows as itself."""
    return _escape_inline(text) if _INLINE_ACTIVE.search(text) else text


def _escape_inline(text: str) -> str:
    text = _ENTITY_LIKE.sub("&amp;", text)
    text = text.replace("<", "&lt;")
    text = text.translate(_INLINE_TABLE)
    text = _DOUBLE_DOLLAR.sub("&#36;", text.replace("{:", "&#123;:"))
    return _liquid(text)


def escape_author(name: str) -> str:
    """One author of a `, `-joined list: a comma in the name must not split it on import."""
    return escape_inline(name).replace(",", "&#44;")


# Text with none of these characters, and no line that is only `-`, `=`, `*` or `_`, has
# nothing any rule below would escape (tests/test_markup_fast.py checks this on random
# text): most Chinese text, which uses full-width punctuation, is returned as it is.
# (Two searches: one pattern with both alternatives is slower than the two.)
_MAYBE_ACTIVE = re.compile(r"[&<>|{}!\[\]$\\`~#^:]")
_MAYBE_RULE = re.compile(r"^\s{0,3}([-=*_])(?:\s*\1){2,}\s*$", re.M)
# The same, found fast: at the start, or after a newline (searched for as a character,
# where a `^` of re.M is tried at every character of the text).
_RULE_AT_START = re.compile(_MAYBE_RULE.pattern[1:], re.M)
_RULE_AFTER_NEWLINE = re.compile("\n" + _MAYBE_RULE.pattern[1:], re.M)


# `_MAYBE_ACTIVE`'s characters are ASCII: looked for among the text's ASCII characters,
# a few in a Chinese text (bytes.translate deletes the others, in C).
_INACTIVE_BYTES = bytes(b for b in range(128) if not _MAYBE_ACTIVE.match(chr(b))) + \
    bytes(range(128, 256))


def _maybe_active(text: str) -> bool:
    """False when no rule below would change `text` (a whole text, or one of its lines)."""
    return bool(text.encode("ascii", "ignore").translate(None, _INACTIVE_BYTES)
                or _RULE_AT_START.match(text) or _RULE_AFTER_NEWLINE.search(text))


def escape_block(text: str) -> str:
    """Markdown written by an LLM or an editor: formatting kept, structure-breaking bits not."""
    if not _maybe_active(text):
        return text
    return _escape_block(text)


def _escape_block(text: str, line_shortcut: bool = True) -> str:
    """`escape_block` in full; `line_shortcut=False` escapes every line (the reference the
    tests compare the shortcut with)."""
    masked = "\n".join(_CODE_SPAN.sub(lambda m: _MASK * len(m.group(0)), line)
                       if "`" in line else line for line in text.split("\n")) \
        if "`" in text else text
    math = [m.span() for m in _MATH.finditer(masked)] if "$" in masked else []
    lines, offset = [], 0
    for line in text.split("\n"):
        end = offset + len(line)
        if line_shortcut and not _maybe_active(line) and \
                not any(lo < end and hi > offset for lo, hi in math):
            lines.append(line)  # as for a whole text: nothing here to escape
        else:
            lines.append(_escape_line(line, offset, math))
        offset = end + 1
    return _liquid("\n".join(lines))


def _escape_line(line: str, offset: int, math: list[tuple[int, int]]) -> str:
    fence = _FENCE.match(line)
    spans = [] if fence else list(_CODE_SPAN.finditer(line))  # a fence line is all text
    pieces, last = [], 0
    for span in spans:  # code spans show their text literally already
        pieces.append(_escape_prose(line, last, span.start(), offset, math))
        pieces.append(span.group(0))
        last = span.end()
    pieces.append(_escape_prose(line, last, len(line), offset, math))
    line = "".join(pieces)
    if fence:  # the prefix before the fence has nothing to escape: same position
        line = line[:fence.start(2)] + _ref(fence.group(2)) + line[fence.start(2) + 1:]
    for pattern, needs in _LINE_TRIGGERS:  # after: these add references that must stay
        if any(char in line for char in needs):
            line = pattern.sub(lambda m: m.group(1) + _ref(m.group(2)), line, count=1)
    return line


def _escape_prose(line: str, start: int, end: int, offset: int,
                  math: list[tuple[int, int]]) -> str:
    """`line[start:end]`, outside code spans: TeX parts one way, the rest the other."""
    pieces, at = [], start
    for m_start, m_end in math:
        lo, hi = max(m_start - offset, at), min(m_end - offset, end)
        if lo >= hi:
            continue
        pieces.append(_escape_text(line[at:lo]))
        pieces.append(_escape_math(line[lo:hi], line_start=not line[:lo].strip()))
        at = hi
    pieces.append(_escape_text(line[at:end]))
    return "".join(pieces)


def _escape_text(text: str) -> str:
    text = _ENTITY_LIKE.sub("&amp;", text)
    text = _TAG_START.sub("&lt;", text)
    text = text.replace("|", "&#124;").replace("{:", "&#123;:").replace("![", "&#33;[")
    text = _UNSAFE_LINK.sub("]&#40;", text)
    text = _ESCAPED_DOLLAR.sub("&#92;", text)
    return _DOUBLE_DOLLAR.sub("&#36;", text)


def _escape_math(tex: str, line_start: bool) -> str:
    """TeX for MathJax: nothing in it may look like Markdown, HTML or Liquid to kramdown."""
    tex = _ENTITY_LIKE.sub("&amp;", tex).replace("<", "&lt;")
    tex = "".join(_MATH_CHARS.get(c, c) for c in tex)
    tex = _DOUBLE_DOLLAR.sub("&#36;", tex.replace("{:", "&#123;:").replace("--", "-&#45;"))
    if line_start:  # a TeX line of a `$$` block must not start a list
        tex = _MATH_LINE_START.sub(lambda m: m.group(1) + _refs(m.group(2)), tex, count=1)
    return tex


def _refs(text: str) -> str:
    return "".join(_ref(c) for c in text)


def _unentity(text: str) -> str:
    def back(m: re.Match[str]) -> str:
        name = m.group(1)
        return _ENTITY_CHARS.get(name) or chr(int(name[1:]))

    return _ENTITIES.sub(back, text)


def unescape_inline(text: str) -> str:
    """Undo `escape_inline`."""
    return _unentity(_LIQUID_BACK.sub(lambda m: _RAW_BACK[m.group(0)], text))


def unescape_block(text: str) -> str:
    """Undo `escape_block`: code spans keep their text, the rest loses its references."""
    text = _LIQUID_BACK.sub(lambda m: _RAW_BACK[m.group(0)], text)
    out = []
    for line in text.split("\n"):
        if _FENCE_BACK.match(line):  # escaped whole, as `_escape_line` does: no code spans
            out.append(_unentity(line))
            continue
        out.append(outside_code_spans(line, _unentity))
    return "\n".join(out)


def outside_code_spans(line: str, change: Callable[[str], str]) -> str:
    """`line` with `change` applied to the text between its code spans; the spans (whose
    text is shown as it is) are kept as they are."""
    pieces, last = [], 0
    for span in _CODE_SPAN.finditer(line):
        pieces.append(change(line[last:span.start()]))
        pieces.append(span.group(0))
        last = span.end()
    pieces.append(change(line[last:]))
    return "".join(pieces)
