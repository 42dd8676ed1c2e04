"""English beside Chinese (issue 19, item 5): the translation keeps the abstract's
sentences one to one, so line i of each in the record is a pair; an answer that does not
after one repair prompt is stored and marked `aligned: false`, never failed; an editor's
translation is never held to the count; a new record has `title_zh` under `title` and its
bookkeeping last."""

from __future__ import annotations

import re

from digest_cli.posts.check import check_days
from digest_cli.records.model import ArxivId, MachineText, Paper
from digest_cli.records.store import load_day, load_yaml, paper_path, paper_to_dict, write_paper
from digest_cli.records.writer import Writer
from digest_cli.translate.day import translate_day
from digest_cli.translate.validate import alignment_problems
from tests.fakes.llm_server import is_brief_request
from tests.fakes.translate_kit import (
    DAY,
    TRANSLATE_MODEL,
    by_model,
    good_translation,
    is_repair,
    paper_id,
    settings_for,
    write_day,
)

# A real model's usual slip: the abstract's two sentences (abstract_for) said in one.
ONE_SENTENCE = ("本文提出一种基于自监督特征的鲁棒语音识别方法，词错误率相对降低27.84%，"
                "在VoxCeleb上等错误率为{eer}，损失$\\mathcal{{L}}_{{ctc}}$覆盖12层。")


def one_sentence(req):
    eer = re.search(r"EER of (\S+%)", req["messages"][-1]["content"] if not is_repair(req)
                    else req["messages"][1]["content"]).group(1)
    return ONE_SENTENCE.format(eer=eer)


def translations(llm):
    return [r for r in llm.chat_requests
            if r["model"] == TRANSLATE_MODEL and not is_brief_request(r)]


def record(settings, i=0):
    return load_yaml(paper_path(settings.day_path(DAY), paper_id(i)))


def test_an_aligned_translation_pairs_line_i_of_each(tmp_path, llm_server):
    write_day(tmp_path, 2)
    llm_server.responder = by_model()
    s = settings_for(tmp_path, llm_server)
    report = translate_day(s, DAY)
    assert not report.failed and len(translations(llm_server)) == 2  # no repair asked
    for i in range(2):
        data = record(s, i)
        en = str(data["abstract"]).split("\n")
        zh = str(data["translation"]["text"]).split("\n")
        assert len(en) == len(zh) == 2  # abstract_for: two sentences
        assert "aligned" not in data["translation"]
    assert "逐句对应" in translations(llm_server)[0]["messages"][0]["content"]


def test_a_misaligned_answer_gets_one_repair_then_is_stored_marked_not_failed(tmp_path,
                                                                             llm_server):
    write_day(tmp_path, 1)
    llm_server.responder = by_model(translation=one_sentence)
    s = settings_for(tmp_path, llm_server)
    report = translate_day(s, DAY)
    asked = translations(llm_server)
    assert len(asked) == 2  # the answer, and one repair prompt naming the counts
    assert "has 1 sentences; the abstract has 2" in asked[1]["messages"][-1]["content"]
    assert not report.failed and report.done == [paper_id(0)]
    paper = load_day(s, DAY).papers[0]
    assert paper.failures == [] and paper.translation is not None
    assert paper.translation.text.startswith("本文提出") and not paper.translation.aligned
    assert record(s)["translation"]["aligned"] is False
    warnings = [p for p in check_days(s) if "not aligned" in p.message]
    assert len(warnings) == 1 and warnings[0].warning  # a note, not an error
    assert "1 sentences, the abstract 2" in warnings[0].message


def test_a_repaired_answer_that_aligns_is_stored_aligned(tmp_path, llm_server):
    write_day(tmp_path, 1)
    llm_server.responder = by_model(
        translation=lambda r: good_translation(r) if is_repair(r) else one_sentence(r))
    s = settings_for(tmp_path, llm_server)
    translate_day(s, DAY)
    assert len(translations(llm_server)) == 2
    assert "aligned" not in record(s)["translation"]
    assert not any("not aligned" in p.message for p in check_days(s))


def test_no_repair_left_means_no_repair_for_the_count(tmp_path, llm_server):
    write_day(tmp_path, 1)
    llm_server.responder = by_model(translation=one_sentence)
    s = settings_for(tmp_path, llm_server, llm_repair_attempts=0)
    report = translate_day(s, DAY)
    assert len(translations(llm_server)) == 1 and not report.failed
    assert record(s)["translation"]["aligned"] is False


