"""A sentence a line (digest_cli/records/sentences.py): splitting and joining, as property
tests on mixed Chinese/English/TeX text and on every paper of the sample day."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digest_cli.posts.render import render_day
from digest_cli.records.model import MachineText, machine_text_hash, text_hash
from digest_cli.records.sentences import (
    _content_column,
    _slow_content_column,
    join_lines,
    joiner,
    split_lines,
    split_sentences,
)
from digest_cli.records.store import load_day, load_paper, load_yaml, write_day, write_paper
from digest_cli.records.writer import Writer
from tests.conftest import SAMPLE, SAMPLE_DAY, make_day, make_paper

# Pieces of the texts we store: Chinese and English words, both kinds of sentence end,
# abbreviations, numbers, TeX, code, links, quotes and Markdown emphasis.
WORDS = st.sampled_from([
    "我们", "提出", "一种", "方法", "模型", "（CLAP）", "“听起来相似”", "语音", "Speech", "model",
    "We", "propose", "The", "results", "e.g.", "i.e.", "Fig.", "et al.", "U.S.", "3.5", "12.5%",
    "$x. Y$", "$$a.\\ B$$", "`a. B`", "[link. A](https://x.org/a. b)", "**粗体**", "*em*",
    "v2", "(see Sec. 3)", "A.", "\"Hi!\"", "#1", "-", "1)", "1.", "|", ">", "<b>", "...",
])
ENDS = st.sampled_from(["。", "！", "？", "；", ". ", "! ", "? ", ".", "。”", ".) ", "", "", ""])
GAPS = st.sampled_from(["", " ", "  ", ""])


@st.composite
def sentences(draw) -> str:
    words = draw(st.lists(st.tuples(WORDS, GAPS), min_size=1, max_size=8))
    return "".join(w + g for w, g in words).strip() + draw(ENDS)


@st.composite
def lines(draw) -> str:
    prefix = draw(st.sampled_from(["", "", "- ", "  - ", "1. ", "    1.  ", "> ", "1)  ", "#"]))
    return prefix + "".join(draw(st.lists(sentences(), min_size=1, max_size=5))).rstrip()


texts = st.lists(st.one_of(lines(), st.just("")), min_size=1, max_size=8).map("\n".join)


@given(texts)
@settings(max_examples=400, deadline=None)
def test_join_undoes_split_and_line_breaks_are_layout(text):
    canonical = join_lines(text)
    assert join_lines(canonical) == canonical  # joining twice changes nothing
    stored = split_lines(canonical)
    assert join_lines(stored) == canonical
    assert machine_text_hash(stored) == machine_text_hash(canonical) == machine_text_hash(text)
    assert split_lines(stored) == stored  # a stored text is laid out already
    assert stored.replace("\n", "").replace(" ", "") == canonical.replace("\n", "").replace(
        " ", "")  # nothing but line breaks and indentation added


@given(st.lists(sentences(), min_size=1, max_size=6).map("".join))
@settings(max_examples=300, deadline=None)
def test_pieces_of_a_paragraph_join_back_exactly(paragraph):
    pieces = split_sentences(paragraph)
    joined = pieces[0]
    for piece in pieces[1:]:
        assert piece and not piece[0].isspace()
        joined += joiner(joined, piece) + piece
    assert joined == paragraph
    if not paragraph.startswith(("#", "-", "1", "|", ">", "<", "$$", "*")):
        assert join_lines(split_lines(paragraph)) == paragraph


@pytest.mark.parametrize("text, expected", [
    ("我们提出方法。结果很好！对吗？是的；好", ["我们提出方法。", "结果很好！", "对吗？", "是的；", "好"]),
    ("We propose XY. The results hold! Really? Yes.", ["We propose XY.", "The results hold!",
                                                      "Really?", "Yes."]),
    ("By J. Smith and A. B. Jones. Next", ["By J. Smith and A. B. Jones.", "Next"]),
    ("As in Fig. 3 and e.g. The case of Smith et al. We see", [
        "As in Fig. 3 and e.g. The case of Smith et al. We see"]),
    ("A value of 3.5 is J. Smith's. Next one", ["A value of 3.5 is J. Smith's.", "Next one"]),
    ("他说：“好。”然后走了。", ["他说：“好。”", "然后走了。"]),
    ("Math $a. B$ stays. Then", ["Math $a. B$ stays.", "Then"]),
    ("模型（CLAP）. 之后", ["模型（CLAP）. 之后"]),  # a join would drop the space: kept
    ("句子。 English follows", ["句子。 English follows"]),
    ("No split before a list. - item", ["No split before a list. - item"]),
    ("lower case after. no split", ["lower case after. no split"]),
])
def test_sentence_ends(text, expected):
    assert split_sentences(text) == expected
    assert join_lines("\n".join(expected)) == text


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from([" ", "  ", "\t", "-", "- ", "*", "_", "=", "x", "中", "\u3000",
                                 "\x0b", "1", ")", "#", ">", "`"]), max_size=10).map("".join)
       .filter(str.strip))  # (a blank line never ends a sentence: its column is not used)
def test_the_list_item_shortcut_finds_the_same_column(line):
    assert _content_column(line) == _slow_content_column(line, line.lstrip(" "))


def test_list_items_continue_at_their_text_column():
    text = "1)  \n- **背景**：甲。乙。\n  1.  **步骤**：丙。丁。\n\n2)  \n论文提出了方法。其核心"
    stored = split_lines(text)
    assert stored == ("1)  \n- **背景**：甲。\n  乙。\n  1.  **步骤**：丙。\n      丁。\n\n"
                      "2)  \n论文提出了方法。\n其核心")
    assert join_lines(stored) == text


def sample_texts() -> list[tuple[str, str]]:
    out = []
    for path in sorted((SAMPLE / "data" / str(SAMPLE_DAY)).glob("2*.yaml")):
        data = load_yaml(path)
        for name in ("abstract", "translation", "analysis"):
            value = data.get(name)
            value = value.get("text") if isinstance(value, dict) else value
            if value:
                out.append((f"{path.name}:{name}", value))
    return out


@pytest.mark.parametrize("where, stored", sample_texts(), ids=lambda v: v if ":" in v else "")
def test_every_text_of_the_sample_day_is_stored_a_sentence_a_line(where, stored):
    text = join_lines(stored)
    assert split_lines(text) == stored, where  # the shipped records are laid out
    assert join_lines(split_lines(text)) == text
    for line in stored.split("\n"):  # no sentence end in the middle of a line
        assert not re.search("[。！？；][\u4e00-\u9fff]", line), (where, line)


def test_the_sample_day_renders_its_post_from_the_laid_out_records(settings_for):
    settings = settings_for(SAMPLE)
    post = (SAMPLE / "_posts" / f"{SAMPLE_DAY}-arxiv.md").read_text(encoding="utf-8")
    assert render_day(load_day(settings, SAMPLE_DAY), settings) == post


@given(texts)
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_record_loads_back_the_text_it_was_given(tmp_path, settings_for, text):
    settings = settings_for(tmp_path)
    canonical = join_lines(text.strip("\n")) or "空"
    paper = make_paper(1)
    paper.translation = MachineText(canonical, source="full_text", hash=machine_text_hash(canonical))
    paper.abstract = canonical
    write_day(settings, make_day([paper]), Writer())
    loaded = load_day(settings, SAMPLE_DAY).papers[0]
    assert loaded.translation.text == canonical and loaded.abstract == canonical
    assert not loaded.translation.edited


def test_reflow_changes_only_line_breaks_and_marks_nothing_edited(sample_site, settings_for):
    """Records of the old layout (a paragraph a line, hashes of the raw text) are
    rewritten once by `digest records reflow`; texts, posts and edited marks stay."""
    from tests.clikit import run_cli

    settings = settings_for(sample_site)
    folder = sample_site / "data" / str(SAMPLE_DAY)
    before = load_day(settings, SAMPLE_DAY)
    post = render_day(before, settings)
    for path in folder.glob("2*.yaml"):  # back to the old layout, as records were
        text = path.read_text(encoding="utf-8")
        data = load_yaml(path)
        for name in ("translation", "analysis"):
            if isinstance(data.get(name), dict):
                stored = data[name]["text"]
                text = text.replace("\n".join("    " + x if x else "" for x in
                                              stored.split("\n")),
                                    "\n".join("    " + x if x else "" for x in
                                              join_lines(stored).split("\n")))
        path.write_text(text, encoding="utf-8")
    old = load_paper(folder / "2601.19786.yaml")
    assert "\n" not in old.translation.text and not old.translation.edited
    result = run_cli(sample_site, "records", "reflow")
    assert result.exit_code == 0 and "20 records rewritten" in result.output
    after = load_day(settings, SAMPLE_DAY)
    assert render_day(after, settings) == post
    for a, b in zip(before.papers, after.papers, strict=True):
        assert (a.translation.text, a.analysis.text) == (b.translation.text, b.analysis.text)
        assert not b.translation.edited and not b.analysis.edited
    assert "20" not in run_cli(sample_site, "records", "reflow").output  # once is enough


def test_an_old_hash_of_a_text_with_line_breaks_is_not_an_edit(tmp_path, settings_for):
    """A text hashed raw before line breaks were layout (a soft break inside a paragraph)
    reads as unedited, and is rewritten with the hash of its joined text."""
    settings = settings_for(tmp_path)
    raw = "第一句。\n第二句。"
    paper = make_paper(1)
    paper.translation = MachineText(raw, source="full_text", hash=text_hash(raw))
    write_day(settings, make_day([paper]), Writer())
    loaded = load_day(settings, SAMPLE_DAY).papers[0]
    assert loaded.translation.text == "第一句。第二句。" and not loaded.translation.edited
    assert loaded.translation.hash == machine_text_hash(raw)


def test_an_editors_change_of_one_sentence_is_an_edit_a_line_break_is_not(sample_site):
    path = sample_site / "data" / str(SAMPLE_DAY) / "2601.19109.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("最为接近。\n    当前", "最为接近。当前"), encoding="utf-8")
    assert not load_paper(path).translation.edited
    path.write_text(text.replace("最为接近。", "最接近。"), encoding="utf-8")
    assert load_paper(path).translation.edited
    write_paper(path.parent, load_paper(path), Writer())  # and it is stored split again
    assert "最接近。\n    当前" in path.read_text(encoding="utf-8")


def test_stored_record_has_a_sentence_a_line(sample_site):
    text = (Path(sample_site) / "data" / str(SAMPLE_DAY) / "2601.19109.yaml").read_text()
    assert "    基于感知相似度的表征使得音乐检索系统能够判断哪些歌曲在听感上最为接近。\n" \
           "    当前最先进的方法" in text


def test_a_paragraph_edited_in_the_post_comes_back_split(sample_site):
    """An editor adds a sentence in the post (one line a paragraph); `digest sync` takes it
    into the record a sentence a line, marked as the editor's."""
    from tests.clikit import run_cli

    assert run_cli(sample_site, "render", "--date", str(SAMPLE_DAY), "--force").exit_code == 0
    post = sample_site / "_posts" / f"{SAMPLE_DAY}-arxiv.md"
    text = post.read_text(encoding="utf-8")
    old = "在听感上最为接近。当前最先进的方法"
    assert old in text
    post.write_text(text.replace(old, "在听感上最为接近。编辑加了一句！当前最先进的方法"),
                    encoding="utf-8")
    result = run_cli(sample_site, "sync", "--date", str(SAMPLE_DAY))
    assert result.exit_code == 0, result.output
    record = sample_site / "data" / str(SAMPLE_DAY) / "2601.19109.yaml"
    assert "最为接近。\n    编辑加了一句！\n    当前最先进的方法" in record.read_text(encoding="utf-8")
    assert load_paper(record).translation.edited
    assert "最为接近。编辑加了一句！当前最先进的方法" in post.read_text(encoding="utf-8")
