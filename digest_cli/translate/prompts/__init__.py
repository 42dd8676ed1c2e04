"""Prompt files, versioned: each file starts with a `version:` line, and that version is
stored in every record written with it (change the version when you change the text).

A file has a `=== system` and a `=== user` section; `{{name}}` placeholders are filled
in by `Prompt.messages`. Only the placeholders are replaced, so braces and `$` in the
prompt or in a paper's text need no escaping. A site may replace any prompt with its own
file of the same name in its `prompts/` folder (setting `prompts_dir`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

from digest_cli.errors import SettingsError

if TYPE_CHECKING:
    from digest_cli.settings import Settings

_SECTION = re.compile(r"^=== (system|user)\s*$", re.MULTILINE)
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


@dataclass(frozen=True)
class Prompt:
    """One prompt file: its version, its system message and its user message template."""

    name: str
    version: str
    system: str
    user: str

    def messages(self, **values: str) -> list[dict[str, str]]:
        """The chat messages with every `{{name}}` filled in from `values`."""
        return [{"role": "system", "content": fill(self.system, values)},
                {"role": "user", "content": fill(self.user, values)}]


def fill(template: str, values: dict[str, str]) -> str:
    """Replace `{{name}}` placeholders in one pass (values are never re-scanned)."""
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


# What the stages fill in; a site's prompt using another placeholder is refused when loaded.
PLACEHOLDERS = frozenset({"title", "abstract", "glossary", "field", "field_terms", "topics",
                          "most_topics", "topic_example", "topic_fallback", "body",
                          "source_note", "problems"})


def load_prompt(name: str, settings: Settings | None = None) -> Prompt:
    """The prompt `<name>.md`: the site's (in `prompts_dir`) when it has one, else the one
    shipped in this package. SettingsError names a site prompt that cannot be used."""
    if settings is not None:
        path = settings.prompts_path / f"{name}.md"
        if path.is_file():
            try:
                return _parse(name, path.read_text(encoding="utf-8"), site=True)
            except (OSError, UnicodeDecodeError, ValueError) as exc:
                raise SettingsError(f"prompt {path}: {exc}") from None
    raw = resources.files(__name__).joinpath(f"{name}.md").read_text(encoding="utf-8")
    return _parse(name, raw)


def _parse(name: str, raw: str, site: bool = False) -> Prompt:
    head, _, rest = raw.partition("\n")
    if not head.startswith("version:"):
        raise ValueError(f"prompt {name}.md must start with a `version:` line")
    pieces = _SECTION.split(rest)
    sections = dict(zip(pieces[1::2], (p.strip("\n") for p in pieces[2::2]), strict=True))
    unknown = set(_PLACEHOLDER.findall(rest)) - PLACEHOLDERS
    if unknown:
        raise ValueError(f"unknown placeholder {{{{{sorted(unknown)[0]}}}}} (known: "
                         f"{', '.join(sorted(PLACEHOLDERS))})")
    if site and not sections.get("user"):
        raise ValueError("no `=== user` section")
    version = head.partition(":")[2].strip()
    # A site's prompt is told apart from the shipped one of the same version in records.
    return Prompt(name, f"site-{version}" if site else version, sections.get("system", ""),
                  sections.get("user", ""))
