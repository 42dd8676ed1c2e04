"""The site's domain is settings, not code: a second topics file, another field's name in
the prompts, and a site's own prompt change what the site asks, checks, renders and builds,
with no change to digest_cli. Through the real client against the fake LLM on 127.0.0.1."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from digest_cli.errors import SettingsError
from digest_cli.posts.check import check_days
from digest_cli.posts.write import render_days
from digest_cli.records.model import MachineText
from digest_cli.records.store import load_day, paper_path, write_paper
from digest_cli.records.topics import default_topics, load_topics
from digest_cli.records.writer import Writer
from digest_cli.site.pages import generated_files, index_papers
from digest_cli.translate.day import translate_day
from digest_cli.translate.prompts import load_prompt
from tests.fakes.llm_server import is_brief_request
from tests.fakes.translate_kit import DAY, by_model, paper_id, settings_for, write_day

FIXED = datetime(2026, 1, 28, 1, 2, 3, tzinfo=timezone.utc)
VISION_TOPICS = """\
# A computer-vision site's topics
max_per_paper: 2
topics:
  - {slug: detection, zh: 目标检测, en: Object detection}
  - {slug: segmentation, zh: 图像分割, en: Image segmentation}
  - {slug: other, zh: 其他, en: Other}
"""


def vision_brief(req):
    return ("标题：一种鲁棒的自监督识别方法\n"
            "总结：本文提出一种自监督特征方法，并在公开数据集上验证了其优于现有基线的效果。\n"
            "主题：目标检测")


@pytest.fixture
def vision_site(tmp_path, llm_server):
    (tmp_path / "topics.yaml").write_text(VISION_TOPICS, encoding="utf-8")
    write_day(tmp_path, 2)
    llm_server.responder = by_model(brief=vision_brief)
    return settings_for(tmp_path, llm_server, topics_file="topics.yaml",
                        field_name="计算机视觉领域", field_examples="目标检测、图像分割")


def test_a_second_topics_file_changes_the_sites_topics(vision_site, llm_server):
    settings = vision_site
    assert [t.slug for t in settings.topics.items] == ["detection", "segmentation", "other"]

    translate_day(settings, DAY, now=lambda: FIXED)
    brief = next(r for r in llm_server.chat_requests if is_brief_request(r))
    system = brief["messages"][0]["content"]
    assert system.startswith("你是计算机视觉领域（目标检测、图像分割等）的资深研究者")
    assert "- detection：目标检测（Object detection）" in system and "asr" not in system
    papers = load_day(settings, DAY).papers
    # The answer's Chinese name became the site's slug.
    assert [p.topics.text for p in papers] == ["detection", "detection"]

    render_days(settings, [DAY], Writer())
    post = settings.post_path(DAY).read_text(encoding="utf-8")
    assert "[目标检测]({{ site.baseurl }}/topics/detection/)" in post
    assert check_days(settings, [DAY]) == []

    # A speech topic is no topic of this site: `check` names it, the post shows none.
    paper = papers[1]
    paper.topics = MachineText("asr", source="human")
    write_paper(settings.day_path(DAY), paper, Writer())
    render_days(settings, [DAY], Writer())
    messages = [p.message for p in check_days(settings, [DAY])]
    assert any("unknown topic 'asr'" in m and "detection, segmentation, other" in m
               for m in messages)
    assert paper.topic_slugs(settings.topics) == []
    assert paper.topic_slugs(default_topics()) == ["asr"]

    # The site build makes a page per topic of the site, none of the default list.
    day = load_day(settings, DAY)
    files = generated_files(index_papers([(DAY, "/x.html", day.papers, post)],
                                         settings.topics), "+08:00")
    assert {"topics/detection/index.html", "topics/other/feed.xml"} <= set(files)
    assert not any(name.startswith("topics/asr/") for name in files)


def test_the_default_topics_are_the_speech_and_audio_list(tmp_path, llm_server):
    settings = settings_for(tmp_path, llm_server)
    assert settings.topics == default_topics()
    assert settings.topics.most == 3 and "spoken-lm" in settings.topics.by_slug
    words = settings.prompt_words["field"]
    assert words.startswith("语音与音频领域（语音识别、") and words.endswith("音频理解等）")


@pytest.mark.parametrize(("text", "problem"), [
    ("topics: []\n", "non-empty `topics:` list"),
    ("topics:\n  - {slug: Bad Slug, zh: 坏, en: Bad}\n", "lower-case letters"),
    ("topics:\n  - {slug: a, zh: '<b>x</b>', en: A}\n", "plain text"),
    ("topics:\n  - {slug: a, zh: 甲, en: A}\n  - {slug: a, zh: 乙, en: B}\n", "given twice"),
    ("max_per_paper: 0\ntopics:\n  - {slug: a, zh: 甲, en: A}\n", "at least 1"),
    ("topics: [\n", "malformed YAML"),
])
def test_a_bad_topics_file_is_one_line_naming_it(tmp_path, text, problem):
    path = tmp_path / "topics.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError, match=problem) as err:
        load_topics(path)
    assert "topics.yaml" in str(err.value) and "\n" not in str(err.value)


def test_a_sites_prompt_replaces_the_shipped_one(tmp_path, llm_server):
    settings = settings_for(tmp_path, llm_server)
    (tmp_path / "prompts").mkdir()
    mine = tmp_path / "prompts" / "translation.md"
    mine.write_text("version: t9\n=== system\n你是{{field}}的译者。\n=== user\n{{abstract}}\n",
                    encoding="utf-8")
    prompt = load_prompt("translation", settings)
    assert prompt.version == "site-t9" and prompt.system == "你是{{field}}的译者。"
    assert load_prompt("analysis", settings).version == load_prompt("analysis").version

    mine.write_text("version: t9\n=== user\n{{abstrakt}}\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"translation\.md: unknown placeholder"):
        load_prompt("translation", settings)


def test_a_site_prompt_reaches_the_llm(tmp_path, llm_server):
    write_day(tmp_path, 1)
    llm_server.responder = by_model()
    (tmp_path / "prompts").mkdir()
    shipped = load_prompt("translation")
    text = f"version: mine\n=== system\n{shipped.system}\n本站特别要求：保留英文缩写。\n" \
           f"=== user\n{shipped.user}\n"
    (tmp_path / "prompts" / "translation.md").write_text(text, encoding="utf-8")
    settings = settings_for(tmp_path, llm_server, llm_brief="false")
    translate_day(settings, DAY, now=lambda: FIXED)
    asked = [r["messages"][0]["content"] for r in llm_server.chat_requests]
    assert any("本站特别要求" in s for s in asked)
    record = paper_path(settings.day_path(DAY), paper_id(0)).read_text(encoding="utf-8")
    assert "prompt_version: site-mine" in record


def test_a_site_with_another_data_dir_names_it_everywhere(tmp_path, settings_for):
    """The post header, the pull request and `digest sync` name `data_dir`, not `data/`."""
    from digest_cli.posts.render import header
    from digest_cli.publish.body import pr_body
    from digest_cli.records.model import LeftOut
    from tests.conftest import make_day, make_paper

    settings = settings_for(tmp_path, data_dir="records")
    day = make_day([make_paper(1), make_paper(2)], fetched=3)
    day.manifest.left_out = [LeftOut("2601.19003", "max_papers: 2 shown", "Paper 3")]
    d = day.manifest.date.isoformat()
    assert f"见 `records/{d}/manifest.yaml`" in header(day, settings)
    body = pr_body(day, settings, branch=f"digest/{d}")
    assert f"`records/{d}/manifest.yaml`" in body and f"records under `records/{d}/`" in body
    assert f"data/{d}" not in body


def test_the_cli_names_a_bad_topics_file_before_any_stage(site):
    from tests.clikit import run_cli

    (site / "pyproject.toml").write_text('[tool.digest]\ntopics_file = "topics.yaml"\n')
    (site / "topics.yaml").write_text("topics:\n  - {slug: ASR, zh: 语音识别, en: Speech}\n")
    result = run_cli(site, "check")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error (settings): topics file " + str(site / "topics.yaml")
        + ": slug 'ASR': lower-case letters, digits and hyphens only"]
