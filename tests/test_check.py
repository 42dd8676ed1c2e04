"""`digest check`: every quality rule caught, with an annotation; stale posts and broken records named."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.clikit import run_cli
from tests.conftest import SAMPLE

RECORD = Path("data/2026-01-28/2601.19786.yaml")
POST = Path("_posts/2026-01-28-arxiv.md")
FIRST = "离散语音表征标记已成为语音生成的基础组件。"
_LINES = (SAMPLE / RECORD).read_text(encoding="utf-8").splitlines()
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


def generated(path: Path, field: str = "analysis") -> None:
    """Mark the record's `field` as the tool's own text (the sample day's are imported)."""
    text = path.read_text(encoding="utf-8")
    at = text.index(f"\n{field}:")
    path.write_text(text[:at] + text[at:].replace("source: import", "source: full_text", 1),
                    encoding="utf-8")


def check_lines(site: Path, message: str) -> tuple[int, list[str]]:
    run_cli(site, "render", "--force")
    result = run_cli(site, "check", "--annotations")
    return result.exit_code, [line for line in result.output.splitlines() if message in line]


# Faults of any text: errors, imported or not.
@pytest.mark.parametrize(
    "old, new, message",
    [
        (TRANSLATION, "    Discrete speech tokens are the basis of speech generation.",
         "translation:"),
        ("    1)  \n", "    ## 1) 背景\n", "analysis: contains Markdown headings"),
        (FIRST, "全文解读失败：404 Not Found。" + FIRST, "contains error text or a placeholder"),
        (TRANSLATION, "    抱歉，我无法访问这篇论文的全文，因此无法完成翻译。", "translation: is a refusal"),
        (TRANSLATION, "    Error code: 429 - {'error': {'message': 'Rate limit reached'}}",
         "translation: is a refusal or an error message"),
        ("pdf_url: https://arxiv.org/pdf/2601.19786v1", "pdf_url: https://evil.example/x.pdf",
         "pdf_url should be https://arxiv.org/pdf/2601.19786v1"),
        ("  - cs.SD\n", "  - cs.XX\n", "not arXiv categories: ['cs.XX']"),
        ("translation:\n  text:", "Translation:\n  text:",
         "unknown key 'Translation': did you mean 'translation'?"),
    ],
)
def test_check_catches_each_rule_with_an_annotation(rendered_site, old, new, message):
    edit(rendered_site / RECORD, old, new)
    status, lines = check_lines(rendered_site, message)
    assert status == 1
    assert lines, message
    assert lines[0].startswith(f"::error file={RECORD},line=")
    assert "[2601.19786]" in lines[0]


# Layout rules: a note on the old blog's imported text, an error on the tool's own.
@pytest.mark.parametrize(
    "old, new, message",
    [
        ("    2)  \n", "    two)\n", "analysis: needs exactly the parts 1), 2), 3)"),
        ("- **研究背景**：", "- **研究背景：", "analysis: unbalanced `**`"),
        ("- **研究背景**：", "- **研究背景（≤200字）**：", "a heading copies the prompt's instruction "
                                                      "（≤200字）"),
        ("    2)  \n", "    2)  实验（不超过 80 个字）\n", "copies the prompt's instruction "
                                                  "（不超过 80 个字）"),
        ("衍生的DSRTs。", "衍生的DSRTs，输出 <Speech> 与 <PAUSE> 标记。",
         "raw token <PAUSE>, <Speech>: a page hides it"),
        ("衍生的DSRTs。", "衍生的DSRTs。<br>", "analysis: contains HTML tags"),
    ],
)
@pytest.mark.parametrize("source", ["import", "full_text"])
def test_layout_rules_are_notes_on_imported_text_errors_on_the_tools(rendered_site, old, new,
                                                                     message, source):
    edit(rendered_site / RECORD, old, new)
    if source == "full_text":
        generated(rendered_site / RECORD)
    status, lines = check_lines(rendered_site, message)
    assert lines, message
    kind = "warning" if source == "import" else "error"
    assert lines[0].startswith(f"::{kind} file={RECORD},line="), lines[0]
    assert status == (0 if source == "import" else 1)


HOLLOW = "    1)  \n    - 内容\n\n    2)  \n    - 内容\n\n    3)  \n    - 内容\n"


@pytest.mark.parametrize("source", ["import", "full_text"])
def test_a_hollow_analysis_is_an_error_imported_or_not(rendered_site, source):
    path = rendered_site / RECORD
    text = path.read_text(encoding="utf-8")
    start, end = text.index("    1)  \n"), text.index("\n  model:", text.index("analysis:"))
    path.write_text(text[:start] + HOLLOW.rstrip("\n") + text[end:], encoding="utf-8")
    if source == "full_text":
        generated(path)
    status, lines = check_lines(rendered_site, "holds a placeholder (内容)")
    assert status == 1 and len(lines) == 3
    assert all(line.startswith(f"::error file={RECORD}") for line in lines)


@pytest.mark.parametrize("old, new", [
    ("衍生的DSRTs。", "衍生的DSRTs，推理时模型先输出 `<think>` 段。"),  # a code span
    ("衍生的DSRTs。", "衍生的DSRTs，可处理 **kern 格式的乐谱。"),  # a format's name, not bold
    ("  - cs.SD\n", "  - cs.SD\n  - I.2.7\n  - H.5.5\n  - 68T10\n"),  # ACM and MSC classes
    ("    1)  \n", "    1. **研究背景与既有方法的问题**\n"),  # the old blog's numbering ...
    ("    2)  \n", "    2.\n"),  # ... and a bare number
])
def test_what_the_old_blog_wrote_is_no_error(rendered_site, old, new):
    edit(rendered_site / RECORD, old, new)
    run_cli(rendered_site, "render", "--force")
    result = run_cli(rendered_site, "check", "--annotations")
    assert result.exit_code == 0, result.output
    assert "::error" not in result.output


def test_an_editors_own_key_is_a_note(rendered_site):
    edit(rendered_site / RECORD, "reviewed: false\n", "reviewed: false\nnote: 术语待复核\n")
    status, lines = check_lines(rendered_site, "unknown key 'note': kept, but not read")
    assert status == 0 and lines[0].startswith(f"::warning file={RECORD},line=22")


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
    edit(rendered_site / RECORD, "    2)  \n", "    ## 2) 方法\n")
    run_cli(rendered_site, "render", "--force")
    result = run_cli(rendered_site, "check", *flags, env=env)
    assert result.exit_code == 1
    assert result.output.startswith("::error file=") is annotated, result.output


# -- the old blog's posts, imported: what check says of a migrated site -------------------

def test_check_on_the_old_blog_corpus_flags_every_fault_and_few_clean_papers(site, tmp_path):
    """Issue 20: on the old blog's 140 posts 34 % of clean papers got an error (its part
    numbering, `<think>` in code, ACM classes, `**kern`), while copied prompt notes, raw
    tokens and refusals passed."""
    from tests.fixtures.oldblog.corpus import write_corpus

    labels = write_corpus(tmp_path / "oldblog")
    posts = sorted(str(p) for p in (tmp_path / "oldblog").glob("*.md"))
    assert run_cli(site, "import", *posts).exit_code == 0  # every variant imports
    assert run_cli(site, "render", "--all").exit_code == 0
    result = run_cli(site, "check", "--all", "--no-annotations")
    assert result.exit_code == 1  # the error texts and the LLM's headings fail the check
    flagged: dict[str, list[str]] = {}
    for line in result.output.splitlines():
        if match := re.search(r"\[([\d.]+)\] (.*)", line):
            flagged.setdefault(match.group(1), []).append(line)

    def share(label: str, found) -> float:
        ids = [pid for pid, kind in labels.items() if kind == label]
        assert len(ids) >= 15, label  # enough of each to measure
        return sum(any(found(line) for line in flagged.get(pid, [])) for pid in ids) / len(ids)

    def error(line: str) -> bool:
        return ": warning: " not in line

    assert share("error", error) == 1.0 and share("headings", error) == 1.0
    assert share("clean", error) <= 0.02
    assert share("instruction", lambda line: "copies the prompt's instruction （≤" in line) == 1
    assert share("token", lambda line: "raw token <" in line) == 1
    assert share("instruction", error) <= 0.02 and share("token", error) <= 0.02  # notes


def test_check_says_of_each_old_blog_variant_what_it_is(site, tmp_path):
    """One paper per variant (tests/fixtures/oldblog/variants): the clean ones pass with at
    most notes; the copied limit and raw tokens are notes that name them; the refusal, the
    API error, the old error text and the LLM's headings are errors."""
    from tests.fixtures.oldblog.corpus import write_variants

    variants = write_variants(tmp_path)
    assert run_cli(site, "import", str(tmp_path / "2025-10-20-arxiv.md")).exit_code == 0
    assert run_cli(site, "render", "--all").exit_code == 0
    output = run_cli(site, "check", "--all", "--no-annotations").output
    for pid, (variant, label) in variants.items():
        lines = [line for line in output.splitlines() if f"[{pid}]" in line]
        errors = [line for line in lines if ": warning: " not in line]
        assert bool(errors) == (label in ("error", "headings")), (variant, lines)
        if label == "instruction":
            assert any("copies the prompt's instruction （≤200字）" in x for x in lines)
        if label == "token":
            assert any("raw token <PAUSE>, <Speech>" in x for x in lines), (variant, lines)


@pytest.mark.parametrize("name, known", [
    ("cs.SD", True), ("eess.AS", True), ("math.OC", True), ("cond-mat.mes-hall", True),
    ("hep-th", True), ("chao-dyn", True), ("physics.optics", True), ("q-bio.NC", True),
    ("I.2.7", True), ("H.5.5", True), ("F.2.m", True), ("I.2", True),  # ACM classes
    ("68T10", True), ("68Txx", True), ("68-04", True), ("94A12", True),  # MSC classes
    ("cs.XX", False), ("cs.sd", False), ("speech", False), ("I.2.777", False), ("L.1", False),
    ("68T1", False), ("cs.SD; cs.CL", False),
])
def test_categories_are_arxivs_or_the_acm_and_msc_classes_it_lists(name, known):
    from digest_cli.posts.check import is_category

    assert is_category(name) == known
