"""Make untrusted text safe for Liquid and kramdown, and undo it exactly.

Jekyll runs Liquid over a post before kramdown sees it: `{% ... %}` fails the build and
`{{ x }}` vanishes. kramdown then turns `<tag>` into raw HTML, a line starting with `#`
into a heading, a line with `|` into a table, `---` under a line into a heading, and
`[x]: url` or `{::comment}` lines into nothing at all.

The escapes are HTML character references (`&#35;` for `#`, ...), which kramdown and the
browser show as the plain character, and Liquid's `raw` tag. Ordinary text, the seed post's
included, contains none of the trigger sequences and is left byte for byte. Every escape
is undone by the matching `unescape_*`, so a post can be imported back into its records.
"""

from __future__ import annotations

import re

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
_LINE_TRIGGERS = [
    re.compile(r"^(\s*)(#)"),  # a heading
    re.compile(r"^(\s{0,3})([-=*_])(?=(?:\s*\2){2,}\s*$)"),  # hr or setext underline
    re.compile(r"^(\s*)(\[)(?=[^\]]*\]:)"),  # link or footnote definition
    re.compile(r"^(\s*)(\*)(?=\[)"),  # abbreviation definition
]
_INLINE_CHARS = {c: f"&#{ord(c)};" for c in "\\*_`[]#|"}


def _liquid(text: str) -> str:
    return _LIQUID.sub(lambda m: _RAW[m.group(0)], text)


def _ref(char: str) -> str:
    return f"&#{ord(char)};"


def escape_inline(text: str) -> str:
    """A title or an author list: every Markdown character shows as itself."""
    text = _ENTITY_LIKE.sub("&amp;", text)
    text = text.replace("<", "&lt;")
    text = "".join(_INLINE_CHARS.get(c, c) for c in text)
    return _liquid(text)


def escape_block(text: str) -> str:
    """Markdown written by an LLM or an editor: formatting kept, structure-breaking bits not."""
    return _liquid("\n".join(_escape_line(line) for line in text.split("\n")))


def _escape_line(line: str) -> str:
    pieces, last = [], 0
    for span in _CODE_SPAN.finditer(line):  # code spans show their text literally already
        pieces.append(_escape_text(line[last:span.start()]))
        pieces.append(span.group(0))
        last = span.end()
    pieces.append(_escape_text(line[last:]))
    line = "".join(pieces)
    for pattern in _LINE_TRIGGERS:  # after: these add references that must stay as they are
        line = pattern.sub(lambda m: m.group(1) + _ref(m.group(2)), line, count=1)
    return line


def _escape_text(text: str) -> str:
    text = _ENTITY_LIKE.sub("&amp;", text)
    text = _TAG_START.sub("&lt;", text)
    text = text.replace("|", "&#124;")
    return text.replace("{:", "&#123;:")


def _unentity(text: str) -> str:
    def back(m: re.Match) -> str:
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
        pieces, last = [], 0
        for span in _CODE_SPAN.finditer(line):
            pieces.append(_unentity(line[last:span.start()]))
            pieces.append(span.group(0))
            last = span.end()
        pieces.append(_unentity(line[last:]))
        out.append("".join(pieces))
    return "\n".join(out)
