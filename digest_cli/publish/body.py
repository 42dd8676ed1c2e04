"""The text of a day's pull request and of the Actions job summary, from a `Day`.

Titles, ids and failure reasons come from arXiv or an LLM: untrusted. In a table cell they
are escaped so that a `|`, a backtick or an HTML tag cannot break the table or the page.
Pure functions: no I/O.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from digest_cli import kinds

# The task list's parts, here for the callers that know them from this module.
from digest_cli.publish.tasks import (  # noqa: F401
    STATE,
    TASK,
    TEXT_LIMIT,
    keep_state,
    parse_state,
    parse_ticks,
    set_box,
    state_line,
)
from digest_cli.records.links import abs_link
from digest_cli.records.model import Day, Failure, Paper, kept_corrections
from digest_cli.records.review import approved, changed_since_review, edited_by_person
from digest_cli.records.store import MANIFEST

if TYPE_CHECKING:
    from digest_cli.publish.day import PublishReport
    from digest_cli.records.topics import Topics
    from digest_cli.settings import Settings

MARKER = "<!-- digest:{date} -->"
BODY_LIMIT = 60000  # GitHub refuses bodies over 65536 characters
STATUS_ICONS = {"translated": "✅", "abstract only": "📄", "failed": "❌", "待翻译": "⏳"}
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|#~!$])")
# GitHub turns `@name` and `#123` into mentions and links after rendering, so a backslash
# does not stop them: a zero-width space after the sign does.
_PINGS = re.compile(r"([@#])")
# GitHub also links bare `https://host` and `www.host` (GFM autolinks): a zero-width space
# after `://` and after `www.` leaves no valid host there, so the text stays text.
_AUTOLINKS = re.compile(r"(://|www\.)", re.IGNORECASE)


def pr_title(day: Day, settings: Settings) -> str:
    """`arXiv Daily – 2026-01-28 (20 papers)`."""
    n = day.manifest.shown
    base = settings.title.format(date=day.manifest.date.isoformat())
    return f"{base} ({n} paper{'' if n == 1 else 's'})"


def md_cell(text: str, limit: int = 160) -> str:
    """`text` made safe inside a Markdown table cell: one line, specials escaped, no
    mention, issue reference or bare URL that GitHub would turn into a link."""
    text = " ".join(str(text).split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    text = _PINGS.sub("\\1\u200b", _MD_SPECIAL.sub(r"\\\1", text))
    return _AUTOLINKS.sub("\\1\u200b", text)


def status_cell(paper: Paper) -> str:
    status = paper.status
    extra = " · reviewed" if paper.reviewed else ""
    return f"{STATUS_ICONS.get(status, '')} {status}{extra}".strip()


def paper_row(index: int, paper: Paper) -> str:
    link = f"[{md_cell(paper.id.versioned)}]({_url(abs_link(paper))})"
    category = md_cell(paper.primary_category) or "—"
    return f"| {index} | {md_cell(paper.title)} | {link} | {category} | {status_cell(paper)} |"


def _url(url: str) -> str:
    """A URL safe inside `(...)` of a link: no spaces, parentheses or pipes."""
    return re.sub(r"[\s()|<>]", lambda m: f"%{ord(m.group()):02X}", url)


def paper_table(day: Day, rows: int | None = None) -> str:
    """The papers as a Markdown table, at most `rows` of them (None: all)."""
    lines = ["| # | Title | arXiv | Category | Status |", "|---:|---|---|---|---|"]
    shown = day.papers if rows is None else day.papers[:rows]
    lines += [paper_row(i, p) for i, p in enumerate(shown, 1)]
    if len(shown) < len(day.papers):
        lines.append(f"| | … {len(day.papers) - len(shown)} more (see the post) | | | |")
    return "\n".join(lines)


def has_brief(day: Day) -> bool:
    """True once any paper has a Chinese title, summary or topics to check."""
    return any(p.title_zh or p.summary or p.topics for p in day.papers)


def brief_line(paper: Paper, topics: Topics) -> str | None:
    """The paper's one-sentence summary and topics, as a line under its task (None when
    it has neither)."""
    if paper.summary is None and paper.topics is None:
        return None
    summary = md_cell(paper.summary.text, 200) if paper.summary else "—"
    return f"  一句话总结：{summary} · 主题：{_topics_cell(paper, topics)}"


def _topics_cell(paper: Paper, topics: Topics) -> str:
    slugs = paper.topic_slugs(topics)
    if slugs:
        return "、".join(topics.by_slug[slug].zh for slug in slugs)
    # an unreadable value (an editor's typo) is shown as it is, for the editor to fix
    return md_cell(paper.topics.text, 60) if paper.topics else "—"


def status_counts(day: Day) -> str:
    """`18 translated · 1 abstract only · 1 failed`, in the order of the statuses."""
    counts = Counter(p.status for p in day.papers)
    parts = [f"{counts[s]} {s}" for s in STATUS_ICONS if counts[s]]
    return " · ".join(parts) or "no papers"


def window_line(day: Day, settings: Settings) -> str:
    zone = ZoneInfo(settings.timezone)
    start = day.manifest.window_start.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    end = day.manifest.window_end.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    return f"{start} — {end} ({settings.zone_label})"


def counts_lines(day: Day, settings: Settings) -> list[str]:
    m = day.manifest
    lines = [f"- **Window**: {window_line(day, settings)}",
             f"- **Papers**: {m.fetched} fetched, {m.shown} shown ({status_counts(day)})"]
    if m.left_out:
        reasons = Counter(item.reason.split(":")[0] for item in m.left_out)
        why = ", ".join(f"{n} {md_cell(r, 40)}" for r, n in sorted(reasons.items()))
        lines.append(f"- **Left out**: {len(m.left_out)} ({why}); listed in "
                     f"`{settings.data_dir}/{m.date.isoformat()}/{MANIFEST}`")
    return lines


def _number(usage: dict[str, Any], *keys: str) -> float | None:
    for key in keys:
        value = usage.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
    return None


_TOKEN_KEYS = ("tokens_in", "prompt_tokens", "input_tokens", "tokens_out",
               "completion_tokens", "output_tokens", "cost_usd", "cost", "estimated_cost")


def usage_lines(usage: dict[str, Any], settings: Settings) -> list[str]:
    """Tokens and the estimated cost, from whatever the translate stage recorded."""
    if not isinstance(usage, dict) or not usage:
        return []
    if not any(key in usage for key in _TOKEN_KEYS) and isinstance(usage.get("translate"), dict):
        usage = usage["translate"]  # the manifest keeps each stage's spending under its name
    tokens_in = _number(usage, "tokens_in", "prompt_tokens", "input_tokens")
    tokens_out = _number(usage, "tokens_out", "completion_tokens", "output_tokens")
    cost = _number(usage, "cost_usd", "cost", "estimated_cost")
    if cost is None and (tokens_in is not None or tokens_out is not None):
        cost = ((tokens_in or 0) * settings.price_input_per_mtok
                + (tokens_out or 0) * settings.price_output_per_mtok) / 1e6
    lines = []
    if tokens_in is not None or tokens_out is not None:
        lines.append(f"- **Tokens**: {int(tokens_in or 0):,} in, {int(tokens_out or 0):,} out")
    requests = _number(usage, "requests", "calls")
    if requests is not None:
        lines.append(f"- **LLM requests**: {int(requests):,}")
    if cost is not None:
        lines.append(f"- **Estimated cost**: ${cost:.4f}")
    return lines


def open_failures(paper: Paper) -> list[Failure]:
    """The paper's failures whose text is still missing: an editor's hand translation of
    a failed paper clears its failure from the lists (the record keeps the history)."""
    def missing(name: str) -> bool:
        value = getattr(paper, name, None)
        return value is None or not str(getattr(value, "text", value)).strip()
    return [f for f in paper.failures if not hasattr(paper, f.field) or missing(f.field)]


def failures_section(day: Day) -> list[str]:
    failed = [(p, f) for p in day.papers for f in open_failures(p)]
    if not failed:
        return []
    lines = ["", "### What the machine could not do", ""]
    lines += [f"- `{p.id.base}` {md_cell(f.field, 40)}: {md_cell(f.reason, 300)}"
              for p, f in failed]
    return lines


def corrections_section(day: Day) -> list[str]:
    """Editors' corrections that arXiv's newer words differ from: kept, shown to decide."""
    kept = [(p, name) for p in day.papers for name in kept_corrections(p)]
    if not kept:
        return []
    lines = ["", "### Editors' corrections kept against arXiv's words", "",
             "arXiv's value is in the record's `arxiv_original`; copy it over the field to "
             "take it.", ""]
    lines += [f"- `{p.id.base}` {name}: arXiv has {md_cell(_shown(p.arxiv_original[name]), 200)}"
              for p, name in kept]
    return lines


def _shown(value: str | list[str]) -> str:
    return ", ".join(value) if isinstance(value, list) else str(value)


def checklist(day: Day, settings: Settings) -> list[str]:
    """What to check for the whole day, as plain bullets: GitHub counts task items as the
    body's progress ("N of M tasks"), and only the papers' items should count."""
    d = day.manifest.date.isoformat()
    return [
        "### Review checklist", "",
        "- Every translation reads as fluent Chinese and keeps the glossary's terms",
        "- Papers marked ❌ failed or ⏳ 待翻译 are fixed or accepted as they are",
        "- 详细解读 marked 📄 abstract only make no claims beyond the abstract",
        "- Titles, authors and links look right in the preview",
        *(["- 中文标题 and 一句话总结 read well and the topics fit (edit `title_zh`, "
           "`summary`, `topics` in the records)"] if has_brief(day) else []),
        *[f"- Every {label} reads well (edit `{name}` in the records)"  # registered kinds
          for name, label in kinds.post_labels().items()
          if any(kinds.get_text(p, name) for p in day.papers)],
        f"- Edited records under `{settings.data_dir}/{d}/` (tick a paper above once checked: its "
        "record gets `reviewed: true`, so no later run rewrites it); the post is re-rendered "
        "on push",
    ]


def howto(day: Day, branch: str) -> list[str]:
    d = day.manifest.date.isoformat()
    return [
        "### Preview and fix locally", "",
        "```sh",
        f"git fetch origin {branch} && git switch {branch}",
        f"digest preview --date {d} --open          # the post as HTML",
        f"digest review --date {d}                  # what is left to review",
        f"digest translate --date {d} --only ID --force   # re-run one paper",
        f"digest render --date {d}                 # then commit and push",
        "```",
    ]


# -- a task per paper ------------------------------------------------------------------

PAPERS_MARKER = "<!-- digest-papers:{date} -->"
MARKS = {"failed": "❌ failed", "abstract only": "📄 abstract only", "待翻译": "⏳ 待翻译"}
CHANGED = "🔶 changed since review"
EN_TITLE_LIMIT, ZH_TITLE_LIMIT = 110, 50  # 150 papers must fit in one body


def html_url(settings: Settings) -> str:
    """The web address of the GitHub that serves the API (github.com, or a GHES host)."""
    api = settings.github_api_url.rstrip("/")
    if api == "https://api.github.com":
        return "https://github.com"
    return api.removesuffix("/api/v3")


def blob_url(settings: Settings, branch: str, path: str) -> str | None:
    """A file on the branch in GitHub's web view; None without GITHUB_REPOSITORY."""
    if not settings.github_repository:
        return None
    return f"{html_url(settings)}/{settings.github_repository}/blob/{quote(branch)}/{quote(path)}"


