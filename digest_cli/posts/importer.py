"""Post -> records: the migration path from the old blog, and the way edits made in a post
come back into the records.

A paper block is a `## ` heading followed by the Authors line; any other `## ` line (an
LLM's own `## 1) ...`) is text. What cannot be parsed is an error naming the file and
line, never a guess.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from digest_cli import kinds
from digest_cli.errors import ImportError_
from digest_cli.posts.guard import refuse_replacing
from digest_cli.posts.markup import unescape_block, unescape_inline
from digest_cli.posts.render import (
    ABSTRACT_ONLY_NOTE,
    COMMENTS,
    SUMMARY,
    TITLE_ZH,
    TOPICS,
    UNTRANSLATED,
    UPDATED,
)
from digest_cli.records.layout import has_day
from digest_cli.records.model import (
    ArxivId,
    Day,
    Failure,
    LeftOut,
    MachineText,
    Manifest,
    Paper,
    machine_text_hash,
)
from digest_cli.records.store import day_dates, load_day, load_paper, paper_path, write_day
from digest_cli.records.writer import Writer
from digest_cli.translate.text_faults import is_not_an_answer

if TYPE_CHECKING:
    from digest_cli.records.topics import Topics
    from digest_cli.settings import Settings

log = logging.getLogger(__name__)

# Why a paper the records hold is not in the post: an editor took its block out.
REMOVED = "removed: an editor took it out of the post"

_FILE_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})-")
_WINDOW = re.compile(r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2})\s*[—–-]+\s*(\d{4}-\d{2}-\d{2} \d{2}:\d{2})")
_FETCHED = re.compile(r"抓取总数：\s*(\d+)\s*篇")
_META = {
    "authors": re.compile(r"^- \*\*Authors\*\*: ?(.*)$"),
    "categories": re.compile(r"^- \*\*Categories\*\*: ?(.*)$"),
    "abs": re.compile(r"^- \*\*arXiv\*\*: \[(.*?)\]\((.*?)\)\s*$"),
    "pdf": re.compile(r"^- \*\*PDF\*\*: \[(.*?)\]\((.*?)\)\s*$"),
}
_UPDATED = re.compile(rf"^- \*\*{UPDATED}\*\*: ")
# The digest format's anchor line under a paper's heading (render.paper_anchor).
_ANCHOR = re.compile(r'^\{: #arxiv-[\w-]+(?: lang="en")?\}$')
# The digest format's optional metadata lines after the PDF (or Updated) line.
_EXTRA = re.compile(r"^- \*\*([^*]+)\*\*[:：] ?(.*)$")
_EXTRA_LABELS = (COMMENTS, TITLE_ZH, SUMMARY, TOPICS)  # and the lines of registered kinds
_TOPIC_LINK = re.compile(r"/topics/([a-z-]+)/\)")
# The 详细解读 markup's lines, blank lines and spaces around them aside.
_DETAILS_HEAD = ["<details>", "<summary>详细解读</summary>", '<div markdown="1">']
_LABELLED = re.compile(r'^<summary>详细解读(?:<span class="visually-hidden">：.*</span>)?'
                       r"</summary>$")
# The failure recorded for the old blog's error text: `digest check` flags these.
IMPORTED_ERROR = "the imported post had error text"
# What the old blog wrote when the LLM failed: never text, always a failure.
_ERROR_TEXT = re.compile(r"^\s*(?:全文解读|详细解读|解读|翻译)失败|Traceback \(most recent|"
                         r"^\s*Error code: \d{3}")


@dataclass
class ImportedPaper:
    """What a post says about one paper: only the fields a post shows."""

    paper: Paper
    line: int


def parse_post(path: Path, settings: Settings) -> tuple[Manifest, list[ImportedPaper]]:
    """Read one post into a manifest and its papers (fresh records, nothing merged)."""
    lines = read_post(path).split("\n")
    body_start = _front_matter_end(lines, path)
    starts = [i for i in range(body_start, len(lines) - 1) if _is_paper_start(lines, i)]
    header = lines[body_start:starts[0] if starts else len(lines)]
    day = post_date(path)
    manifest = _manifest(day, header, path, body_start, settings)
    papers: list[ImportedPaper] = []
    seen: dict[str, int] = {}
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        item = _paper(lines[start:end], start + 1, path)
        base = item.paper.id.base
        if base in seen:  # `digest sync` tells blocks apart by id: one of them would be lost
            raise ImportError_(f"paper {base} is shown twice (also at line {seen[base]}): "
                               "keep one block", path=path, line=item.line)
        seen[base] = item.line
        papers.append(item)
    manifest.papers = [p.paper.id.base for p in papers]
    return manifest, papers


def read_post(path: Path) -> str:
    """A post's text, as an editor's tools may have saved it: a byte-order mark (Windows
    Notepad) is dropped, `\r\n` and `\r` read as `\n`; other encodings are refused."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportError_(f"cannot read post: {exc.strerror}", path=path) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportError_(f"the post is not UTF-8 text (byte {exc.start}): save it as UTF-8",
                           path=path) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def post_blocks(text: str) -> dict[str, str]:
    """Each paper's block of a post, by base id: from its heading to its `---` line."""
    lines = text.replace("\r\n", "\n").split("\n")
    starts = [i for i in range(len(lines) - 1) if _is_paper_start(lines, i)]
    blocks = {}
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        at = start + 3 + (1 if _ANCHOR.match(lines[start + 1]) else 0)
        match = _META["abs"].match(lines[at]) if at < len(lines) else None
        try:
            key = ArxivId.parse(match.group(2)).base if match else f"line {start + 1}"
        except ValueError:
            key = f"line {start + 1}"
        blocks[key] = "\n".join(lines[start:end]).strip("\n") + "\n"
    return blocks


