"""The kinds of text the machine writes for a paper, each declared once.

A `TextKind` is one question asked of the LLM per paper (its prompt file, answer cache
folder and usage row share its name); its `fields` are the record texts the answer fills.
The translation and the 详细解读 fill one field each; the brief fills three (`title_zh`,
`summary`, `topics`) from one answer. Every stage reads these declarations: which texts
`translate` writes and how it validates them, which the record stores and in what layout,
which `check` checks, how an editor's version is recognised (`review`, `import`,
`publish`), and how a text is named in errors, commits and the pull request.

Adding a kind (docs/layout.md, "How to add a text kind"): `register(TextKind(...))` in a
module of the site named by the setting `text_kinds` (the CLI imports it first), a prompt
`<name>.md` (in the package or the site's `prompts/` folder), and its rules. A kind that
is not built in keeps its texts in `Paper.more_texts` and shows in the post as a
`- **label**：text` line.
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from digest_cli.errors import SettingsError
from digest_cli.records.model import MachineText, Paper
from digest_cli.records.topics import Topics
from digest_cli.translate import brief_rules, validate

if TYPE_CHECKING:
    from digest_cli.settings import Settings

# (text, paper, the site's topics) -> what is wrong with it (empty: nothing).
Rules = Callable[[str, Paper, Topics], list[str]]
Normalise = Callable[[str, Topics], str]


def human_or_edited(text: MachineText) -> bool:
    """The usual test of an editor's version: written by hand (`source: human`, or a bare
    string in the record) or changed since the machine wrote it."""
    return text.edited or text.source == "human"


@dataclass(frozen=True)
class TextField:
    """One text of the record that a kind's answer fills."""

    name: str  # the record's key (and `Failure.field`)
    label: str  # how errors, commits, the pull request and a post line name it
    rules: Rules  # the stored text's rules, for `translate` and `digest check`
    layout: bool = False  # stored a sentence a line (records/sentences.py)
    one_line: bool = False  # shown on one line in the post: spaces there are no edit
    # A registered kind's text shows in the post as a `- **post_label**：text` line (the
    # built-in texts have their own places in render.py); None: not in the post.
    post_label: str | None = None
    editors: Callable[[MachineText], bool] = human_or_edited


@dataclass(frozen=True)
class TextKind:
    """One question per paper: its prompt, its answer's rules and the fields it fills."""

    name: str  # prompt file `<name>.md`, answer cache folder, usage row
    fields: tuple[TextField, ...]
    normalise: Normalise  # the raw answer tidied before it is checked
    problems: Rules  # the whole (normalised) answer's rules: a repair prompt names them
    # A valid answer as {field name: text}; None: the one field takes the whole answer.
    split: Callable[[str], dict[str, str]] | None = None
    full_text: bool = False  # the prompt gets the paper's full text (the 详细解读)
    model_setting: str = "llm_model"  # the Settings attribute naming the model
    # A failure of this kind means the paper is not translated (`nothing_translated`);
    # an optional kind's failure leaves the post whole.
    essential: bool = True
    switch: str | None = None  # a bool setting that turns the kind off (`llm_brief`)
    # Draw on the Chinese translation when the record has no abstract (the old blog's).
    from_translation: bool = False
    builtin: bool = False  # a `Paper` attribute per field (else `Paper.more_texts`)
    # What keeps the answer from matching its source sentence by sentence: worth one
    # repair prompt, not a failure; an answer still showing it is stored with
    # `MachineText.aligned` False. None: no alignment asked (one field kinds only).
    alignment: Rules | None = None

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def always_stored(self) -> bool:
        """The translation and the 详细解读 have their key in every record, `null` until
        written; the others appear once there is one, so older records stay as they are."""
        return self.builtin and self.essential

    def parts(self, answer: str) -> dict[str, str]:
        """A valid answer as the text of each field."""
        if self.split is None:
            return {self.fields[0].name: answer}
        return self.split(answer)

    def enabled(self, settings: Settings) -> bool:
        return self.switch is None or bool(getattr(settings, self.switch))


def _translation_rules(text: str, paper: Paper, topics: Topics) -> list[str]:
    return validate.translation_problems(text, paper.abstract)


def _analysis_rules(text: str, paper: Paper, topics: Topics) -> list[str]:
    return validate.analysis_problems(text)


TRANSLATION = TextKind(
    name="translation",
    fields=(TextField("translation", "translation", _translation_rules, layout=True),),
    normalise=lambda text, topics: validate.normalise_translation(text),
    problems=_translation_rules, builtin=True,
    alignment=lambda text, paper, topics: validate.alignment_problems(text, paper.abstract))
ANALYSIS = TextKind(
    name="analysis",
    fields=(TextField("analysis", "详细解读", _analysis_rules, layout=True),),
    normalise=lambda text, topics: validate.normalise_analysis(text),
    problems=_analysis_rules, full_text=True, model_setting="analysis_model", builtin=True)
BRIEF = TextKind(
    name="brief",
    fields=(
        TextField("title_zh", "中文标题", lambda t, p, topics: brief_rules.title_zh_problems(t),
                  one_line=True),
        TextField("summary", "一句话总结", lambda t, p, topics: brief_rules.summary_problems(t),
                  one_line=True),
        TextField("topics", "主题", lambda t, p, topics: brief_rules.topics_problems(t, topics)),
    ),
    normalise=lambda text, topics: brief_rules.normalise_brief(text, topics),
    problems=lambda text, paper, topics: brief_rules.brief_problems(text, topics),
    split=brief_rules.split_brief, essential=False, switch="llm_brief",
    from_translation=True, builtin=True)

