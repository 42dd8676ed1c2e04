"""`digest glossary suggest`: learn terms from editors' corrections.

For every text an editor changed (its hash no longer matches), the machine's original is
found in git history (the version whose text has that hash). The two are compared, and
a replacement editors made in several papers (`休伯特` -> `HuBERT`, `说话者` -> `说话人`)
is proposed as a glossary line. Nothing is written: an editor copies what is right.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from digest_cli import kinds
from digest_cli.errors import DigestError, RecordError
from digest_cli.records.model import machine_text_hash
from digest_cli.records.store import iter_papers, load_yaml, loads, paper_path

if TYPE_CHECKING:
    from pathlib import Path

    import git

    from digest_cli.settings import Settings

_LATIN_TERM = re.compile(r"^[A-Za-z][A-Za-z0-9\-\s.]*$")


@dataclass
class Suggestion:
    machine: str
    edited: str
    papers: list[str] = field(default_factory=list)

    def glossary_line(self) -> str:
        target = "keep" if _LATIN_TERM.match(self.edited) else self.edited
        term = self.edited if target == "keep" else self.machine
        note = f"  # editors replaced {self.machine!r} in {len(self.papers)} papers"
        return f"{term}: {target}{note}"


def suggest_terms(settings: Settings, min_papers: int = 2) -> list[Suggestion]:
    """Replacements editors made in at least `min_papers` papers, most frequent first."""
    repo = _repo(settings)
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    # The long texts, where an editor's word for a term shows (not a title or a topic slug).
    prose = [f.name for _, f in kinds.fields() if f.layout]
    for day, paper in iter_papers(settings):
        for kind in prose:
            text = kinds.get_text(paper, kind)
            if text is None or not text.edited:
                continue
            original = _machine_text(repo, paper_path(settings.day_path(day), paper.id), kind,
                                     text.hash)
            for pair in replacements(original or "", text.text) if original else []:
                found[pair].add(paper.id.base)
    known = _known_terms(settings)
    out = [Suggestion(m, e, sorted(ids)) for (m, e), ids in found.items()
           if len(ids) >= min_papers and m not in known and e not in known]
    return sorted(out, key=lambda s: (-len(s.papers), s.machine))


def _repo(settings: Settings) -> git.Repo:
    """The site's git repository, which must have history to compare against."""
    import git  # GitPython, only for this command


    try:
        repo = git.Repo(settings.root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise DigestError("not a git repository: the machine's texts are looked up in "
                          "its history", path=settings.root, stage="glossary") from None
    if not repo.head.is_valid():
        raise DigestError("the git repository has no commits yet: nothing to compare",
                          path=settings.root, stage="glossary")
    return repo


def replacements(machine: str, edited: str) -> list[tuple[str, str]]:
    """Term-sized pieces of `machine` that the editor replaced, widened to whole words."""
    matcher = difflib.SequenceMatcher(None, machine, edited, autojunk=False)
    pairs = []
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op != "replace":
            continue
        old, new = _widen(machine, a1, a2), _widen(edited, b1, b2)
        if 1 <= len(old) <= 16 and 1 <= len(new) <= 24 and old != new:
            pairs.append((old, new))
    return pairs


def _widen(text: str, start: int, end: int) -> str:
    """Grow a Latin fragment to its whole word (`HuBE` -> `HuBERT`); Chinese stays as is."""
    while start > 0 and text[start - 1].isascii() and text[start - 1].isalnum():
        start -= 1
    while end < len(text) and text[end].isascii() and text[end].isalnum():
        end += 1
    return text[start:end].strip()


def _machine_text(repo: git.Repo, path: Path, kind: str,
                  wanted_hash: str | None) -> str | None:
    """The text of `kind` in the committed version of `path` that the machine wrote."""
    if not wanted_hash:
        return None
    top = repo.working_tree_dir
    assert top is not None  # `_repo` opens a checkout, never a bare repository
    rel = path.resolve().relative_to(top)
    for commit in repo.iter_commits(paths=str(rel)):
        try:
            blob = commit.tree / str(rel)
        except KeyError:
            continue
        data = _parse(blob.data_stream.read().decode("utf-8"))
        text = (data.get(kind) or {}).get("text") if isinstance(data, dict) else None
        if isinstance(text, str) and machine_text_hash(text) == wanted_hash:
            return text
    return None


def _parse(text: str) -> Any:
    try:
        return loads(text)
    except Exception:  # an old, broken version of the file: not the one we look for
        return None


def load_glossary(settings: Settings) -> dict[str, Any]:
    """The glossary file (English term: Chinese, or `keep`); empty when there is none."""
    path = settings.root / settings.glossary_file
    if not path.is_file():
        return {}
    data = load_yaml(path) or {}
    if not isinstance(data, dict):
        raise RecordError("the glossary must map English terms to Chinese (or `keep`)",
                          path=path)
    return data


def glossary_for_review(settings: Settings) -> dict[str, Any]:
    """The glossary for the review notes and the preview's highlight: empty when the file
    is unreadable (its own problems are reported where it is used for translating)."""
    try:
        return load_glossary(settings)
    except DigestError:
        return {}


def _known_terms(settings: Settings) -> set[str]:
    data = load_glossary(settings)
    return {str(k) for k in data} | {str(v) for v in data.values()}