def _is_paper_start(lines: list[str], i: int) -> bool:
    """A `## ` heading followed by the Authors line (the digest format puts the paper's
    anchor line between them)."""
    if not lines[i].startswith("## "):
        return False
    following = lines[i + 2] if _ANCHOR.match(lines[i + 1]) and i + 2 < len(lines) else \
        lines[i + 1]
    return _META["authors"].match(following) is not None


def _front_matter_end(lines: list[str], path: Path) -> int:
    if not lines or lines[0] != "---":
        raise ImportError_("no front matter: the post must start with a `---` line",
                           path=path, line=1)
    for i in range(1, len(lines)):
        if lines[i] == "---":
            return i + 1
    raise ImportError_("front matter is not closed by a `---` line", path=path, line=1)


def post_date(path: Path) -> date:
    """The date a post's file name starts with; ImportError_ when it has none."""
    match = _FILE_DATE.match(path.name)
    try:
        if match:
            return date.fromisoformat(match.group(1))
    except ValueError:
        pass
    raise ImportError_("file name must start with the post date (YYYY-MM-DD-)", path=path)


def _manifest(day: date, header: list[str], path: Path, offset: int,
              settings: Settings) -> Manifest:
    zone = ZoneInfo(settings.timezone)
    window = fetched = None
    for line in header:
        window = window or _WINDOW.search(line)
        fetched = fetched or _FETCHED.search(line)
    if window is None:
        raise ImportError_("no time window line (- 时间窗口...：YYYY-MM-DD HH:MM — "
                           "YYYY-MM-DD HH:MM) before the first paper", path=path, line=offset + 1)
    try:
        start, end = (datetime.strptime(window.group(i), "%Y-%m-%d %H:%M").replace(tzinfo=zone)
                      for i in (1, 2))
    except ValueError as exc:  # 2026-02-30, 25:00: a hand-edited header
        raise ImportError_(f"the time window line names no real time ({exc})", path=path,
                           line=offset + 1) from None
    return Manifest(date=day, window_start=start, window_end=end,
                    fetched=int(fetched.group(1)) if fetched else 0, papers=[])


def _paper(block: list[str], line_no: int, path: Path) -> ImportedPaper:
    """One block: heading, four metadata lines, translation, optional 详细解读, `---`."""
    heading = block[0]
    if len(block) > 1 and _ANCHOR.match(block[1]):
        block, line_no = [heading, *block[2:]], line_no + 1
    meta = {}
    for offset, (name, pattern) in enumerate(_META.items(), start=1):
        match = pattern.match(block[offset]) if offset < len(block) else None
        if match is None:
            raise ImportError_(f"expected the {name} line (`{pattern.pattern}`) of the paper "
                               f"{block[0][3:]!r}", path=path, line=line_no + offset)
        meta[name] = match
    try:
        pid = ArxivId.parse(meta["abs"].group(2))
    except ValueError as exc:
        raise ImportError_(str(exc), path=path, line=line_no + 3) from None
    replacement = len(block) > 5 and _UPDATED.match(block[5]) is not None
    at = 6 if replacement else 5
    extras = {}
    labels = (*_EXTRA_LABELS, *kinds.post_labels().values())
    while at < len(block) and (extra := _EXTRA.match(block[at])) and extra.group(1) in labels:
        extras[extra.group(1)] = extra.group(2)
        at += 1
    rest = _strip_separator(block[at:], path, line_no)
    body, analysis = _split_details(rest, path, line_no + 5)
    paper = Paper(
        id=pid,
        title=unescape_inline(block[0][3:]),
        authors=[unescape_inline(a) for a in meta["authors"].group(1).split(", ") if a],
        categories=[c.strip() for c in unescape_inline(meta["categories"].group(1)).split(",")
                    if c.strip()],
        abs_url=meta["abs"].group(2),
        pdf_url=meta["pdf"].group(2),
        replacement=replacement,
    )
    _set_body(paper, body)
    _set_analysis(paper, analysis)
    _set_extras(paper, extras)
    return ImportedPaper(paper, line_no)


