"""Rules for the brief (Chinese title, one-sentence summary, topics): the answer's three
labelled lines parsed, normalised and checked, as `validate` does for the long texts.
"""

from __future__ import annotations

import json
import re

from digest_cli.hygiene import clean_text
from digest_cli.records.topics import Topics
from digest_cli.translate.validate import (
    CJK,
    DOLLAR,
    HTML_TAG,
    MIN_CJK_RATIO,
    cjk_ratio,
    strip_fences,
)

# The answer is three labelled lines; `BRIEF_LABELS` maps each record field to its label.
BRIEF_LABELS = {"title_zh": "标题", "summary": "总结", "topics": "主题"}
_LABEL_WORDS = {
    "title_zh": "中文标题|标题|题目|title_zh|title",
    "summary": "一句话总结|总结|概要|summary",
    "topics": "主题|话题|topics?",
}
_LABEL_LINE = re.compile(
    r"^\s*(?:[-*+]\s+)?(?:\*\*)?(?P<label>" + "|".join(_LABEL_WORDS.values())
    + r")(?:\*\*)?\s*[:：]\s*(?:\*\*)?\s*(?P<value>.*)$", re.IGNORECASE)
TITLE_MAX, SUMMARY_MIN, SUMMARY_MAX = 80, 10, 120  # characters; the prompt asks for less
_QUOTES = "\"'“”‘’《》「」『』*` "
_SENTENCE_END = re.compile(r"[。！？!?]")
# A brief's line is short: placeholders here include 待定, N/A and a bare 无 (which a
# translation or 详细解读 may well contain as words).
_BRIEF_PLACEHOLDER = re.compile(r"待翻译|待补充|待定|TODO|TBD|N/A|^(无|略|[.…。\s]*)$",
                                re.IGNORECASE)
_LINK = re.compile(r"https?://|www\.|\]\(|\w+\.(com|org|net|io|cn)\b", re.IGNORECASE)
_MARKUP_CHARS = re.compile(r"[<>|`*\[\]]")
_LIQUID = re.compile(r"\{\{|\{%|%\}")


def _field_of(label: str) -> str:
    return next(name for name, words in _LABEL_WORDS.items()
                if re.fullmatch(words, label, re.IGNORECASE))