def diff_url(settings: Settings, number: int | None, path: str) -> str | None:
    """The file's place in the pull request's *Files changed* (where suggestions are
    made): GitHub anchors each file at `#diff-` + the sha256 of its path."""
    import hashlib

    if not settings.github_repository or number is None:
        return None
    anchor = hashlib.sha256(path.encode("utf-8")).hexdigest()
    return f"{html_url(settings)}/{settings.github_repository}/pull/{number}/files#diff-{anchor}"


def _link(text: str, url: str | None, path: str) -> str:
    return f"[{text}]({_url(url)})" if url else f"{text} `{path}`"


def paper_marks(paper: Paper) -> list[str]:
    """The marks an editor looks for: failed, changed since review, abstract only,
    replaced, edited."""
    marks = [MARKS["failed"]] if paper.status == "failed" else []
    if changed_since_review(paper):
        marks.append(CHANGED)
    if paper.status in MARKS and paper.status != "failed":
        marks.append(MARKS[paper.status])
    if paper.replacement:
        marks.append(f"🔁 replaced (v{paper.id.version})")
    if edited_by_person(paper):
        marks.append("✏️ edited")
    return marks


def triage_rank(paper: Paper) -> int:
    """Failed first, then changed since review, then unreviewed, then reviewed."""
    if paper.status == "failed" or open_failures(paper):
        return 0
    if changed_since_review(paper):
        return 1
    return 3 if approved(paper) else 2