def _set_extras(paper: Paper, extras: dict[str, str]) -> None:
    """The digest format's comments, Chinese title, summary and topics lines."""
    if extras.get(COMMENTS):
        paper.comment = unescape_inline(extras[COMMENTS])
    for name, field in ((TITLE_ZH, "title_zh"), (SUMMARY, "summary")):
        if extras.get(name, "").strip():
            setattr(paper, field, _imported(unescape_inline(extras[name].strip())))
    if extras.get(TOPICS, "").strip():
        slugs = _TOPIC_LINK.findall(extras[TOPICS])
        paper.topics = _imported(", ".join(slugs) if slugs else extras[TOPICS].strip())
    for name, label in kinds.post_labels().items():
        if extras.get(label, "").strip():
            kinds.set_text(paper, name, _imported(unescape_inline(extras[label].strip())))


def _strip_separator(lines: list[str], path: Path, line_no: int) -> list[str]:
    while lines and lines[-1] == "":
        lines = lines[:-1]
    if not lines or lines[-1] != "---":
        raise ImportError_("paper block does not end with a `---` separator line",
                           path=path, line=line_no)
    return lines[:-1]


def _split_details(lines: list[str], path: Path, line_no: int) -> tuple[str, str | None]:
    """The text before the 详细解读 block and the block's text (None: no block). Blank lines
    and spaces around the markup are not significant: the old blog's posts vary in them."""
    bare = [line.strip() for line in lines]
    if "<details>" not in bare:
        return "\n".join(lines).strip("\n"), None
    at = bare.index("<details>")
    marks = [i for i in range(at, len(lines)) if bare[i]][:3]
    found = [bare[i] for i in marks]
    if len(found) > 1 and _LABELLED.match(found[1]):
        found[1] = _DETAILS_HEAD[1]
    if found != _DETAILS_HEAD:
        raise ImportError_("expected `<details>`, `<summary>详细解读</summary>` and "
                           '`<div markdown="1">`', path=path, line=line_no + at)
    tail = [i for i in range(marks[-1] + 1, len(lines)) if bare[i]]
    if len(tail) < 2 or [bare[i] for i in tail[-2:]] != ["</div>", "</details>"]:
        raise ImportError_("the 详细解读 block is not closed by `</div>` and `</details>`",
                           path=path, line=line_no + at)
    inner = "\n".join(lines[marks[-1] + 1:tail[-2]]).strip("\n")
    return "\n".join(lines[:at]).strip("\n"), inner


def _set_body(paper: Paper, body: str) -> None:
    if body.startswith(UNTRANSLATED):
        paper.abstract = unescape_block(body[len(UNTRANSLATED):].lstrip(" "))
    elif body:
        paper.translation = _imported(unescape_block(body))


def _set_analysis(paper: Paper, text: str | None) -> None:
    if text is None or not text.strip():
        return
    source = "import"
    if text.startswith(ABSTRACT_ONLY_NOTE):
        text, source = text[len(ABSTRACT_ONLY_NOTE):].lstrip("\n"), "abstract"
    if _ERROR_TEXT.search(text) or is_not_an_answer(text):  # a refusal, an API's error
        first = text.strip().splitlines()[0][:200]
        paper.failures.append(Failure("analysis", f"{IMPORTED_ERROR}: {first}"))
        return
    paper.analysis = _imported(unescape_block(text), source)


def _imported(text: str, source: str = "import") -> MachineText:
    return MachineText(text=text, source=source, hash=machine_text_hash(text))


# -- merging into existing records -----------------------------------------------------

