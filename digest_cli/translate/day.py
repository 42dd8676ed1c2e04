"""`digest translate`: fill in each record's Chinese translation, 详细解读 and brief
(Chinese title, one-sentence summary, topics), and any other text kind: what is asked,
checked and written for each is declared in `digest_cli.kinds`.

Per paper, for each missing text: build the prompt (the paper's text is untrusted and
fenced in `<paper>`), take the answer from the cache or ask the LLM, normalise it,
validate it, send a repair prompt while it is invalid, then re-read the record and write
what is still the machine's to write. All papers run at once; the LLM client's limiter
bounds the requests in flight. A paper is written as soon as its answers are in, so a
killed run loses only the requests in flight, and the answer cache makes a re-run pay
for nothing else.

Never rewritten: a reviewed paper, an edited text, a text from an import or an editor.
`force` redoes the other (machine-owned) texts and asks the LLM again instead of using
cached answers: it is for "this answer is bad, get a new one".
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from digest_cli import kinds
from digest_cli.cachefile import read_json, write_json
from digest_cli.errors import RecordError, TranslateError
from digest_cli.kinds import TextKind
from digest_cli.records.model import ArxivId, MachineText, Paper, machine_text_hash
from digest_cli.records.store import (
    load_day,
    load_paper,
    paper_path,
    write_paper,
)
from digest_cli.records.writer import Writer
from digest_cli.translate import fulltext
from digest_cli.translate.glossary import load_glossary
from digest_cli.translate.llm import LLM, CallFailed
from digest_cli.translate.prompts import Prompt, fill, load_prompt
from digest_cli.translate.report import TranslateReport, record_usage, usage_summary

if TYPE_CHECKING:
    from digest_cli.settings import Settings

log = logging.getLogger(__name__)

FULL_TEXT_INTRO = "正文（节选，已去掉参考文献）：\n"
ABSTRACT_ONLY = "- 这篇论文的正文暂不可得：只依据摘要撰写，摘要里没有的细节不要编造。\n"
_DELIMITER = re.compile(r"<\s*/?\s*paper\s*>", re.IGNORECASE)

PaperOutcome = Literal["done", "failed"]
Progress = Callable[[str, PaperOutcome, int, int], None]  # (paper id, outcome, finished, total)


class InvalidAnswer(Exception):
    """The answer stayed invalid after every repair prompt."""


@dataclass
class Outcome:
    """What one field of one paper came to: a text, or why there is none."""

    kind: str  # a record field, or a kind's name while its answer is not split
    text: MachineText | None = None
    failure: str | None = None
    cached: bool = False


def fields_to_do(paper: Paper, force: bool = False) -> list[str]:
    """The texts of `paper` this run may write: missing ones, and with `force` the
    machine-owned ones. Nothing of a reviewed paper."""
    if paper.reviewed:
        return []
    todo: list[str] = []
    for name in kinds.field_names():
        current = kinds.get_text(paper, name)
        if current is None or (current.machine_owned and (force or not current.text.strip())):
            todo.append(name)
    return todo


def translate_day(settings: Settings, day_date: date, *, force: bool = False,
                  only: str | None = None, client: LLM | None = None,
                  now: Callable[[], datetime] | None = None, on_progress: Progress | None = None,
                  keep: Callable[[Paper], bool] | None = None) -> TranslateReport:
    """Translate the papers of `day_date` that need it; returns at once (no key needed)
    when none does. Raises TranslateError when the LLM cannot be used at all."""
    started = time.monotonic()
    day = load_day(settings, day_date)
    papers = [p for p in _select(day.papers, only, day_date) if keep is None or keep(p)]
    todo = [(paper, fields) for paper in papers if (fields := _asked(settings, paper, force))]
    report = TranslateReport(day_date, papers=len(papers), skipped=len(papers) - len(todo))
    if not todo:
        return report
    llm = client or LLM.from_settings(settings)
    run = _Run(settings, day_date, llm, report, force=force, now=now, on_progress=on_progress)
    try:
        asyncio.run(run.all(todo))
    finally:  # tokens spent before a fatal error count too
        report.wall_seconds = time.monotonic() - started
        report.usage = usage_summary(llm, settings, report.wall_seconds)
        # A run that wrote no record leaves the manifest alone too (its spending is in
        # its log): a re-run that learns nothing commits nothing.
        if report.usage["calls"] and report.changed_any:
            record_usage(settings, day_date, report.usage)
    return report


def _asked(settings: Settings, paper: Paper, force: bool) -> list[str]:
    """`fields_to_do`, less the fields of kinds a setting turns off (`llm_brief`)."""
    off = {f for k in kinds.kinds() if not k.enabled(settings) for f in k.field_names}
    return [name for name in fields_to_do(paper, force) if name not in off]


def _select(papers: list[Paper], only: str | None, day_date: date) -> list[Paper]:
    if only is None:
        return papers
    try:
        base = ArxivId.parse(only).base
    except ValueError as exc:
        raise TranslateError(str(exc)) from None
    chosen = [p for p in papers if p.id.base == base]
    if not chosen:
        raise TranslateError(f"{only} is not among the papers of {day_date.isoformat()}")
    return chosen


# -- the answer cache -------------------------------------------------------------------

class AnswerCache:
    """Valid answers on disk, one JSON file per (paper id and version, kind, model,
    prompt version, prompt text): a re-run of a finished or killed day asks nothing twice.
    The prompt text is in the key so a new glossary or a full text that became available
    is asked anew."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, pid: ArxivId, kind: str, model: str, prompt: Prompt,
             messages: list[dict[str, str]]) -> Path:
        """Where the answer to exactly this question is kept."""
        key = json.dumps([model, prompt.version, messages], ensure_ascii=False)
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]
        return self.folder / kind / f"{pid.file_stem}v{pid.version or 0}" / f"{digest}.json"

    def get(self, path: Path) -> str | None:
        data = read_json(path, path.relative_to(self.folder).as_posix())  # damaged: None
        return data["text"] if isinstance(data, dict) and type(data.get("text")) is str else None

    def put(self, path: Path, text: str, model: str, prompt: Prompt) -> None:
        data = {"text": text, "model": model, "prompt_version": prompt.version}
        write_json(path, path.relative_to(self.folder).as_posix(), data)


