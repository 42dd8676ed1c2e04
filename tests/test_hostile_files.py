"""Hostile files and runs: nothing written outside the repository, through a symlinked
folder or over another process's file; one run per repository.

Each test failed before its fix (issues 11 and 20)."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clikit import one_error, run_cli
from tests.conftest import REPO, SAMPLE
from tests.hostile_kit import PID, POST, D, set_field


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


def test_check_outside_a_site_says_so(tmp_path):
    line = one_error(run_cli(tmp_path, "check"))
    assert "is not a digest site" in line


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
