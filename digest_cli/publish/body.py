"""The text of a day's pull request and of the Actions job summary, from a `Day`.

Titles, ids and failure reasons come from arXiv or an LLM: untrusted. In a table cell they
are escaped so that a `|`, a backtick or an HTML tag cannot break the table or the page.
Pure functions: no I/O.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from digest_cli.records.links import abs_link
from digest_cli.records.model import Day, Paper
from digest_cli.records.store import MANIFEST

if TYPE_CHECKING:
    from digest_cli.settings import Settings

MARKER = "<!-- digest:{date} -->"
BODY_LIMIT = 60000  # GitHub refuses bodies over 65536 characters
STATUS_ICONS = {"translated": "✅", "abstract only": "📄", "failed": "❌", "待翻译": "⏳"}
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|#~!$])")
# GitHub turns `@name` and `#123` into mentions and links after rendering, so a backslash
# does not stop them: a zero-width space after the sign does.
_PINGS = re.compile(r"([@#])")


def pr_title(day: Day, settings: Settings) -> str:
    """`arXiv Daily – 2026-01-28 (20 papers)`."""
    n = day.manifest.shown
    base = settings.title.format(date=day.manifest.date.isoformat())
    return f"{base} ({n} paper{'' if n == 1 else 's'})"


def md_cell(text: str, limit: int = 160) -> str:
    """`text` made safe inside a Markdown table cell: one line, specials escaped."""
    text = " ".join(str(text).split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return _PINGS.sub("\\1\u200b", _MD_SPECIAL.sub(r"\\\1", text))


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
                     f"`data/{m.date.isoformat()}/{MANIFEST}`")
    return lines


def _number(usage: dict, *keys: str) -> float | None:
    for key in keys:
        value = usage.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
    return None


_TOKEN_KEYS = ("tokens_in", "prompt_tokens", "input_tokens", "tokens_out",
               "completion_tokens", "output_tokens", "cost_usd", "cost", "estimated_cost")


def usage_lines(usage: dict, settings: Settings) -> list[str]:
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


def failures_section(day: Day) -> list[str]:
    failed = [(p, f) for p in day.papers for f in p.failures]
    if not failed:
        return []
    lines = ["", "### What the machine could not do", ""]
    lines += [f"- `{p.id.base}` {md_cell(f.field, 40)}: {md_cell(f.reason, 300)}"
              for p, f in failed]
    return lines


def checklist(day: Day) -> list[str]:
    d = day.manifest.date.isoformat()
    return [
        "### Review checklist", "",
        "- [ ] Every translation reads as fluent Chinese and keeps the glossary's terms",
        "- [ ] Papers marked ❌ failed or ⏳ 待翻译 are fixed or accepted as they are",
        "- [ ] 详细解读 marked 📄 abstract only make no claims beyond the abstract",
        "- [ ] Titles, authors and links look right in the preview",
        f"- [ ] Edited records under `data/{d}/` (set `reviewed: true` on a paper you have "
        "checked, so no later run rewrites it); the post is re-rendered on push",
    ]


def howto(day: Day, branch: str) -> list[str]:
    d = day.manifest.date.isoformat()
    return [
        "### Preview and fix locally", "",
        "```sh",
        f"git fetch origin {branch} && git switch {branch}",
        f"digest preview --date {d} --open          # the post as HTML",
        f"digest translate --date {d} --only ID --force   # re-run one paper",
        f"digest render --date {d}                 # then commit and push",
        "```",
    ]


def pr_body(day: Day, settings: Settings, branch: str | None = None) -> str:
    """The whole pull request body: counts, papers, usage, checklist and how-to."""
    d = day.manifest.date.isoformat()
    branch = branch or f"{settings.branch_prefix}{d}"
    head = [MARKER.format(date=d), f"## arXiv digest for {d}", "",
            *counts_lines(day, settings), *usage_lines(day.manifest.usage, settings)]
    tail = ["", *checklist(day), "", *howto(day, branch), "",
            f"_Generated by `digest publish`; the records under `data/{d}/` are the source "
            "of truth, `_posts/` is rendered from them._"]
    rows = None
    while True:
        body = "\n".join([*head, "", paper_table(day, rows), *failures_section(day), *tail])
        if len(body) <= BODY_LIMIT or rows == 0:
            return body + "\n"
        rows = len(day.papers) // 2 if rows is None else rows // 2


def job_summary(day: Day, settings: Settings, report=None) -> str:
    """Markdown for $GITHUB_STEP_SUMMARY: the counts, the PR and the paper table."""
    d = day.manifest.date.isoformat()
    lines = [f"## arXiv digest for {d}", "", *counts_lines(day, settings),
             *usage_lines(day.manifest.usage, settings)]
    if report is not None:
        lines += report_lines(report)
    return "\n".join([*lines, "", paper_table(day), *failures_section(day)]) + "\n"


def report_lines(report) -> list[str]:
    commits = len(report.commits)
    lines = [f"- **Branch**: `{report.branch}` ({commits} new commit{'' if commits == 1 else 's'}"
             f"{', pushed' if report.pushed else ''})"]
    if report.pr_url:
        verb = "opened" if report.pr_created else "updated" if report.pr_updated else "unchanged"
        lines.append(f"- **Pull request**: [#{report.pr_number}]({report.pr_url}) ({verb})")
    return lines
