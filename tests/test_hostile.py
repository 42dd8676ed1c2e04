"""Hostile cases (issue 11): each class of attack on an editor's words or on the site, or
accident, tried through the CLI where possible, as a hostile user would. One section per
class; each test failed before its fix."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.clikit import one_error, run_cli
from tests.conftest import REPO, SAMPLE, SAMPLE_DAY
from tests.fakes._base import FakeServer, Response
from tests.fakes.arxiv_server import render_entry, render_feed
from tests.fakes.github_server import FakeGitHub
from tests.fakes.llm_server import FakeLLM
from tests.gitkit import git, make_site_repo
from tests.test_workflows import pr_checkout as _pr_checkout
from tests.test_workflows import run_step

pr_checkout = _pr_checkout  # the sync workflow's test repository (a fixture)

DAY = str(SAMPLE_DAY)
FOLDER = Path(f"data/{DAY}")
POST = Path(f"_posts/{DAY}-arxiv.md")
FIRST, SECOND = "2601.19786", "2601.19781"  # the sample day's first two papers
CLASSIC = {"DIGEST_POST_FORMAT": "classic"}  # the old blog's format: the seed's


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under data/ and _posts/, to show that a refused command wrote nothing."""
    return {str(p.relative_to(root)): p.read_bytes() for d in ("data", "_posts")
            for p in sorted((root / d).rglob("*")) if p.is_file()}


# == data and text (harden-data) =======================================================

# -- 1. identity: a record cannot overwrite another ------------------------------------

def test_a_record_whose_id_is_another_papers_is_refused(rendered_site):
    edit(rendered_site / FOLDER / f"{FIRST}.yaml", f"id: '{FIRST}'", f"id: '{SECOND}'")
    before = snapshot(rendered_site)
    for command in (["render", "--date", DAY, "--force"], ["sync", "--date", DAY],
                    ["translate", "--date", DAY, "--only", FIRST], ["preview", "--date", DAY],
                    ["import", str(rendered_site / POST)]):
        line = one_error(run_cli(rendered_site, *command))
        assert f"{FIRST}.yaml" in line and f"{SECOND}.yaml" in line, line
        assert f"id is {SECOND}" in line
    assert snapshot(rendered_site) == before
    problems = run_cli(rendered_site, "check", "--no-annotations")
    assert problems.exit_code == 1 and f"id is {SECOND}" in problems.output


def test_a_manifest_in_another_days_folder_is_refused(rendered_site):
    other = rendered_site / "data" / "2026-01-29"
    shutil.copytree(rendered_site / FOLDER, other)
    before = snapshot(rendered_site)
    for command in (["render", "--date", "2026-01-29", "--force"],
                    ["sync", "--date", "2026-01-29"]):
        line = one_error(run_cli(rendered_site, *command))
        assert "2026-01-29/manifest.yaml" in line and f"data/{DAY}" in line, line
    assert snapshot(rendered_site) == before  # the 28th's manifest and post untouched


def test_a_paper_listed_twice_in_a_manifest_is_refused(rendered_site):
    edit(rendered_site / FOLDER / "manifest.yaml", f"  - '{SECOND}'\n",
         f"  - '{SECOND}'\n  - '{FIRST}'\n")
    edit(rendered_site / FOLDER / "manifest.yaml", "shown: 20", "shown: 21")
    line = one_error(run_cli(rendered_site, "render", "--date", DAY, "--force"))
    assert "manifest.yaml" in line and f"lists {FIRST} twice" in line


def test_check_names_a_paper_shown_on_two_days(rendered_site):
    other = rendered_site / "data" / "2026-01-29"
    other.mkdir()
    shutil.copy(rendered_site / FOLDER / f"{FIRST}.yaml", other)
    manifest = (rendered_site / FOLDER / "manifest.yaml").read_text(encoding="utf-8")
    head = manifest.split("papers:")[0].replace(DAY, "2026-01-29").replace("shown: 20",
                                                                            "shown: 1")
    (other / "manifest.yaml").write_text(head + f"papers:\n  - '{FIRST}'\n", encoding="utf-8")
    assert run_cli(rendered_site, "render", "--date", "2026-01-29").exit_code == 0
    result = run_cli(rendered_site, "check", "--all")
    assert result.exit_code == 1
    twice = [line for line in result.output.splitlines() if "also shown on" in line]
    assert len(twice) == 1, result.output
    assert f"2026-01-29/{FIRST}.yaml" in twice[0] and f"{DAY}/{FIRST}.yaml" in twice[0]


# -- 9. the importer takes the old blog's variants of the 详细解读 markup ----------------

def test_the_old_blogs_markup_variants_import_to_the_seeds_records(site, seed_post, tmp_path):
    text = seed_post.read_text(encoding="utf-8")
    assert text.count('<div markdown="1">\n\n') > 2
    variant = text.replace('<div markdown="1">\n\n', '<div markdown="1">\n', 1)  # the real case
    variant = variant.replace("<details>\n", "  <details> \n", 1)
    variant = variant.replace("<summary>详细解读</summary>\n\n", "<summary>详细解读</summary>\n", 2)
    variant = variant.replace("\n</div>\n\n</details>\n", "\n\n</div>\n</details>  \n", 2)
    assert variant != text
    post = tmp_path / "in" / seed_post.name
    post.parent.mkdir()
    post.write_text(variant, encoding="utf-8")
    assert run_cli(site, "import", str(post)).exit_code == 0
    assert run_cli(site, "render", "--date", DAY, env=CLASSIC).exit_code == 0
    assert (site / POST).read_text(encoding="utf-8") == text  # the seed, byte for byte


def test_the_seed_still_round_trips_byte_for_byte(site, seed_post):
    assert run_cli(site, "import", str(seed_post)).exit_code == 0
    assert run_cli(site, "render", "--date", DAY, env=CLASSIC).exit_code == 0
    assert (site / POST).read_bytes() == seed_post.read_bytes()


# -- 3. sync never guesses ---------------------------------------------------------------

def _translation_of(post: str, pid: str) -> str:
    """The translation paragraph of a paper's block in a rendered post."""
    block = post.split(f"/abs/{pid}", 1)[1]
    return block.split("\n\n")[1]


def test_a_translation_emptied_in_the_post_is_cleared_not_put_back(rendered_site, settings_for):
    from digest_cli.records.store import load_day

    post = rendered_site / POST
    text = _translation_of(post.read_text(encoding="utf-8"), FIRST)
    edit(post, "\n\n" + text + "\n\n", "\n\n\n\n")
    result = run_cli(rendered_site, "sync", "--date", DAY)
    assert result.exit_code == 0, result.output
    assert f"{FIRST}: translation" in result.output
    paper = load_day(settings_for(rendered_site), SAMPLE_DAY).papers[0]
    assert paper.translation is None and paper.status == "待翻译"  # a new one is asked for
    assert text not in post.read_text(encoding="utf-8")
    assert "【待翻译】" in post.read_text(encoding="utf-8")
    assert run_cli(rendered_site, "sync", "--date", DAY).output == f"{DAY}: in sync\n"


