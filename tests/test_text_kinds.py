"""A text kind added by a declaration only: a toy `keywords` kind, declared in a module of
the test's own folder with a prompt in the site's `prompts/`, goes through translate (the
fake LLM on 127.0.0.1, a repair included), render, sync, check and publish with no change
to digest_cli. Also: the built-in kinds as every stage sees them."""

from __future__ import annotations

import importlib
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from digest_cli import kinds
from digest_cli.errors import PublishError
from digest_cli.posts.check import check_days
from digest_cli.posts.sync import sync_day
from digest_cli.posts.write import render_days
from digest_cli.publish.body import pr_body
from digest_cli.publish.day import publish_day
from digest_cli.records.model import MachineText, machine_text_hash
from digest_cli.records.review import edited_by_person
from digest_cli.records.store import load_day, load_paper, paper_path, write_paper
from digest_cli.records.writer import Writer
from digest_cli.settings import load_settings
from digest_cli.translate.day import translate_day
from tests.clikit import run_cli
from tests.fakes.github_server import FakeGitHub
from tests.fakes.translate_kit import DAY, by_model, env_for, paper_id, user_text, write_day
from tests.gitkit import git, has_branch, make_site_repo

pytestmark = pytest.mark.usefixtures("isolated_git")

TOKEN = "t0ken-Secret-123"
FIXED = datetime(2026, 1, 28, 1, 2, 3, tzinfo=timezone.utc)

# What a site owner writes: a declaration, its rules, and (below) its prompt.
TOY_MODULE = '''
from digest_cli import kinds


def keyword_problems(text, paper, topics):
    words = [w.strip() for w in text.split("、") if w.strip()]
    problems = []
    if "\\n" in text:
        problems.append("the keywords must be one line")
    if not 2 <= len(words) <= 5:
        problems.append(f"give 2-5 keywords separated by 、 (found {len(words)})")
    return problems


KEYWORDS = kinds.TextKind(
    name="keywords",
    fields=(kinds.TextField("keywords", "关键词", keyword_problems, one_line=True,
                            post_label="关键词"),),
    normalise=lambda text, topics: text.strip().rstrip("。"),
    problems=keyword_problems, essential=False)
kinds.register(KEYWORDS)
'''
TOY_PROMPT = """version: keywords-v1
=== system
你是{{field}}的资深研究者。请为论文写 2-5 个中文关键词，用“、”分隔，只输出关键词。
=== user
<paper>
标题：{{title}}

摘要：
{{abstract}}
</paper>
"""
GOOD = "自监督学习、语音识别、鲁棒性"


def is_keywords(req: dict[str, Any]) -> bool:
    return any("中文关键词" in (m.get("content") or "") for m in req["messages"]
               if m.get("role") == "system")


@pytest.fixture
def toy_kind(tmp_path, monkeypatch):
    """The toy module imported from a temporary folder; taken out again afterwards."""
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "toy_keywords.py").write_text(TOY_MODULE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(folder))
    module = importlib.import_module("toy_keywords")
    yield module.KEYWORDS
    kinds.unregister("keywords")
    sys.modules.pop("toy_keywords", None)


@pytest.fixture
def gh():
    with FakeGitHub(token=TOKEN, owner="owner", repo="site") as server:
        yield server


def site_settings(root: Path, llm, gh: FakeGitHub):
    env = env_for(llm) | {"GITHUB_API_URL": gh.url, "GITHUB_REPOSITORY": "owner/site",
                          "GITHUB_TOKEN": TOKEN, "DIGEST_GITHUB_RETRY_DELAY": "0"}
    return load_settings(root, environ=env)


