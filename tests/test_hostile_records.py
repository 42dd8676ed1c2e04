"""Hostile records: a small file that would hang, exhaust or escape a run (issue 20.3).

Each case is run as `digest` in a child process with a memory cap and a timeout, so
without the fix the test fails (a timeout, a crash) instead of hanging the suite or the
machine. Each must end in one `Error` line naming the file.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_DAY

DAY = str(SAMPLE_DAY)
FIRST = "2601.19786"  # the sample day's first paper
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
    """A misspelt `Translation:` is read as an unknown key, which `check` can report."""
    from digest_cli.records.store import unknown_keys

    path = record(rendered_site)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("\ntranslation:", "\nTranslation:", 1), encoding="utf-8")
    assert unknown_keys(path) == ["Translation"]
    assert unknown_keys(record(rendered_site, "2601.19781")) == []
    assert unknown_keys(rendered_site / "data" / DAY / "manifest.yaml") == []
