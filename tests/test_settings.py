"""Settings: defaults < pyproject.toml < environment < flags, each documented."""

from __future__ import annotations

from datetime import date, time

import pytest

from digest_cli.errors import SettingsError
from digest_cli.settings import SETTING_NAMES, load_settings, settings_reference
from tests.clikit import one_error, run_cli
from tests.conftest import REPO


def write_pyproject(root, body: str):
    (root / "pyproject.toml").write_text(f"[tool.digest]\n{body}\n", encoding="utf-8")


def test_defaults(tmp_path):
    s = load_settings(tmp_path, environ={})
    assert s.categories == ["cs.SD", "eess.AS"]
    assert (s.timezone, s.anchor) == ("Asia/Shanghai", time(8, 50))
    assert s.post_path(date(2026, 1, 28)) == tmp_path / "_posts/2026-01-28-arxiv.md"
    assert s.title.format(date="2026-01-28") == "arXiv Daily – 2026-01-28"
    assert s.tags == ["arxiv", "cs.SD", "eess.AS"]
    assert s.analysis_model == s.llm_model


def test_layers_later_wins(tmp_path):
    write_pyproject(tmp_path, 'categories = ["cs.CL"]\nmax_papers = 30\nanchor = "09:10"\n'
                              'llm_model = "from-toml"')
    env = {"DIGEST_MAX_PAPERS": "40", "DIGEST_LLM_MODEL": "from-env",
           "DIGEST_PRIMARY_ONLY": "yes", "GITHUB_REPOSITORY": "me/site"}
    s = load_settings(tmp_path, environ=env, overrides={"llm_model": "from-flag"})
    assert s.categories == ["cs.CL"] and s.anchor == time(9, 10)
    assert s.max_papers == 40 and s.primary_only is True
    assert s.llm_model == "from-flag" and s.github_repository == "me/site"


def test_list_settings_from_the_environment_are_comma_separated(tmp_path):
    s = load_settings(tmp_path, environ={"DIGEST_CATEGORIES": "cs.SD, eess.AS,cs.CL",
                                         "DIGEST_HOLIDAYS": "2026-12-28"})
    assert s.categories == ["cs.SD", "eess.AS", "cs.CL"]
    assert date(2026, 12, 28) in s.all_holidays() and date(2026, 11, 26) in s.all_holidays()


def test_the_api_key_comes_from_the_named_variable_and_is_never_shown(tmp_path):
    write_pyproject(tmp_path, 'llm_api_key_env = "DEEPSEEK_API_KEY"')
    s = load_settings(tmp_path, environ={"DEEPSEEK_API_KEY": "sk-abc123"})
    assert s.llm_api_key == "sk-abc123"
    assert "sk-abc123" not in repr(s) and "sk-abc123" not in str(s.describe())
    s = load_settings(tmp_path, environ={"GITHUB_TOKEN": "ghp_zzz"})
    assert s.github_token == "ghp_zzz" and "ghp_zzz" not in repr(s)


@pytest.mark.parametrize(
    "body, env, message",
    [
        ('categoriez = ["cs.SD"]', {}, "unknown setting [tool.digest] 'categoriez'"),
        ('llm_api_key = "sk-in-git"', {}, "unknown setting [tool.digest] 'llm_api_key'"),
        ('max_papers = "many"', {}, "setting 'max_papers'"),
        ('anchor = "8h50"', {}, "setting 'anchor'"),
        ("", {"DIGEST_PRIMARY_ONLY": "maybe"}, "DIGEST_PRIMARY_ONLY: expected true or false"),
        ("", {"DIGEST_MAX_PAPERS": "2.5"}, "DIGEST_MAX_PAPERS"),
        ("[broken", {}, "not valid TOML"),
    ],
)
def test_bad_settings_say_what_and_where(tmp_path, body, env, message):
    (tmp_path / "pyproject.toml").write_text(
        body if body.startswith("[") else f"[tool.digest]\n{body}\n")
    with pytest.raises(SettingsError) as err:
        load_settings(tmp_path, environ=env)
    assert message in str(err.value)


def test_every_setting_is_documented():
    docs = (REPO / "docs" / "settings.md").read_text(encoding="utf-8")
    assert settings_reference() in docs, "docs/settings.md is stale: run python -m digest_cli.settings"
    for name in SETTING_NAMES:
        if name != "root":
            assert f"`{name}`" in docs


@pytest.mark.parametrize("env, message", [
    ({"DIGEST_TITLE": "arXiv {day}"}, "setting 'title'"),
    ({"DIGEST_TITLE": "arXiv {date"}, "setting 'title'"),
    ({"DIGEST_POST_FILENAME": "{}-arxiv.md"}, "setting 'post_filename'"),
    ({"DIGEST_TIMEZONE": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
])
def test_bad_templates_and_time_zones_are_one_line(sample_site, env, message):
    result = run_cli(sample_site, "render", env=env)
    line = one_error(result)
    assert line.startswith("Error (settings): ") and message in line


def test_the_settings_command_says_what_it_prints(site):
    result = run_cli(site, "settings", "--help")
    assert "docs/settings.md" in result.output