def test_a_toy_kind_goes_through_every_stage(tmp_path, toy_kind, llm_server, gh):
    origin, root = tmp_path / "origin.git", tmp_path / "site"
    make_site_repo(origin, root, git)
    gh.branch_exists = lambda owner, repo, branch: has_branch(origin, branch)
    (root / "prompts").mkdir()
    (root / "prompts" / "keywords.md").write_text(TOY_PROMPT, encoding="utf-8")
    write_day(root, 2)
    asked: list[str] = []

    def keywords_or_others(req):
        if not is_keywords(req):
            return by_model()(req)
        asked.append(user_text(req))
        # The first answer of the first paper breaks the kind's rule: a repair prompt follows.
        return "语音识别" if len(asked) == 1 else GOOD

    llm_server.responder = keywords_or_others
    settings = site_settings(root, llm_server, gh)

    # translate: the kind's prompt (from the site), validator and repair, stored in the record
    report = translate_day(settings, DAY, now=lambda: FIXED)
    assert report.failed == [] and sorted(report.done) == [paper_id(0), paper_id(1)]
    repairs = [r for r in llm_server.chat_requests if is_keywords(r) and len(r["messages"]) > 2]
    assert len(repairs) == 1 and "give 2-5 keywords" in repairs[0]["messages"][-1]["content"]
    system = next(r for r in llm_server.chat_requests if is_keywords(r))["messages"][0]["content"]
    assert system.startswith("你是语音与音频领域（语音识别")  # {{field}} from the settings
    folder = settings.day_path(DAY)
    record = paper_path(folder, paper_id(0))
    paper = load_paper(record)
    assert paper.more_texts["keywords"].text == GOOD
    assert paper.more_texts["keywords"].prompt_version == "site-keywords-v1"
    assert "keywords:" in record.read_text(encoding="utf-8")

    # render: a labelled line in the post; check: nothing wrong
    render_days(settings, [DAY], Writer())
    post = settings.post_path(DAY)
    assert post.read_text(encoding="utf-8").count(f"- **关键词**：{GOOD}") == 2
    assert check_days(settings, [DAY]) == []

    # sync: an editor's change in the post becomes the record's, recognised as an editor's
    edited = "自监督学习、噪声鲁棒语音识别"
    post.write_text(post.read_text(encoding="utf-8").replace(
        f"- **关键词**：{GOOD}", f"- **关键词**：{edited}", 1), encoding="utf-8")
    assert sync_day(settings, DAY, Writer()).imported == {paper_id(0): ["keywords"]}
    paper = load_paper(record)
    assert paper.more_texts["keywords"].text == edited
    assert kinds.editors_version(paper, "keywords") and edited_by_person(paper)

    # translate --force leaves the editor's text alone
    translate_day(settings, DAY, force=True, now=lambda: FIXED)
    assert load_paper(record).more_texts["keywords"].text == edited

    # publish: committed and pushed like any text
    git(root, "add", "-A")
    git(root, "-c", "user.name=E", "-c", "user.email=e@example.com", "commit", "-qm", "day")
    publish_day(settings, DAY)
    pushed = git(origin, "show", f"digest/{DAY.isoformat()}:{record.relative_to(root)}")
    assert "keywords:" in pushed and edited in pushed
    body = pr_body(load_day(settings, DAY), settings)  # the pull request names the kind
    assert "- Every 关键词 reads well (edit `keywords` in the records)" in body

    # ...and the branch's editor's version is protected by name
    paper.more_texts["keywords"] = MachineText(GOOD, model="m", source="abstract",
                                               hash=machine_text_hash(GOOD))
    write_paper(folder, paper, Writer())
    render_days(settings, [DAY], Writer())
    with pytest.raises(PublishError, match=r"editor's keywords \(关键词\)"):
        publish_day(settings, DAY)

    # check: the kind's rules apply to the stored text
    paper.more_texts["keywords"] = MachineText("关键词", source="human")
    write_paper(folder, paper, Writer())
    messages = [p.message for p in check_days(settings, [DAY]) if p.paper_id == paper_id(0)]
    assert any("keywords: give 2-5 keywords" in m for m in messages)


def test_without_the_declaration_a_site_is_as_before():
    """The built-in kinds, in the order every stage asks and stores them."""
    assert [k.name for k in kinds.kinds()] == ["translation", "analysis", "brief"]
    assert kinds.field_names() == ("translation", "analysis", "title_zh", "summary", "topics")
    assert [k.name for k in kinds.kinds() if k.essential] == ["translation", "analysis"]
    assert kinds.label("analysis") == "analysis (详细解读)"


def test_a_kind_cannot_take_a_declared_name(toy_kind):
    with pytest.raises(ValueError, match="keywords"):
        kinds.register(toy_kind)
    clash = kinds.TextKind("tags", (kinds.TextField("summary", "x", toy_kind.problems),),
                           toy_kind.normalise, toy_kind.problems)
    with pytest.raises(ValueError, match="summary"):
        kinds.register(clash)
    assert "tags" not in [k.name for k in kinds.kinds()]


def test_a_site_declares_its_kind_through_the_text_kinds_setting(sample_site):
    """What a real site does: `text_kinds = ["site_kinds"]` and a `site_kinds.py` at its
    root; `digest check` then applies the kind's rules to the records."""
    (sample_site / "site_kinds.py").write_text(TOY_MODULE, encoding="utf-8")
    (sample_site / "pyproject.toml").write_text('[tool.digest]\ntext_kinds = ["site_kinds"]\n')
    record = next((sample_site / "data").glob("*/2*.yaml"))
    record.write_text(record.read_text(encoding="utf-8") + "keywords: 只有一个\n",
                      encoding="utf-8")
    try:
        result = run_cli(sample_site, "check", "--no-annotations")
        assert "site_kinds" in sys.modules and "keywords" in kinds.field_names()
    finally:
        if "keywords" in kinds.field_names():
            kinds.unregister("keywords")
        sys.modules.pop("site_kinds", None)
    assert result.exit_code == 1
    assert f"{record.name}:" in result.output
    assert "keywords: give 2-5 keywords separated by 、 (found 1)" in result.output


def test_a_text_kinds_module_that_cannot_be_imported_is_one_line(sample_site):
    (sample_site / "pyproject.toml").write_text('[tool.digest]\ntext_kinds = ["no_such_kinds"]\n')
    result = run_cli(sample_site, "check")
    assert result.exit_code == 1
    assert result.output.startswith("Error (settings): setting 'text_kinds': cannot import "
                                    "'no_such_kinds'")


@pytest.mark.parametrize(("name", "label", "problem"), [
    ("tags", "主题", "post label '主题' is taken"),
    ("tags", "**x**", "not plain text"),
    ("Tags", "标签", "no record key"),
])
def test_a_kind_cannot_break_the_post_or_the_record(toy_kind, name, label, problem):
    field = kinds.TextField(name, "标签", toy_kind.problems, post_label=label)
    with pytest.raises(ValueError, match=problem):
        kinds.register(kinds.TextKind("tagging", (field,), toy_kind.normalise,
                                      toy_kind.problems))
    assert "tagging" not in [k.name for k in kinds.kinds()]
