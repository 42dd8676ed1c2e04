"""Render and import: the seed post round-trips byte for byte; hostile text stays literal."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from digest_cli.errors import ImportError_, RecordError
from digest_cli.posts.importer import import_post, parse_post
from digest_cli.posts.markup import escape_block, escape_inline, unescape_block, unescape_inline
from digest_cli.posts.render import render_day
from digest_cli.posts.write import render_days, stale_posts
from digest_cli.records.model import MachineText, text_hash
from digest_cli.records.store import load_day, write_day
from digest_cli.records.writer import Writer
from tests.conftest import SAMPLE, SAMPLE_DAY, make_day, make_paper


def import_and_render(post: Path, settings) -> str:
    day, _ = import_post(post, settings, None)
    write_day(settings, day, Writer())
    return render_day(load_day(settings, day.manifest.date), settings)


def test_seed_round_trips_byte_for_byte(seed_post, site, settings_for):
    settings = settings_for(site, post_format="classic")
    assert import_and_render(seed_post, settings).encode() == seed_post.read_bytes()


def test_the_digest_format_imports_back_to_the_seed_records(seed_post, site, settings_for):
    """Contents, anchors and labelled summaries are read past: the records stay the seed's."""
    classic = settings_for(site, post_format="classic")
    digest = settings_for(site)
    day, _ = import_post(seed_post, classic, None)
    write_day(classic, day, Writer())
    post = site / "_posts" / seed_post.name
    post.write_text(render_day(load_day(digest, SAMPLE_DAY), digest), encoding="utf-8")
    again, changes = import_post(post, digest, load_day(digest, SAMPLE_DAY))
    assert changes == {}
    assert render_day(again, classic).encode() == seed_post.read_bytes()


def test_shipped_sample_day_is_the_seed(seed_post, settings_for):
    """data/2026-01-28 in the repo is the seed, imported; its post is the digest format."""
    settings = settings_for(SAMPLE, post_format="classic")
    assert render_day(load_day(settings, SAMPLE_DAY), settings).encode() == seed_post.read_bytes()


def test_shipped_sample_day_renders_to_its_post(settings_for):
    """Runs on a fresh clone too, where ../shared is absent."""
    settings = settings_for(SAMPLE)
    assert stale_posts(settings, [SAMPLE_DAY]) == []
    day = load_day(settings, SAMPLE_DAY)
    assert (day.manifest.fetched, day.manifest.shown) == (21, 20)
    assert day.papers[0].id.versioned == "2601.19786v1"
    assert all(p.translation and p.analysis for p in day.papers)


def test_render_check_names_a_stale_post(sample_site, settings_for):
    settings = settings_for(sample_site)
    post = settings.post_path(SAMPLE_DAY)
    post.write_text(post.read_text() + "edited\n")
    assert stale_posts(settings, [SAMPLE_DAY]) == [(SAMPLE_DAY, "differs from its records")]
    post.unlink()
    assert stale_posts(settings, [SAMPLE_DAY]) == [(SAMPLE_DAY, "missing")]


