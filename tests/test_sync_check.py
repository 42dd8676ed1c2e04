"""Editors: an edit in the post or in the record ends up in both; both at once is refused;
`digest check` catches every quality rule with an annotation."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from digest_cli.cli import cli
from digest_cli.records.store import load_day
from tests.conftest import SAMPLE_DAY

RECORD = Path("data/2026-01-28/2601.19786.yaml")
POST = Path("_posts/2026-01-28-arxiv.md")
FIRST = "离散语音表征标记已成为语音生成的基础组件。"
TRANSLATION = next(line for line in (Path(__file__).parents[1] / RECORD).read_text(
    encoding="utf-8").splitlines() if line.startswith("    " + FIRST))


def run(root: Path, *args: str):
    return CliRunner().invoke(cli, ["--root", str(root), *args], catch_exceptions=False)


@pytest.fixture
def rendered_site(sample_site, settings_for):
    assert run(sample_site, "render", "--all").exit_code == 0  # records the rendered state
    return sample_site


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_an_edit_in_the_record_reaches_the_post(rendered_site, settings_for):
    edit(rendered_site / RECORD, FIRST, "离散语音标记已是语音生成的基础。")
    result = run(rendered_site, "sync", "--date", str(SAMPLE_DAY))
    assert result.exit_code == 0 and "rendered" in result.output
    assert "离散语音标记已是语音生成的基础。" in (rendered_site / POST).read_text()
    assert run(rendered_site, "render", "--check").exit_code == 0


def test_an_edit_in_the_post_reaches_the_record_marked_as_human(rendered_site, settings_for):
    edit(rendered_site / POST, FIRST, "离散语音标记（DSRT）已是语音生成的基础。")
    result = run(rendered_site, "sync", "--date", str(SAMPLE_DAY))
    assert result.exit_code == 0, result.output
    assert "imported" in result.output and "2601.19786: translation" in result.output
    day = load_day(settings_for(rendered_site), SAMPLE_DAY)
    paper = day.papers[0]
    assert paper.translation.text.startswith("离散语音标记（DSRT）已是语音生成的基础。")
    assert paper.translation.edited  # no later run may rewrite it
    assert all(not p.translation.edited for p in day.papers[1:])
    assert run(rendered_site, "render", "--check").exit_code == 0
    # Syncing again changes nothing.
    before = (rendered_site / RECORD).read_bytes()
    assert "in sync" in run(rendered_site, "sync").output
    assert (rendered_site / RECORD).read_bytes() == before


def test_edits_of_different_papers_on_both_sides_merge(rendered_site, settings_for):
    edit(rendered_site / RECORD, FIRST, "记录里的修改。")
    edit(rendered_site / POST, "近年来，利用离散化标记表示语音", "帖子里的修改：利用离散化标记表示语音")
    result = run(rendered_site, "sync", "--date", str(SAMPLE_DAY))
    assert result.exit_code == 0, result.output
    post = (rendered_site / POST).read_text()
    assert "记录里的修改。" in post and "帖子里的修改：" in post
    papers = load_day(settings_for(rendered_site), SAMPLE_DAY).papers
    assert papers[1].translation.text.startswith("帖子里的修改：")


def test_the_same_paper_edited_on_both_sides_is_refused(rendered_site):
    edit(rendered_site / RECORD, FIRST, "记录版本。")
    edit(rendered_site / POST, FIRST, "帖子版本。")
    record, post = (rendered_site / RECORD).read_bytes(), (rendered_site / POST).read_bytes()
    result = run(rendered_site, "sync", "--date", str(SAMPLE_DAY))
    assert result.exit_code == 1
    assert "[2601.19786] edited both in its record and in the post" in result.output
    assert "记录版本。" in result.output and "帖子版本。" in result.output
    assert (rendered_site / RECORD).read_bytes() == record
    assert (rendered_site / POST).read_bytes() == post


def test_render_does_not_overwrite_a_hand_edited_post(rendered_site):
    edit(rendered_site / POST, FIRST, "编辑在帖子里改的。")
    result = run(rendered_site, "render", "--date", str(SAMPLE_DAY))
    assert result.exit_code == 1 and "digest sync" in result.output
    assert "编辑在帖子里改的。" in (rendered_site / POST).read_text()
    assert run(rendered_site, "render", "--force").exit_code == 0
    assert "编辑在帖子里改的。" not in (rendered_site / POST).read_text()


def test_check_passes_on_the_sample_day(rendered_site):
    result = run(rendered_site, "check")
    assert result.exit_code == 0 and "no problems" in result.output


@pytest.mark.parametrize(
    "old, new, message",
    [
        (TRANSLATION, "    Discrete speech tokens are the basis of speech generation.",
         "translation:"),
        ("    1)  \n", "    ## 1) 背景\n", "analysis: contains Markdown headings"),
        ("    2)  \n", "    two)\n", "analysis: needs exactly the parts 1), 2), 3)"),
        ("- **研究背景**：", "- **研究背景：", "analysis: unbalanced `**`"),
        (FIRST, "全文解读失败：404 Not Found。" + FIRST, "contains error text or a placeholder"),
        ("pdf_url: https://arxiv.org/pdf/2601.19786v1", "pdf_url: https://evil.example/x.pdf",
         "pdf_url should be https://arxiv.org/pdf/2601.19786v1"),
    ],
)
def test_check_catches_each_rule_with_an_annotation(rendered_site, old, new, message):
    edit(rendered_site / RECORD, old, new)
    run(rendered_site, "render", "--force")
    result = run(rendered_site, "check", "--annotations")
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if message in line]
    assert lines, result.output
    assert lines[0].startswith(f"::error file={RECORD},line=")
    assert "[2601.19786]" in lines[0]


def test_check_names_a_stale_post_and_a_broken_record(rendered_site):
    (rendered_site / POST).write_text("stale\n")
    (rendered_site / "data/2026-01-28/2601.19781.yaml").write_text("title: [\n")
    out = run(rendered_site, "check", "--no-annotations").output
    assert "2601.19781.yaml:2: malformed YAML" in out or "2601.19781.yaml" in out