def test_a_model_answer_holding_the_untranslated_marker_fails_validation(tmp_path, llm_server):
    from digest_cli.records.store import load_day
    from digest_cli.settings import load_settings
    from tests.fakes.translate_kit import by_model, env_for, good_translation, write_day

    write_day(tmp_path, 1)
    llm_server.responder = by_model(translation=lambda req: "【待翻译】 " + good_translation(req))
    result = run_cli(tmp_path, "translate", "--date", DAY, env=env_for(llm_server))
    paper = load_day(load_settings(tmp_path, environ={}), SAMPLE_DAY).papers[0]
    assert paper.translation is None, result.output
    assert any("placeholder" in f.reason for f in paper.failures)


def test_a_translation_starting_with_the_marker_survives_render_and_sync(rendered_site,
                                                                         settings_for):
    from digest_cli.records.store import load_day

    record = rendered_site / FOLDER / f"{FIRST}.yaml"
    edit(record, "    离散语音表征标记", "    【待翻译】 离散语音表征标记")
    assert run_cli(rendered_site, "sync", "--date", DAY).exit_code == 0
    post = rendered_site / POST
    edit(post, "已成为语音生成的基础组件", "已是语音生成的基础组件")  # the same paper
    result = run_cli(rendered_site, "sync", "--date", DAY)
    assert result.exit_code == 0 and f"{FIRST}: translation" in result.output, result.output
    paper = load_day(settings_for(rendered_site), SAMPLE_DAY).papers[0]
    assert paper.translation.text.startswith("【待翻译】 离散语音表征标记")
    assert "已是语音生成的基础组件" in paper.translation.text  # the post edit is not dropped


def test_a_fence_like_abstract_line_with_a_pipe_round_trips_through_sync(rendered_site,
                                                                         settings_for):
    from digest_cli.records.store import load_day

    line = "```python|`x`"  # a fence line, escaped whole, whose backticks hold no code span
    record = rendered_site / FOLDER / f"{FIRST}.yaml"
    edit(record, "abstract: |\n", f"abstract: |\n  {line}\n  Second line.\n")
    edit(record, "translation:\n  text: |-", "translation_was:\n  text: |-")
    assert run_cli(rendered_site, "sync", "--date", DAY).exit_code == 0
    edit(rendered_site / POST, "Second line.", "Second line, edited.")
    assert run_cli(rendered_site, "sync", "--date", DAY).exit_code == 0
    paper = load_day(settings_for(rendered_site), SAMPLE_DAY).papers[0]
    assert paper.abstract == f"{line}\nSecond line, edited."


def test_a_chinese_title_taken_out_of_the_post_is_cleared_not_put_back(rendered_site,
                                                                      settings_for):
    from digest_cli.posts.render import SUMMARY, TITLE_ZH
    from digest_cli.records.store import load_day

    record = rendered_site / FOLDER / f"{FIRST}.yaml"
    with record.open("a", encoding="utf-8") as fh:
        fh.write("title_zh: 重新思考用于口音生成的离散语音表征标记\nsummary: 一句话总结。\n")
    assert run_cli(rendered_site, "sync", "--date", DAY).exit_code == 0
    post = rendered_site / POST
    line = f"- **{TITLE_ZH}**：重新思考用于口音生成的离散语音表征标记\n"
    edit(post, line, "")
    edit(post, f"- **{SUMMARY}**：一句话总结。", f"- **{SUMMARY}**：")
    result = run_cli(rendered_site, "sync", "--date", DAY)
    assert result.exit_code == 0, result.output
    assert "title_zh cleared" in result.output and "summary cleared" in result.output
    paper = load_day(settings_for(rendered_site), SAMPLE_DAY).papers[0]
    for text in (paper.title_zh, paper.summary):  # empty, and the machine's to make anew
        assert text.text == "" and text.machine_owned
    assert TITLE_ZH not in post.read_text(encoding="utf-8").split(f"/abs/{SECOND}")[0]
    assert run_cli(rendered_site, "sync", "--date", DAY).output == f"{DAY}: in sync\n"


# -- 2. editors win: every path tells an editor's value from the machine's ---------------

def test_a_translation_whose_hash_line_was_removed_is_not_retranslated(tmp_path, llm_server):
    from digest_cli.records.store import load_day
    from digest_cli.settings import load_settings
    from tests.fakes.translate_kit import by_model, env_for, paper_id, write_day

    write_day(tmp_path, 1)
    llm_server.responder = by_model()
    env = env_for(llm_server)
    assert run_cli(tmp_path, "translate", "--date", DAY, env=env).exit_code == 0
    record = tmp_path / FOLDER / f"{paper_id(0)}.yaml"
    text = record.read_text(encoding="utf-8")
    lines = text.split("\n")
    at = lines.index("translation:")
    hash_line = next(i for i in range(at, len(lines)) if lines[i].startswith("  hash: "))
    del lines[hash_line]  # an editor rewrites the text and drops the line that gave it away
    edited = "\n".join(lines).replace("本文针对语音识别", "编辑改写：本文针对语音识别", 1)
    record.write_text(edited, encoding="utf-8")
    result = run_cli(tmp_path, "translate", "--date", DAY, "--force", env=env)
    paper = load_day(load_settings(tmp_path, environ={}), SAMPLE_DAY).papers[0]
    assert paper.translation.text.startswith("编辑改写："), result.output
    assert not paper.translation.machine_owned


def test_import_does_not_replace_a_reviewed_editors_text(rendered_site):
    record = rendered_site / FOLDER / f"{FIRST}.yaml"
    edit(record, "    离散语音表征标记已成为", "    离散语音表征标记（编辑校对）已成为")
    edit(record, "reviewed: false", "reviewed: true")
    before = snapshot(rendered_site)
    line = one_error(run_cli(rendered_site, "import", str(rendered_site / POST)))
    assert f"[{FIRST}]" in line and "translation" in line and "reviewed" in line
    assert snapshot(rendered_site) == before


def test_import_of_a_never_rendered_day_keeps_an_editors_text(sample_site, tmp_path):
    # Records imported, an editor corrects one, and the old post is imported again.
    old_post = tmp_path / POST.name
    old_post.write_bytes((sample_site / POST).read_bytes())
    assert run_cli(sample_site, "import", str(old_post)).exit_code == 0
    record = sample_site / FOLDER / f"{FIRST}.yaml"
    edit(record, "    离散语音表征标记已成为", "    离散语音表征标记（编辑校对）已成为")
    before = snapshot(sample_site)
    line = one_error(run_cli(sample_site, "import", str(old_post)))
    assert f"[{FIRST}]" in line and "translation" in line
    assert snapshot(sample_site) == before


