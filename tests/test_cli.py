"""The CLI: one-line errors with exit status 1, nothing written on failure, truthful help."""

from __future__ import annotations

import subprocess
import sys

import pytest

from digest_cli import __version__
from digest_cli.cli import cli
from tests.clikit import one_error, run_cli
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
    assert 'llm_api_key = "***"  # environment DIGEST_LLM_API_KEY' in out
    assert "sk-secret-value" not in out


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


# -- frictions a new site owner met (issue 22) ------------------------------------------

def test_settings_are_printed_as_toml_with_where_each_comes_from(site):
    (site / "pyproject.toml").write_text('[tool.digest]\ncategories = ["cs.CL"]\n',
                                         encoding="utf-8")
    out = run_cli(site, "settings", env={"DIGEST_MAX_PAPERS": "5"}).output.splitlines()
    assert 'categories = ["cs.CL"]  # pyproject.toml [tool.digest]' in out
    assert "max_papers = 5  # environment DIGEST_MAX_PAPERS" in out
    assert "lookback_days = 14  # default" in out
    assert 'anchor = "08:50"  # default' in out and "primary_only = false  # default" in out
    assert "arxiv_delay = 3.0  # default" in out
    assert out[0] == f'root = "{site}"  # --root'
    assert not any("PosixPath" in line or "datetime" in line for line in out)
    tomllib = pytest.importorskip("tomllib" if sys.version_info >= (3, 11) else "tomli")
    # what it prints is what [tool.digest] takes

    shown = tomllib.loads("\n".join(line for line in out if not line.startswith(
        ("root", "llm_api_key ", "github_token"))))
    assert shown["categories"] == ["cs.CL"] and shown["holidays"] == []


@pytest.mark.parametrize("day, why", [("2026-02-30", "day is out of range for month"),
                                      ("2026-13-01", "month must be in 1..12")])
def test_an_impossible_date_is_not_called_a_format_error(site, day, why):
    result = run_cli(site, "render", "--date", day)
    assert result.exit_code == 2
    assert f"{day} is not a date: {why}" in result.output
    assert "does not match the format" not in result.output
    assert "does not match the format" in run_cli(site, "render", "--date", "28.01.2026").output


@pytest.mark.parametrize("args, env, named", [
    (["--repo", "notvalid"], {}, "--repo gives 'notvalid'"),
    ([], {"GITHUB_REPOSITORY": "bad"}, "GITHUB_REPOSITORY gives 'bad'"),
])
def test_doctor_names_where_a_bad_repository_came_from(site, args, env, named):
    result = run_cli(site, "doctor", *args, env={"GITHUB_TOKEN": "", **env})
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"PROBLEM  repository: {named}, which is not OWNER/NAME. Fix: give --repo OWNER/NAME, "
        "e.g. --repo octo/digest"]


def test_site_serve_on_a_taken_port_is_one_line_and_not_jekylls_port(site):
    import socket

    (site / "_site").mkdir()
    (site / "_site" / "index.html").write_text("<p>site</p>", encoding="utf-8")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = one_error(run_cli(site, "site", "serve", "--port", str(port)))
    assert line.startswith("Error (site): cannot serve on 127.0.0.1:") and "--port" in line
    serve = cli.commands["site"].commands["serve"]
    [port_option] = [p for p in serve.params if p.name == "port"]
    assert port_option.default not in (4000, 8000)  # Jekyll's, and the preview's


def test_readme_says_the_look_back_of_the_settings():
    from digest_cli.settings import load_settings

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    days = load_settings(REPO, environ={}).lookback_days
    assert f"look-back query of {days} days" in " ".join(readme.split())
    assert "look-back query of a week" not in " ".join(readme.split())


def test_the_license_is_the_one_pyproject_names():
    tomllib = pytest.importorskip("tomllib" if sys.version_info >= (3, 11) else "tomli")

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == {"text": "MIT"}
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n") and "Permission is hereby granted" in text
