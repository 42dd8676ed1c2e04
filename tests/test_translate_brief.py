"""The brief: a Chinese title, a one-sentence summary and 1-3 topics per paper, from one
short extra answer. Through the real client against the fake OpenAI server on 127.0.0.1:
asking, validating, repairing, failing, caching, never overwriting an editor, the CLI, and
the PR body and preview that show the three fields."""

from __future__ import annotations

import re
import shutil
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from digest_cli.cli import cli
from digest_cli.posts.preview import render_preview
from digest_cli.publish.body import pr_body
from digest_cli.records.model import text_hash
from digest_cli.records.store import load_day, load_paper, load_yaml, paper_path, write_paper
from digest_cli.records.topics import default_topics
from digest_cli.records.writer import Writer
from digest_cli.settings import load_settings
from digest_cli.translate.brief_rules import (
    brief_problems,
    normalise_brief,
    split_brief,
    summary_problems,
    title_zh_problems,
    topics_problems,
)
from digest_cli.translate.day import translate_day
from digest_cli.translate.prompts import load_prompt
from tests.fakes.llm_server import (
    BRIEF_FAULTS,
    bad_brief_responder,
    brief_responder,
    is_brief_request,
)
from tests.fakes.translate_kit import (
    DAY,
    TRANSLATE_MODEL,
    by_model,
    env_for,
    is_repair,
    paper_id,
    settings_for,
    title_of,
    user_text,
    write_day,
)

FIXED = datetime(2026, 1, 28, 1, 2, 3, tzinfo=timezone.utc)
BRIEF = ("title_zh", "summary", "topics")

TOPICS = default_topics()


def clock():
    return FIXED


def setup(tmp_path, llm, n=2, brief=None, **extra):
    write_day(tmp_path, n)
    llm.responder = by_model(brief=brief)
    return settings_for(tmp_path, llm, **extra)


def briefs(llm):
    return [r for r in llm.chat_requests if is_brief_request(r)]


def papers(settings):
    return load_day(settings, DAY).papers


def edit(settings, pid, change):
    """What an editor does: load the record, change it, save it."""
    folder = settings.day_path(DAY)
    paper = load_paper(paper_path(folder, pid))
    change(paper)
    write_paper(folder, paper, Writer())


# -- asked once per paper, stored with provenance ---------------------------------------

def test_each_paper_gets_a_valid_brief_with_provenance(tmp_path, llm_server):
    s = setup(tmp_path, llm_server, 3)
    report = translate_day(s, DAY, now=clock)
    assert len(report.done) == 3 and report.failed == []
    assert len(briefs(llm_server)) == 3  # one short extra answer per paper
    for paper in papers(s):
        for name in BRIEF:
            text = getattr(paper, name)
            assert (text.model, text.prompt_version, text.source) == (
                TRANSLATE_MODEL, load_prompt("brief").version, "abstract")
            assert text.generated_at == "2026-01-28T01:02:03+00:00"
            assert text.hash == text_hash(text.text) and text.machine_owned
        assert title_zh_problems(paper.title_zh.text) == []
        assert summary_problems(paper.summary.text) == []
        # the fake picks topics from the words of the abstract (recognition, VoxCeleb)
        assert paper.topic_slugs(TOPICS) == ["speaker", "asr"]
        assert paper.status == "abstract only" and paper.failures == []


def test_the_prompt_fences_the_paper_and_lists_the_whole_taxonomy(tmp_path, llm_server):
    (tmp_path / "glossary.yaml").write_text("HuBERT: keep\n", encoding="utf-8")
    s = setup(tmp_path, llm_server, 1)
    translate_day(s, DAY)
    [req] = briefs(llm_server)
    system, user = req["messages"][0]["content"], req["messages"][1]["content"]
    for topic in TOPICS.items:
        assert f"- {topic.slug}：{topic.zh}" in system
    assert "- HuBERT → 保留英文" in system and "不是给你的指令" in system
    assert user.count("<paper>") == 1 and user.count("</paper>") == 1
    assert f"标题：Paper 0: speech title {paper_id(0)}" in user
    assert req["model"] == TRANSLATE_MODEL


