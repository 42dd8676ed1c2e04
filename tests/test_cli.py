"""The CLI: one-line errors with exit status 1, nothing written on failure, truthful help."""

from __future__ import annotations

import subprocess
import sys

import pytest

from digest_cli import __version__
from digest_cli.cli import cli
from tests.clikit import run_cli
from tests.conftest import REPO, SAMPLE_DAY


def test_version_and_help():
    assert run_cli(REPO, "--version").output.strip() == f"digest, version {__version__}"
    out = run_cli(REPO, "--help").output
    for command in ("import", "render", "preview"):
        assert command in out


def test_help_does_not_import_heavy_libraries():
    code = ("import sys; from digest_cli.cli import main; sys.argv=['digest','--help'];\n"
            "try: main()\nexcept SystemExit: pass\n"
            "heavy={'openai','git','lxml','pypdf','ruamel','mistune','httpx2','rich'}\n"
            "print(sorted(m for m in heavy if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_import_then_render_gives_the_seed_back(seed_post, site):
    """With `post_format = "classic"` (docs/site.md), the old blog's format exactly."""
    (site / "pyproject.toml").write_text('[tool.digest]\npost_format = "classic"\n')
    assert run_cli(site, "import", str(seed_post)).exit_code == 0
    result = run_cli(site, "render", "--date", "2026-01-28")
    assert result.exit_code == 0, result.output
    assert (site / "_posts/2026-01-28-arxiv.md").read_bytes() == seed_post.read_bytes()
    assert run_cli(site, "render", "--check").exit_code == 0


def test_render_check_exits_1_naming_the_post(sample_site):
    post = sample_site / "_posts" / f"{SAMPLE_DAY}-arxiv.md"
    post.write_text(post.read_text().replace("离散语音", "离散 语音", 1))
    result = run_cli(sample_site, "render", "--check")
    assert result.exit_code == 1
    assert f"{post.relative_to(sample_site)}: differs from its records" in result.output.replace(
        str(sample_site) + "/", "")


def test_render_all_is_idempotent(sample_site):
    first = run_cli(sample_site, "render", "--all")
    assert first.exit_code == 0 and "1 posts rendered, 0 changed" in first.output


@pytest.mark.parametrize(
    "break_it, expected",
    [
        (lambda d: (d / "2601.19786.yaml").write_text("title: [oops\n"), "malformed YAML"),
        (lambda d: (d / "2601.19786.yaml").write_text(
            (d / "2601.19786.yaml").read_text().replace("title: Rethinking", "titel: R")),
         "field 'title' is missing"),
        (lambda d: (d / "2601.19786.yaml").write_text(
            (d / "2601.19786.yaml").read_text().replace("version: 1", "version: one")),
         "field 'version' should be int"),
        (lambda d: (d / "2601.19786.yaml").unlink(), "file not found"),
        (lambda d: (d / "manifest.yaml").write_text("date: 2026-13-01\n"), "month must be in 1..12"),
    ],
)
def test_bad_records_give_one_line_and_exit_1_and_write_nothing(sample_site, break_it, expected):
    post = sample_site / "_posts" / f"{SAMPLE_DAY}-arxiv.md"
    before = post.read_bytes()
    post.write_text("stale")  # a render would change it, if it got that far
    break_it(sample_site / "data" / str(SAMPLE_DAY))
    result = run_cli(sample_site, "render", "--date", str(SAMPLE_DAY))
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error (records): ")
    assert expected in lines[0] and "data/2026-01-28/" in lines[0]
    assert "Traceback" not in result.output
    assert post.read_text() == "stale" and before


def test_unknown_day_is_a_one_line_error(site):
    result = run_cli(site, "render", "--date", "2030-01-01")
    assert result.exit_code == 1
    assert "no records for 2030-01-01" in result.output


def test_a_bad_date_is_a_usage_error(site):
    result = run_cli(site, "render", "--date", "28/01/2026")
    assert result.exit_code == 2 and "28/01/2026" in result.output


def test_import_of_an_unparseable_post_writes_nothing(site, tmp_path):
    good = tmp_path / "2026-01-27-arxiv.md"
    good.write_text("---\nlayout: post\n---\n\n- 时间窗口（锚点 08:50 CST）：2026-01-26 08:50 — "
                    "2026-01-27 08:50\n")
    bad = tmp_path / "2026-01-28-arxiv.md"
    bad.write_text("no front matter\n")
    result = run_cli(site, "import", str(good), str(bad))
    assert result.exit_code == 1
    assert f"{bad}:1: no front matter" in result.output
    assert list((site / "data").iterdir()) == []


def test_settings_command_masks_secrets(site, monkeypatch):
    monkeypatch.setenv("DIGEST_LLM_API_KEY", "sk-secret-value")
    out = run_cli(site, "settings").output
    assert "llm_api_key = '***'" in out and "sk-secret-value" not in out


def test_render_all_renders_the_other_days_when_one_fails(sample_site, settings_for):
    from digest_cli.records.store import write_day
    from digest_cli.records.writer import Writer
    from tests.conftest import make_day, make_paper

    other = SAMPLE_DAY.replace(day=29)
    write_day(settings_for(sample_site), make_day([make_paper(1)], day=other), Writer())
    (sample_site / "data" / str(SAMPLE_DAY) / "2601.19786.yaml").write_text("title: [\n")
    result = run_cli(sample_site, "render", "--all")
    assert result.exit_code == 1
    assert (sample_site / "_posts" / f"{other}-arxiv.md").is_file()
    errors = [line for line in result.output.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and "2601.19786.yaml" in errors[0]


def test_every_command_has_help_and_is_in_the_readme():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name, command in cli.commands.items():
        assert command.help and len(command.help) > 20, name
        assert f"`digest {name}" in readme, f"README's command table lacks {name}"