def test_import_takes_a_post_edit_of_a_record_it_was_rendered_from(rendered_site,
                                                                   settings_for):
    from digest_cli.records.store import load_day

    edit(rendered_site / POST, "离散语音表征标记已成为", "离散语音表征标记（DSRT）已成为")
    assert run_cli(rendered_site, "import", str(rendered_site / POST)).exit_code == 0
    paper = load_day(settings_for(rendered_site), SAMPLE_DAY).papers[0]
    assert "（DSRT）" in paper.translation.text and paper.translation.edited


def _arxiv_env(server) -> dict[str, str]:
    return {"DIGEST_ARXIV_API_URL": server.query_url, "DIGEST_ARXIV_DELAY": "0",
            "DIGEST_ARXIV_CACHE_TTL": "0"}


def _serve_sample_day(server, settings, **changes):
    from datetime import datetime, timezone

    from digest_cli.records.store import load_day

    for paper in load_day(settings, SAMPLE_DAY).papers:
        fields = {"title": paper.title, "authors": paper.authors}
        fields.update(changes.get(paper.id.base, {}))
        server.add_paper(id=paper.id.base, categories=paper.categories,
                         summary="An abstract from arXiv.",
                         published=datetime(2026, 1, 26, 12, tzinfo=timezone.utc), **fields)


def test_fetch_keeps_an_imported_title_and_reports_arxivs(sample_site, arxiv_server,
                                                          settings_for):
    from digest_cli.publish.body import pr_body
    from digest_cli.records.store import load_day

    settings = settings_for(sample_site)
    _serve_sample_day(arxiv_server, settings, **{FIRST: {"title": "arXiv's Own Title"}})
    result = run_cli(sample_site, "fetch", "--date", DAY, env=_arxiv_env(arxiv_server))
    assert result.exit_code == 0, result.output
    assert f"kept an editor's title of {FIRST}" in result.output
    day = load_day(settings, SAMPLE_DAY)
    paper = day.papers[0]
    assert paper.title.startswith("Rethinking Discrete Speech")  # the imported one stays
    assert paper.arxiv_original == {"title": "arXiv's Own Title"}
    assert paper.abstract == "An abstract from arXiv."  # what the import lacked is filled in
    body = pr_body(day, settings)
    assert f"`{FIRST}` title: arXiv has arXiv's Own Title" in body


def test_fetch_takes_arxivs_new_version_and_keeps_an_editors_correction(
        sample_site, arxiv_server, settings_for):
    from datetime import datetime, timezone

    from digest_cli.records.store import load_day

    settings = settings_for(sample_site)
    _serve_sample_day(arxiv_server, settings)
    env = _arxiv_env(arxiv_server)
    assert run_cli(sample_site, "fetch", "--date", DAY, env=env).exit_code == 0
    record = sample_site / FOLDER / f"{SECOND}.yaml"
    paper = load_day(settings, SAMPLE_DAY).papers[1]
    title_line = next(x for x in record.read_text("utf-8").split("\n") if x.startswith("title:"))
    edit(record, title_line, "title: An Editor's Corrected Title")
    v2 = {"updated": datetime(2026, 2, 2, 12, tzinfo=timezone.utc), "version": 2,
          "summary": "A revised abstract."}
    arxiv_server.add_paper(id=SECOND, title="arXiv v2 Title", authors=paper.authors,
                           categories=paper.categories,
                           published=datetime(2026, 1, 26, 12, tzinfo=timezone.utc), **v2)
    arxiv_server.add_paper(id=FIRST, title="First v2 Title", authors=["Only One"],
                           categories=load_day(settings, SAMPLE_DAY).papers[0].categories,
                           published=datetime(2026, 1, 26, 12, tzinfo=timezone.utc), **v2)
    result = run_cli(sample_site, "fetch", "--date", DAY, env=env)
    assert result.exit_code == 0, result.output
    first, second = load_day(settings, SAMPLE_DAY).papers[:2]
    assert (second.title, second.id.version) == ("An Editor's Corrected Title", 2)
    assert second.abstract == "A revised abstract."  # arXiv's new words, where not edited
    assert second.arxiv_original == {"title": "arXiv v2 Title"}
    assert (first.title, first.authors) == ("First v2 Title", ["Only One"])  # machine's
    assert first.arxiv_original == {}


def test_a_title_corrected_in_the_post_keeps_arxivs_beside_it(sample_site, arxiv_server,
                                                              settings_for):
    from digest_cli.records.store import load_day

    settings = settings_for(sample_site)
    _serve_sample_day(arxiv_server, settings)
    assert run_cli(sample_site, "fetch", "--date", DAY, env=_arxiv_env(arxiv_server)
                   ).exit_code == 0
    assert run_cli(sample_site, "render", "--date", DAY, "--force").exit_code == 0
    arxiv_title = load_day(settings, SAMPLE_DAY).papers[0].title
    edit(sample_site / POST, f"## {arxiv_title}\n", "## A Corrected Title\n")
    assert run_cli(sample_site, "sync", "--date", DAY).exit_code == 0
    paper = load_day(settings, SAMPLE_DAY).papers[0]
    assert paper.title == "A Corrected Title" and paper.editors("title")
    assert paper.arxiv_original == {"title": arxiv_title}


# -- 10. `digest check` fits a migrated site -----------------------------------------------

def test_check_on_the_old_blog_corpus_flags_errors_and_headings_not_clean_papers(site,
                                                                                tmp_path):
    import re

    from tests.fixtures.oldblog.corpus import write_corpus

    labels = write_corpus(tmp_path / "oldblog")
    posts = sorted(str(p) for p in (tmp_path / "oldblog").glob("*.md"))
    assert run_cli(site, "import", *posts).exit_code == 0  # every variant imports
    assert run_cli(site, "render", "--all").exit_code == 0
    result = run_cli(site, "check", "--all", "--no-annotations")
    errors = [line for line in result.output.splitlines() if ": warning: " not in line]
    flagged = {m.group(1) for line in errors if (m := re.search(r"\[([\d.]+)\]", line))}

    def share(label: str) -> float:
        ids = [pid for pid, kind in labels.items() if kind == label]
        assert len(ids) >= 15, label  # enough of each to measure
        return sum(pid in flagged for pid in ids) / len(ids)

    assert share("error") == 1.0 and share("headings") == 1.0
    assert share("clean") <= 0.05
    assert result.exit_code == 1  # the error texts and headings fail the check
    assert ": warning: " in result.output  # format notes are shown, not hidden


def test_imported_text_off_the_tools_format_is_a_note_generated_text_an_error(rendered_site):
    record = rendered_site / FOLDER / f"{FIRST}.yaml"
    edit(record, "    1)  \n", "    1) \n")  # one space: not this tool's exact `1)  ` line
    assert run_cli(rendered_site, "render", "--force").exit_code == 0
    result = run_cli(rendered_site, "check", "--annotations")
    assert result.exit_code == 0, result.output
    assert f"::warning file={FOLDER}/{FIRST}.yaml" in result.output
    assert "no problems (1 format notes)" in result.output
    text = record.read_text(encoding="utf-8")
    analysis_source = text.index("analysis:")
    record.write_text(text[:analysis_source] + text[analysis_source:].replace(
        "source: import", "source: full_text", 1), encoding="utf-8")
    assert run_cli(rendered_site, "render", "--force").exit_code == 0
    result = run_cli(rendered_site, "check", "--annotations")
    assert result.exit_code == 1 and "::error file=" in result.output  # the tool's own text