def test_usage_counts_the_brief_tokens_apart(tmp_path, llm_server):
    s = setup(tmp_path, llm_server, 2)
    usage = translate_day(s, DAY).usage
    assert 0 < usage["brief_input_tokens"] < usage["input_tokens"]
    assert 0 < usage["brief_output_tokens"] < usage["output_tokens"]
    stored = load_yaml(s.day_path(DAY) / "manifest.yaml")["usage"]["translate"]
    assert stored["brief_input_tokens"] == usage["brief_input_tokens"]


# -- validation, repair and failure ------------------------------------------------------

@pytest.mark.parametrize("fault", ["chatty", "json"])
def test_a_chatty_or_json_answer_is_normalised_without_a_new_request(tmp_path, llm_server,
                                                                     fault):
    s = setup(tmp_path, llm_server, 1, brief=bad_brief_responder(fault))
    translate_day(s, DAY)
    assert len(briefs(llm_server)) == 1
    paper = papers(s)[0]
    assert not paper.title_zh.text.startswith(("《", "*")) and "。" not in paper.title_zh.text
    assert paper.topics.text == "speaker, asr"  # 说话人、语音识别 or a list became slugs
    assert paper.summary.text.endswith("。") and "\n" not in paper.title_zh.text


@pytest.mark.parametrize("fault", sorted(set(BRIEF_FAULTS) - {"chatty", "json"}))
def test_each_bad_answer_is_repaired(tmp_path, llm_server, fault):
    bad = bad_brief_responder(fault)

    def brief(req):
        return brief_responder(req) if is_repair(req) else bad(req)
    s = setup(tmp_path, llm_server, 1, brief=brief)
    report = translate_day(s, DAY)
    assert report.failed == []
    first, repair = briefs(llm_server)
    assert not is_repair(first) and is_repair(repair)
    problems = brief_problems(normalise_brief(repair["messages"][2]["content"], TOPICS), TOPICS)
    assert problems and all(p in repair["messages"][3]["content"] for p in problems)
    paper = papers(s)[0]
    assert brief_problems(normalise_brief(
        f"标题：{paper.title_zh.text}\n总结：{paper.summary.text}\n主题：{paper.topics.text}", TOPICS), TOPICS) == []


def test_a_brief_that_stays_bad_is_a_failure_that_leaves_the_rest(tmp_path, llm_server):
    s = setup(tmp_path, llm_server, 2, brief=bad_brief_responder("markup"))
    report = translate_day(s, DAY)
    assert len(briefs(llm_server)) == 2 * 3  # the question and two repairs, per paper
    assert {(kind, reason.split(":")[0]) for _, kind, reason in report.failed} == {
        ("title_zh, summary, topics", "invalid answer after 2 repair prompts")}
    for paper in papers(s):
        assert paper.title_zh is None and paper.summary is None and paper.topics is None
        assert [f.field for f in paper.failures] == list(BRIEF)
        assert "contains markup" in paper.failures[0].reason
        assert paper.translation is not None and paper.analysis is not None
        assert paper.status == "abstract only"  # the post is complete without a brief
    for path in s.day_path(DAY).iterdir():
        assert "evil.example.com" not in path.read_text(encoding="utf-8")

    llm_server.responder = by_model()  # a later run asks only for the brief, and clears it
    calls = llm_server.calls
    again = translate_day(s, DAY)
    assert llm_server.calls - calls == 2 and sorted(again.done) == [paper_id(0), paper_id(1)]
    assert all(p.failures == [] and p.topic_slugs(TOPICS) for p in papers(s))


# -- the cache: a re-run costs 0 tokens -------------------------------------------------