_KINDS: dict[str, TextKind] = {k.name: k for k in (TRANSLATION, ANALYSIS, BRIEF)}


# A post's metadata labels (posts/render.py): a registered kind's line may not take one.
_POST_LABELS = {"Authors", "Categories", "arXiv", "PDF", "Updated", "Comments", "中文标题",
                "一句话总结", "主题"}
_PLAIN_LABEL = re.compile(r"^[^\x00-\x1f*\[\]<>|`{}:：]{1,30}$")


def register(kind: TextKind) -> None:
    """Add a kind (after the built-in ones); ValueError when a name clashes with another
    kind's or a post label is taken or not plain text."""
    taken = {f.name for k in _KINDS.values() for f in k.fields} | set(_KINDS)
    clash = ({kind.name} | set(kind.field_names)) & taken
    if clash or kind.builtin:
        raise ValueError(f"text kind {kind.name!r}: {', '.join(sorted(clash)) or 'builtin'} "
                         "already declared")
    used = _POST_LABELS | set(post_labels().values())
    for f in kind.fields:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", f.name):
            raise ValueError(f"text kind {kind.name!r}: field {f.name!r} is no record key "
                             "(lower-case letters, digits, _)")
        if f.post_label is not None and (f.post_label in used
                                         or not _PLAIN_LABEL.match(f.post_label)):
            raise ValueError(f"text kind {kind.name!r}: post label {f.post_label!r} is taken "
                             "or not plain text")
    _KINDS[kind.name] = kind
    _INDEX.clear()


_MODULE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


def load_modules(names: list[str], root: Path) -> None:
    """Import the site's modules that declare text kinds (setting `text_kinds`), from the
    site root, once each; SettingsError names a module that cannot be imported."""
    for name in names:
        if not _MODULE.match(name):
            raise SettingsError(f"setting 'text_kinds': {name!r} is not a module name")
        if name in sys.modules:
            continue
        sys.path.insert(0, str(root))
        try:
            importlib.import_module(name)
        except (ImportError, ValueError) as exc:  # ValueError: a declaration `register` refused
            raise SettingsError(f"setting 'text_kinds': cannot import {name!r}: {exc}") from None
        finally:
            sys.path.remove(str(root))


def unregister(name: str) -> None:
    """Take a registered kind out again (tests)."""
    if _KINDS[name].builtin:
        raise ValueError(f"{name} is built in")
    del _KINDS[name]
    _INDEX.clear()


def kinds() -> tuple[TextKind, ...]:
    """Every kind, built-in ones first, in the order texts are asked and shown."""
    return tuple(_KINDS.values())


def kind(name: str) -> TextKind:
    return _KINDS[name]


# {field name: (kind, field)} in record order, made again after each (un)registering:
# every record read asks these per text (a cold `check --all` 100,000 times).
_INDEX: dict[str, tuple[TextKind, TextField]] = {}


def _index() -> dict[str, tuple[TextKind, TextField]]:
    if not _INDEX:
        _INDEX.update((f.name, (k, f)) for k in _KINDS.values() for f in k.fields)
    return _INDEX


def fields() -> Iterator[tuple[TextKind, TextField]]:
    """Every record text with its kind, in record order."""
    yield from _index().values()


def field_names() -> tuple[str, ...]:
    return tuple(_index())


def field(name: str) -> TextField:
    """The declaration of record text `name`; KeyError when there is none."""
    return _index()[name][1]


def kind_of(field_name: str) -> TextKind:
    """The kind whose answer fills record text `field_name`; KeyError when none does."""
    return _index()[field_name][0]


def is_text(name: str) -> bool:
    return name in _index()


def label(name: str) -> str:
    """How a text is named to editors, its record key first: `analysis (详细解读)`."""
    shown = field(name).label if is_text(name) else name
    return name if shown == name else f"{name} ({shown})"


def post_labels() -> dict[str, str]:
    """{field: label} of the registered (not built-in) texts shown as a post line."""
    return {f.name: f.post_label for k, f in fields() if not k.builtin and f.post_label}


def in_post(name: str) -> bool:
    """True when the post shows the text (a built-in one, or one with a `post_label`)."""
    return kind_of(name).builtin or field(name).post_label is not None


def get_text(paper: Paper, name: str) -> MachineText | None:
    """The record's text `name`, built in or registered."""
    if kind_of(name).builtin:
        text: MachineText | None = getattr(paper, name)
        return text
    return paper.more_texts.get(name)


def set_text(paper: Paper, name: str, value: MachineText | None) -> None:
    if kind_of(name).builtin:
        setattr(paper, name, value)
    elif value is None:
        paper.more_texts.pop(name, None)
    else:
        paper.more_texts[name] = value


def editors_version(paper: Paper, name: str) -> bool:
    """True when the record's text `name` is an editor's (written or changed by hand)."""
    text = get_text(paper, name)
    return text is not None and field(name).editors(text)


def edited_by_person(paper: Paper) -> bool:
    """True when an editor changed or wrote any of the paper's texts."""
    return any(editors_version(paper, name) for name in field_names())
