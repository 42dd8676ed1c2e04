"""The short extra answer per paper: a Chinese title, a one-sentence summary (一句话总结)
and 1-3 topics, asked for in one request (prompts/brief.md) and stored as three texts of
the record (`title_zh`, `summary`, `topics`), each with its own provenance, so an editor
can change one and a later run still owns the others.

The answer's rules are in `validate` (`brief_problems`); this module holds what
`translate.day` needs to ask and to split the answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Literal

from digest_cli.records.model import MachineText, text_hash
from digest_cli.records.topics import TOPICS
from digest_cli.translate.brief_rules import split_brief

KIND: Literal["brief"] = "brief"  # the prompt, the cache folder and the usage row
BriefField = Literal["title_zh", "summary", "topics"]
FIELDS: tuple[BriefField, ...] = ("title_zh", "summary", "topics")


def topics_text() -> str:
    """The taxonomy as prompt lines: `- asr：语音识别（Speech recognition）`."""
    return "\n".join(f"- {t.slug}：{t.zh}（{t.en}）" for t in TOPICS)


def wanted(fields: Sequence[str]) -> list[BriefField]:
    """The brief's fields among a paper's fields to do."""
    return [name for name in FIELDS if name in fields]


def parts(answer: MachineText, names: list[BriefField]) -> list[tuple[BriefField, MachineText]]:
    """One valid answer as a text per field of `names`, each with the answer's provenance
    and its own hash (so an edit of one is recognised on its own)."""
    values = split_brief(answer.text)
    return [(name, replace(answer, text=values[name], hash=text_hash(values[name])))
            for name in names]