def merge_paper(old: Paper | None, new: Paper, topics: Topics) -> tuple[Paper, list[str]]:
    """Take a post's view of a paper into its record; returns the record and changed fields.

    Fields a post does not show (abstract, dates, provenance) keep the record's values. A
    text that differs from the record's is the editor's: its hash is left as it was, so the
    record shows it as edited and no later run rewrites it.
    """
    if old is None:
        return new, ["new"]
    changed = []
    merged = replace(old)
    merged.arxiv_original = dict(old.arxiv_original)
    for name in ("title", "authors", "categories", "abs_url", "pdf_url"):
        if getattr(old, name) != getattr(new, name):
            if name in old.arxiv_hashes and not old.editors(name):
                merged.arxiv_original[name] = getattr(old, name)  # arXiv's, kept beside
            setattr(merged, name, getattr(new, name))
            changed.append(name)
    if new.id.version != old.id.version:
        merged.id = new.id
        changed.append("version")
    merged.more_texts = dict(old.more_texts)
    for _, declared in kinds.fields():
        name = declared.name
        mine, theirs = kinds.get_text(old, name), kinds.get_text(new, name)
        if theirs is None:
            continue  # the post shows nothing (待翻译 or no block): keep the record's
        if name == "topics" and mine is not None and old.topic_slugs(topics) == \
                new.topic_slugs(topics) and old.topic_slugs(topics):
            continue  # the same topics, written another way
        if declared.one_line and mine is not None and " ".join(mine.text.split()) == theirs.text:
            continue  # the post shows the text on one line
        if mine is None:
            kinds.set_text(merged, name, MachineText(text=theirs.text, source="human"))
            changed.append(name)
        elif mine.text != theirs.text:
            kinds.set_text(merged, name, replace(mine, text=theirs.text))
            changed.append(name)
    if new.translation is None and old.translation is None and new.abstract and \
            new.abstract != old.abstract:
        merged.abstract = new.abstract
        changed.append("abstract")
    return merged, changed


@dataclass
class ImportedPost:
    """One post taken into the records: the day written and the changed fields by id."""

    post: Path
    day: Day
    changes: dict[str, list[str]]


def import_posts(settings: Settings, posts: list[Path]) -> list[ImportedPost]:
    """Read posts into records and day manifests (`digest import`). Every post is parsed
    before anything is written; two posts of one day are refused."""
    seen: dict[date, Path] = {}
    for post in posts:  # the second post of a day would replace the first one's papers
        if seen.setdefault(post_date(post), post) != post:
            raise ImportError_(f"a second post for {post_date(post)} (the first is "
                               f"{seen[post_date(post)]}): a day has one post", path=post)
    parsed = []
    for post in posts:  # parse every post before writing anything
        existing = load_day(settings, post_date(post)) if has_day(settings, post_date(post)) \
            else None
        parsed.append(ImportedPost(post, *import_post(post, settings, existing)))
    writer = Writer()
    for item in parsed:
        write_day(settings, item.day, writer)
    return parsed


def import_post(path: Path, settings: Settings,
                existing: Day | None) -> tuple[Day, dict[str, list[str]]]:
    """A day from a post, merged into the records already there (if any).

    A paper of the records that the post no longer shows is left out (reason `REMOVED`),
    so no later fetch puts it back; its record file stays."""
    manifest, imported = parse_post(path, settings)
    old_papers = {p.id.base: p for p in existing.papers} if existing else {}
    papers, changes = [], {}
    rendered = existing.manifest.rendered.get("papers", {}) if existing else {}
    for item in imported:
        old = old_papers.get(item.paper.id.base) or stored_paper(settings, manifest.date,
                                                                 item.paper.id)
        paper, changed = merge_paper(old, item.paper, settings.topics)
        refuse_replacing(old, changed, rendered.get(item.paper.id.base), path, item.line,
                         settings)
        papers.append(paper)
        if changed:
            changes[paper.id.base] = changed
    if existing is not None:
        manifest.left_out = list(existing.manifest.left_out)
        manifest.usage = existing.manifest.usage
        manifest.rendered = existing.manifest.rendered
        shown = set(manifest.papers)
        update_left_out(manifest, [p for p in existing.papers if p.id.base not in shown])
    _warn_other_days(settings, manifest)
    return Day(manifest, papers), changes


def stored_paper(settings: Settings, day: date, pid: ArxivId) -> Paper | None:
    """The day's record of a paper its manifest does not list (one left out), if any:
    merged into, so what a post does not show (abstract, dates) is kept."""
    path = paper_path(settings.day_path(day), pid)
    return load_paper(path) if path.is_file() else None


def _base(paper_id: str) -> str:
    try:
        return ArxivId.parse(paper_id).base
    except ValueError:
        return paper_id


def update_left_out(manifest: Manifest, removed: list[Paper]) -> None:
    """Papers shown again leave `left_out`; papers taken out of the post join it."""
    shown = {_base(pid) for pid in manifest.papers}
    kept = [x for x in manifest.left_out if _base(x.id) not in shown]
    known = {_base(x.id) for x in kept}
    manifest.left_out = kept + [LeftOut(p.id.base, REMOVED, p.title) for p in removed
                                if p.id.base not in known and p.id.base not in shown]


def _warn_other_days(settings: Settings, manifest: Manifest) -> None:
    """A paper in another day's records too will show on both days: say so."""
    for other in day_dates(settings):
        if other == manifest.date:
            continue
        folder = settings.day_path(other)
        twice = [pid for pid in manifest.papers if paper_path(folder, pid).is_file()]
        if twice:
            log.warning("%s: %d papers are also in the records of %s and will show on both "
                        "days: %s", manifest.date, len(twice), other, ", ".join(twice))
