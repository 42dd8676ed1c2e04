"""The day page as `digest render` writes it: contents, anchors, highlight, the new
fields and comments, in the digest format; nothing of them in the classic one; an
editor's edit of the new lines reaches the record."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from digest_cli.cli import cli
from digest_cli.posts.importer import parse_post
from digest_cli.posts.render import paper_anchor, render_day
from digest_cli.records.model import ArxivId, MachineText, text_hash
from digest_cli.records.store import load_day, write_day
from digest_cli.records.topics import default_topics
from digest_cli.records.writer import Writer
from tests.conftest import SAMPLE_DAY, make_day, make_paper


def rich_day():
    plain = make_paper(1, title="Plain paper")
    rich = make_paper(2, title="Neural codec for birdsong", comment="Accepted to ICASSP")
    rich.title_zh = MachineText("鸟鸣的神经编解码器", source="full_text",
                                hash=text_hash("鸟鸣的神经编解码器"))
    rich.summary = MachineText("用离散标记压缩鸟鸣，码率减半。", source="full_text",
                               hash=text_hash("用离散标记压缩鸟鸣，码率减半。"))
    rich.topics = MachineText("codec, music", source="full_text",
                              hash=text_hash("codec, music"))
    return make_day([plain, rich])


def test_anchors_come_from_the_arxiv_id():
    assert paper_anchor(ArxivId.parse("2601.19786v2")) == "arxiv-2601-19786"
    assert paper_anchor(ArxivId.parse("hep-th/9901001")) == "arxiv-hep-th-9901001"


def test_digest_format_has_contents_anchors_and_the_new_lines(site, settings_for):
    post = render_day(rich_day(), settings_for(site))
    assert "## 目录\n{: #contents}\n" in post
    assert "- 1\\. [Plain paper](#arxiv-2601-19001){: lang=\"en\"}" in post
    assert ("- 2\\. [鸟鸣的神经编解码器](#arxiv-2601-19002)：用离散标记压缩鸟鸣，码率减半。"
            "〔编解码与离散化、音乐〕") in post
    assert "## Neural codec for birdsong\n{: #arxiv-2601-19002 lang=\"en\"}\n" in post
    assert "- **Comments**: Accepted to ICASSP\n" in post
    assert "- **中文标题**：鸟鸣的神经编解码器\n" in post
    assert ("- **主题**：[编解码与离散化]({{ site.baseurl }}/topics/codec/) · "
            "[音乐]({{ site.baseurl }}/topics/music/)\n") in post
    assert '<summary>详细解读<span class="visually-hidden">：鸟鸣的神经编解码器</span>' in post
    assert " | " not in post


def test_highlighted_papers_are_marked_and_listed_first(site, settings_for):
    post = render_day(rich_day(), settings_for(site, highlight=["BIRDSONG"]))
    contents = post[post.index("## 目录"):post.index("{: .toc")]
    lines = [line for line in contents.splitlines() if line.startswith("- ")]
    assert lines[0].startswith("- **★ 关注** 2\\. [鸟鸣的神经编解码器]")
    assert lines[1].startswith("- 1\\. [Plain paper]")
    assert render_day(rich_day(), settings_for(site, highlight=["鸟鸣"])).count("★ 关注") == 1


def test_classic_format_has_none_of_it_but_shows_the_fields_a_record_has(site, settings_for):
    settings = settings_for(site, post_format="classic")
    post = render_day(rich_day(), settings)
    assert "目录" not in post and "{: #" not in post and "Comments" not in post
    assert "<summary>详细解读</summary>" in post and "本页显示" in post and " | " in post
    assert "- **中文标题**：鸟鸣的神经编解码器\n" in post
    plain_only = render_day(make_day([make_paper(1)]), settings)
    assert "中文标题" not in plain_only and "主题" not in plain_only


def test_the_new_lines_import_back(site, settings_for, tmp_path):
    settings = settings_for(site)
    path = tmp_path / f"{SAMPLE_DAY}-arxiv.md"
    path.write_text(render_day(rich_day(), settings), encoding="utf-8")
    _, imported = parse_post(path, settings)
    plain, rich = (item.paper for item in imported)
    assert plain.title_zh is None and plain.topics is None
    assert rich.title_zh.text == "鸟鸣的神经编解码器"
    assert rich.summary.text == "用离散标记压缩鸟鸣，码率减半。"
    assert rich.topic_slugs(default_topics()) == ["codec", "music"] and rich.comment == "Accepted to ICASSP"


def test_an_editors_chinese_title_and_topics_in_the_post_reach_the_record(site, settings_for):
    settings = settings_for(site)
    write_day(settings, rich_day(), Writer())
    runner = CliRunner()
    assert runner.invoke(cli, ["--root", str(site), "render", "--all"]).exit_code == 0
    post = Path(settings.post_path(SAMPLE_DAY))
    text = post.read_text(encoding="utf-8")
    text = text.replace("- **中文标题**：鸟鸣的神经编解码器", "- **中文标题**：鸟鸣声的神经编解码")
    text = text.replace(" · [音乐]({{ site.baseurl }}/topics/music/)", "")
    post.write_text(text, encoding="utf-8")
    result = runner.invoke(cli, ["--root", str(site), "sync", "--date", str(SAMPLE_DAY)])
    assert result.exit_code == 0, result.output
    rich = load_day(settings, SAMPLE_DAY).papers[1]
    assert rich.title_zh.text == "鸟鸣声的神经编解码" and rich.title_zh.edited
    assert rich.topic_slugs(default_topics()) == ["codec"] and rich.topics.edited
    assert rich.summary.text == "用离散标记压缩鸟鸣，码率减半。" and not rich.summary.edited
    assert "[鸟鸣声的神经编解码](#arxiv-2601-19002)" in post.read_text(encoding="utf-8")
