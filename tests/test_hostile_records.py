"""Hostile records: a small file that would hang, exhaust or escape a run (issue 20.3).

Each case is run as `digest` in a child process with a memory cap and a timeout, so
without the fix the test fails (a timeout, a crash) instead of hanging the suite or the
machine. Each must end in one `Error` line naming the file.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from digest_cli.settings import load_settings
from tests.clikit import one_error, run_cli
from tests.hostile_kit import DAY, FIRST, FOLDER, POST, SECOND, D, edit, snapshot

HANG = 60  # seconds: far beyond a refusal (well under one), short of a stuck suite


def bounded_run(root: Path, *args: str) -> subprocess.CompletedProcess:
    """`digest --root ROOT ARGS` in a child with 1 GiB of memory, killed after HANG s."""
    def cap_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    try:
        return subprocess.run([sys.executable, "-m", "digest_cli", "--root", str(root), *args],
                              capture_output=True, text=True, timeout=HANG,
                              preexec_fn=cap_memory, env={**os.environ, "NO_COLOR": "1"})
    except subprocess.TimeoutExpired:
        pytest.fail(f"digest {' '.join(args)} still running after {HANG} s")


def refused(result: subprocess.CompletedProcess, name: str) -> str:
    """The one line of a failed run that names the file `name`: its `Error` line, or
    `check`'s one problem."""
    lines = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    lines = lines or result.stdout.splitlines()
    assert result.returncode == 1 and len(lines) == 1, (result.stdout + result.stderr)[-2000:]
    assert "Traceback" not in result.stderr and name in lines[0], lines[0]
    assert len(lines[0]) < 400  # the value is shortened, not printed whole
    return lines[0]


def alias_bomb(field: str) -> str:
    """Nine levels of ten aliases: 10^9 strings from a few hundred bytes, padded to 5 KB
    (the issue's record)."""
    lines = ["bomb0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, 9):
        lines.append(f"bomb{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 10) + "]")
    lines.append(f"{field}: *a8")
    lines.append("# " + "padding " * 560)
    return "\n".join(lines) + "\n"


def record(root: Path, pid: str = FIRST) -> Path:
    return root / "data" / DAY / f"{pid}.yaml"


def replace_field(path: Path, field: str, value: str) -> None:
    """`field:` and its block (if any) replaced by `field: VALUE` at the top level."""
    kept, skipping = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith(f"{field}:"):
            kept.append(f"{field}: {value}")
            skipping = True
        elif skipping and (line.startswith((" ", "-")) or not line):
            continue
        else:
            skipping = False
            kept.append(line)
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")


COMMANDS = [["check", "--date", DAY, "--no-annotations"], ["render", "--date", DAY, "--force"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_an_alias_bomb_in_a_known_field_is_refused(rendered_site, command):
    path = record(rendered_site)
    text = path.read_text(encoding="utf-8")
    path.write_text(alias_bomb("authors") + "\n".join(
        line for line in text.splitlines() if not line.startswith(("authors:", "    - "))
    ) + "\n", encoding="utf-8")
    assert 4_500 < path.stat().st_size < 12_000
    line = refused(bounded_run(rendered_site, *command), path.name)
    assert "aliases" in line


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_nesting_20000_deep_in_a_known_field_is_refused(rendered_site, command):
    path = record(rendered_site)
    replace_field(path, "title", "[" * 20_000 + "x" + "]" * 20_000)
    line = refused(bounded_run(rendered_site, *command), path.name)
    assert "nested deeper" in line


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_record_symlinked_to_dev_zero_is_refused(rendered_site, command):
    path = record(rendered_site)
    path.unlink()
    path.symlink_to("/dev/zero")
    line = refused(bounded_run(rendered_site, *command), path.name)
    assert "symbolic link" in line


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_a_record_that_is_a_fifo_is_refused(rendered_site, command):
    path = record(rendered_site)
    path.unlink()
    os.mkfifo(path)
    line = refused(bounded_run(rendered_site, *command), path.name)
    assert "not a regular file" in line


@pytest.mark.parametrize("name", [f"{FIRST}.yaml", "manifest.yaml"])
def test_a_record_or_manifest_symlinked_outside_the_repository_is_refused(
        rendered_site, tmp_path_factory, name):
    """The outside file is a valid record: it must not be read, rendered or published."""
    path = rendered_site / "data" / DAY / name
    outside = tmp_path_factory.mktemp("outside") / name
    outside.write_text(path.read_text(encoding="utf-8").replace(
        "title:", "title: OUTSIDE", 1), encoding="utf-8")
    path.unlink()
    path.symlink_to(outside)
    post = rendered_site / "_posts" / f"{DAY}-arxiv.md"
    before = post.read_bytes()
    for command in COMMANDS:
        line = refused(bounded_run(rendered_site, *command), name)
        assert "symbolic link" in line
    assert post.read_bytes() == before and b"OUTSIDE" not in post.read_bytes()


def test_a_record_past_the_size_cap_is_refused_unread(rendered_site):
    from digest_cli.records.yamlio import MAX_FILE_BYTES

    path = record(rendered_site)
    with path.open("a", encoding="utf-8") as stream:
        stream.write("# " + "x" * MAX_FILE_BYTES + "\n")
    line = refused(bounded_run(rendered_site, *COMMANDS[0]), path.name)
    assert "more than the" in line


def test_a_huge_wrong_value_is_shortened_in_the_error(rendered_site):
    """A field of the wrong kind is shown in a few dozen characters, not whole."""
    path = record(rendered_site)
    replace_field(path, "authors", "{" + ", ".join(f"k{n}: {'v' * 50}" for n in range(5000))
                  + "}")
    line = refused(bounded_run(rendered_site, *COMMANDS[0]), path.name)
    assert "'authors'" in line and "..." in line


def test_unknown_record_keys_are_exposed_not_dropped(rendered_site):
    """A misspelt `Translation:` is read as an unknown key, which `check` reports."""
    from digest_cli.posts.check import check_days
    from digest_cli.records.reading import load_record, read_keys

    path = record(rendered_site)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("\ntranslation:", "\nTranslation:", 1), encoding="utf-8")
    load_record(path)
    assert "Translation" in read_keys(path) and "translation" not in read_keys(path)
    problems = check_days(load_settings(rendered_site, environ={}))
    assert [p.message for p in problems if p.path == path and "Translation" in p.message] == [
        "unknown key 'Translation': did you mean 'translation'? (as it is, translation "
        "reads as missing)"]


# -- identity: a record cannot overwrite another (issue 11) --------------------------------

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


def test_a_post_whose_window_names_no_real_date_is_refused_in_one_line(sample_site, tmp_path):
    post = (sample_site / "_posts" / f"{D}-arxiv.md").read_text(encoding="utf-8")
    bad = tmp_path / f"{D}-arxiv.md"
    bad.write_text(re.sub(r"(时间窗口[^：]*：)\d{4}-\d\d-\d\d", r"\g<1>2026-02-30", post, count=1),
                   encoding="utf-8")
    assert "2026-02-30" in bad.read_text(encoding="utf-8")
    assert "names no real time" in one_error(run_cli(sample_site, "import", str(bad)))