def triaged(papers: list[Paper]) -> list[Paper]:
    """The papers in triage order (post order within each group)."""
    return sorted(papers, key=triage_rank)


def paper_task(paper: Paper, settings: Settings, branch: str, day: str,
               number: int | None = None) -> str:
    """One task-list item: ticked when the record says reviewed (and nothing changed
    since); the marks first, so the eye finds what needs work."""
    path = f"{settings.data_dir}/{day}/{paper.id.file_stem}.yaml"
    parts = [*paper_marks(paper), f"**{md_cell(paper.id.base, 40)}**"]
    if paper.title_zh is not None and paper.title_zh.text.strip():
        parts.append(md_cell(paper.title_zh.text, ZH_TITLE_LIMIT))
    parts.append(md_cell(paper.title, EN_TITLE_LIMIT))
    url = diff_url(settings, number, path) or blob_url(settings, branch, path)
    parts.append(_link("record", url, path))
    parts.append(f"[arXiv](https://arxiv.org/abs/{paper.id.versioned})")
    if approved(paper) and paper.reviewed_by:
        parts.append(f"reviewed by {md_cell(paper.reviewed_by, 40)}")
    box = "x" if approved(paper) else " "
    task = f"- [{box}] " + " · ".join(parts)
    brief = brief_line(paper, settings.topics)  # on the item's second line: one task, one paper
    return task if brief is None else f"{task}\n{brief}"


