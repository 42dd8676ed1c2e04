"""escape_block's shortcut for plain text gives exactly what the full escaping gives."""

from __future__ import annotations

import random

import pytest

from digest_cli.posts.markup import (
    _MAYBE_ACTIVE,
    _MAYBE_RULE,
    _escape_block,
    _escape_inline,
    _maybe_active,
    escape_block,
    escape_inline,
)

ALPHABET = list("ab 中文，。：（）-=*_+.1>#[]()!&<|{}%$\\`~^:") + ["\n", "\n\n", "  \n", "- ",
                                                                "1. ", "**", "$$", "{{", "{%", "'", '"']


def _random_texts(seed: int, longest: int, count: int = 500):
    rng = random.Random(seed)
    for _ in range(count):
        yield "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, longest)))


@pytest.mark.parametrize("seed", range(20))
def test_the_shortcut_never_differs_from_the_full_escape(seed):
    for text in _random_texts(seed, 40):
        assert escape_block(text) == _escape_block(text), repr(text)


def _maybe_active_as_written(text):
    return bool(_MAYBE_ACTIVE.search(text) or _MAYBE_RULE.search(text))


@pytest.mark.parametrize("seed", range(10))
def test_the_fast_searches_find_what_the_patterns_find(seed):
    rng = random.Random(seed)
    marks = list("-=*_ab中 \t\u3000") + ["\n", "  \n", "- ", "**"]  # no other active character
    for _ in range(2000):
        text = "".join(rng.choice(marks) for _ in range(rng.randint(0, 30)))
        assert _maybe_active(text) == _maybe_active_as_written(text), repr(text)
    for text in _random_texts(seed, 12):
        assert _maybe_active(text) == _maybe_active_as_written(text), repr(text)
        wide = text.translate({ord(c): 0xFEE0 + ord(c) for c in "!#$&:<>[]^`{|}~"})  # ＃
        assert _maybe_active(wide) == _maybe_active_as_written(wide), repr(wide)


@pytest.mark.parametrize("seed", range(10))
def test_the_inline_shortcut_never_differs_from_the_full_escape(seed):
    for text in _random_texts(seed, 20):
        assert escape_inline(text) == _escape_inline(text), repr(text)


@pytest.mark.parametrize("seed", range(10))
def test_the_line_shortcut_never_differs_from_escaping_every_line(seed):
    for text in _random_texts(seed, 60):
        assert _escape_block(text) == _escape_block(text, line_shortcut=False), repr(text)


def test_a_plain_line_inside_display_math_is_still_escaped():
    text = "前文`x`。\n$$\nf'(x) * g_1\n$$\n后文。"
    assert "f&#39;(x) &#42; g&#95;1" in _escape_block(text)
    assert _escape_block(text) == _escape_block(text, line_shortcut=False)


def test_plain_chinese_takes_the_shortcut_unchanged():
    text = "1)  \n- **背景**：语音识别（ASR）在噪声下退化。  \n  - 提升 12.5%。"
    assert escape_block(text) == text == _escape_block(text)
