"""`digest sync`: an edit in the post or in the record ends up in both; both at once is
refused; blocks added to or taken out of the post join or leave the day."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from digest_cli.posts.importer import REMOVED
from digest_cli.records.store import load_day
from tests.clikit import one_error, run_cli
from tests.conftest import SAMPLE, SAMPLE_DAY, blocks, take_out

DAY = str(SAMPLE_DAY)
FOLDER = Path(f"data/{DAY}")
RECORD = Path("data/2026-01-28/2601.19786.yaml")
POST = Path("_posts/2026-01-28-arxiv.md")
REMOVED_ID = "2601.19781"  # the sample day's second paper
HAND_ADDED = """## A hand-added paper
- **Authors**: Jane Doe, John Roe
- **Categories**: cs.SD
- **arXiv**: [https://arxiv.org/abs/2601.20000v1](https://arxiv.org/abs/2601.20000v1)
- **PDF**: [https://arxiv.org/pdf/2601.20000v1](https://arxiv.org/pdf/2601.20000v1)

编辑手工添加的译文。

---
"""
FIRST = "离散语音表征标记已成为语音生成的基础组件。"
TRANSLATION = next(line for line in (SAMPLE / RECORD).read_text(
    encoding="utf-8").splitlines() if line.startswith("    " + FIRST))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_an_edit_in_the_record_reaches_the_post(rendered_site, settings_for):
    edit(rendered_site / RECORD, FIRST, "离散语音标记已是语音生成的基础。")
    result = run_cli(rendered_site, "sync", "--date", str(SAMPLE_DAY))
    assert result.exit_code == 0 and "rendered" in result.output
    assert "离散语音标记已是语音生成的基础。" in (rendered_site / POST).read_text()
    assert run_cli(rendered_site, "render", "--check").exit_code == 0


def test_an_edit_in_the_post_reaches_the_record_marked_as_human(rendered_site, settings_for):
    edit(rendered_site / POST, FIRST, "离散语音标记（DSRT）已是语音生成的基础。")
    result = run_cli(rendered_site, "sync", "--date", str(SAMPLE_DAY))
    assert result.exit_code == 0, result.output
    assert "imported" in result.output and "2601.19786: translation" in result.output
    day = load_day(settings_for(rendered_site), SAMPLE_DAY)
    paper = day.papers[0]
    assert paper.translation.text.startswith("离散语音标记（DSRT）已是语音生成的基础。")
    assert paper.translation.edited  # no later run may rewrite it
    assert all(not p.translation.edited for p in day.papers[1:])
    assert run_cli(rendered_site, "render", "--check").exit_code == 0
    # Syncing again changes nothing.
    before = (rendered_site / RECORD).read_bytes()
    assert "in sync" in run_cli(rendered_site, "sync").output
    assert (rendered_site / RECORD).read_bytes() == before


def test_edits_of_different_papers_on_both_sides_merge(rendered_site, settings_for):
    edit(rendered_site / RECORD, FIRST, "记录里的修改。")
    edit(rendered_site / POST, "近年来，利用离散化标记表示语音", "帖子里的修改：利用离散化标记表示语音")
    result = run_cli(rendered_site, "sync", "--date", str(SAMPLE_DAY))
    assert result.exit_code == 0, result.output
    post = (rendered_site / POST).read_text()
    assert "记录里的修改。" in post and "帖子里的修改：" in post
    papers = load_day(settings_for(rendered_site), SAMPLE_DAY).papers
    assert papers[1].translation.text.startswith("帖子里的修改：")


def test_the_same_paper_edited_on_both_sides_is_refused(rendered_site):
    edit(rendered_site / RECORD, FIRST, "记录版本。")
    edit(rendered_site / POST, FIRST, "帖子版本。")
    record, post = (rendered_site / RECORD).read_bytes(), (rendered_site / POST).read_bytes()
    result = run_cli(rendered_site, "sync", "--date", str(SAMPLE_DAY))
    assert result.exit_code == 1
    assert "[2601.19786] edited both in its record and in the post" in result.output
    assert "记录版本。" in result.output and "帖子版本。" in result.output
    assert (rendered_site / RECORD).read_bytes() == record
    assert (rendered_site / POST).read_bytes() == post


def test_the_refusal_is_an_annotation_naming_the_sentence_that_differs(rendered_site):
    # In Actions the refusal shows on the pull request at the post's line, with the one
    # sentence each side has (not two renderings of the whole paper).
    edit(rendered_site / RECORD, FIRST, "记录版本。")
    edit(rendered_site / POST, FIRST, "帖子版本。")
    result = run_cli(rendered_site, "sync", "--date", str(SAMPLE_DAY),
                     env={"GITHUB_ACTIONS": "true"})
    assert result.exit_code == 1
    [note] = [x for x in result.output.splitlines() if x.startswith("::error ")]
    lines = (rendered_site / POST).read_text(encoding="utf-8").splitlines()
    where = re.match(r"::error file=_posts/2026-01-28-arxiv\.md,line=(\d+)::", note)
    assert where and "帖子版本。" in lines[int(where.group(1)) - 1]
    assert "[2601.19786] edited both in its record and in the post; keep one: the post " \
           "has «帖子版本。" in note and "where the record has «记录版本。" in note
    assert "%0A" not in note and len(note) < 600  # one line, not two renderings


def test_render_does_not_overwrite_a_hand_edited_post(rendered_site):
    edit(rendered_site / POST, FIRST, "编辑在帖子里改的。")
    result = run_cli(rendered_site, "render", "--date", str(SAMPLE_DAY))
    assert result.exit_code == 1 and "digest sync" in result.output
    assert "编辑在帖子里改的。" in (rendered_site / POST).read_text()
    assert run_cli(rendered_site, "render", "--force").exit_code == 0
    assert "编辑在帖子里改的。" not in (rendered_site / POST).read_text()


# -- blocks added, taken out, emptied; the header ------------------------------------------

def test_a_paper_block_added_in_the_post_joins_the_day(rendered_site, settings_for):
    """It used to get a record that the manifest did not list: the re-render dropped it."""
    post = rendered_site / POST
    post.write_text(post.read_text("utf-8") + "\n" + HAND_ADDED, encoding="utf-8")
    result = run_cli(rendered_site, "sync", "--date", DAY)
    assert result.exit_code == 0, result.output
    assert "2601.20000: new" in result.output
    assert "编辑手工添加的译文。" in post.read_text("utf-8")
    day = load_day(settings_for(rendered_site), SAMPLE_DAY)
    assert day.manifest.papers[-1] == "2601.20000" and day.manifest.shown == 21
    assert run_cli(rendered_site, "render", "--check").exit_code == 0


def test_a_paper_block_taken_out_of_the_post_stays_out(rendered_site, settings_for):
    """It used to come back on the re-render, silently undoing the editor."""
    post = rendered_site / POST
    post.write_text(take_out(post.read_text("utf-8"), REMOVED_ID), encoding="utf-8")
    result = run_cli(rendered_site, "sync", "--date", DAY)
    assert result.exit_code == 0 and f"{REMOVED_ID}: removed" in result.output
    assert f"/abs/{REMOVED_ID}" not in post.read_text("utf-8")
    settings = settings_for(rendered_site)
    manifest = load_day(settings, SAMPLE_DAY).manifest
    assert REMOVED_ID not in manifest.papers and manifest.shown == 19
    assert [(x.id, x.reason) for x in manifest.left_out] == [(REMOVED_ID, REMOVED)]
    assert (rendered_site / FOLDER / f"{REMOVED_ID}.yaml").is_file()  # nothing deleted
    assert "in sync" in run_cli(rendered_site, "sync", "--date", DAY).output


def test_a_block_put_back_in_the_post_keeps_its_record(rendered_site, settings_for):
    post = rendered_site / POST
    full = post.read_text("utf-8")
    record = rendered_site / FOLDER / f"{REMOVED_ID}.yaml"
    record.write_text(record.read_text("utf-8").replace("abstract: |\n",
                      "abstract: |-\n  The English abstract, which no post shows.\n"), "utf-8")
    result = run_cli(rendered_site, "sync")
    assert result.exit_code == 0, result.output  # the record edit, rendered
    full = post.read_text("utf-8")
    post.write_text(take_out(full, REMOVED_ID), encoding="utf-8")
    assert run_cli(rendered_site, "sync").exit_code == 0
    post.write_text(full, encoding="utf-8")  # the editor changes their mind
    result = run_cli(rendered_site, "sync")
    assert result.exit_code == 0, result.output
    day = load_day(settings_for(rendered_site), SAMPLE_DAY)
    assert day.manifest.papers[1] == REMOVED_ID and day.manifest.left_out == []
    assert day.papers[1].abstract == "The English abstract, which no post shows."
    assert post.read_text("utf-8") == full


def test_a_block_taken_out_but_edited_in_its_record_is_a_conflict(rendered_site):
    record = rendered_site / FOLDER / f"{REMOVED_ID}.yaml"
    record.write_text(record.read_text("utf-8").replace("    近年来", "    记录里改的。近年来", 1),
                      encoding="utf-8")
    post = rendered_site / POST
    post.write_text(take_out(post.read_text("utf-8"), REMOVED_ID), encoding="utf-8")
    before = record.read_bytes(), post.read_bytes()
    line = one_error(run_cli(rendered_site, "sync", "--date", DAY))
    assert f"[{REMOVED_ID}] taken out of the post but edited in its record" in line
    assert (record.read_bytes(), post.read_bytes()) == before


def test_deleting_the_details_block_in_the_post_is_kept(rendered_site, settings_for):
    post = rendered_site / POST
    text = post.read_text("utf-8")
    block = next(b for b in blocks(text) if f"/abs/{REMOVED_ID}" in b)
    details = block[block.index("<details>"):block.index("</details>\n") + len("</details>\n")]
    post.write_text(text.replace(block, block.replace(details + "\n", "")), encoding="utf-8")
    result = run_cli(rendered_site, "sync", "--date", DAY)
    assert result.exit_code == 0 and f"{REMOVED_ID}: analysis" in result.output
    new_block = next(b for b in blocks(post.read_text("utf-8")) if f"/abs/{REMOVED_ID}" in b)
    assert "<details>" not in new_block
    analysis = load_day(settings_for(rendered_site), SAMPLE_DAY).papers[1].analysis
    assert analysis.text == "" and analysis.edited  # an editor's: never refilled
    assert run_cli(rendered_site, "check", "--date", DAY).exit_code == 0


def test_a_header_edit_in_the_post_is_refused_not_dropped(rendered_site):
    post = rendered_site / POST
    text = post.read_text("utf-8")
    edited = text.replace("- 抓取总数", "本期编辑：李雷\n- 抓取总数", 1)
    for changed in (edited, edited.replace("离散语音表征标记", "离散语音标记", 1)):
        post.write_text(changed, encoding="utf-8")
        line = one_error(run_cli(rendered_site, "sync", "--date", DAY))
        assert "front matter or header (before the first paper) was edited" in line
        assert post.read_text("utf-8") == changed
    post.write_text(text.rstrip("\n") + "\n\n\n", encoding="utf-8")  # blank lines: no edit
    assert run_cli(rendered_site, "sync", "--date", DAY).exit_code == 0


def test_a_post_saved_by_windows_tools_syncs(rendered_site, settings_for):
    post = rendered_site / POST
    text = post.read_text("utf-8").replace("离散语音表征标记", "离散语音标记", 1)
    post.write_bytes(("\ufeff" + text).replace("\n", "\r\n").encode("utf-8"))
    result = run_cli(rendered_site, "sync", "--date", DAY)
    assert result.exit_code == 0 and "2601.19786: translation" in result.output
    assert load_day(settings_for(rendered_site), SAMPLE_DAY).papers[0].translation.text \
        .startswith("离散语音标记")
    assert post.read_bytes() == text.encode("utf-8")


@pytest.mark.parametrize("command", ["sync", "render", "import"])
def test_a_post_not_in_utf8_is_one_line(rendered_site, command):
    post = rendered_site / POST
    post.write_bytes(post.read_text("utf-8").encode("gbk", errors="replace"))
    args = [command, str(post)] if command == "import" else [command, "--date", DAY]
    line = one_error(run_cli(rendered_site, *args))
    assert "not UTF-8" in line and str(POST) in line