def reviewed_line(day: Day) -> str:
    done = sum(approved(p) for p in day.papers)
    changed = sum(changed_since_review(p) for p in day.papers)
    extra = f", {changed} changed since review" if changed else ""
    return f"**Reviewed {done} of {len(day.papers)}** papers{extra} (tick a paper once " \
           "checked: its record gets `reviewed: true`; unticking clears it)"


def post_line(day: Day, settings: Settings, branch: str) -> str:
    d = day.manifest.date.isoformat()
    path = f"{settings.posts_dir}/{d}-arxiv.md"
    link = _link(f"`{path}`", blob_url(settings, branch, path), path)
    return (f"- **Post**: {link} (rendered by GitHub; the preview page is an artifact of "
            "the latest workflow run)")


def pr_texts(day: Day, settings: Settings, branch: str | None = None, number: int | None = None,
             head: str | None = None) -> tuple[str, list[str]]:
    """The pull request body and the comments that hold the tasks that do not fit in it
    (GitHub refuses bodies over 65,536 characters): no paper is ever left out. `number`:
    the pull request's (links into *Files changed*); `head`: the commit the records were
    read at (kept in each text's state line)."""
    d = day.manifest.date.isoformat()
    branch = branch or f"{settings.branch_prefix}{d}"
    lines = [MARKER.format(date=d), f"## arXiv digest for {d}", "",
             *counts_lines(day, settings), post_line(day, settings, branch),
             *usage_lines(day.manifest.usage, settings), "", "### Papers", "",
             reviewed_line(day), ""]
    tail = [*failures_section(day), *corrections_section(day), "", *checklist(day, settings), "",
            *howto(day, branch), "",
            f"_Generated by `digest publish`; the records under `{settings.data_dir}/{d}/` are "
            f"the source of truth, `{settings.posts_dir}/` is rendered from them._"]
    papers = triaged(day.papers)
    tasks = [paper_task(p, settings, branch, d, number) for p in papers]
    fixed = len("\n".join(lines + tail)) + 200 + 36 * len(papers)  # the state line
    kept = _fit(tasks, BODY_LIMIT - fixed)
    rest = tasks[kept:]
    note = [f"- … {len(rest)} more papers in the comment{'s' if len(rest) > 1 else ''} below"
            ] if rest else []
    body = "\n".join([*lines, *tasks[:kept], *note, "", state_line(papers[:kept], head),
                      *tail]) + "\n"
    return body, overflow_comments(d, rest, papers[kept:], head)


def _fit(lines: list[str], budget: int) -> int:
    """How many of `lines` fit in `budget` characters."""
    used = 0
    for n, line in enumerate(lines):
        used += len(line) + 1
        if used > budget:
            return n
    return len(lines)


def overflow_comments(d: str, tasks: list[str], papers: list[Paper],
                      head: str | None = None) -> list[str]:
    """The tasks that did not fit in the body, as comments (each under the limit)."""
    comments = []
    while tasks:
        top = [PAPERS_MARKER.format(date=d), f"### Papers of {d} (continued)", ""]
        n = max(1, _fit(tasks, BODY_LIMIT - 200 - 36 * len(tasks)))
        comments.append("\n".join([*top, *tasks[:n], "", state_line(papers[:n], head)])
                        + "\n")
        tasks, papers = tasks[n:], papers[n:]
    return comments


def pr_body(day: Day, settings: Settings, branch: str | None = None) -> str:
    """The whole pull request body: counts, a task per paper, usage, checklist, how-to."""
    return pr_texts(day, settings, branch)[0]


def job_summary(day: Day, settings: Settings, report: PublishReport | None = None) -> str:
    """Markdown for $GITHUB_STEP_SUMMARY: the counts, the PR and the paper table."""
    d = day.manifest.date.isoformat()
    lines = [f"## arXiv digest for {d}", "", *counts_lines(day, settings),
             *usage_lines(day.manifest.usage, settings)]
    if report is not None:
        lines += report_lines(report)
    return "\n".join([*lines, "", paper_table(day), *failures_section(day)]) + "\n"


def report_lines(report: PublishReport) -> list[str]:
    commits = len(report.commits)
    lines = [f"- **Branch**: `{report.branch}` ({commits} new commit{'' if commits == 1 else 's'}"
             f"{', pushed' if report.pushed else ''})"]
    if report.pr_url:
        verb = "opened" if report.pr_created else "updated" if report.pr_updated else "unchanged"
        lines.append(f"- **Pull request**: [#{report.pr_number}]({report.pr_url}) ({verb})")
    return lines
