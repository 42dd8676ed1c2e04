"""The site's topics: a file of the site (setting `topics_file`), the speech and audio list
shipped in `records/data/topics.yaml` by default (docs/records.md).

A record's `topics` text lists 1 to `Topics.most` slugs, comma-separated (`asr, speaker`);
the slug is what files, anchors and URLs use, the names are what readers see. Nothing here
is a constant of the package: stages get the site's `Topics` from `Settings.topics`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from digest_cli.errors import RecordError, SettingsError
from digest_cli.records.yamlio import load_yaml, parse_text

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")  # goes into URLs and file names
_PLAIN = re.compile(r"^[^\x00-\x1f\x7f<>\[\]{}|`*#]{1,60}$")  # shown in posts and pages
DEFAULT_FILE = "records/data/topics.yaml"


@dataclass(frozen=True)
class Topic:
    slug: str
    zh: str
    en: str


@dataclass(frozen=True)
class Topics:
    """A site's topic list, in the order readers see it, and how many a paper may have."""

    items: tuple[Topic, ...]
    most: int = 3

    @functools.cached_property
    def by_slug(self) -> dict[str, Topic]:
        return {topic.slug: topic for topic in self.items}

    def parse(self, text: str) -> list[str]:
        """The slugs of a `topics` text, in order, without duplicates; ValueError names an
        unknown slug or too many."""
        slugs: list[str] = []
        for part in text.replace("，", ",").split(","):
            slug = part.strip().lower()
            if not slug or slug in slugs:
                continue
            if slug not in self.by_slug:
                raise ValueError(f"unknown topic {slug!r} (known: {', '.join(self.by_slug)})")
            slugs.append(slug)
        if len(slugs) > self.most:
            raise ValueError(f"{len(slugs)} topics, at most {self.most}")
        return slugs

    def slugs(self, text: str | None) -> list[str]:
        """`parse`, with an unreadable or missing text counted as no topics."""
        try:
            return self.parse(text) if text is not None else []
        except ValueError:
            return []

    def prompt_values(self) -> dict[str, str]:
        """The prompts' placeholders about topics: the list as lines (`- asr：语音识别
        （Speech recognition）`), the most a paper may have, an example, the fallback."""
        example = [t.slug for t in self.items if t.slug != "other"][:min(2, self.most)]
        return {"topics": "\n".join(f"- {t.slug}：{t.zh}（{t.en}）" for t in self.items),
                "most_topics": str(self.most), "topic_example": ", ".join(example),
                "topic_fallback": "；都不合适时写 other" if "other" in self.by_slug else ""}


def load_topics(path: Path | None = None) -> Topics:
    """The topics file at `path` (the shipped default when None); SettingsError names
    the file and what to fix."""
    if path is None:
        return default_topics()

    try:
        return topics_from_dict(load_yaml(path), str(path))
    except RecordError as exc:
        raise SettingsError(f"setting 'topics_file': {exc}") from None


@functools.cache
def default_topics() -> Topics:
    """The speech and audio topics shipped with the package."""
    text = resources.files("digest_cli").joinpath(DEFAULT_FILE).read_text(encoding="utf-8")
    return topics_from_dict(parse_text(text, Path(DEFAULT_FILE)), DEFAULT_FILE)


def topics_from_dict(data: Any, where: str) -> Topics:
    """A topics file's contents checked: every slug, name and the limit."""
    def fail(problem: str) -> SettingsError:
        return SettingsError(f"topics file {where}: {problem}")

    if not isinstance(data, dict) or not isinstance(data.get("topics"), list) \
            or not data["topics"]:
        raise fail("expected a mapping with a non-empty `topics:` list")
    most = data.get("max_per_paper", 3)
    if not isinstance(most, int) or isinstance(most, bool) or most < 1:
        raise fail(f"max_per_paper must be a whole number of at least 1, is {most!r}")
    items: list[Topic] = []
    for entry in data["topics"]:
        if not isinstance(entry, dict):
            raise fail(f"each topic is a mapping of slug, zh and en, not {entry!r}")
        slug, zh, en = (str(entry.get(key, "")).strip() for key in ("slug", "zh", "en"))
        if not _SLUG.match(slug):
            raise fail(f"slug {slug!r}: lower-case letters, digits and hyphens only")
        if not (_PLAIN.match(zh) and _PLAIN.match(en)):
            raise fail(f"topic {slug}: zh and en must be short plain text (no markup)")
        if any(t.slug == slug for t in items):
            raise fail(f"slug {slug!r} is given twice")
        items.append(Topic(slug, zh, en))
    return Topics(tuple(items), most)
