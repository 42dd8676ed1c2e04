"""`digest check`: every quality rule caught, with an annotation; stale posts and broken records named."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.clikit import run_cli

RECORD = Path("data/2026-01-28/2601.19786.yaml")
POST = Path("_posts/2026-01-28-arxiv.md")
FIRST = "离散语音表征标记已成为语音生成的基础组件。"
_LINES = (Path(__file__).parents[1] / RECORD).read_text(encoding="utf-8").splitlines()
_START = next(i for i, line in enumerate(_LINES) if line.startswith("    " + FIRST))
# The whole translation: stored a sentence a line (records/sentences.py), up to its `model:`.
TRANSLATION = "\n".join(_LINES[_START:next(
    i for i in range(_START, len(_LINES)) if not _LINES[i].startswith("    "))])


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_check_passes_on_the_sample_day(rendered_site):
    result = run_cli(rendered_site, "check")
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
    run_cli(rendered_site, "render", "--force")
    result = run_cli(rendered_site, "check", "--annotations")
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if message in line]
    assert lines, result.output
    assert lines[0].startswith(f"::error file={RECORD},line=")
    assert "[2601.19786]" in lines[0]


def test_check_names_a_stale_post_and_a_broken_record(rendered_site):
    (rendered_site / POST).write_text("stale\n")
    (rendered_site / "data/2026-01-28/2601.19781.yaml").write_text("title: [\n")
    out = run_cli(rendered_site, "check", "--no-annotations").output
    assert "2601.19781.yaml:2: malformed YAML" in out or "2601.19781.yaml" in out


@pytest.mark.parametrize("env, flags, annotated", [
    ({"GITHUB_ACTIONS": "true"}, [], True),  # GitHub Actions: annotations by default
    ({"GITHUB_ACTIONS": "true"}, ["--no-annotations"], False),  # the flag wins
    ({"GITHUB_ACTIONS": None}, [], False),
    ({"GITHUB_ACTIONS": None}, ["--annotations"], True),
])
def test_annotations_follow_github_actions_unless_a_flag_says_otherwise(rendered_site, env,
                                                                        flags, annotated):
    edit(rendered_site / RECORD, "    2)  \n", "    two)\n")
    run_cli(rendered_site, "render", "--force")
    result = run_cli(rendered_site, "check", *flags, env=env)
    assert result.exit_code == 1
    assert result.output.startswith("::error file=") is annotated, result.output
