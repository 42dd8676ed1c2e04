"""Records -> Jekyll post.

Two formats (setting `post_format`): "digest" adds a contents list, an anchor per paper
made from its arXiv id, the arXiv comments and a labelled 详细解读; "classic" is exactly the
format of the blog we replace (the seed post round-trips byte for byte). In both, a
paper's Chinese title, one-sentence summary and topics show when its record has them.

Text from arXiv or an LLM is untrusted: it is made safe for Liquid and kramdown here, but
only where needed, so that ordinary text (the seed post) comes out byte for byte. Every
escape is undone by `markup.unescape_*`, which the importer uses.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from digest_cli import kinds
from digest_cli.posts.markup import escape_author, escape_block, escape_inline
from digest_cli.records.links import abs_link, pdf_link
from digest_cli.records.model import ArxivId, Day, MachineText, Paper
from digest_cli.records.store import MANIFEST

if TYPE_CHECKING:
    from digest_cli.records.topics import Topics
    from digest_cli.settings import Settings

DETAILS_OPEN = '<details>\n<summary>详细解读</summary>\n\n<div markdown="1">\n\n'
DETAILS_CLOSE = "\n</div>\n\n</details>\n"
UNTRANSLATED = "【待翻译】"
ABSTRACT_ONLY_NOTE = "（全文暂不可得，本解读仅依据摘要。）"
SEPARATOR = "---\n"
UPDATED = "Updated"
COMMENTS = "Comments"
TITLE_ZH = "中文标题"
SUMMARY = "一句话总结"
TOPICS = "主题"
CLASSIC = "classic"
CONTENTS_ID = "contents"
# The 详细解读 <summary> of the digest format names its paper for screen readers.
LABEL_OPEN = '<span class="visually-hidden">：'
LABEL_CLOSE = "</span>"


def paper_anchor(pid: ArxivId) -> str:
    """The stable HTML id of a paper on its day page: `arxiv-2601-19786` (old-style ids
    `arxiv-hep-th-9901001`); kramdown wants a letter first and no dots."""
    return "arxiv-" + pid.base.replace(".", "-").replace("/", "-")


def topic_url(slug: str) -> str:
    """A topic page, as a post links to it (Liquid fills in the site's base path)."""
    return "{{ site.baseurl }}/topics/" + slug + "/"


def render_day(day: Day, settings: Settings) -> str:
    """The whole post for a day."""
    head, blocks = render_parts(day, settings)
    return join_post(head, blocks)


def render_parts(day: Day, settings: Settings) -> tuple[str, list[str]]:
    """The post's front matter and header, and one block per paper (for `digest sync`)."""
    head = front_matter(day.manifest.date, settings) + "\n" + header(day, settings)
    digest = settings.post_format != CLASSIC
    if digest and day.papers:
        head += "\n" + contents(day.papers, settings.highlight, settings.topics)
    return head, [paper_block(paper, digest, settings.topics) for paper in day.papers]


def join_post(head: str, blocks: list[str]) -> str:
    return "\n".join([head, *blocks])


def front_matter(day: date, settings: Settings) -> str:
    title = settings.title.format(date=day.isoformat()).replace("\\", "\\\\").replace('"', '\\"')
    tags = ", ".join(_yaml_tag(tag) for tag in settings.tags)
    return f'---\nlayout: {settings.layout}\ntitle: "{title}"\ntags: [{tags}]\n---\n'


# Plain words a YAML 1.1 reader (Jekyll's) takes for a boolean or null, not a string.
_YAML_WORDS = {"y", "yes", "n", "no", "true", "false", "on", "off", "null"}


def _yaml_tag(tag: str) -> str:
    """A tag (checked by `confine`: a word character first, no quotes or flow marks) as a
    YAML flow item that reads back as this very string: plain where it can be, else
    double-quoted (a number, date, boolean or null would be read as one)."""
    if tag[0].isdigit() or tag.lower() in _YAML_WORDS:
        return f'"{tag}"'
    return tag


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
        # " | " made the old header line a one-row table: the digest format avoids it.
        f"- 抓取总数：{m.fetched} 篇{' | ' if settings.post_format == CLASSIC else '，'}"
        f"本页显示：{m.shown} 篇（去重/过滤后）",
    ]
    if m.capped:
        lines.append(f"- 因每日上限（{m.shown} 篇）未显示：{len(m.capped)} 篇，"
                     f"见 `{settings.data_dir}/{m.date.isoformat()}/{MANIFEST}`")
    return "\n".join(lines) + "\n"


def highlighted(paper: Paper, keywords: list[str]) -> bool:
    """True when an editors' keyword occurs (any case) in the paper's titles or summary."""
    text = " ".join([paper.title, _text(paper.title_zh), _text(paper.summary)]).casefold()
    return any(word.strip().casefold() in text for word in keywords if word.strip())