def test_an_editors_translation_is_never_held_to_the_count(tmp_path, llm_server):
    write_day(tmp_path, 2)
    llm_server.responder = by_model(translation=one_sentence)
    s = settings_for(tmp_path, llm_server)
    translate_day(s, DAY)
    folder = s.day_path(DAY)
    # Paper 0: the tool's misaligned text, edited; paper 1: written by hand, one sentence.
    path = paper_path(folder, paper_id(0))
    path.write_text(path.read_text(encoding="utf-8").replace("本文提出", "作者提出"),
                    encoding="utf-8")
    day = load_day(s, DAY)
    day.papers[1].translation = MachineText(one_sentence_of(day.papers[1]), source="human")
    write_paper(folder, day.papers[1], Writer())
    assert [p for p in check_days(s) if "sentence" in p.message or "aligned" in p.message] == []
    calls = llm_server.calls
    report = translate_day(s, DAY, force=True)  # neither is the machine's to redo
    assert report.failed == [] and translations(llm_server)[calls:] == []
    assert load_day(s, DAY).papers[1].translation.text == one_sentence_of(day.papers[1])


def one_sentence_of(paper: Paper) -> str:
    eer = re.search(r"EER of (\S+%)", paper.abstract).group(1)
    return ONE_SENTENCE.format(eer=eer)


def test_alignment_counts_sentences_paragraph_by_paragraph():
    abstract = "First point. Second point.\n\nA new paragraph."
    assert alignment_problems("第一点。第二点。\n\n新的一段。", abstract) == []
    assert alignment_problems("第一点。\n\n第二点。新的一段。", abstract) == [
        "its paragraphs hold 1, 2 sentences; the abstract's hold 2, 1: one Chinese sentence "
        "for each English sentence, paragraph by paragraph"]
    assert alignment_problems("第一点第二点。", "First point (e.g. this one). Second.")[0] \
        .startswith("has 1 sentences; the abstract has 2")
    assert alignment_problems("任何译文。", "") == []  # nothing to align with


def test_a_new_record_has_title_zh_under_title_and_bookkeeping_last():
    text = MachineText("一个中文标题", model="m", prompt_version="brief-v1", source="abstract",
                       hash="sha256:0")
    paper = Paper(ArxivId("2601.00001", 1), "A title", ["A"], ["eess.AS"],
                  "https://arxiv.org/abs/2601.00001v1", "https://arxiv.org/pdf/2601.00001v1",
                  abstract="One. Two.", translation=MachineText("一。二。"), title_zh=text,
                  summary=text, topics=text, arxiv_hashes={"title": "sha256:1"},
                  arxiv_original={"title": "An older title"}, reviewed=True,
                  reviewed_by="editor", reviewed_at="2026-01-28T01:00:00+00:00")
    keys = list(paper_to_dict(paper))
    assert keys[keys.index("title") + 1] == "title_zh"
    assert keys[-4:] == ["arxiv_hashes", "arxiv_original", "reviewed_by", "reviewed_at"]
    # The texts together, then what failed, then the bookkeeping.
    assert keys.index("translation") < keys.index("summary") < keys.index("failures") \
        < keys.index("arxiv_hashes")


def test_an_existing_record_keeps_its_order_and_a_new_key_goes_to_its_place(tmp_path,
                                                                          llm_server):
    write_day(tmp_path, 1)  # as fetch writes it: no brief yet
    path = paper_path(tmp_path / "data" / str(DAY), paper_id(0))
    before = [line.split(":")[0] for line in path.read_text().split("\n") if line[:1].strip()]
    llm_server.responder = by_model()
    translate_day(settings_for(tmp_path, llm_server), DAY)
    after = [line.split(":")[0] for line in path.read_text().split("\n") if line[:1].strip()]
    assert after[after.index("title") + 1] == "title_zh"
    assert [k for k in after if k in before] == before  # nothing that was there moved


def test_a_key_added_later_never_takes_over_an_editors_comment(tmp_path):
    from digest_cli.records.store import dump_yaml

    path = tmp_path / "2601.00001.yaml"
    new = {"id": "2601.00001", "title": "A title", "title_zh": {"text": "中文标题"},
           "authors": ["A"], "abstract": "x"}
    path.write_text("id: '2601.00001'\ntitle: A title  # checked\n# about the authors\n"
                    "authors:\n- A\nabstract: x\n", encoding="utf-8")
    text = dump_yaml(new, path)  # the comment stays above authors: title_zh goes last
    assert "# checked\n# about the authors\nauthors:" in text
    assert text.index("title_zh:") > text.index("abstract:")
    path.write_text("id: '2601.00001'\ntitle: A title  # checked\nauthors:\n- A\nabstract: x\n",
                    encoding="utf-8")
    assert "title: A title  # checked\ntitle_zh:\n" in dump_yaml(new, path)