def test_the_sync_workflow_checks_only_the_days_a_pull_request_touches(pr_checkout):
    from tests.gitkit import IDENTITY, git

    work = pr_checkout
    old_day = work / "data" / "2026-01-20"  # a migrated day with the old blog's error text
    old_day.mkdir()
    record = (work / FOLDER / f"{FIRST}.yaml").read_text("utf-8").replace(FIRST, "2601.00001")
    (old_day / "2601.00001.yaml").write_text(record.replace(
        "    离散语音表征标记", "    翻译失败：离散语音表征标记"), "utf-8")
    manifest = (work / FOLDER / "manifest.yaml").read_text("utf-8").split("shown:")[0]
    (old_day / "manifest.yaml").write_text(manifest.replace(DAY, "2026-01-20") + (
        "shown: 1\npapers:\n  - '2601.00001'\n"), "utf-8")
    git(work, *IDENTITY, "add", ".")
    git(work, *IDENTITY, "commit", "-q", "-m", "Migrated days")
    base = git(work, "rev-parse", "HEAD").strip()
    assert run_cli(work, "check", "--date", "2026-01-20").exit_code == 1

    edit(work / FOLDER / f"{SECOND}.yaml", "reviewed: false", "reviewed: true")
    git(work, *IDENTITY, "commit", "-q", "-a", "-m", "Reviewed one paper")
    step = run_step(work, "Check records, texts and posts", BASE_SHA=base)
    assert step.returncode == 0, step.stdout + step.stderr
    assert "2026-01-20" not in step.stdout

    edit(work / FOLDER / f"{FIRST}.yaml", "    离散语音表征标记", "    翻译失败：离散语音表征标记")
    assert run_cli(work, "render", "--date", DAY).exit_code == 0
    git(work, *IDENTITY, "commit", "-q", "-a", "-m", "An error text in the day under review")
    step = run_step(work, "Check records, texts and posts", BASE_SHA=base)
    assert step.returncode == 1 and "error text" in step.stdout


# -- 11. properties: any text survives load -> render -> import -> render, and sync ------

_PIECES = [*"中文的是了模型语音，。；：（）《》", *"*_`#|[]()<>!{}%$\\&;~^:-=+>./ \n\t",
           "{{", "}}", "{%", "%}", "{% raw %}", "<script>", "</div>", "<details>", "$$",
           "$x^2_i$", "$\\{a\\}$", "&#124;", "&amp;", "&lt;", "\x00", "\x07", "\x1b", "\u2028",
           "\r\n", "\ufeff", "http://x.y", "](javascript:alert(1))", "```", "~~~", "---",
           "1)  ", "## ", "- **Authors**: ", "【待翻译】", "{::comment}", "[x]: /u", "a", "Z",
           "1", "12.5%"]


def _texts():
    from hypothesis import strategies as st

    return st.lists(st.sampled_from(_PIECES), max_size=40).map("".join)


def _one_paper_site(root: Path, **fields):
    from digest_cli.records.model import MachineText, clean_text, text_hash
    from digest_cli.records.store import load_day, write_day
    from digest_cli.records.writer import Writer
    from digest_cli.settings import load_settings
    from tests.conftest import make_day, make_paper

    (root / "data").mkdir(parents=True)
    (root / "_posts").mkdir()
    settings = load_settings(root, environ={})
    paper = make_paper(1)
    for name in ("translation", "analysis"):
        if name in fields:
            text = clean_text(fields.pop(name))
            setattr(paper, name, MachineText(text, "m", "v1", "t", "full_text", text_hash(text)))
    for key, value in fields.items():
        setattr(paper, key, value)
    write_day(settings, make_day([paper]), Writer())
    return settings, load_day(settings, SAMPLE_DAY)


def _property(test):
    from hypothesis import HealthCheck, settings

    return settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])(test)


def test_any_text_survives_load_render_import_render():
    import tempfile

    from hypothesis import given

    from digest_cli.posts.importer import parse_post
    from digest_cli.posts.render import render_day
    from digest_cli.records.model import Day, clean_text

    @_property
    @given(title=_texts(), author=_texts(), abstract=_texts(), translation=_texts(),
           analysis=_texts())
    def check(title, author, abstract, translation, analysis):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            settings, day = _one_paper_site(  # a title or author is never empty
                root, title=clean_text(title).strip() or "t",
                authors=[clean_text(author).strip() or "a"],
                abstract=abstract, translation=translation, analysis=analysis)
            post = render_day(day, settings)
            path = root / "_posts" / f"{DAY}-arxiv.md"
            path.write_text(post, encoding="utf-8")
            manifest, imported = parse_post(path, settings)
            back = imported[0].paper
            loaded = day.papers[0]
            assert (back.title, back.authors) == (loaded.title, loaded.authors)
            for name in ("translation", "analysis"):
                mine, theirs = getattr(loaded, name), getattr(back, name)
                if mine is not None and mine.text.strip():
                    assert theirs is not None and theirs.text == mine.text.strip("\n"), name
            again = render_day(Day(day.manifest, [back]), settings)
            assert again == post

    check()


def test_any_post_edit_survives_sync_and_any_record_edit_reaches_the_post():
    import tempfile
    from dataclasses import replace

    from hypothesis import example, given

    from digest_cli.posts.render import body_text
    from digest_cli.posts.sync import sync_day
    from digest_cli.posts.write import post_status, write_post
    from digest_cli.records.model import MachineText, clean_text
    from digest_cli.records.sentences import join_lines
    from digest_cli.records.store import load_day, write_paper
    from digest_cli.records.writer import Writer

    @_property
    @example(edit_text="。\u2028中", record_text="")  # found by hypothesis in CI-like runs
    @given(edit_text=_texts(), record_text=_texts())
    def check(edit_text, record_text):
        edit_text, record_text = clean_text(edit_text), clean_text(record_text)
        with tempfile.TemporaryDirectory() as tmp:
            settings, day = _one_paper_site(Path(tmp))
            write_post(settings, day, Writer())
            path = settings.post_path(SAMPLE_DAY)
            old = day.papers[0].translation.text
            if edit_text.strip():  # an editor's new translation, written as render writes it
                posted = body_text(replace(day.papers[0], translation=MachineText(edit_text)))
                path.write_text(path.read_text("utf-8").replace(old, posted), encoding="utf-8")
                sync_day(settings, SAMPLE_DAY, Writer())
                paper = load_day(settings, SAMPLE_DAY).papers[0]
                # A line break right after a sentence end is layout (records/sentences.py):
                # `。\n中` is kept as `。中`, and the post is rendered again so.
                assert paper.translation.text == join_lines(edit_text.strip("\n"))
            day = load_day(settings, SAMPLE_DAY)
            assert post_status(settings, day) is None
            paper = day.papers[0]  # then an edit in the record
            paper.translation.text = record_text
            write_paper(settings.day_path(SAMPLE_DAY), paper, Writer())
            sync_day(settings, SAMPLE_DAY, Writer())
            assert post_status(settings, load_day(settings, SAMPLE_DAY)) is None
            assert sync_day(settings, SAMPLE_DAY, Writer()).action == "in sync"

    check()

