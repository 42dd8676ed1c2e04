"""Prompt files, versioned: each file starts with a `version:` line, and that version is
stored in every record written with it (change the version when you change the text).

A file has a `=== system` and a `=== user` section; `{{name}}` placeholders are filled
in by `Prompt.messages`. Only the placeholders are replaced, so braces and `$` in the
prompt or in a paper's text need no escaping.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

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


def load_prompt(name: str) -> Prompt:
    """The prompt file `<name>.md` shipped in this package."""
    raw = resources.files(__name__).joinpath(f"{name}.md").read_text(encoding="utf-8")
    head, _, rest = raw.partition("\n")
    if not head.startswith("version:"):
        raise ValueError(f"prompt {name}.md must start with a `version:` line")
    pieces = _SECTION.split(rest)
    sections = dict(zip(pieces[1::2], (p.strip("\n") for p in pieces[2::2]), strict=True))
    return Prompt(name, head.partition(":")[2].strip(), sections.get("system", ""),
                  sections.get("user", ""))
