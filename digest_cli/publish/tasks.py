"""The task list's machine-readable parts: each paper's box, and the hidden state line
the bot writes with them (what it knew when it wrote the boxes).

Texts come from GitHub (edited by people): read line by line, within GitHub's length.
"""

from __future__ import annotations

import re

from digest_cli.records.model import Paper

# A paper's task item: `- [x] ❌ failed · **2601.19786** ...` (the marks, then the id);
# `digest review --from-pr-body` reads it. Matched line by line, from the line's start,
# with bounded parts: linear in the text (a body of blank lines took seconds with `^\s*`).
TASK = re.compile(r"[ \t]*[-*] \[(?P<box>[ xX])\] (?:[^*\n]{0,80}?)\*\*(?P<id>[^*\s]{1,40})\*\*")
TEXT_LIMIT = 2 * 65536  # GitHub keeps 65,536 characters: anything longer is not its text
# The boxes as the bot last wrote them, in each text it writes: `<!-- digest-marks:SHA
# 2601.19786+1a2b3c.d1adddd2d256afe4 ... -->`, the commit the records were read at and,
# per paper, its box (+ ticked), the fingerprint of its record's mark and the hash of the
# texts shown (`review_hash`: a tick approves these). A box that differs from it was
# changed by a person since; that change is in the records once the mark changed too.
STATE = "<!-- digest-marks:{head} {papers}-->"
_STATE = re.compile(r"<!-- digest-marks:([0-9a-f]{4,64}|-) ([^>\n]{0,60000})-->")
_STATE_PAPER = re.compile(r"([^\s+]{1,40})([+-])([0-9a-f]{6})\.([0-9a-f]{16})")


def state_line(papers: list[Paper], head: str | None) -> str:
    """The hidden line that says how the bot wrote these papers' boxes, from which
    commit's records."""
    from digest_cli.records.review import approved, mark_print, review_hash

    marks = "".join(f"{p.id.base}{'+' if approved(p) else '-'}{mark_print(p)}."
                    f"{review_hash(p).removeprefix('sha256:')} " for p in papers)
    return STATE.format(head=head or "-", papers=marks)


def parse_state(text: str) -> tuple[str | None, dict[str, tuple[bool, str, str, str]]] | None:
    """(commit, id -> (ticked, mark fingerprint, texts' hash, the token as written)) of
    the text's state line; None when it has none."""
    match = _STATE.search(text[:TEXT_LIMIT])
    if match is None:
        return None
    head = None if match.group(1) == "-" else match.group(1)
    papers = {}
    for token in match.group(2).split():
        part = _STATE_PAPER.fullmatch(token)
        if part:
            papers[part.group(1)] = (part.group(2) == "+", part.group(3),
                                     "sha256:" + part.group(4), token)
    return head, papers


def keep_state(text: str, tokens: dict[str, str]) -> str:
    """`text` whose state line says of these papers what an older text said (`tokens`:
    id -> token): a box kept as a person set it keeps what the bot knew then."""
    match = _STATE.search(text[:TEXT_LIMIT])
    if match is None or not tokens:
        return text
    words = [tokens.get(part.group(1), w) if (part := _STATE_PAPER.fullmatch(w)) else w
             for w in match.group(2).split()]
    line = STATE.format(head=match.group(1), papers="".join(f"{w} " for w in words))
    return text[:match.start()] + line + text[match.end():]


def parse_ticks(text: str) -> dict[str, bool]:
    """The papers' boxes in a PR body or comment: id -> ticked. Linear in the text, and
    only its first TEXT_LIMIT characters are read."""
    ticks = {}
    for line in text[:TEXT_LIMIT].split("\n"):
        match = TASK.match(line)
        if match:
            ticks[match.group("id").replace("\\", "")] = match.group("box") != " "
    return ticks


def set_box(text: str, paper_id: str, ticked: bool) -> str:
    """`text` with the paper's box ticked or not (the rest as it is)."""
    lines = text.split("\n")
    for n, line in enumerate(lines):
        match = TASK.match(line)
        if match and match.group("id").replace("\\", "") == paper_id:
            start = match.start("box")
            lines[n] = line[:start] + ("x" if ticked else " ") + line[start + 1:]
    return "\n".join(lines)
