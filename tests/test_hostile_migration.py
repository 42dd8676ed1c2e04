"""Hostile migration: the old blog's posts and a migrated site's check (an import must
keep every word; check must not cry wolf on old text nor miss real faults).

Each test failed before its fix (issues 11 and 20)."""

from __future__ import annotations

import re

from tests.clikit import run_cli
from tests.gitkit import git
from tests.hostile_kit import CLASSIC, DAY, FIRST, FOLDER, POST, SECOND, edit
from tests.test_workflows import pr_checkout as _pr_checkout
from tests.test_workflows import run_step

pr_checkout = _pr_checkout  # the sync workflow's test repository (a fixture)

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


# -- 10. `digest check` fits a migrated site -----------------------------------------------

def test_check_on_the_old_blog_corpus_flags_errors_and_headings_not_clean_papers(site,
                                                                                tmp_path):

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
    from tests.gitkit import IDENTITY

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