D = SAMPLE_DAY.isoformat()
PID = "2601.19786"


# =========================================================================================
# Links, settings, secrets, one run per repository, bounded I/O, honest status
# (items 4-8 of the issue)
# =========================================================================================

def set_field(site: Path, pid: str, name: str, value: str) -> None:
    """Put `value` into a record's top-level field, as a hostile feed or editor would."""
    path = site / "data" / D / f"{pid}.yaml"
    text = path.read_text(encoding="utf-8")
    text, n = re.subn(rf"^{name}: .*$", f"{name}: {json.dumps(value)}", text, flags=re.M)
    assert n == 1
    path.write_text(text, encoding="utf-8")


HOSTILE_LINKS = ["javascript:alert(1)", "https://arxiv.org/abs/{{ site.title }}",
                 'https://arxiv.org/abs/x"><script>alert(1)</script>',
                 "https://arxiv.org/abs/2601.19786v1)\n\n## Injected heading",
                 "https://evil.example/abs/2601.19786v1"]


@pytest.mark.parametrize("link", HOSTILE_LINKS)
def test_hostile_links_never_reach_the_post_the_preview_or_the_pr_body(rendered_site, link):
    from digest_cli.publish.body import paper_row
    from digest_cli.records.store import load_day
    from digest_cli.settings import load_settings

    set_field(rendered_site, PID, "abs_url", link)
    set_field(rendered_site, PID, "pdf_url", link.replace("abs", "pdf"))
    result = run_cli(rendered_site, "render", "--date", D)
    assert result.exit_code == 0, result.output
    post = (rendered_site / "_posts" / f"{D}-arxiv.md").read_text(encoding="utf-8")
    assert f"- **arXiv**: [https://arxiv.org/abs/{PID}v1](https://arxiv.org/abs/{PID}v1)\n" in post
    assert f"- **PDF**: [https://arxiv.org/pdf/{PID}v1](https://arxiv.org/pdf/{PID}v1)\n" in post
    preview = Path(run_cli(rendered_site, "preview", "--date", D).output.strip())
    pages = [post, preview.read_text(encoding="utf-8")]
    day = load_day(load_settings(rendered_site, environ={}), SAMPLE_DAY)
    paper = next(p for p in day.papers if p.id.base == PID)
    pages.append(paper_row(1, paper))
    for page in pages:
        for bad in ("javascript:", "{{ site", "alert(1)", "Injected heading", "evil.example"):
            assert bad not in page


@pytest.mark.parametrize(("variable", "value"), [
    ("DIGEST_LAYOUT", "post\nsitemap: false"), ("DIGEST_TITLE", "Daily {date}\r\nlayout: x"),
    ("DIGEST_TAGS", "arxiv,evil\u2028tag"), ("DIGEST_ZONE_NAME", "北京时间\x07"),
])
def test_a_setting_with_a_line_break_or_control_character_is_refused(rendered_site, variable,
                                                                      value):
    before = (rendered_site / "_posts" / f"{D}-arxiv.md").read_bytes()
    line = one_error(run_cli(rendered_site, "render", "--date", D, env={variable: value}))
    assert "line break or control character" in line
    assert (rendered_site / "_posts" / f"{D}-arxiv.md").read_bytes() == before


@pytest.mark.parametrize(("variable", "value", "says"), [
    ("DIGEST_TAGS", "arxiv,a]: b", "is not a tag"), ("DIGEST_LAYOUT", "post: x", "layout"),
    ("DIGEST_ZONE_LABEL", "{% include x %}", "Liquid"),
])
def test_front_matter_and_header_settings_cannot_change_the_post(rendered_site, variable,
                                                                 value, says):
    assert says in one_error(run_cli(rendered_site, "render", "--date", D,
                                     env={variable: value}))


def test_post_filename_cannot_leave_the_posts_folder(rendered_site, tmp_path):
    env = {"DIGEST_POST_FILENAME": "../../escaped-{date}.md"}
    assert "must be a file name" in one_error(run_cli(rendered_site, "render", "--date", D,
                                                      "--force", env=env))
    assert not list(tmp_path.parent.glob("escaped-*")) and not list(tmp_path.glob("escaped-*"))


@pytest.mark.parametrize("folder", ["_posts", f"data/{D}"])
def test_a_symlinked_folder_pointing_outside_writes_nothing_there(rendered_site, tmp_path_factory,
                                                                  folder):
    import shutil

    outside = tmp_path_factory.mktemp("outside") / "target"
    shutil.move(rendered_site / folder, outside)
    (rendered_site / folder).symlink_to(outside, target_is_directory=True)
    before = {p: p.read_bytes() for p in outside.iterdir()}
    line = one_error(run_cli(rendered_site, "render", "--date", D, "--force"))
    assert "outside the repository" in line
    assert {p: p.read_bytes() for p in outside.iterdir()} == before


@pytest.mark.parametrize("folder", ["_posts", "data"])
def test_a_folder_that_becomes_a_symlink_during_a_command_is_refused(
        rendered_site, tmp_path_factory, folder):
    """A preview keeps its settings for hours: each day folder and post is checked again
    on every use, the data and posts folders included."""
    import shutil
    from datetime import date

    from digest_cli.errors import SettingsError
    from digest_cli.settings import load_settings

    settings = load_settings(rendered_site, environ={})
    day = date.fromisoformat(D)
    settings.day_path(day), settings.post_path(day)  # used once, as a preview does
    outside = tmp_path_factory.mktemp("outside") / "target"
    shutil.move(rendered_site / folder, outside)
    (rendered_site / folder).symlink_to(outside, target_is_directory=True)
    with pytest.raises(SettingsError, match="outside the repository"):
        settings.day_path(day) if folder == "data" else settings.post_path(day)


def test_a_file_named_like_a_temp_file_but_not_one_is_kept(rendered_site):
    """Only `.NAME.<something>.tmp` is a write's temp file; `.NAME.tmp` is someone's."""
    posts = rendered_site / "_posts"
    theirs = posts / f".{D}-arxiv.md.tmp"
    theirs.write_text("an editor's backup", encoding="utf-8")
    set_field(rendered_site, PID, "title", "Changed, so the post is written")
    assert run_cli(rendered_site, "render", "--date", D).exit_code == 0
    assert theirs.read_text(encoding="utf-8") == "an editor's backup"