def contents(papers: list[Paper], keywords: list[str], topics: Topics) -> str:
    """The contents list: highlighted papers first, each with its number in the post."""
    numbered = list(enumerate(papers, start=1))
    marked = [item for item in numbered if keywords and highlighted(item[1], keywords)]
    first = {number for number, _ in marked}
    rest = [item for item in numbered if item[0] not in first]
    lines = [f"## 目录\n{{: #{CONTENTS_ID}}}\n"]
    lines += [_contents_line(n, paper, True, topics) for n, paper in marked]
    lines += [_contents_line(n, paper, False, topics) for n, paper in rest]
    return "\n".join(lines) + "\n{: .toc data-pagefind-ignore=\"all\"}\n"  # not twice in search


def _contents_line(number: int, paper: Paper, marked: bool, topics: Topics) -> str:
    title_zh = _text(paper.title_zh)
    if title_zh:
        link = f"[{escape_inline(title_zh)}](#{paper_anchor(paper.id)})"
    else:
        link = f'[{escape_inline(paper.title)}](#{paper_anchor(paper.id)}){{: lang="en"}}'
    line = f"- {'**★ 关注** ' if marked else ''}{number}\\. {link}"  # `1.` would nest a list
    summary = _text(paper.summary)
    if summary:
        line += f"：{escape_inline(summary)}"
    names = [topics.by_slug[slug].zh for slug in paper.topic_slugs(topics)]
    if names:
        line += f"〔{'、'.join(names)}〕"
    return line


def _text(field: MachineText | None) -> str:
    """A MachineText's text on one line ('' when absent)."""
    return " ".join(field.text.split()) if field is not None else ""


def paper_block(paper: Paper, digest: bool, topics: Topics) -> str:
    """One paper: heading, metadata lines, translation, folded 详细解读, separator."""
    lines = [f"## {escape_inline(paper.title)}"]
    if digest:
        lines.append(f'{{: #{paper_anchor(paper.id)} lang="en"}}')
    abs_url, pdf_url = abs_link(paper), pdf_link(paper)
    lines += [
        f"- **Authors**: {', '.join(escape_author(a) for a in paper.authors)}",
        f"- **Categories**: {escape_inline(', '.join(paper.categories))}",
        f"- **arXiv**: [{abs_url}]({abs_url})",
        f"- **PDF**: [{pdf_url}]({pdf_url})",
    ]
    if paper.replacement:  # a new version of a paper shown before
        lines.append(f"- **{UPDATED}**: v{paper.id.version}（新版本，旧版本此前已收录）")
    lines += extra_lines(paper, digest, topics)
    lines += ["", body_text(paper), ""]
    block = "\n".join(lines) + "\n"
    if paper.analysis is not None and paper.analysis.text.strip():
        block += details_open(paper, digest) + analysis_text(paper) + DETAILS_CLOSE + "\n"
    return block + SEPARATOR


def extra_lines(paper: Paper, digest: bool, topics: Topics) -> list[str]:
    """The metadata lines the old blog did not have, each only when there is something."""
    lines = []
    comment = " ".join((paper.comment or "").split())
    if digest and comment:
        lines.append(f"- **{COMMENTS}**: {escape_inline(comment)}")
    if _text(paper.title_zh):
        lines.append(f"- **{TITLE_ZH}**：{escape_inline(_text(paper.title_zh))}")
    if _text(paper.summary):
        lines.append(f"- **{SUMMARY}**：{escape_inline(_text(paper.summary))}")
    slugs = paper.topic_slugs(topics)
    if slugs:
        links = [f"[{topics.by_slug[s].zh}]({topic_url(s)})" for s in slugs]
        lines.append(f"- **{TOPICS}**：{' · '.join(links)}")
    for name, label in kinds.post_labels().items():  # registered text kinds (kinds.py)
        text = _text(kinds.get_text(paper, name))
        if text:
            lines.append(f"- **{label}**：{escape_inline(text)}")
    return lines


def details_open(paper: Paper, digest: bool) -> str:
    """`<details>` and its summary; in the digest format the summary names the paper."""
    if not digest:
        return DETAILS_OPEN
    label = escape_inline(_text(paper.title_zh) or paper.title)
    return DETAILS_OPEN.replace("详细解读</summary>",
                                f"详细解读{LABEL_OPEN}{label}{LABEL_CLOSE}</summary>")


def body_text(paper: Paper) -> str:
    """The Chinese translation; the English abstract marked 待翻译 until there is one."""
    if paper.translation is not None and paper.translation.text.strip():
        text = escape_block(paper.translation.text.strip("\n"))
        if text.startswith(UNTRANSLATED):  # 【 as a reference: never read as the marker
            text = f"&#{ord(UNTRANSLATED[0])};" + text[1:]
        return text
    return UNTRANSLATED + " " + escape_block(paper.abstract.strip())


def analysis_text(paper: Paper) -> str:
    """The 详细解读, noted when it rests on the abstract only."""
    analysis = paper.analysis
    assert analysis is not None  # paper_block shows the 详细解读 only when there is one
    text = escape_block(analysis.text.strip("\n"))
    if analysis.source == "abstract":
        text = ABSTRACT_ONLY_NOTE + "\n\n" + text
    return text

