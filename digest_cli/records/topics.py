"""The fixed topic taxonomy for speech and audio papers (documented in docs/records.md).

A record's `topics` text lists 1-3 slugs from `TOPICS`, comma-separated (`asr, speaker`);
the slug is what files, anchors and URLs use, the names are what readers see.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    slug: str
    zh: str
    en: str


TOPICS: tuple[Topic, ...] = (
    Topic("asr", "语音识别", "Speech recognition"),
    Topic("tts", "语音合成", "Speech synthesis and voice conversion"),
    Topic("speaker", "说话人", "Speaker recognition, verification and diarization"),
    Topic("enhancement", "增强与分离", "Speech enhancement and separation"),
    Topic("music", "音乐", "Music"),
    Topic("audio-understanding", "音频理解", "Audio understanding and captioning"),
    Topic("spoofing", "伪造检测", "Spoofing and deepfake detection"),
    Topic("codec", "编解码与离散化", "Audio codecs and tokenizers"),
    Topic("spoken-lm", "口语语言模型", "Spoken language models and dialogue"),
    Topic("other", "其他", "Other"),
)
BY_SLUG: dict[str, Topic] = {topic.slug: topic for topic in TOPICS}
MAX_TOPICS = 3


def parse_topics(text: str) -> list[str]:
    """The slugs of a `topics` text, in order, without duplicates; ValueError names an
    unknown slug or too many."""
    slugs: list[str] = []
    for part in text.replace("，", ",").split(","):
        slug = part.strip().lower()
        if not slug or slug in slugs:
            continue
        if slug not in BY_SLUG:
            raise ValueError(f"unknown topic {slug!r} (known: {', '.join(BY_SLUG)})")
        slugs.append(slug)
    if len(slugs) > MAX_TOPICS:
        raise ValueError(f"{len(slugs)} topics, at most {MAX_TOPICS}")
    return slugs