def test_written_files_have_the_usual_permissions(rendered_site):
    mask = os.umask(0o022)
    os.umask(mask)
    usual = 0o666 & ~mask  # 0644 under the default umask
    if usual == 0o600:
        pytest.skip("this process's umask makes the usual mode 0600 itself")
    post = rendered_site / "_posts" / f"{D}-arxiv.md"
    manifest = rendered_site / "data" / D / "manifest.yaml"
    post.chmod(0o600)  # as an earlier version left every file
    set_field(rendered_site, PID, "title", "A new title")
    assert run_cli(rendered_site, "render", "--date", D).exit_code == 0
    assert oct(post.stat().st_mode & 0o777) == oct(usual)
    assert oct(manifest.stat().st_mode & 0o777) == oct(usual)


def test_settings_masks_credentials_in_url_settings(site):
    env = {"DIGEST_LLM_BASE_URL": "https://me:pa55word-x@llm.example/v1?key=qk3y-secret",
           "DIGEST_LLM_API_KEY": "sk-known-secret\n"}
    result = run_cli(site, "settings", env=env)
    assert result.exit_code == 0
    assert 'llm_base_url = "https://***@llm.example/v1?key=***"' in result.output
    for secret in ("pa55word-x", "qk3y-secret", "sk-known-secret"):
        assert secret not in result.output


KEY, TOKEN, PASSWORD, QUERY_KEY = ("sk-KNOWN-llm-secret-1", "ghs-KNOWN-token-2",
                                   "pw-KNOWN-password-3", "qk-KNOWN-query-4")
SECRETS = (KEY, TOKEN, PASSWORD, QUERY_KEY)
FETCH_DAY = "2026-11-26"


def everything_written(*folders: Path) -> bytes:
    """Every file under `folders` and every git object of their repositories."""
    out = []
    for folder in folders:
        out += [p.read_bytes() for p in folder.rglob("*") if p.is_file()]
        out.append(subprocess.run(["git", "cat-file", "--batch-all-objects", "--batch"],
                                  cwd=folder, capture_output=True).stdout)
    return b"\n".join(out)


def test_a_known_secret_never_leaves_on_any_failure_path(tmp_path, arxiv_server, caplog,
                                                         isolated_git):
    caplog.set_level(logging.DEBUG)
    origin, root = tmp_path / "origin.git", tmp_path / "site"
    make_site_repo(origin, root, git)
    arxiv_server.add_paper(id="2611.20001", summary="We improve speech.", categories=["cs.SD"],
                           published=datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc))
    summary = tmp_path / "summary.md"
    outputs = []
    with FakeLLM(api_key=KEY) as llm, FakeGitHub(token=TOKEN, owner="o", repo="site") as gh:
        gh.branch_exists = lambda owner, repo, branch: bool(
            git(origin, "branch", "--list", branch, check=False))
        # A provider that echoes the key in its error message, for every request.
        llm.fail_next(400, message=f"bad request from key {KEY} (invalid_request)", times=99)
        env = {"DIGEST_ARXIV_API_URL": arxiv_server.query_url, "DIGEST_ARXIV_DELAY": "0",
               "DIGEST_LLM_BASE_URL": llm.base_url, "DIGEST_LLM_API_KEY": KEY + "\n",
               "DIGEST_LLM_RETRIES": "0", "DIGEST_LLM_REPAIR_ATTEMPTS": "0",
               "DIGEST_PDF_URL_TEMPLATE": f"http://u:{PASSWORD}@127.0.0.1:9/{{id}}?k={QUERY_KEY}",
               "GITHUB_API_URL": gh.url, "GITHUB_REPOSITORY": "o/site", "GITHUB_TOKEN": TOKEN,
               "DIGEST_GITHUB_RETRY_DELAY": "0", "GITHUB_STEP_SUMMARY": str(summary)}
        run = run_cli(root, "-v", "run", "--date", FETCH_DAY, "--publish", env=env)
        outputs.append(run.output)
        assert run.exit_code == 3, run.output  # published, but nothing could be translated
        assert gh.open_pulls() and "failed" in gh.open_pulls()[0]["body"]
        record = (root / f"data/{FETCH_DAY}/2611.20001.yaml").read_text(encoding="utf-8")
        assert "bad request from key ***" in record
        # Credentials in the LLM URL: a wrong endpoint, then a refused one.
        for base in (f"http://me:{PASSWORD}@127.0.0.1:9/v1?key={QUERY_KEY}",
                     f"http://me:{PASSWORD}@127.0.0.1:{llm.port}/v1"):
            env["DIGEST_LLM_BASE_URL"] = base
            outputs.append(run_cli(root, "-v", "translate", "--date", FETCH_DAY, "--force",
                                   env=env).output)
            outputs.append(run_cli(root, "settings", env=env).output)
        # Credentials in the arXiv URL, and arXiv down: the error names the URL.
        outputs.append(run_cli(root, "-v", "fetch", "--date", FETCH_DAY, env={
            **env, "DIGEST_ARXIV_API_URL": f"http://me:{PASSWORD}@127.0.0.1:9/api/query",
            "DIGEST_ARXIV_RETRIES": "0", "DIGEST_ARXIV_CACHE_TTL": "0"}).output)
        env["GITHUB_TOKEN"] = TOKEN + "-revoked"  # GitHub refuses: its error is shown
        outputs.append(run_cli(root, "-v", "publish", "--date", FETCH_DAY, env=env).output)
        bodies = json.dumps(gh.pulls)
    assert all("Error" in out for out in outputs[1::2]) and "Error" in outputs[-1]
    written = everything_written(root, origin) + summary.read_bytes()
    for secret in SECRETS:
        assert secret.encode() not in written, secret
        assert secret not in caplog.text and secret not in bodies, secret
        assert all(secret not in out for out in outputs), secret


HOLD = """
import sys, time
from pathlib import Path
from digest_cli.lock import repo_lock
with repo_lock(Path(sys.argv[1]), "digest translate --date 2026-01-28"):
    print("locked", flush=True)
    time.sleep(60)
"""


def test_a_second_run_exits_naming_the_first_and_a_dead_holder_is_taken_over(rendered_site,
                                                                              caplog):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(rendered_site)],
                              stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert holder.stdout.readline().strip() == "locked"
        for args in (["render", "--date", D], ["sync"], ["translate"], ["fetch", "--offline"]):
            line = one_error(run_cli(rendered_site, *args))
            assert f"pid {holder.pid}: digest translate --date 2026-01-28" in line, line
    finally:
        holder.kill()  # dies holding the lock: the kernel drops it, the file still names it
        holder.wait()
    caplog.set_level(logging.INFO)
    assert run_cli(rendered_site, "render", "--date", D).exit_code == 0
    assert f"took over the lock left by pid {holder.pid}" in caplog.text