HOSTILE = [
    "{{ site.title }}", "{% include evil.html %}", "{% endraw %} after", "{%- comment -%}",
    "| a | b |\n|---|---|\n| c | d |", "# Heading", "## 1) 研究背景", "   ### deep",
    "<script>alert(1)</script>", '<img src=x onerror="alert(1)">', "</details></div>",
    "**unbalanced", "cost $5 and $", r"$\mathcal{O}(n)$ and \cite{x}", "text\n---", "x\n===",
    "[x]: http://evil.example", "{::comment}gone{:/}", "{: .cls}", "*[HTML]: Hyper",
    "&lt;b&gt; and &#35; and &amp;", "`a|b <c>` code", "emoji 🎧🔊", "עברית العربية",
    "* * *", "_a_ *b* `c` [d](e) \\ backslash", "{{{{ nested }}}}", "{%{{%}}",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_escapes_are_undone_exactly(text):
    assert unescape_block(escape_block(text)) == text
    line = text.replace("\n", " ")
    assert unescape_inline(escape_inline(line)) == line


@pytest.mark.parametrize("text", HOSTILE)
def test_escaped_text_has_no_liquid_html_or_structure(text):
    for escaped in (escape_block(text), escape_inline(text.replace("\n", " "))):
        outside_raw = re.sub(r"\{% raw %\}.*?\{% endraw %\}", "", escaped)
        assert "{{" not in outside_raw and "{%" not in outside_raw
        assert not re.search(r"<[A-Za-z/!?]", re.sub(r"`[^`]*`", "", escaped))
        for line in escaped.split("\n"):
            assert not re.match(r"\s*#", line)
            assert not re.match(r"\s{0,3}([-=*_])(\s*\1){2,}\s*$", line)


def test_ordinary_text_is_left_alone():
    text = "- **方法**：使用 `L_total = L_data + λL_PDE`，卷积核 {15,31,63}。  \n1)  "
    assert escape_block(text) == text
    assert escape_inline("SE-DiCoW: Self-Enrolled Whisper \"Hi!\"") == \
        "SE-DiCoW: Self-Enrolled Whisper \"Hi!\""


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_papers_round_trip_through_post_and_import(text, site, settings_for, tmp_path):
    settings = settings_for(site)
    paper = make_paper(1, title=f"T {text}".replace("\n", " "),
                       authors=[f"A {text}".replace("\n", " "), "B"])
    paper.translation = MachineText(f"译文 {text}", source="full_text",
                                    hash=text_hash(f"译文 {text}"))
    paper.analysis = MachineText(f"1)  \n- **背景**：{text}", source="abstract",
                                 hash=text_hash("x"))
    paper.title_zh = MachineText(f"中文 {text}", source="full_text")
    paper.summary = MachineText(f"总结 {text}", source="full_text")
    paper.comment = f"5 pages {text}"
    other = make_paper(2, translated=False, abstract=f"Abstract {text}")
    day = make_day([paper, other])
    post = render_day(day, settings)
    # Exactly two paper blocks and two separators, whatever the text.
    assert len(re.findall(r"^## .*\n(?:\{: #arxiv-[\w-]+ lang=\"en\"\}\n)?- \*\*Authors\*\*",
                          post, flags=re.M)) == 2
    assert len(re.findall(r"^---$", post, flags=re.M)) == 2 + 2
    assert post.count("<details>") == 1 and post.count("</details>") == 1
    path = tmp_path / f"{SAMPLE_DAY}-arxiv.md"
    path.write_text(post, encoding="utf-8")
    _, imported = parse_post(path, settings)
    back = [item.paper for item in imported]
    assert back[0].title == paper.title and back[0].authors == paper.authors
    assert back[0].translation.text == paper.translation.text
    assert back[0].analysis.text == paper.analysis.text and back[0].analysis.source == "abstract"
    assert back[1].translation is None and back[1].abstract == other.abstract
    one_line = " ".join(text.split())
    assert back[0].title_zh.text == " ".join(f"中文 {one_line}".split())
    assert back[0].summary.text == " ".join(f"总结 {one_line}".split())
    assert back[0].comment == " ".join(f"5 pages {one_line}".split())


def test_untranslated_papers_show_the_english_abstract_marked(site, settings_for):
    settings = settings_for(site)
    post = render_day(make_day([make_paper(1, translated=False)]), settings)
    assert "【待翻译】 We study problem 1" in post
    assert "<details>" not in post


def test_capped_day_says_how_many_were_left_out(site, settings_for):
    from digest_cli.records.model import LeftOut

    settings = settings_for(site)
    day = make_day([make_paper(1)], fetched=3)
    day.manifest.left_out = [LeftOut("2601.00002", "max_papers (1) reached"),
                             LeftOut("2601.00003", "max_papers (1) reached")]
    post = render_day(day, settings)
    assert "因每日上限（1 篇）未显示：2 篇" in post


OLD_BLOG_VARIANTS = """---
layout: post
title: "arXiv Daily – 2025-11-05"
tags: [arxiv, cs.SD, eess.AS]
---

以下为 2025-11-05（CST，北京时间）窗口内更新的论文中文译文：
- 时间窗口（锚点 08:50 CST）：2025-11-04 08:50 — 2025-11-05 08:50
- 抓取总数：5 篇 | 本页显示：4 篇（去重/过滤后）

## A Paper With Its Own Headings
- **Authors**: A One, B Two
- **Categories**: cs.SD
- **arXiv**: [https://arxiv.org/abs/2511.00001v1](https://arxiv.org/abs/2511.00001v1)
- **PDF**: [https://arxiv.org/pdf/2511.00001v1](https://arxiv.org/pdf/2511.00001v1)

摘要译文，含 LaTeX $\\alpha=0.5$ 与 **未闭合的粗体。

<details>
<summary>详细解读</summary>

<div markdown="1">

## 1) 研究背景
- **问题**：旧方法慢。  
## 2) 方法
- 新方法。  
## 3) 结果
- 更快。
</div>

</details>

---

## A Paper Without Analysis
- **Authors**: C Three
- **Categories**: eess.AS, cs.SD
- **arXiv**: [https://arxiv.org/abs/2511.00002v2](https://arxiv.org/abs/2511.00002v2)
- **PDF**: [https://arxiv.org/pdf/2511.00002v2](https://arxiv.org/pdf/2511.00002v2)

没有详细解读的译文。  

---

## A Paper Whose Analysis Failed
- **Authors**: D Four
- **Categories**: cs.SD
- **arXiv**: [https://arxiv.org/abs/2511.00003v1](https://arxiv.org/abs/2511.00003v1)
- **PDF**: [https://arxiv.org/pdf/2511.00003v1](https://arxiv.org/pdf/2511.00003v1)

译文三。

<details>
<summary>详细解读</summary>

<div markdown="1">

全文解读失败：404 Client Error: Not Found for url: https://arxiv.org/pdf/2511.00003v1
</div>

</details>

---

## An Old-Style Id
- **Authors**: E Five
- **Categories**: hep-th
- **arXiv**: [https://arxiv.org/abs/hep-th/9901001v1](https://arxiv.org/abs/hep-th/9901001v1)
- **PDF**: [https://arxiv.org/pdf/hep-th/9901001v1](https://arxiv.org/pdf/hep-th/9901001v1)

译文四。

---
"""


def test_importer_takes_the_old_blogs_variants(tmp_path, site, settings_for):
    settings = settings_for(site)
    path = tmp_path / "2025-11-05-arxiv.md"
    path.write_text(OLD_BLOG_VARIANTS, encoding="utf-8")
    manifest, imported = parse_post(path, settings)
    papers = [item.paper for item in imported]
    assert manifest.papers == ["2511.00001", "2511.00002", "2511.00003", "hep-th/9901001"]
    assert manifest.fetched == 5 and str(manifest.window_end) == "2025-11-05 08:50:00+08:00"
    assert "## 2) 方法" in papers[0].analysis.text  # the LLM's headings are text, not papers
    assert "**未闭合的粗体" in papers[0].translation.text
    assert papers[1].analysis is None and papers[1].translation.text == "没有详细解读的译文。  "
    assert papers[1].id.version == 2
    assert papers[2].analysis is None  # error text is a failure, never a text
    assert "404" in papers[2].failures[0].reason
    assert papers[3].id.file_stem == "hep-th_9901001"


def test_reimported_old_post_renders_safely(tmp_path, site, settings_for):
    """The old blog's `## 1)` headings come out escaped; its error text not at all."""
    settings = settings_for(site)
    path = tmp_path / "2025-11-05-arxiv.md"
    path.write_text(OLD_BLOG_VARIANTS, encoding="utf-8")
    post = import_and_render(path, settings)
    assert "\n## 1) 研究背景" not in post and "&#35;# 1) 研究背景" in post
    assert "全文解读失败" not in post
    assert len(re.findall(r"^## .*\n\{: #arxiv-[\w-]+ lang=\"en\"\}\n- \*\*Authors\*\*",
                          post, flags=re.M)) == 4


@pytest.mark.parametrize(
    "mangle, line, message",
    [
        (lambda t: t.replace("---\nlayout", "layout", 1), 1, "no front matter"),
        (lambda t: t.replace("- **Categories**: cs.SD\n- **arXiv**: [https://arxiv.org/abs/2511"
                             ".00001v1]", "- **arXiv**: [https://arxiv.org/abs/2511.00001v1]", 1),
         13, "expected the categories line"),
        (lambda t: t.replace("abs/2511.00002v2](https://arxiv.org/abs/2511.00002v2)",
                             "abs/x](https://example.org/x)"), 39, "not an arXiv id"),
        (lambda t: t.replace("2025-11-04 08:50 — 2025-11-05 08:50", "?"), 6, "no time window line"),
        (lambda t: t[: t.rindex("---")], 66, "does not end with a `---` separator"),
        (lambda t: t.replace("</div>\n\n</details>\n\n---\n\n## A Paper Without",
                             "\n---\n\n## A Paper Without"), 19, "not closed by `</div>`"),
    ],
)
def test_unparseable_posts_name_file_and_line(tmp_path, site, settings_for, mangle, line,
                                              message):
    settings = settings_for(site)
    path = tmp_path / "2025-11-05-arxiv.md"
    path.write_text(mangle(OLD_BLOG_VARIANTS), encoding="utf-8")
    with pytest.raises(ImportError_) as err:
        parse_post(path, settings)
    assert message in str(err.value)
    assert err.value.path == path and err.value.line == line


def test_a_failed_render_leaves_the_old_post(sample_site, settings_for):
    settings = settings_for(sample_site)
    post = settings.post_path(SAMPLE_DAY)
    before = post.read_bytes()
    record = next((sample_site / "data" / str(SAMPLE_DAY)).glob("2601.19786.yaml"))
    record.write_text("id: [broken\n")
    with pytest.raises(RecordError):
        render_days(settings, [SAMPLE_DAY], Writer())
    assert post.read_bytes() == before
