"""Review of the core (records, render, import, sync, check, preview, settings): each test
pins a bug found by trying the commands the way an editor would."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from digest_cli.cli import cli
from digest_cli.posts.importer import REMOVED, import_post
from digest_cli.records.store import load_day, write_day
from digest_cli.records.writer import Writer
from tests.conftest import SAMPLE_DAY, make_day, make_paper

DAY = str(SAMPLE_DAY)
POST = Path(f"_posts/{DAY}-arxiv.md")
FOLDER = Path(f"data/{DAY}")
REMOVED_ID = "2601.19781"  # the sample day's second paper
HAND_ADDED = """## A hand-added paper
- **Authors**: Jane Doe, John Roe
- **Categories**: cs.SD
- **arXiv**: [https://arxiv.org/abs/2601.20000v1](https://arxiv.org/abs/2601.20000v1)
- **PDF**: [https://arxiv.org/pdf/2601.20000v1](https://arxiv.org/pdf/2601.20000v1)

编辑手工添加的译文。

---
"""


def run(root: Path, *args: str):
    return CliRunner().invoke(cli, ["--root", str(root), *args], catch_exceptions=False)


@pytest.fixture
def rendered_site(sample_site):
    assert run(sample_site, "render", "--all").exit_code == 0  # records the rendered state
    return sample_site


def blocks(post: str) -> list[str]:
    """The post's paper blocks, each from its heading to its `---` line."""
    return re.findall(r"^## [^\n]*\n(?:\{: #arxiv-[^\n]*\n)?- \*\*Authors.*?\n---\n", post,
                      flags=re.M | re.S)


def take_out(post: str, pid: str) -> str:
    block = next(b for b in blocks(post) if f"/abs/{pid}" in b)
    return post.replace(block + "\n", "", 1)


def one_error(result) -> str:
    lines = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert result.exit_code == 1 and len(lines) == 1, result.output
    assert "Traceback" not in result.output
    return lines[0]


# -- sync: blocks added, taken out, emptied; the header --------------------------------

def test_a_paper_block_added_in_the_post_joins_the_day(rendered_site, settings_for):
    """It used to get a record that the manifest did not list: the re-render dropped it."""
    post = rendered_site / POST
    post.write_text(post.read_text("utf-8") + "\n" + HAND_ADDED, encoding="utf-8")
    result = run(rendered_site, "sync", "--date", DAY)
    assert result.exit_code == 0, result.output
    assert "2601.20000: new" in result.output
    assert "编辑手工添加的译文。" in post.read_text("utf-8")
    day = load_day(settings_for(rendered_site), SAMPLE_DAY)
    assert day.manifest.papers[-1] == "2601.20000" and day.manifest.shown == 21
    assert run(rendered_site, "render", "--check").exit_code == 0


def test_a_paper_block_taken_out_of_the_post_stays_out(rendered_site, settings_for):
    """It used to come back on the re-render, silently undoing the editor."""
    post = rendered_site / POST
    post.write_text(take_out(post.read_text("utf-8"), REMOVED_ID), encoding="utf-8")
    result = run(rendered_site, "sync", "--date", DAY)
    assert result.exit_code == 0 and f"{REMOVED_ID}: removed" in result.output
    assert f"/abs/{REMOVED_ID}" not in post.read_text("utf-8")
    settings = settings_for(rendered_site)
    manifest = load_day(settings, SAMPLE_DAY).manifest
    assert REMOVED_ID not in manifest.papers and manifest.shown == 19
    assert [(x.id, x.reason) for x in manifest.left_out] == [(REMOVED_ID, REMOVED)]
    assert (rendered_site / FOLDER / f"{REMOVED_ID}.yaml").is_file()  # nothing deleted
    assert "in sync" in run(rendered_site, "sync", "--date", DAY).output


def test_a_block_put_back_in_the_post_keeps_its_record(rendered_site, settings_for):
    post = rendered_site / POST
    full = post.read_text("utf-8")
    record = rendered_site / FOLDER / f"{REMOVED_ID}.yaml"
    record.write_text(record.read_text("utf-8").replace("abstract: |\n",
                      "abstract: |-\n  The English abstract, which no post shows.\n"), "utf-8")
    result = run(rendered_site, "sync")
    assert result.exit_code == 0, result.output  # the record edit, rendered
    full = post.read_text("utf-8")
    post.write_text(take_out(full, REMOVED_ID), encoding="utf-8")
    assert run(rendered_site, "sync").exit_code == 0
    post.write_text(full, encoding="utf-8")  # the editor changes their mind
    result = run(rendered_site, "sync")
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
    line = one_error(run(rendered_site, "sync", "--date", DAY))
    assert f"[{REMOVED_ID}] taken out of the post but edited in its record" in line
    assert (record.read_bytes(), post.read_bytes()) == before


def test_deleting_the_details_block_in_the_post_is_kept(rendered_site, settings_for):
    post = rendered_site / POST
    text = post.read_text("utf-8")
    block = next(b for b in blocks(text) if f"/abs/{REMOVED_ID}" in b)
    details = block[block.index("<details>"):block.index("</details>\n") + len("</details>\n")]
    post.write_text(text.replace(block, block.replace(details + "\n", "")), encoding="utf-8")
    result = run(rendered_site, "sync", "--date", DAY)
    assert result.exit_code == 0 and f"{REMOVED_ID}: analysis" in result.output
    new_block = next(b for b in blocks(post.read_text("utf-8")) if f"/abs/{REMOVED_ID}" in b)
    assert "<details>" not in new_block
    analysis = load_day(settings_for(rendered_site), SAMPLE_DAY).papers[1].analysis
    assert analysis.text == "" and analysis.edited  # an editor's: never refilled
    assert run(rendered_site, "check", "--date", DAY).exit_code == 0


def test_a_header_edit_in_the_post_is_refused_not_dropped(rendered_site):
    post = rendered_site / POST
    text = post.read_text("utf-8")
    edited = text.replace("- 抓取总数", "本期编辑：李雷\n- 抓取总数", 1)
    for changed in (edited, edited.replace("离散语音表征标记", "离散语音标记", 1)):
        post.write_text(changed, encoding="utf-8")
        line = one_error(run(rendered_site, "sync", "--date", DAY))
        assert "front matter or header (before the first paper) was edited" in line
        assert post.read_text("utf-8") == changed
    post.write_text(text.rstrip("\n") + "\n\n\n", encoding="utf-8")  # blank lines: no edit
    assert run(rendered_site, "sync", "--date", DAY).exit_code == 0


def test_a_post_saved_by_windows_tools_syncs(rendered_site, settings_for):
    post = rendered_site / POST
    text = post.read_text("utf-8").replace("离散语音表征标记", "离散语音标记", 1)
    post.write_bytes(("\ufeff" + text).replace("\n", "\r\n").encode("utf-8"))
    result = run(rendered_site, "sync", "--date", DAY)
    assert result.exit_code == 0 and "2601.19786: translation" in result.output
    assert load_day(settings_for(rendered_site), SAMPLE_DAY).papers[0].translation.text \
        .startswith("离散语音标记")
    assert post.read_bytes() == text.encode("utf-8")


@pytest.mark.parametrize("command", ["sync", "render", "import"])
def test_a_post_not_in_utf8_is_one_line(rendered_site, command):
    post = rendered_site / POST
    post.write_bytes(post.read_text("utf-8").encode("gbk", errors="replace"))
    args = [command, str(post)] if command == "import" else [command, "--date", DAY]
    line = one_error(run(rendered_site, *args))
    assert "not UTF-8" in line and str(POST) in line


# -- import -------------------------------------------------------------------------------

def write_post(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_two_posts_for_one_day_are_refused_before_writing(rendered_site, tmp_path):
    text = (rendered_site / POST).read_text("utf-8")
    head, parts = text[:text.index("## ")], blocks(text)
    first = write_post(tmp_path, f"{DAY}-a.md", head + "\n".join(parts[:10]))
    second = write_post(tmp_path, f"{DAY}-b.md", head + "\n".join(parts[10:]))
    before = sorted((p.name, p.read_bytes()) for p in (rendered_site / FOLDER).iterdir())
    line = one_error(run(rendered_site, "import", str(first), str(second)))
    assert f"a second post for {DAY}" in line and f"{DAY}-a.md" in line
    assert sorted((p.name, p.read_bytes()) for p in (rendered_site / FOLDER).iterdir()) == before


def test_a_paper_shown_twice_in_a_post_is_refused(site, tmp_path):
    text = (Path(__file__).parents[1] / POST).read_text("utf-8")
    first = blocks(text)[0]
    post = write_post(tmp_path, f"{DAY}-arxiv.md", text + "\n" + first)
    line = one_error(run(site, "import", str(post)))
    assert "paper 2601.19786 is shown twice (also at line" in line
    assert not (site / FOLDER).exists()


def test_reimporting_a_post_without_a_paper_leaves_it_out(sample_site, settings_for):
    settings = settings_for(sample_site)
    post = sample_site / POST
    post.write_text(take_out((Path(__file__).parents[1] / POST).read_text("utf-8"), REMOVED_ID),
                    encoding="utf-8")
    day, _ = import_post(post, settings, load_day(settings, SAMPLE_DAY))
    write_day(settings, day, Writer())
    manifest = load_day(settings, SAMPLE_DAY).manifest
    assert REMOVED_ID not in manifest.papers
    assert [x.id for x in manifest.left_out] == [REMOVED_ID]  # a fetch will not put it back


def test_import_names_papers_that_another_day_holds(sample_site, tmp_path, caplog):
    text = (Path(__file__).parents[1] / POST).read_text("utf-8")
    post = write_post(tmp_path, "2026-01-29-arxiv.md", text)
    with caplog.at_level(logging.WARNING, logger="digest_cli.posts.importer"):
        assert run(sample_site, "import", str(post)).exit_code == 0
    assert "20 papers are also in the records of 2026-01-28" in caplog.text


# -- records ------------------------------------------------------------------------------

@pytest.mark.parametrize("old, new, message", [
    ("  - '2601.19781'\n", "  - 2601.19781\n", "which YAML reads as a number: quote the id"),
    ("  - '2601.19781'\n", "  - '2601.1978x'\n", "not an arXiv id: '2601.1978x'"),
])
def test_a_bad_id_in_the_manifest_is_one_line(sample_site, old, new, message):
    manifest = sample_site / FOLDER / "manifest.yaml"
    manifest.write_text(manifest.read_text("utf-8").replace(old, new, 1), encoding="utf-8")
    for command in (["render", "--date", DAY], ["check"], ["preview", "--date", DAY]):
        result = run(sample_site, *command)
        text = one_error(result) if command[0] != "check" else result.output
        assert result.exit_code == 1 and message in text and "manifest.yaml" in text


def test_an_unquoted_id_in_a_record_is_refused_not_shortened(sample_site):
    """`id: 2601.10100` reads as the number 2601.101: never a guess at the id."""
    record = sample_site / FOLDER / "2601.19786.yaml"
    record.write_text(record.read_text("utf-8").replace("id: '2601.19786'", "id: 2601.19786"),
                      encoding="utf-8")
    line = one_error(run(sample_site, "render", "--date", DAY))
    assert "field 'id' holds 2601.19786, which YAML reads as a number" in line


def test_a_deleted_record_is_named_with_its_manifest(sample_site):
    (sample_site / FOLDER / f"{REMOVED_ID}.yaml").unlink()
    line = one_error(run(sample_site, "render", "--date", DAY))
    assert f"{REMOVED_ID}.yaml: file not found, but manifest.yaml lists {REMOVED_ID}" in line


def test_an_editors_own_field_survives_a_rewrite(rendered_site):
    record = rendered_site / FOLDER / "2601.19786.yaml"
    record.write_text(record.read_text("utf-8").replace(
        "reviewed: false\n", "reviewed: false\nnote: 术语待复核  # 李雷\n"), encoding="utf-8")
    post = rendered_site / POST
    post.write_text(post.read_text("utf-8").replace("离散语音表征标记", "离散语音标记", 1),
                    encoding="utf-8")
    result = run(rendered_site, "sync", "--date", DAY)
    assert result.exit_code == 0 and "2601.19786: translation" in result.output
    text = record.read_text("utf-8")
    assert "note: 术语待复核  # 李雷\n" in text and "    离散语音标记" in text


@pytest.mark.parametrize("value", ["'2026-01-27T08:50:00'", "2026-01-27 08:50:00"])
def test_a_time_without_utc_offset_is_refused(sample_site, value):
    """Read as the machine's local time, the header would differ from one machine to the
    next."""
    manifest = sample_site / FOLDER / "manifest.yaml"
    manifest.write_text(manifest.read_text("utf-8").replace(
        "'2026-01-27T08:50:00+08:00'", value), encoding="utf-8")
    line = one_error(run(sample_site, "render", "--date", DAY))
    assert "field 'start' has no UTC offset" in line


# -- settings, glossary, preview, check ---------------------------------------------------

@pytest.mark.parametrize("env, message", [
    ({"DIGEST_TITLE": "arXiv {day}"}, "setting 'title'"),
    ({"DIGEST_TITLE": "arXiv {date"}, "setting 'title'"),
    ({"DIGEST_POST_FILENAME": "{}-arxiv.md"}, "setting 'post_filename'"),
    ({"DIGEST_TIMEZONE": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
])
def test_bad_templates_and_time_zones_are_one_line(sample_site, env, message):
    result = CliRunner(env=env).invoke(cli, ["--root", str(sample_site), "render"],
                                       catch_exceptions=False)
    line = one_error(result)
    assert line.startswith("Error (settings): ") and message in line


def test_glossary_suggest_outside_a_git_repository_is_one_line(sample_site):
    line = one_error(run(sample_site, "glossary", "suggest"))
    assert "not a git repository" in line


def test_glossary_suggest_in_a_repository_without_commits_is_one_line(sample_site):
    import git

    git.Repo.init(sample_site)
    line = one_error(run(sample_site, "glossary", "suggest"))
    assert "no commits yet" in line


def test_the_preview_server_ignores_a_record_that_vanished(sample_site, settings_for):
    from digest_cli.posts.preview import PreviewServer

    server = PreviewServer(settings_for(sample_site), SAMPLE_DAY, port=0)
    try:
        (sample_site / FOLDER / "editor-swap.yaml").symlink_to(sample_site / "gone.yaml")
        assert server.check() is False  # no crash of the watcher thread
    finally:
        server.httpd.server_close()


def test_check_all_reads_the_parse_cache_once(sample_site, settings_for, monkeypatch):
    """It used to load and save the whole cache once per day: quadratic in the days."""
    from digest_cli.posts import check
    from digest_cli.records import store

    settings = settings_for(sample_site)
    later = make_day([make_paper(1, id="2601.30001")], day=SAMPLE_DAY.replace(day=29))
    write_day(settings, later, Writer())
    made = []
    real = store.parse_cache
    monkeypatch.setattr(store, "parse_cache", lambda s: made.append(1) or real(s))
    problems = check.check_days(settings)
    assert len(made) == 1
    assert [(p.path.name, p.message[:12]) for p in problems] == [
        ("2026-01-29-arxiv.md", "post missing")]


def test_the_settings_command_says_what_it_prints(site):
    result = run(site, "settings", "--help")
    assert "docs/settings.md" in result.output


def test_preview_serve_on_a_taken_port_is_one_line(sample_site):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = one_error(run(sample_site, "preview", "--date", DAY, "--serve",
                             "--port", str(port)))
    assert line.startswith("Error (preview): ") and f"127.0.0.1:{port}" in line