def test_no_run_removes_a_temp_file_that_a_live_process_owns(rendered_site):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    posts = rendered_site / "_posts"
    live_tmp = posts / f".{D}-arxiv.md.p{os.getppid()}.abcd1234.tmp"  # our parent: alive
    dead_tmp = posts / f".{D}-arxiv.md.p{dead.pid}.efgh5678.tmp"
    for tmp in (live_tmp, dead_tmp):
        tmp.write_text("half-written", encoding="utf-8")
    set_field(rendered_site, PID, "title", "Changed, so the post is written")
    assert run_cli(rendered_site, "render", "--date", D).exit_code == 0
    assert live_tmp.is_file() and not dead_tmp.exists()


class Trickler(FakeServer):
    """Answers everything, a byte at a time: a per-read timeout never fires."""

    def __init__(self, body: bytes) -> None:
        super().__init__()
        self.body = body

    def handle(self, req):
        return Response(body=self.body, trickle=0.02)


def test_fetch_from_a_server_sending_a_byte_at_a_time_ends_at_the_deadline(site):
    feed = render_feed([], search_query="x", id_list="", start=0, max_results=200, total=0,
                       now=datetime(2026, 11, 26, tzinfo=timezone.utc)).encode() * 3
    with Trickler(feed) as slow:  # about 100 s to send in full
        env = {"DIGEST_ARXIV_API_URL": slow.url + "/api/query", "DIGEST_ARXIV_DELAY": "0",
               "DIGEST_ARXIV_TIMEOUT": "0.5", "DIGEST_ARXIV_RETRIES": "1"}
        line = one_error(run_cli(site, "fetch", "--date", FETCH_DAY, env=env))
    assert "no answer within 0.5 s after 1 retries" in line


def llm_env(llm: FakeLLM, **extra: str) -> dict[str, str]:
    return {"DIGEST_LLM_BASE_URL": llm.base_url, "DIGEST_LLM_API_KEY": "sk-test",
            "DIGEST_LLM_RETRIES": "0", "DIGEST_LLM_REPAIR_ATTEMPTS": "0",
            "DIGEST_PDF_URL_TEMPLATE": "http://127.0.0.1:9/{id}", **extra}


def untranslated_site(sample_site: Path) -> Path:
    """The sample day with one paper left, untranslated."""
    from dataclasses import replace

    from digest_cli.records.store import load_day, write_day
    from digest_cli.records.writer import Writer
    from digest_cli.settings import load_settings

    settings = load_settings(sample_site, environ={})
    day = load_day(settings, SAMPLE_DAY)
    paper = replace(day.papers[0], abstract="We study speech and improve it by 12.5%.",
                    translation=None, analysis=None, title_zh=None, summary=None,
                    topics=None)
    write_day(settings, type(day)(replace(day.manifest, papers=[paper.id.base]), [paper]),
              Writer())
    return sample_site


def test_a_trickling_llm_answer_ends_at_the_deadline(sample_site):
    site = untranslated_site(sample_site)
    with FakeLLM() as llm:  # each answer would take about a minute, a byte at a time
        llm.trickle_next(pause=0.05, times=20)
        line = one_error(run_cli(site, "translate", "--date", D,
                                 env=llm_env(llm, DIGEST_LLM_TIMEOUT="1")))
    assert "timed out after 1 s; no request has succeeded" in line


def test_a_30_mb_llm_answer_is_refused(sample_site):
    site = untranslated_site(sample_site)
    with FakeLLM(responder=lambda _req: "中" * (10 << 20)) as llm:  # 30 MB of UTF-8
        result = run_cli(site, "translate", "--date", D, env=llm_env(llm))
    assert result.exit_code == 3, result.output  # nothing translated: documented status 3
    assert "answer refused: more than 4 MB" in result.output
    assert "none of the 1 papers that needed texts could be translated" in result.stderr


def test_a_malformed_feed_entry_is_skipped_with_a_warning_naming_it(site, arxiv_server, caplog):
    published = datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)
    good = arxiv_server.add_paper(id="2611.20001", published=published)
    bad = render_entry({**good, "id": "2611.20002"}).replace(
        "<published>2026-11-24T15:00:00Z", "<published>2026-02-30T15:00:00Z")
    assert "2026-02-30" in bad
    arxiv_server.serve_body(render_feed(
        [bad, render_entry(good)], search_query="x", id_list="", start=0, max_results=200,
        total=2, now=published))
    env = {"DIGEST_ARXIV_API_URL": arxiv_server.query_url, "DIGEST_ARXIV_DELAY": "0"}
    result = run_cli(site, "fetch", "--date", FETCH_DAY, env=env)
    assert result.exit_code == 0, result.output
    assert (site / f"data/{FETCH_DAY}/2611.20001.yaml").is_file()
    assert "skipping the malformed API entry http://arxiv.org/abs/2611.20002v1" in caplog.text


@pytest.mark.parametrize("args", [["fetch", "--date", "0001-01-01"],
                                  ["run", "--offline", "--date", "0001-01-01"],
                                  ["preview", "--date", D, "--serve", "--port", "99999"]])
def test_out_of_range_dates_and_ports_are_usage_errors(sample_site, args):
    result = run_cli(sample_site, *args)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "out of range" in result.output or "not in the range" in result.output


def test_a_post_whose_window_names_no_real_date_is_refused_in_one_line(sample_site, tmp_path):
    post = (sample_site / "_posts" / f"{D}-arxiv.md").read_text(encoding="utf-8")
    bad = tmp_path / f"{D}-arxiv.md"
    bad.write_text(re.sub(r"(时间窗口[^：]*：)\d{4}-\d\d-\d\d", r"\g<1>2026-02-30", post, count=1),
                   encoding="utf-8")
    assert "2026-02-30" in bad.read_text(encoding="utf-8")
    assert "names no real time" in one_error(run_cli(sample_site, "import", str(bad)))


def test_check_outside_a_site_says_so(tmp_path):
    line = one_error(run_cli(tmp_path, "check"))
    assert "is not a digest site" in line


def test_a_trickling_pdf_download_ends_at_the_deadline(tmp_path, caplog):
    from digest_cli.records.model import ArxivId
    from digest_cli.settings import load_settings
    from digest_cli.translate.fulltext import full_text

    with Trickler(b"%PDF-1.4\n" + b"x" * 5000) as slow:  # about 100 s in full
        settings = load_settings(tmp_path, environ={}, overrides={
            "pdf_url_template": slow.url + "/pdf/{id}v{version}", "pdf_timeout": 0.5})
        assert full_text(settings, ArxivId("2601.19786", 1)) is None
    assert "PDF download failed" in caplog.text and "within 0.5 s" in caplog.text


def test_a_trickling_github_api_ends_at_the_deadline():
    from digest_cli.publish.github import GitHub, GitHubError

    with Trickler(b"[]") as slow, GitHub(slow.url, "o/site", "t0ken", timeout=0.5,
                                         retries=0) as client:
        with pytest.raises(GitHubError, match="within 0.5 s"):
            client.find_pull("digest/2026-01-28")


# -- settings errors never show a secret; tags; site feeds; sites; bounds (review of 11) --