# -- prompts ----------------------------------------------------------------------------

def glossary_text(settings: Settings) -> str:
    """The glossary as prompt lines (`- term → 中文`); a note when there is none."""
    data = load_glossary(settings)
    if not data:
        return "（无）"
    return "\n".join(f"- {term} → {'保留英文' if str(zh).strip().lower() == 'keep' else zh}"
                     for term, zh in data.items())


def fence(text: str) -> str:
    """Untrusted text made unable to close the `<paper>` fence around it."""
    return _DELIMITER.sub("(paper)", text or "")


# -- one run ----------------------------------------------------------------------------

class _Run:
    """The state of one `translate_day` call inside its event loop."""

    def __init__(self, settings: Settings, day_date: date, llm: LLM, report: TranslateReport, *,
                 force: bool, now: Callable[[], datetime] | None,
                 on_progress: Progress | None) -> None:
        self.settings, self.llm, self.report, self.force = settings, llm, report, force
        self.folder = settings.day_path(day_date)
        self.topics = settings.topics
        names = [k.name for k in kinds.kinds()] + ["repair"]
        self.prompts = {name: load_prompt(name, settings) for name in names}
        self.glossary = glossary_text(settings)
        self.cache = AnswerCache(settings.cache_path / "llm")
        self.writer = Writer()
        self.now = now or (lambda: datetime.now(timezone.utc))
        self.on_progress = on_progress
        self.finished, self.total = 0, 0
        self.pdf_slots: asyncio.Semaphore | None = None

    async def all(self, todo: list[tuple[Paper, list[str]]]) -> None:
        """Every paper at once; the LLM limiter and the PDF semaphore pace them."""
        self.total = len(todo)
        self.pdf_slots = asyncio.Semaphore(max(1, self.settings.pdf_concurrency))
        tasks = [asyncio.create_task(self.paper(paper, fields, rank))
                 for rank, (paper, fields) in enumerate(todo)]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            # One failed (a full disk): stop the others before the client closes under them.
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        finally:
            await self.llm.aclose()

    async def paper(self, paper: Paper, fields: list[str], rank: int) -> None:
        jobs: list[Awaitable[list[Outcome]]] = [
            self.fields(paper, kind, [n for n in kind.field_names if n in fields], rank)
            for kind in kinds.kinds() if any(n in fields for n in kind.field_names)]
        outcomes = [o for done in await asyncio.gather(*jobs) for o in done]
        # A round-trip YAML write takes tens of ms: off the loop, so requests keep flowing.
        outcomes = await asyncio.to_thread(self.save, paper, outcomes)
        self.tally(paper, outcomes)

    async def fields(self, paper: Paper, kind: TextKind, names: list[str],
                     rank: int) -> list[Outcome]:
        """The fields `names` of `kind`, all from one answer (or all failed with it)."""
        whole = await self.answer(paper, kind, rank)
        if whole.text is None:
            return [Outcome(name, failure=whole.failure) for name in names]
        values = kind.parts(whole.text.text)
        # One answer: counted once among the cached ones; each field hashed on its own,
        # so an edit of one is recognised on its own.
        return [Outcome(name, replace(whole.text, text=values[name],
                                      hash=machine_text_hash(values[name])),
                        cached=whole.cached and i == 0)
                for i, name in enumerate(names)]

    async def answer(self, paper: Paper, kind: TextKind, rank: int) -> Outcome:
        """One kind's answer for one paper: cached, asked (and repaired), or a failure."""
        if not _source_text(paper, kind):
            return Outcome(kind.name, failure="the record has no abstract to work from")
        model = str(getattr(self.settings, kind.model_setting))
        prompt = self.prompts[kind.name]
        messages, source = await self.messages(paper, kind)
        where = self.cache.path(paper.id, kind.name, model, prompt, messages)
        cached = None if self.force else self.cache.get(where)
        if cached is not None and not kind.problems(cached, paper, self.topics):
            return Outcome(kind.name, self.machine_text(cached, model, prompt, source,
                                                        not self.misaligned(kind, cached, paper)),
                           cached=True)
        try:
            text, aligned = await self.ask(paper, kind, model, messages, rank)
        except (CallFailed, InvalidAnswer) as exc:
            log.warning("[%s] %s failed: %s", paper.id, kind.name, exc)
            return Outcome(kind.name, failure=str(exc))
        self.cache.put(where, text, model, prompt)
        return Outcome(kind.name, self.machine_text(text, model, prompt, source, aligned))

    def machine_text(self, text: str, model: str, prompt: Prompt, source: str,
                     aligned: bool = True) -> MachineText:
        stamp = self.now().astimezone(timezone.utc).isoformat(timespec="seconds")
        return MachineText(text=text, model=model, prompt_version=prompt.version,
                           generated_at=stamp, source=source, hash=machine_text_hash(text),
                           aligned=aligned)

    def misaligned(self, kind: TextKind, text: str, paper: Paper) -> list[str]:
        """Why the answer does not match its source sentence by sentence (kinds that ask)."""
        return kind.alignment(text, paper, self.topics) if kind.alignment else []

    async def messages(self, paper: Paper, kind: TextKind) -> tuple[list[dict[str, str]], str]:
        """The chat messages for `kind`, and the source they draw on. Every prompt may use
        every value; only its own `{{placeholders}}` are filled."""
        values = {"title": fence(paper.title), "abstract": fence(_source_text(paper, kind)),
                  "glossary": self.glossary, **self.topics.prompt_values(),
                  **self.settings.prompt_words}
        if not kind.full_text:
            return self.prompts[kind.name].messages(**values), "abstract"
        body = await self.full_text(paper)
        if body:
            values.update(body=FULL_TEXT_INTRO + fence(body), source_note="")
        else:
            values.update(body="", source_note=ABSTRACT_ONLY)
        return self.prompts[kind.name].messages(**values), "full_text" if body else "abstract"

    async def full_text(self, paper: Paper) -> str | None:
        assert self.pdf_slots is not None  # made when the run starts, in its event loop
        async with self.pdf_slots:
            try:
                return await asyncio.to_thread(fulltext.full_text, self.settings, paper.id)
            except OSError as exc:  # a cache that cannot be written is no reason to fail
                log.warning("[%s] full text unavailable: %s", paper.id, exc)
                return None

    async def ask(self, paper: Paper, kind: TextKind, model: str,
                  messages: list[dict[str, str]], rank: int) -> tuple[str, bool]:
        """A valid answer and whether it is aligned, sending repair prompts while it is not
        valid; InvalidAnswer after `llm_repair_attempts` repairs. Misalignment is named in
        one repair prompt (while one is left); after that the answer is taken as it is."""
        repairs, named = self.settings.llm_repair_attempts, False
        for attempt in range(repairs + 1):
            answer = await self.llm.complete(messages, model, kind.name, priority=rank)
            text = kind.normalise(answer.text, self.topics)
            problems = kind.problems(text, paper, self.topics)
            if answer.finish_reason == "length":
                problems.append("the answer was cut off (too long); write it more briefly")
            misaligned = self.misaligned(kind, text, paper)
            if misaligned and not named and attempt < repairs:
                problems, named = problems + misaligned, True
            if not problems:
                return text, not misaligned
            log.info("[%s] invalid %s (attempt %d): %s", paper.id, kind.name, attempt + 1,
                     "; ".join(problems))
            messages = messages + [{"role": "assistant", "content": answer.text},
                                   {"role": "user", "content": self.repair_prompt(problems)}]
        raise InvalidAnswer(f"invalid answer after {repairs} repair prompts: "
                            + "; ".join(problems))

    def repair_prompt(self, problems: list[str]) -> str:
        listed = "\n".join(f"- {problem}" for problem in problems)
        return fill(self.prompts["repair"].user, {"problems": listed})

    def save(self, paper: Paper, outcomes: list[Outcome]) -> list[Outcome]:
        """Re-read the record (an editor may have changed it meanwhile) and write the new
        texts into the fields that are still the machine's; returns what came of them."""
        try:
            fresh = load_paper(paper_path(self.folder, paper.id))
        except RecordError as exc:
            log.error("[%s] not written: %s", paper.id, exc)
            outcomes = [Outcome(o.kind, failure=f"record unreadable: {exc}") for o in outcomes]
        else:
            before = copy.deepcopy(fresh)
            self.apply(fresh, outcomes)
            if fresh != before:  # an identical answer leaves the file as the editor left it
                write_paper(self.folder, fresh, self.writer)
            else:
                self.report.unchanged.append(paper.id.base)
        return outcomes

    def apply(self, paper: Paper, outcomes: list[Outcome]) -> None:
        allowed = fields_to_do(paper, self.force)
        stamp = self.now().astimezone(timezone.utc).isoformat(timespec="seconds")
        for outcome in outcomes:
            if outcome.kind not in allowed:
                log.info("[%s] %s was changed meanwhile; left as it is", paper.id, outcome.kind)
                continue
            if outcome.text is None:
                paper.failed(outcome.kind, outcome.failure or "", stamp)
                continue
            paper.failures = [f for f in paper.failures if f.field != outcome.kind]
            if not _same_but_time(kinds.get_text(paper, outcome.kind), outcome.text):
                kinds.set_text(paper, outcome.kind, outcome.text)

    def tally(self, paper: Paper, outcomes: list[Outcome]) -> None:
        failures: list[tuple[str, str, str]] = []
        for kind in kinds.kinds():  # one answer, one failure: one line for its fields
            failed = [o for o in outcomes if o.failure and o.kind in kind.field_names]
            if failed:
                failures.append((str(paper.id.base), ", ".join(o.kind for o in failed),
                                 failed[0].failure or ""))
        self.report.failed += failures
        self.report.cached += sum(o.cached for o in outcomes)
        if not failures:
            self.report.done.append(paper.id.base)
        self.finished += 1
        if self.on_progress is not None:
            self.on_progress(paper.id.base, "failed" if failures else "done", self.finished,
                             self.total)


def _same_but_time(old: MachineText | None, new: MachineText) -> bool:
    """The same text from the same model and prompt, only asked again: the record keeps
    when it was first written, so a re-run that learns nothing writes nothing."""
    return old is not None and replace(old, generated_at=new.generated_at) == new


def _source_text(paper: Paper, kind: TextKind) -> str:
    """What a question draws on: the English abstract; for a kind that may (the brief) of a
    paper imported from the old blog (which kept no abstract), its Chinese translation."""
    if paper.abstract.strip() or not kind.from_translation or paper.translation is None:
        return paper.abstract.strip()
    return paper.translation.text.strip()
