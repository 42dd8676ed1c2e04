"""Faults of any stored text, beside the layout rules of `validate`: a refusal or an API's
error message instead of an answer, HTML and raw `<Token>`s outside code, bold that
Markdown shows as asterisks, and a prompt's instruction copied into a heading.

Each runs on every text `digest check` reads, so each has a cheap test that settles the
common case (no `<`, every `**` paired on its line, no `字` in the text) before the slow one.
"""

from __future__ import annotations

import functools
import re
from typing import Any

_HEADING = re.compile(r"^\s{0,3}#{1,6}(\s|$)")
_NAMED_TAG = re.compile(r"</?(?P<name>[A-Za-z][A-Za-z0-9-]*)(\s[^<>]*)?/?>")

# A refusal or an API's error message stored as the answer (the old blog has both): at the
# start of the text, or anywhere (an error's class name, an HTTP status line, a JSON error).
_REFUSAL = re.compile(r"\s*(?:很?抱歉|对不起)[，,]?\s*(?:我|作为|由于|目前)"
                      r"|\s*(?:I'?m sorry|I apologi[sz]e|Sorry,)", re.IGNORECASE)
_CJK_REFUSAL = re.compile(r"我(?:目前)?无法(?:完成|提供|访问|处理|翻译|解读|获取)")
_AS_AN_AI = re.compile(r"作为(?:一个)?(?:AI|人工智能)(?:语言)?(?:模型|助手)[，,]\s*我")
_API_ERROR = re.compile(
    r"As an AI (?:language model|assistant)"
    r"|(?:API(?:Connection|Timeout|Status)?|RateLimit|Authentication|InternalServer|BadRequest"
    r"|ServiceUnavailable)Error\b|\"error\"\s*:\s*\{|[Rr]ate limit (?:reached|exceeded)"
    r"|Request timed out|429 Too Many Requests"
    r"|50[0234] (?:Internal Server Error|Bad Gateway|Service Unavailable|Gateway Time-?out)")
NOT_AN_ANSWER_MESSAGE = "is a refusal or an error message, not an answer"


def is_not_an_answer(text: str) -> bool:
    """True when `text` is a refusal or holds an API's error message. Each pattern is
    searched only where a word of it occurs (most texts hold none)."""
    if _REFUSAL.match(text, 0, 40):
        return True
    if "无法" in text and _CJK_REFUSAL.search(text):
        return True
    if "作为" in text and _AS_AN_AI.search(text):
        return True
    # Every match of `_API_ERROR` holds one of these ASCII words: looked for in the text's
    # ASCII characters (a word there may straddle a removed character: then the search
    # below decides), much shorter than a Chinese text.
    letters = text if text.isascii() else text.encode("ascii", "ignore").decode("ascii")
    return any(word in letters for word in _API_ERROR_WORDS) and \
        _API_ERROR.search(text) is not None


_API_ERROR_WORDS = ("rror", "ate limit", "timed out", "As an AI", "Too Many", "Gateway",
                    "Unavailable")


# The HTML elements a page knows: any other `<Name>` is a model's token (`<Speech>`,
# `<PAUSE>`, `<UNK>`) that a page passing HTML through hides as an unknown tag.
_HTML_ELEMENTS = frozenset(
    "a abbr address article aside audio b bdi bdo blockquote body br button canvas caption "
    "cite code col colgroup data dd del details dfn dialog div dl dt em embed fieldset "
    "figcaption figure font footer form h1 h2 h3 h4 h5 h6 head header hr html i iframe img "
    "input ins kbd label legend li link main map mark math meta meter nav noscript object ol "
    "optgroup option output p param picture pre progress q rp rt ruby s samp script section "
    "select small source span strike strong style sub summary sup svg table tbody td template "
    "textarea tfoot th thead time title tr track tt u ul var video wbr".split())
# Code spans (`<think>` written as code is shown as written) and formulas ($a<b>c$).
_CODE_OR_MATH = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)|(?<!\\)\$[^$\n]+?(?<!\\)\$")


def tag_problems(text: str) -> list[str]:
    """HTML tags outside code spans and formulas: known elements, and unknown `<Token>`s
    (named, as the page would hide them)."""
    plain = _CODE_OR_MATH.sub(" ", text) if ("`" in text or "$" in text) else text
    tags = [(m.group(0), m.group("name")) for m in _NAMED_TAG.finditer(plain)]
    if not tags:
        return []
    tokens = sorted({tag for tag, name in tags if name.lower() not in _HTML_ELEMENTS})
    problems = []
    if len(tokens) < len(tags):
        problems.append("contains HTML tags; answer with plain Markdown only")
    if tokens:
        problems.append(f"raw token {', '.join(tokens[:3])}: a page hides it as an unknown "
                        "HTML tag; write it as code (`<Token>`)")
    return problems