@pytest.mark.parametrize(("variable", "value", "secret"), [
    ("DIGEST_LLM_API_KEY", "sk-SECRETKEY\tx", "SECRETKEY"),
    ("GITHUB_TOKEN", "ghs-SECRETTOKEN\x07y", "SECRETTOKEN"),
    ("DIGEST_LLM_BASE_URL", "https://user:PASSWORD@llm.example/v1\n", "PASSWORD"),
    ("DIGEST_LLM_BASE_URL", "https://user:PASS\tWORD@llm.example/v1", "PASS"),
    ("DIGEST_PDF_URL_TEMPLATE", "https://arxiv.org/pdf/{id}?key=QSECRET\r", "QSECRET"),
])
def test_a_refused_setting_never_shows_a_secret(site, variable, value, secret):
    result = run_cli(site, "settings", env={variable: value})
    line = one_error(result)
    assert "line break or control character" in line
    assert secret not in result.output
    if "BASE_URL" in variable:
        assert "https://***@llm.example/v1" in line  # the masked form says which value


def test_credentials_in_a_url_are_masked_even_when_settings_fail_to_load(site):
    (site / "pyproject.toml").write_text(
        '[tool.digest]\narxiv_api_url = ["https://me:PYSECRET@arxiv.example/api"]\n',
        encoding="utf-8")
    result = run_cli(site, "settings")
    line = one_error(result)
    assert "setting 'arxiv_api_url'" in line and "https://***@arxiv.example" in line
    assert "PYSECRET" not in result.output


def test_a_tag_starting_with_a_hash_is_refused(rendered_site):
    before = snapshot(rendered_site)
    line = one_error(run_cli(rendered_site, "render", "--date", D, "--force",
                             env={"DIGEST_TAGS": "arxiv,#x"}))
    assert "'#x' is not a tag" in line
    assert snapshot(rendered_site) == before


_YAML_LOOKALIKES = ["1.0", "2026", "2026-01-28", "0x1F", "1e3", "1_000", "true", "False",
                    "yes", "No", "on", "OFF", "y", "null", "NULL", "c#", "c++", "a-b", "语音"]


def test_every_accepted_tag_list_reads_back_from_the_front_matter_as_written(tmp_path):
    """Jekyll reads front matter as YAML 1.1 (PyYAML does too); also read as YAML 1.2."""
    import yaml
    from hypothesis import example, given
    from hypothesis import strategies as st
    from ruamel.yaml import YAML

    from digest_cli.errors import SettingsError
    from digest_cli.posts.render import front_matter
    from digest_cli.settings import load_settings

    tag = st.one_of(st.sampled_from(_YAML_LOOKALIKES),
                    st.from_regex(r"[\w.+#:,\[\]{}'\" -]{1,12}", fullmatch=True))

    @_property
    @example([" "])
    @given(st.lists(tag, min_size=1, max_size=5))
    def check(tags):
        try:
            settings = load_settings(tmp_path, environ={}, overrides={"tags": tags})
        except SettingsError:
            return  # refused in one line: nothing is rendered
        # A list setting is read as its items stripped, blank ones dropped (`[' ']` is [])
        assert settings.tags == [tag.strip() for tag in tags if tag.strip()]
        text = front_matter(SAMPLE_DAY, settings).split("---\n")[1]
        assert yaml.safe_load(text)["tags"] == settings.tags, text
        assert YAML(typ="safe", pure=True).load(text)["tags"] == settings.tags, text

    check()
    accepted = load_settings(tmp_path, environ={}, overrides={"tags": _YAML_LOOKALIKES})
    assert accepted.tags == _YAML_LOOKALIKES  # the look-alikes are kept, quoted


def test_topic_feeds_link_papers_from_their_arxiv_id(tmp_path):
    from digest_cli.records.model import MachineText
    from digest_cli.records.topics import default_topics
    from digest_cli.site.pages import generated_files, index_papers
    from tests.conftest import make_paper

    paper = make_paper(1, abs_url='javascript:alert(1)"><script>x</script>',
                       topics=MachineText("asr", "m", "brief-v1", "t", "abstract", "h"))
    files = generated_files(index_papers([(SAMPLE_DAY, "/2026/01/28/arxiv.html", [paper],
                                           "")], default_topics()), "+08:00")
    feed = files["topics/asr/feed.xml"]
    assert f"<id>https://arxiv.org/abs/{paper.id.versioned}</id>" in feed
    assert "javascript" not in feed and "script" not in feed


def _sample_post_outside(tmp_path_factory) -> Path:
    post = tmp_path_factory.mktemp("posts") / f"{D}-arxiv.md"
    shutil.copy(SAMPLE / POST, post)
    return post


@pytest.mark.parametrize("args", [
    ["fetch", "--offline", "--date", D], ["run", "--offline", "--no-llm", "--date", D],
    ["import", "POST"], ["translate", "--date", D], ["render"], ["sync"],
    ["publish", "--date", D], ["review", "--date", D], ["records", "reflow"],
])
def test_a_writing_command_outside_a_site_says_so_and_writes_nothing(tmp_path,
                                                                   tmp_path_factory, args):
    folder = tmp_path / "not-a-site"
    folder.mkdir()
    args = [str(_sample_post_outside(tmp_path_factory)) if a == "POST" else a for a in args]
    line = one_error(run_cli(folder, *args))
    assert f"{folder.resolve()} is not a digest site" in line
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize(("variable", "value", "says"), [
    ("DIGEST_ARXIV_TIMEOUT", "-1", "'arxiv_timeout': -1.0 is out of range (it must be more "
                                   "than 0)"),
    ("DIGEST_LLM_TIMEOUT", "0", "'llm_timeout': 0.0 is out of range"),
    ("DIGEST_PDF_TIMEOUT", "nan", "'pdf_timeout': nan is not a finite number"),
    ("DIGEST_GITHUB_TIMEOUT", "inf", "'github_timeout': inf is not a finite number"),
    ("DIGEST_LLM_CONCURRENCY", "0", "'llm_concurrency': 0 is out of range (it must be at "
                                    "least 1)"),
    ("DIGEST_ARXIV_RETRIES", "-1", "'arxiv_retries': -1 is out of range (it must be at "
                                   "least 0)"),
    ("DIGEST_MAX_PAPERS", "-5", "'max_papers': -5 is out of range"),
    ("DIGEST_ARXIV_DELAY", "-0.5", "'arxiv_delay': -0.5 is out of range"),
])
def test_numeric_settings_below_their_bound_are_one_line_errors(site, variable, value, says):
    line = one_error(run_cli(site, "fetch", "--offline", "--date", FETCH_DAY,
                             env={variable: value}))
    assert line.startswith("Error (settings): ") and says in line
    assert list((site / "data").iterdir()) == []


def test_url_credentials_are_matched_by_one_pattern():
    """redact masks and errors scrubs with the same pattern: they cannot drift apart."""
    sources = [p.read_text(encoding="utf-8") for p in (REPO / "digest_cli").rglob("*.py")]
    assert sum(r"[^/@\s]+@" in text for text in sources) == 1
