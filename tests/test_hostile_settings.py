"""Hostile settings: values that would break a file, a path or the post refused in one line;
secrets never shown on any path.

Each test failed before its fix (issues 11 and 20)."""

from __future__ import annotations

import json
import logging
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.clikit import one_error, run_cli
from tests.conftest import REPO
from tests.fakes.github_server import FakeGitHub
from tests.fakes.llm_server import FakeLLM
from tests.gitkit import git, make_site_repo
from tests.hostile_kit import FETCH_DAY, D, snapshot


@pytest.mark.parametrize(("variable", "value"), [
    ("DIGEST_LAYOUT", "post\nsitemap: false"), ("DIGEST_TITLE", "Daily {date}\r\nlayout: x"),
    ("DIGEST_TAGS", "arxiv,evil\u2028tag"), ("DIGEST_ZONE_NAME", "北京时间\x07"),
])
def test_a_setting_with_a_line_break_or_control_character_is_refused(rendered_site, variable,
                                                                      value):
    before = (rendered_site / "_posts" / f"{D}-arxiv.md").read_bytes()
    line = one_error(run_cli(rendered_site, "render", "--date", D, env={variable: value}))
    assert "line break or control character" in line
    assert (rendered_site / "_posts" / f"{D}-arxiv.md").read_bytes() == before


@pytest.mark.parametrize(("variable", "value", "says"), [
    ("DIGEST_TAGS", "arxiv,a]: b", "is not a tag"), ("DIGEST_LAYOUT", "post: x", "layout"),
    ("DIGEST_ZONE_LABEL", "{% include x %}", "Liquid"),
])
def test_front_matter_and_header_settings_cannot_change_the_post(rendered_site, variable,
                                                                 value, says):
    assert says in one_error(run_cli(rendered_site, "render", "--date", D,
                                     env={variable: value}))


def test_settings_masks_credentials_in_url_settings(site):
    env = {"DIGEST_LLM_BASE_URL": "https://me:pa55word-x@llm.example/v1?key=qk3y-secret",
           "DIGEST_LLM_API_KEY": "sk-known-secret\n"}
    result = run_cli(site, "settings", env=env)
    assert result.exit_code == 0
    assert 'llm_base_url = "https://***@llm.example/v1?key=***"' in result.output
    for secret in ("pa55word-x", "qk3y-secret", "sk-known-secret"):
        assert secret not in result.output


KEY, TOKEN, PASSWORD, QUERY_KEY = ("sk-KNOWN-llm-secret-1", "ghs-KNOWN-token-2",
                                   "pw-KNOWN-password-3", "qk-KNOWN-query-4")
SECRETS = (KEY, TOKEN, PASSWORD, QUERY_KEY)


def everything_written(*folders: Path) -> bytes:
    """Every file under `folders` and every git object of their repositories."""
    out = []
    for folder in folders:
        out += [p.read_bytes() for p in folder.rglob("*") if p.is_file()]
        out.append(subprocess.run(["git", "cat-file", "--batch-all-objects", "--batch"],
                                  cwd=folder, capture_output=True).stdout)
    return b"\n".join(out)