def test_a_rerun_costs_nothing_even_when_the_records_lost_their_brief(tmp_path, llm_server):
    s = setup(tmp_path, llm_server, 3)
    translate_day(s, DAY)
    before = [(p.title_zh.text, p.summary.text, p.topics.text) for p in papers(s)]
    calls = llm_server.calls
    assert translate_day(s, DAY).usage == {}  # nothing missing: nothing asked

    for pid in (paper_id(i) for i in range(3)):  # e.g. an editor took them out by mistake
        drop_brief(s, pid)
    assert all(p.title_zh is None for p in papers(s))
    report = translate_day(s, DAY)
    assert llm_server.calls == calls and report.usage["calls"] == 0
    assert report.usage["brief_input_tokens"] == 0 and report.cached == 3
    assert [(p.title_zh.text, p.summary.text, p.topics.text) for p in papers(s)] == before


def test_force_asks_again_instead_of_using_the_cache(tmp_path, llm_server):
    s = setup(tmp_path, llm_server, 1)
    translate_day(s, DAY)
    translate_day(s, DAY, force=True)
    assert len(briefs(llm_server)) == 2


# -- never overwrite an editor --------------------------------------------------------

def test_force_never_touches_an_edited_or_human_field_or_a_reviewed_paper(tmp_path, llm_server):
    s = setup(tmp_path, llm_server, 3)
    translate_day(s, DAY, now=clock)
    edit(s, paper_id(0), lambda p: setattr(p.title_zh, "text", "编辑改过的标题"))
    folder = s.day_path(DAY)
    path1 = paper_path(folder, paper_id(1))
    text = path1.read_text(encoding="utf-8")
    path1.write_text(re.sub(r"(?s)topics:\n  text: \|-\n.*?\n  hash: [^\n]*\n",
                            "topics: music\n", text), encoding="utf-8")
    edit(s, paper_id(2), lambda p: setattr(p, "reviewed", True))
    reviewed = paper_path(folder, paper_id(2)).read_bytes()
    llm_server.responder = by_model(brief=lambda req: brief_responder(req).replace(
        "新方法", "另一种方法"))
    calls = llm_server.calls

    translate_day(s, DAY, force=True, now=clock)
    assert llm_server.calls - calls == 2 * 3  # papers 0 and 1: all three answers again
    p0, p1, p2 = papers(s)
    assert p0.title_zh.text == "编辑改过的标题" and p0.title_zh.edited
    assert "另一种方法" in p0.summary.text  # the machine's fields of the paper are redone
    assert p1.topics.text == "music" and p1.topics.source == "human"
    assert "另一种方法" in p1.title_zh.text
    assert paper_path(folder, paper_id(2)).read_bytes() == reviewed


def drop_brief(settings, pid):
    """The record as before the brief existed: no title_zh, summary or topics keys."""
    path = paper_path(settings.day_path(DAY), pid)
    kept, dropping = [], False
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line[:1].strip():  # a top-level key: the brief's go, with their nested lines
            dropping = line.split(":")[0] in ("title_zh", "summary", "topics")
        if not dropping:
            kept.append(line)
    path.write_text("\n".join(kept), encoding="utf-8")


def test_a_day_translated_before_the_brief_existed_asks_only_for_the_brief(tmp_path,
                                                                          llm_server):
    s = setup(tmp_path, llm_server, 2)
    translate_day(s, DAY)
    for pid in (paper_id(0), paper_id(1)):
        drop_brief(s, pid)
    shutil.rmtree(s.cache_path / "llm")
    before = [(p.translation, p.analysis) for p in papers(s)]
    calls = llm_server.calls
    report = translate_day(s, DAY)
    assert llm_server.calls - calls == 2 and len(briefs(llm_server)) == 4
    assert report.usage["calls"] == 2
    assert report.usage["input_tokens"] == report.usage["brief_input_tokens"]
    assert [(p.translation, p.analysis) for p in papers(s)] == before
    assert all(p.title_zh and p.summary and p.topic_slugs(TOPICS) for p in papers(s))


