"""Records -> Jekyll post, in exactly the format of the blog we replace.

Text from arXiv or an LLM is untrusted: it is made safe for Liquid and kramdown here, but
only where needed, so that ordinary text (the seed post) comes out byte for byte. Every
escape is undone by `markup.unescape_*`, which the importer uses.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from digest_cli.posts.markup import escape_author, escape_block, escape_inline
from digest_cli.records.links import abs_link, pdf_link
from digest_cli.records.model import Day, Paper
from digest_cli.records.store import MANIFEST

if TYPE_CHECKING:
    from digest_cli.settings import Settings

DETAILS_OPEN = '<details>\n<summary>详细解读</summary>\n\n<div markdown="1">\n\n'
DETAILS_CLOSE = "\n</div>\n\n</details>\n"
UNTRANSLATED = "【待翻译】"
ABSTRACT_ONLY_NOTE = "（全文暂不可得，本解读仅依据摘要。）"
SEPARATOR = "---\n"
UPDATED = "Updated"


def render_day(day: Day, settings: Settings) -> str:
    """The whole post for a day."""
    head, blocks = render_parts(day, settings)
    return join_post(head, blocks)


def render_parts(day: Day, settings: Settings) -> tuple[str, list[str]]:
    """The post's front matter and header, and one block per paper (for `digest sync`)."""
    head = front_matter(day.manifest.date, settings) + "\n" + header(day, settings)
    return head, [paper_block(paper) for paper in day.papers]


def join_post(head: str, blocks: list[str]) -> str:
    return "\n".join([head, *blocks])


def front_matter(day: date, settings: Settings) -> str:
    title = settings.title.format(date=day.isoformat()).replace("\\", "\\\\").replace('"', '\\"')
    tags = ", ".join(settings.tags)
    return f'---\nlayout: {settings.layout}\ntitle: "{title}"\ntags: [{tags}]\n---\n'


def _clock(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def header(day: Day, settings: Settings) -> str:
    m = day.manifest
    anchor = settings.anchor.strftime("%H:%M")
    lines = [
        f"以下为 {m.date.isoformat()}（{settings.zone_label}，{settings.zone_name}）"
        "窗口内更新的论文中文译文：",
        f"- 时间窗口（锚点 {anchor} {settings.zone_label}）："
        f"{_clock(m.window_start, settings.timezone)} — {_clock(m.window_end, settings.timezone)}",
        f"- 抓取总数：{m.fetched} 篇 | 本页显示：{m.shown} 篇（去重/过滤后）",
    ]
    if m.capped:
        lines.append(f"- 因每日上限（{m.shown} 篇）未显示：{len(m.capped)} 篇，"
                     f"见 `data/{m.date.isoformat()}/{MANIFEST}`")
    return "\n".join(lines) + "\n"


def paper_block(paper: Paper) -> str:
    """One paper: heading, metadata lines, translation, folded 详细解读, separator."""
    lines = [
        f"## {escape_inline(paper.title)}",
        f"- **Authors**: {', '.join(escape_author(a) for a in paper.authors)}",
        f"- **Categories**: {escape_inline(', '.join(paper.categories))}",
        f"- **arXiv**: [{abs_link(paper)}]({abs_link(paper)})",
        f"- **PDF**: [{pdf_link(paper)}]({pdf_link(paper)})",
    ]
    if paper.replacement:  # a new version of a paper shown before
        lines.append(f"- **{UPDATED}**: v{paper.id.version}（新版本，旧版本此前已收录）")
    lines += ["", body_text(paper), ""]
    block = "\n".join(lines) + "\n"
    if paper.analysis is not None and paper.analysis.text.strip():
        block += DETAILS_OPEN + analysis_text(paper) + DETAILS_CLOSE + "\n"
    return block + SEPARATOR


def body_text(paper: Paper) -> str:
    """The Chinese translation; the English abstract marked 待翻译 until there is one."""
    if paper.translation is not None and paper.translation.text.strip():
        return escape_block(paper.translation.text.strip("\n"))
    return UNTRANSLATED + " " + escape_block(paper.abstract.strip())


def analysis_text(paper: Paper) -> str:
    assert paper.analysis is not None  # only papers with an analysis show the details block
    text = escape_block(paper.analysis.text.strip("\n"))
    if paper.analysis.source == "abstract":
        text = ABSTRACT_ONLY_NOTE + "\n\n" + text
    return text