def test_a_known_secret_never_leaves_on_any_failure_path(tmp_path, arxiv_server, caplog,
                                                         isolated_git):
    caplog.set_level(logging.DEBUG)
    origin, root = tmp_path / "origin.git", tmp_path / "site"
    make_site_repo(origin, root, git)
    arxiv_server.add_paper(id="2611.20001", summary="We improve speech.", categories=["cs.SD"],
                           published=datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc))
    summary = tmp_path / "summary.md"
    outputs = []
    with FakeLLM(api_key=KEY) as llm, FakeGitHub(token=TOKEN, owner="o", repo="site") as gh:
        gh.branch_exists = lambda owner, repo, branch: bool(
            git(origin, "branch", "--list", branch, check=False))
        # A provider that echoes the key in its error message, for every request.
        llm.fail_next(400, message=f"bad request from key {KEY} (invalid_request)", times=99)
        env = {"DIGEST_ARXIV_API_URL": arxiv_server.query_url, "DIGEST_ARXIV_DELAY": "0",
               "DIGEST_LLM_BASE_URL": llm.base_url, "DIGEST_LLM_API_KEY": KEY + "\n",
               "DIGEST_LLM_RETRIES": "0", "DIGEST_LLM_REPAIR_ATTEMPTS": "0",
               "DIGEST_PDF_URL_TEMPLATE": f"http://u:{PASSWORD}@127.0.0.1:9/{{id}}?k={QUERY_KEY}",
               "GITHUB_API_URL": gh.url, "GITHUB_REPOSITORY": "o/site", "GITHUB_TOKEN": TOKEN,
               "DIGEST_GITHUB_RETRY_DELAY": "0", "GITHUB_STEP_SUMMARY": str(summary)}
        run = run_cli(root, "-v", "run", "--date", FETCH_DAY, "--publish", env=env)
        outputs.append(run.output)
        assert run.exit_code == 3, run.output  # published, but nothing could be translated
        assert gh.open_pulls() and "failed" in gh.open_pulls()[0]["body"]
        record = (root / f"data/{FETCH_DAY}/2611.20001.yaml").read_text(encoding="utf-8")
        assert "bad request from key ***" in record
        # Credentials in the LLM URL: a wrong endpoint, then a refused one.
        for base in (f"http://me:{PASSWORD}@127.0.0.1:9/v1?key={QUERY_KEY}",
                     f"http://me:{PASSWORD}@127.0.0.1:{llm.port}/v1"):
            env["DIGEST_LLM_BASE_URL"] = base
            outputs.append(run_cli(root, "-v", "translate", "--date", FETCH_DAY, "--force",
                                   env=env).output)
            outputs.append(run_cli(root, "settings", env=env).output)
        # Credentials in the arXiv URL, and arXiv down: the error names the URL.
        outputs.append(run_cli(root, "-v", "fetch", "--date", FETCH_DAY, env={
            **env, "DIGEST_ARXIV_API_URL": f"http://me:{PASSWORD}@127.0.0.1:9/api/query",
            "DIGEST_ARXIV_RETRIES": "0", "DIGEST_ARXIV_CACHE_TTL": "0"}).output)
        env["GITHUB_TOKEN"] = TOKEN + "-revoked"  # GitHub refuses: its error is shown
        outputs.append(run_cli(root, "-v", "publish", "--date", FETCH_DAY, env=env).output)
        bodies = json.dumps(gh.pulls)
    assert all("Error" in out for out in outputs[1::2]) and "Error" in outputs[-1]
    written = everything_written(root, origin) + summary.read_bytes()
    for secret in SECRETS:
        assert secret.encode() not in written, secret
        assert secret not in caplog.text and secret not in bodies, secret
        assert all(secret not in out for out in outputs), secret


@pytest.mark.parametrize("args", [["fetch", "--date", "0001-01-01"],
                                  ["run", "--offline", "--date", "0001-01-01"],
                                  ["preview", "--date", D, "--serve", "--port", "99999"]])
def test_out_of_range_dates_and_ports_are_usage_errors(sample_site, args):
    result = run_cli(sample_site, *args)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "out of range" in result.output or "not in the range" in result.output


# -- settings errors never show a secret; bounds (review of issue 11) ----------------------

@pytest.mark.parametrize(("variable", "value", "secret"), [
    ("DIGEST_LLM_API_KEY", "sk-SECRETKEY\tx", "SECRETKEY"),
    ("GITHUB_TOKEN", "ghs-SECRETTOKEN\x07y", "SECRETTOKEN"),
    ("DIGEST_LLM_BASE_URL", "https://user:PASSWORD@llm.example/v1\n", "PASSWORD"),
    ("DIGEST_LLM_BASE_URL", "https://user:PASS\tWORD@llm.example/v1", "PASS"),
    ("DIGEST_PDF_URL_TEMPLATE", "https://arxiv.org/pdf/{id}?key=QSECRET\r", "QSECRET"),
])
def test_a_refused_setting_never_shows_a_secret(site, variable, value, secret):
    result = run_cli(site, "settings", env={variable: value})
    line = one_error(result)
    assert "line break or control character" in line
    assert secret not in result.output
    if "BASE_URL" in variable:
        assert "https://***@llm.example/v1" in line  # the masked form says which value


def test_credentials_in_a_url_are_masked_even_when_settings_fail_to_load(site):
    (site / "pyproject.toml").write_text(
        '[tool.digest]\narxiv_api_url = ["https://me:PYSECRET@arxiv.example/api"]\n',
        encoding="utf-8")
    result = run_cli(site, "settings")
    line = one_error(result)
    assert "setting 'arxiv_api_url'" in line and "https://***@arxiv.example" in line
    assert "PYSECRET" not in result.output