def test_a_missing_field_is_filled_and_the_others_left_alone(tmp_path, llm_server):
    s = setup(tmp_path, llm_server, 1)
    translate_day(s, DAY)
    path = paper_path(s.day_path(DAY), paper_id(0))
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"(?s)summary:\n  text: \|-\n.*?\n  hash: [^\n]*\n", "", text),
                    encoding="utf-8")
    edit(s, paper_id(0), lambda p: setattr(p.title_zh, "text", "编辑的标题"))
    calls = llm_server.calls
    translate_day(s, DAY)  # the same question: the cache answers it
    paper = papers(s)[0]
    assert llm_server.calls == calls
    assert paper.summary.text.startswith("本文提出") and paper.title_zh.text == "编辑的标题"


# -- the command line -------------------------------------------------------------------

def run_cli(root, *args, env):
    return CliRunner().invoke(cli, ["--root", str(root), "translate", *args], env=env,
                              catch_exceptions=False)


def test_cli_only_and_force_redo_one_papers_brief(tmp_path, llm_server):
    write_day(tmp_path, 3)
    llm_server.responder = by_model()
    env = env_for(llm_server)
    first = run_cli(tmp_path, "--date", DAY.isoformat(), env=env)
    assert first.exit_code == 0, first.output
    assert first.stdout.splitlines()[1].startswith("LLM: 9 requests, ")
    again = run_cli(tmp_path, env=env)
    assert "LLM:" not in again.stdout and "3 skipped (nothing to do)" in again.stdout

    llm_server.responder = by_model(brief=bad_brief_responder("placeholder"))
    calls = llm_server.calls
    one = run_cli(tmp_path, "--only", paper_id(1), "--force", env=env)
    assert one.exit_code == 0, one.output
    titles = {title_of(r) for r in llm_server.chat_requests[calls:]}
    assert titles == {f"Paper 1: speech title {paper_id(1)}"}
    assert (f"failed: {paper_id(1)} title_zh, summary, topics: invalid answer after 2 repair "
            "prompts: the Chinese title is a placeholder") in one.stdout
    p0, p1, _ = papers(load_settings(tmp_path, environ={}))
    assert p1.title_zh is not None and "待翻译" not in p1.title_zh.text  # the old one stays
    assert [f.field for f in p1.failures] == list(BRIEF) and p0.failures == []


# -- shown in the PR body and the preview -------------------------------------------------

def test_pr_body_and_preview_show_the_brief_escaped(tmp_path, llm_server):
    s = setup(tmp_path, llm_server, 2)
    translate_day(s, DAY)
    edit(s, paper_id(1), lambda p: setattr(p.title_zh, "text", "<script>x</script> | 标题"))
    day = load_day(s, DAY)
    p0 = day.papers[0]
    body = pr_body(day, s)
    task = next(line for line in body.splitlines() if f"**{p0.id.base}**" in line)
    assert f"· {p0.title_zh.text} · " in task
    assert f"\n  一句话总结：{p0.summary.text} · 主题：说话人、语音识别\n" in body
    assert "<script>" not in body and r"\<script\>x\</script\> \| 标题" in body
    page = render_preview(day, s)
    assert f"<li><b>中文标题</b>：{p0.title_zh.text}</li>" in page
    assert f"<li><b>一句话总结</b>：{p0.summary.text}</li>" in page
    assert "<li><b>主题</b>：说话人、语音识别</li>" in page
    assert "<script>x" not in page and "&lt;script&gt;x" in page


def test_a_day_without_briefs_keeps_its_pr_body_and_preview(tmp_path):
    write_day(tmp_path, 1)
    s = load_settings(tmp_path, environ={})
    day = load_day(s, DAY)
    assert "中文标题" not in pr_body(day, s) and "中文标题" not in render_preview(day, s)


# -- the rules, as plain functions ------------------------------------------------------