def parse_brief(text: str) -> dict[str, list[str]]:
    """Each labelled field's lines (a value that runs onto more lines keeps them all);
    text before the first label is left out. A label given again is kept apart under
    its field name plus `#`, so validation can name it."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.split("\n"):
        match = _LABEL_LINE.match(line)
        if match:
            name = _field_of(match.group("label"))
            while name in found:
                name += "#"
            current = found[name] = [match.group("value")]
        elif current is not None and line.strip():
            current.append(line)
    return found


def _topic_slugs(value: str, topics: Topics) -> str:
    """`语音识别、Speaker`, `asr（语音识别）, #tts` -> `asr, speaker`, `asr, tts`: names and
    slugs alike, glosses in brackets dropped; unknown words kept, so validation names them."""
    names = {t.zh: t.slug for t in topics.items} | {t.en.lower(): t.slug for t in topics.items}
    value = re.sub(r"[(（][^()（）]*[)）]", "", value)
    parts = [p.strip(_QUOTES + "#").lower() for p in re.split(r"[,，、;；/]", value)]
    return ", ".join(names.get(p, p) for p in parts if p)


def _strip_value(value: str) -> str:
    return value.strip().strip(_QUOTES).strip()


def _json_lines(text: str) -> str:
    """A JSON object answer (`{"标题": …, "主题": ["asr"]}`) as `key：value` lines; any
    other text as it is."""
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if not isinstance(data, dict):
        return text
    return "\n".join(f"{key}：{', '.join(map(str, v)) if isinstance(v, list) else v}"
                     for key, v in data.items())


def normalise_brief(text: str, topics: Topics) -> str:
    """The answer as three `标签：值` lines, as far as rewriting can get it there: fences,
    a preamble, a JSON object, bold labels, bullets, quotes around values and a title's
    final 。 go; topic names become slugs. Anything it cannot place is kept for validation
    to name."""
    found = parse_brief(_json_lines(strip_fences(clean_text(text)).strip()))
    if not found:
        return strip_fences(clean_text(text)).strip()
    lines = []
    for name, values in found.items():
        label = BRIEF_LABELS[name.rstrip("#")]
        value = "\n".join(_strip_value(v) for v in values if v.strip())
        if name == "title_zh":
            value = _strip_value(value.rstrip("。."))
        elif name == "summary" and value and not _SENTENCE_END.match(value[-1]):
            value += "。"
        elif name == "topics":
            value = _topic_slugs(value.replace("\n", ","), topics)
        lines.append(f"{label}：{value}")
    return "\n".join(lines)


def split_brief(text: str) -> dict[str, str]:
    """A normalised, valid answer as {field: text}."""
    return {name: "\n".join(lines).strip() for name, lines in parse_brief(text).items()
            if name in BRIEF_LABELS}


def _line_problems(what: str, text: str) -> list[str]:
    """Faults shared by the title and the summary: they are one line of plain text."""
    problems = []
    if "\n" in text:
        problems.append(f"the {what} must be one line")
    if _BRIEF_PLACEHOLDER.search(text):
        problems.append(f"the {what} is a placeholder, not a real answer")
    if HTML_TAG.search(text) or _MARKUP_CHARS.search(text) or _LIQUID.search(text):
        problems.append(f"the {what} contains markup (<>, |, `, *, [], {{{{ }}}}); "
                        "plain text only")
    if _LINK.search(text):
        problems.append(f"the {what} contains a link or web address")
    if len(DOLLAR.findall(text)) % 2:
        problems.append(f"the {what} has an unbalanced `$`")
    return problems


def title_zh_problems(text: str) -> list[str]:
    """Why `text` is not an acceptable Chinese title (empty list: it is)."""
    text = text.strip()
    if not text:
        return ["the Chinese title (标题：) is empty"]
    problems = _line_problems("Chinese title", text)
    if sum(map(len, CJK.findall(text))) < 2 or cjk_ratio(text) < MIN_CJK_RATIO:
        problems.append("the Chinese title is not in Chinese")
    if len(text) > TITLE_MAX:
        problems.append(f"the Chinese title has {len(text)} characters; keep it under "
                        f"{TITLE_MAX}")
    return problems


def summary_problems(text: str) -> list[str]:
    """Why `text` is not an acceptable one-sentence Chinese summary (empty list: it is)."""
    text = text.strip()
    if not text:
        return ["the summary (总结：) is empty"]
    problems = _line_problems("summary", text)
    if cjk_ratio(text) < 0.5:
        problems.append("the summary is not in Chinese")
    if not SUMMARY_MIN <= len(text) <= SUMMARY_MAX:
        problems.append(f"the summary has {len(text)} characters; write one sentence of "
                        f"{SUMMARY_MIN}-{SUMMARY_MAX}")
    if len(_SENTENCE_END.findall(text.rstrip("。！？!?"))) > 0:
        problems.append("the summary has more than one sentence; write exactly one")
    return problems


def topics_problems(text: str, topics: Topics) -> list[str]:
    """Why `text` is not an acceptable topics line: 1 to `topics.most` of the site's slugs
    (empty list: it is)."""
    try:
        slugs = topics.parse(text)
    except ValueError as exc:
        return [str(exc)]
    if not slugs:
        return [f"give 1-{topics.most} topics from the list (主题：)"]
    return []


def brief_problems(text: str, topics: Topics) -> list[str]:
    """Why a normalised brief answer cannot be stored (empty list: it can)."""
    if not text.strip():
        return ["the answer is empty"]
    found = parse_brief(text)
    problems = [f"gives {BRIEF_LABELS[name.rstrip('#')]}： twice; give each line once"
                for name in found if name.endswith("#")]
    for name in BRIEF_LABELS:
        if name not in found:
            problems.append(f"has no `{BRIEF_LABELS[name]}：` line")
        else:
            problems += _field_problems(name, "\n".join(found[name]).strip(), topics)
    return problems


def _field_problems(name: str, text: str, topics: Topics) -> list[str]:
    if name == "topics":
        return topics_problems(text, topics)
    return title_zh_problems(text) if name == "title_zh" else summary_problems(text)