# -- bold by Markdown's rules -----------------------------------------------------------

# A `**...**` pair on one line as Markdown (kramdown, which builds the site) reads it:
# the opening `**` before a non-space, the closing one after a non-space.
_PAIR = re.compile(r"\*\*(?=[^\s*])(?:[^\n]*?[^\s*])?\*\*")
_CODE = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)")


def unbalanced_bold(text: str) -> bool:
    """True when Markdown shows some `**` of `text` as asterisks where bold was meant.

    Most texts pair every `**` on its line: no parse needed. Otherwise mistune parses the
    text (code spans, bold across a line break) and each `**` left as text counts, except
    one glued to a Latin word inside a sentence: a name written with asterisks (the music
    format `**kern`). At the start of an item it is a broken `**小标题**` label."""
    plain = _CODE.sub("", text) if "`" in text else text
    if "**" not in _PAIR.sub("", plain):
        return False
    return any(_broken(raw, first) for raw, first in _text_runs(text))


def _broken(raw: str, first: bool) -> bool:
    rest = _PAIR.sub(lambda m: " " * len(m.group(0)), raw)
    for match in re.finditer(r"\*\*", rest):
        at_start = first and not raw[:match.start()].strip()
        if at_start or not re.match(r"[A-Za-z]", rest[match.end():match.end() + 1]):
            return True
    return False


def _text_runs(text: str) -> list[tuple[str, bool]]:
    """Each run of plain text mistune finds (code spans and bold taken out), and whether it
    opens its paragraph or list item."""
    runs: list[tuple[str, bool]] = []

    def walk(tokens: list[dict[str, Any]], block: bool) -> None:
        for n, token in enumerate(tokens):
            if token.get("type") == "text":
                runs.append((token.get("raw", ""), block and n == 0))
            if "children" in token:
                walk(token["children"], token.get("type") in ("paragraph", "block_text"))

    walk(_markdown()(text), False)
    return runs


@functools.cache
def _markdown() -> Any:
    """mistune's parser, giving the syntax tree (imported when first needed: most texts
    never need it)."""
    import mistune

    return mistune.create_markdown(renderer=None)


# -- a prompt's instruction copied into a heading -----------------------------------------

def copied_instructions(text: str, markers: list[str]) -> list[str]:
    """The prompt instructions (`_instructions`) found in the headings of `text`: its part
    lines, `#` headings and `**bold**` labels."""
    limits, labels = _instructions()
    if "字" not in text and not any(label in text for label in labels):
        return []  # most texts
    pattern = re.compile(limits.pattern + "|" + "|".join(
        re.escape(f"**{label}**") for label in labels)) if labels else limits
    if not pattern.search(text):
        return []
    headings = markers + [line for line in text.split("\n") if _HEADING.match(line)]
    headings += re.findall(r"\*\*[^*\n]+\*\*", text)
    return [m.group(0) for heading in headings for m in pattern.finditer(heading)]


@functools.cache
def _instructions() -> tuple[re.Pattern[str], tuple[str, ...]]:
    """What the prompts tell a model and an answer must not repeat, read from the prompt
    files: their length limits (`不超过 60 个字`; the old blog's prompts wrote `（≤200字）`)
    as a note in brackets, and the placeholder label of the format they show
    (`- **小标题**：`)."""
    from digest_cli.translate.prompts import load_prompt

    texts = [load_prompt(name).system for name in ("analysis", "translation", "brief")]
    limits = {"≤", "<=", "＜＝"} | {m.group(1) for t in texts for m in re.finditer(
        r"(不超过|不少于|不多于|少于|至多|最多|至少)\s*\d+\s*个?字", t)}
    labels = tuple(sorted({m.group(1) for t in texts
                           for m in re.finditer(r"`- \*\*([^*`]+)\*\*[:：]`", t)}))
    limit = "|".join(sorted(map(re.escape, limits), key=len, reverse=True))
    return re.compile(rf"[（(]\s*(?:(?:{limit})\s*\d+\s*个?字(?:以内|左右)?|\d+\s*个?字"
                      rf"(?:以内|左右)|\d+\s*[-~～至]\s*\d+\s*个?字)\s*[）)]"), labels