@pytest.mark.parametrize(("variable", "value", "says"), [
    ("DIGEST_ARXIV_TIMEOUT", "-1", "'arxiv_timeout': -1.0 is out of range (it must be more "
                                   "than 0, at most 86,400)"),
    ("DIGEST_LLM_TIMEOUT", "0", "'llm_timeout': 0.0 is out of range"),
    ("DIGEST_PDF_TIMEOUT", "nan", "'pdf_timeout': nan is not a finite number"),
    ("DIGEST_GITHUB_TIMEOUT", "inf", "'github_timeout': inf is not a finite number"),
    ("DIGEST_LLM_CONCURRENCY", "0", "'llm_concurrency': 0 is out of range (it must be at "
                                    "least 1, at most 256)"),
    ("DIGEST_ARXIV_RETRIES", "-1", "'arxiv_retries': -1 is out of range (it must be at "
                                   "least 0, at most 100)"),
    ("DIGEST_MAX_PAPERS", "-5", "'max_papers': -5 is out of range"),
    ("DIGEST_ARXIV_DELAY", "-0.5", "'arxiv_delay': -0.5 is out of range"),
])
def test_numeric_settings_below_their_bound_are_one_line_errors(site, variable, value, says):
    line = one_error(run_cli(site, "fetch", "--offline", "--date", FETCH_DAY,
                             env={variable: value}))
    assert line.startswith("Error (settings): ") and says in line
    assert list((site / "data").iterdir()) == []


@pytest.mark.parametrize(("variable", "value", "says"), [
    # an OverflowError traceback in date arithmetic, before the upper bounds (issue 20.6)
    ("DIGEST_LOOKBACK_DAYS", "100000000", "'lookback_days': 100000000 is out of range (it "
                                          "must be at least 1, at most 3,660)"),
    ("DIGEST_MAX_PAPERS", "abc", "DIGEST_MAX_PAPERS: expected a whole number, got 'abc'"),
    ("DIGEST_MAX_PAPERS", "1.5", "expected a whole number, got '1.5'"),
    ("DIGEST_LLM_TIMEOUT", "soon", "DIGEST_LLM_TIMEOUT: expected a number, got 'soon'"),
    ("DIGEST_ARXIV_PAGE_SIZE", "9" * 5000, "expected a whole number, got '9999"),
    ("DIGEST_LLM_TEMPERATURE", "7", "'llm_temperature': 7.0 is out of range"),
])
def test_numbers_out_of_bounds_or_not_numbers_are_one_line_errors(site, variable, value, says):
    line = one_error(run_cli(site, "fetch", "--offline", "--date", FETCH_DAY,
                             env={variable: value}))
    assert line.startswith("Error (settings): ") and says in line
    assert len(line) < 300  # a long value is shortened
    assert list((site / "data").iterdir()) == []


@pytest.mark.parametrize("name", ["x.md", "arxiv-{date}.md", "{date}.md", "{date}-arxiv"])
def test_a_post_filename_without_the_date_first_is_refused(rendered_site, name):
    """`x.md` wrote every day over one file and reported "2 posts rendered"; Jekyll reads
    only posts named YYYY-MM-DD-title.ext."""
    before = snapshot(rendered_site)
    line = one_error(run_cli(rendered_site, "render", "--all", "--force",
                             env={"DIGEST_POST_FILENAME": name}))
    assert line.startswith("Error (settings): setting 'post_filename'") and "{date}-" in line
    assert snapshot(rendered_site) == before


def test_review_of_a_pr_body_that_is_not_utf8_is_one_line(rendered_site, tmp_path):
    body = tmp_path / "body.md"
    body.write_bytes("- [x] 2601.19786 标题".encode("gb18030"))
    line = one_error(run_cli(rendered_site, "review", "--from-pr-body", str(body)))
    assert "body.md" in line and "not UTF-8" in line


def test_url_credentials_are_matched_by_one_pattern():
    """redact masks and errors scrubs with the same pattern: they cannot drift apart."""
    sources = [p.read_text(encoding="utf-8") for p in (REPO / "digest_cli").rglob("*.py")]
    assert sum(r"[^/@\s]+@" in text for text in sources) == 1