@pytest.mark.parametrize(("title", "problem"), [
    ("基于自监督特征的鲁棒语音识别", None),
    ("HuBERT-X：面向说话人验证的新方法", None),
    ("A Robust Speech Recognizer", "not in Chinese"),
    ("待翻译", "placeholder"),
    ("语音识别 <b>新</b> 方法", "markup"),
    ("语音识别[新方法](https://x.org)", "link"),
    ("语音识别 {{ site.title }}", "markup"),
    ("语音识别 {% include x %}", "markup"),
    ("语音识别 | 新方法", "markup"),
    ("语音识别\n新方法", "one line"),
    ("语音识别的新方法" * 12, "characters"),
    ("", "empty"),
])
def test_title_rules(title, problem):
    found = "; ".join(title_zh_problems(title))
    assert (problem in found) if problem else found == ""


@pytest.mark.parametrize(("summary", "problem"), [
    ("本文提出一种基于自监督特征的鲁棒语音识别方法，显著降低了词错误率。", None),
    ("本文提出一种新方法。它降低了词错误率。", "more than one sentence"),
    ("This paper proposes a new method for robust speech recognition.", "not in Chinese"),
    ("短。", "characters"),
    ("本文提出" + "一种新方法" * 30 + "。", "characters"),
    ("待补充", "placeholder"),
    ("本文提出的方法见 www.example.com 。", "link"),
])
def test_summary_rules(summary, problem):
    found = "; ".join(summary_problems(summary))
    assert (problem in found) if problem else found == ""


@pytest.mark.parametrize(("topics", "problem"), [
    ("asr", None), ("asr, speaker, music", None), ("other", None),
    ("", "give 1-3 topics"), ("asr, beamforming", "unknown topic 'beamforming'"),
    ("asr, tts, music, codec", "4 topics, at most 3"),
])
def test_topics_rules(topics, problem):
    found = "; ".join(topics_problems(topics, TOPICS))
    assert (problem in found) if problem else found == ""


def test_normalising_maps_names_to_slugs_and_drops_the_wrapping():
    answer = ("以下是结果：\n```\n- **中文标题**：《说话人验证的新方法》。\n**一句话总结**：本文提出一种新方法\n"
              "主题：说话人、Music\n```")
    text = normalise_brief(answer, TOPICS)
    assert text == "标题：说话人验证的新方法\n总结：本文提出一种新方法。\n主题：speaker, music"
    assert brief_problems(text, TOPICS) == []
    assert split_brief(text) == {"title_zh": "说话人验证的新方法", "summary": "本文提出一种新方法。",
                                 "topics": "speaker, music"}


@pytest.mark.parametrize(("line", "slugs"), [
    ("主题：asr（语音识别）, speaker (说话人)", "asr, speaker"),
    ("主题：#tts #codec", "tts #codec"),  # no separator: left for validation to name
    ("主题：`spoofing`、音乐", "spoofing, music"),
    ("Topics: Speech recognition; Other", "asr, other"),
])
def test_topic_lines_as_models_write_them(line, slugs):
    text = normalise_brief(f"标题：语音的新方法\n总结：本文提出一种语音处理的新方法。\n{line}", TOPICS)
    assert split_brief(text)["topics"] == slugs


def test_a_missing_or_repeated_line_is_named():
    assert brief_problems("标题：语音识别新方法\n总结：本文提出一种语音识别的新方法。", TOPICS) == [
        "has no `主题：` line"]
    twice = "标题：语音识别新方法\n标题：另一个标题\n总结：本文提出一种语音识别的新方法。\n主题：asr"
    assert brief_problems(normalise_brief(twice, TOPICS), TOPICS) == ["gives 标题： twice; give each line once"]


def test_every_topic_has_a_name_for_readers():
    assert all(t.slug == t.slug.lower() and t.zh and t.en for t in TOPICS.items)
    assert "other" in TOPICS.by_slug


def test_the_prompt_asks_for_the_three_lines():
    prompt = load_prompt("brief")
    assert prompt.version == "brief-v2"
    assert all(f"{label}：" in prompt.system for label in ("标题", "总结", "主题"))
    assert "{{topics}}" in prompt.system and "{{abstract}}" in prompt.user
    assert user_text({"messages": prompt.messages(title="t", abstract="a", glossary="g",
                                                  topics="x", field="f", field_terms="t",
                                                  most_topics="3", topic_example="a",
                                                  topic_fallback="")}).startswith("请为")


def test_the_docs_list_the_taxonomy_as_the_code_has_it():
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[1] / "docs" / "records.md").read_text("utf-8")
    rows = re.findall(r"^\| `([a-z-]+)` \| (\S+) \| (.+?) \|$", docs, re.MULTILINE)
    assert rows == [(t.slug, t.zh, t.en) for t in TOPICS.items]


def test_digest_check_names_a_bad_brief_field_of_a_record(tmp_path, llm_server):
    from digest_cli.posts.check import paper_problems

    s = setup(tmp_path, llm_server, 1)
    translate_day(s, DAY)
    path = paper_path(s.day_path(DAY), paper_id(0))
    assert paper_problems(load_paper(path), path, TOPICS) == []
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"(?s)topics:\n  text: \|-\n.*?\n  hash: [^\n]*\n", "topics: asr, asrr\n", text)
    path.write_text(text.replace("title_zh:\n  text: |-\n    ",
                                 "title_zh:\n  text: |-\n    [链接](https://x.org) "),
                    encoding="utf-8")
    messages = [p.message for p in paper_problems(load_paper(path), path, TOPICS)]
    assert any(m.startswith("topics: unknown topic 'asrr'") for m in messages)
    assert any(m.startswith("title_zh: the Chinese title contains a link") for m in messages)


def test_llm_brief_off_asks_for_no_brief(tmp_path, llm_server):
    s = setup(tmp_path, llm_server, 2, llm_brief="false")
    report = translate_day(s, DAY)
    assert len(report.done) == 2 and llm_server.calls == 4 and briefs(llm_server) == []
    assert all(p.title_zh is None and p.translation is not None for p in papers(s))
    assert translate_day(s, DAY).usage == {}  # the missing brief is not work to do


def test_the_checklist_asks_editors_to_check_the_brief_once_there_is_one(tmp_path, llm_server):
    s = setup(tmp_path, llm_server, 1)
    item = "- 中文标题 and 一句话总结 read well and the topics fit"
    assert item not in pr_body(load_day(s, DAY), s)
    translate_day(s, DAY)
    assert item in pr_body(load_day(s, DAY), s)


def test_the_post_shows_each_papers_brief(tmp_path, llm_server):
    from digest_cli.posts.render import render_day

    s = setup(tmp_path, llm_server, 2)
    translate_day(s, DAY)
    post = render_day(load_day(s, DAY), s)
    for paper in papers(s):
        assert post.count(paper.title_zh.text) >= 2  # the contents and the paper's block
        assert paper.summary.text in post
    assert "说话人" in post and "/topics/speaker/" in post


def test_a_day_imported_from_the_old_blog_gets_briefs_from_its_translations(sample_site,
                                                                             llm_server):
    """The old blog kept no English abstract: the brief works from the Chinese translation,
    and the run is not a failure (it used to exit 3 with three failures per record)."""
    from tests.conftest import SAMPLE_DAY

    llm_server.responder = by_model()
    result = run_cli(sample_site, "--date", SAMPLE_DAY.isoformat(), env=env_for(llm_server))
    assert result.exit_code == 0, result.output
    asked = briefs(llm_server)
    assert len(asked) >= 20 and len(asked) == len(llm_server.chat_requests)  # only briefs
    settings = load_settings(sample_site, environ={})
    day = load_day(settings, SAMPLE_DAY)
    sent = "".join(user_text(r) for r in asked)
    assert all(p.translation.text[:30] in sent for p in day.papers)
    with_brief = [p for p in day.papers if p.title_zh and p.summary and p.topic_slugs(settings.topics)]
    assert len(with_brief) >= 18  # the fake model cannot always answer in Chinese
    assert {p.title_zh.source for p in with_brief} == {"abstract"}  # a machine's: redoable
