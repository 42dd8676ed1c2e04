"""`digest doctor` against FakeGitHub (and FakeLLM) on 127.0.0.1: a healthy repository, a
fresh one from the template, and every refusal GitHub gives (401, 403, 404, 422)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from digest_cli.doctor import origin_repository
from digest_cli.publish.github import GitHub, GitHubError
from tests.clikit import run_cli
from tests.fakes.fixtures import GITHUB_TOKEN, LLM_API_KEY

REPO = Path(__file__).resolve().parents[1]
PAT = "github_pat_11AAAAAAA0fakeFineGrained"
ACTIONS_TOKEN = "ghs_fakeActionsToken0123"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A new site repository from the template: its _config.yml and workflows."""
    shutil.copy(REPO / "_config.yml", tmp_path / "_config.yml")
    shutil.copytree(REPO / ".github", tmp_path / ".github")
    (tmp_path / "pyproject.toml").write_text("[tool.digest]\n", encoding="utf-8")
    return tmp_path


@pytest.fixture
def healthy(github_server):
    """The repository after docs/setup.md's checklist."""
    github_server.actions_can_approve = True
    github_server.enable_pages("workflow")
    github_server.secrets.add("DIGEST_LLM_API_KEY")
    return github_server


def doctor(site: Path, server, *args: str, token: str = GITHUB_TOKEN, **env: str):
    environ = {"GITHUB_API_URL": server.url, "GITHUB_REPOSITORY": "octo/digest",
               "GITHUB_TOKEN": token, "DIGEST_GITHUB_RETRIES": "0", **env}
    result = run_cli(site, "doctor", *args, env=environ)
    assert not token or token not in result.output  # a secret never reaches the output
    return result


def lines(result) -> dict[str, str]:
    """check name -> its line."""
    return {line.split(None, 1)[1].split(":", 1)[0]: line
            for line in result.output.splitlines()}


def problems(result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("PROBLEM")]


def test_a_healthy_repository_passes_every_check(site, healthy):
    healthy.repo_labels["octo/digest"] = {"digest": {"name": "digest"}}
    result = doctor(site, healthy)
    assert result.exit_code == 0, result.output
    assert problems(result) == []
    assert list(lines(result)) == ["default branch", "actions", "pages", "base path", "secret",
                                   "daily workflow", "label"]
    assert "served at https://octo.github.io/digest/" in result.output
    assert "'/digest'" in lines(result)["base path"]
    assert not healthy.requests_to("/repos/octo/digest/labels", method="POST")


def test_a_fresh_repository_gets_one_line_per_missing_step_with_its_fix(site, github_server):
    result = doctor(site, github_server)
    assert result.exit_code == 1
    found = problems(result)
    assert len(found) == 3, result.output
    assert "GitHub Actions may not create pull requests" in found[0]
    assert '"Allow GitHub Actions to create and approve pull requests"' in found[0]
    assert "GitHub Pages is not enabled" in found[1] and "Source: GitHub Actions" in found[1]
    assert "no secret DIGEST_LLM_API_KEY" in found[2]
    assert "New repository secret: DIGEST_LLM_API_KEY" in found[2]
    # the missing label is created, once; a second run finds it
    assert "'digest' was missing; created it" in lines(result)["label"]
    assert list(github_server.repo_labels["octo/digest"]) == ["digest"]
    again = doctor(site, github_server)
    assert "'digest' exists" in lines(again)["label"]
    assert len(github_server.requests_to("/repos/octo/digest/labels", method="POST")) == 1


def test_pages_deployed_from_a_branch_is_a_problem(site, healthy):
    healthy.enable_pages("legacy")
    line = lines(doctor(site, healthy))["pages"]
    assert line.startswith("PROBLEM") and "built from a branch" in line
    assert "Source: GitHub Actions" in line


@pytest.mark.parametrize("baseurl, cname, expected", [
    ("/digest", None, "ok"),
    ("/other", None, "PROBLEM"),
    ("/digest", "digest.example.org", "PROBLEM"),  # a custom domain serves at /
    (None, "digest.example.org", "ok"),
])
def test_base_path_matches_the_pages_url(site, healthy, baseurl, cname, expected):
    if baseurl:
        with (site / "_config.yml").open("a", encoding="utf-8") as fh:
            fh.write(f'baseurl: "{baseurl}"\n')
    healthy.enable_pages("workflow", cname=cname)
    line = lines(doctor(site, healthy))["base path"]
    assert line.startswith(expected), line
    if expected == "PROBLEM":
        assert "delete `baseurl` from _config.yml" in line


@pytest.mark.parametrize("state, reason", [
    ("disabled_inactivity", "after 60 days without activity"),
    ("disabled_fork", "off in a fork"),
    ("disabled_manually", "turned off"),
])
def test_a_disabled_daily_workflow_is_named_with_why(site, healthy, state, reason):
    healthy.workflows["daily.yml"] = state
    line = lines(doctor(site, healthy))["daily workflow"]
    assert line.startswith("PROBLEM") and reason in line and "Enable workflow" in line


def test_a_daily_workflow_missing_from_the_default_branch(site, healthy):
    del healthy.workflows["daily.yml"]
    line = lines(doctor(site, healthy))["daily workflow"]
    assert "is not on the default branch" in line


def test_a_default_branch_pages_does_not_deploy(site, healthy):
    healthy.repos["octo/digest"]["default_branch"] = "master"
    result = doctor(site, healthy)
    line = lines(result)["default branch"]
    assert line.startswith("PROBLEM") and "'master'" in line and "pages.yml" in line
    assert result.exit_code == 1


# -- refusals ---------------------------------------------------------------------------

def test_401_a_bad_token_is_one_line_and_ends_the_checks(site, healthy):
    result = doctor(site, healthy, token="ghp_wrong")
    assert result.exit_code == 1
    assert problems(result) == ["PROBLEM  token: the token is invalid or expired (GitHub "
                                "answered 401 Bad credentials). Fix: create a new token and "
                                "set GITHUB_TOKEN to it"]
    assert len(healthy.requests) == 1


def test_an_unreachable_api_is_one_line_naming_the_url_and_ends_the_checks(site):
    """Nothing listens on the port: no status, no GitHub message, no retry of every check."""
    import socket

    with socket.socket() as sock:  # a port that was free a moment ago: closed
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    result = run_cli(site, "doctor", env={"GITHUB_API_URL": url, "GITHUB_REPOSITORY":
                                          "octo/digest", "GITHUB_TOKEN": GITHUB_TOKEN,
                                          "DIGEST_GITHUB_RETRIES": "0"})
    assert result.exit_code == 1
    assert problems(result) == [f"PROBLEM  github api: no answer from the GitHub API at {url}. "
                                "Fix: check the network, and GITHUB_API_URL if it is not "
                                "https://api.github.com"]
    assert "GitHub's message" not in result.output and GITHUB_TOKEN not in result.output


def test_the_daily_workflow_line_tells_its_schedule_from_daily_yml(site, healthy):
    assert lines(doctor(site, healthy))["daily workflow"].endswith(
        "enabled; it runs every day at 02:20 UTC")
    daily = site / ".github" / "workflows" / "daily.yml"
    daily.write_text(daily.read_text(encoding="utf-8").replace('"20 2 * * *"', '"5 3 * * 1-5"'),
                     encoding="utf-8")
    assert lines(doctor(site, healthy))["daily workflow"].endswith(
        "enabled; it runs on the cron schedule '5 3 * * 1-5' (UTC)")
    daily.unlink()
    assert lines(doctor(site, healthy))["daily workflow"].endswith("daily workflow: enabled")


def test_404_an_unknown_repository_ends_the_checks(site, healthy):
    result = doctor(site, healthy, GITHUB_REPOSITORY="octo/nope")
    assert result.exit_code == 1
    assert len(problems(result)) == 1 and "octo/nope not found" in result.output
    assert len(healthy.requests) == 1


def test_403_each_check_names_the_permission_a_fine_grained_token_lacks(site, healthy):
    healthy.grant(PAT, "contents:write", "pull_requests:write")
    result = doctor(site, healthy, token=PAT)
    assert result.exit_code == 1
    found = lines(result)
    for check, permission in [("actions", "Administration: Read-only"),
                              ("pages", "Pages: Read-only"), ("secret", "Secrets: Read-only"),
                              ("daily workflow", "Actions: Read-only"),
                              ("label", "Issues: Read and write")]:
        assert found[check].startswith("PROBLEM"), found[check]
        assert "fine-grained token the repository permission " + permission in found[check]
        assert "workflow" not in found[check].split("Fix:")[1]  # no workflow edit for a PAT
    assert "Resource not accessible by personal access token" in found["actions"]
    assert found["default branch"].startswith("ok")


def test_403_label_with_the_actions_token_names_the_workflow_permission(site, healthy):
    healthy.grant(ACTIONS_TOKEN, "contents:write", "pull_requests:write", "pages:read",
                  "actions:read", "administration:read", "secrets:read")
    result = doctor(site, healthy, token=ACTIONS_TOKEN)
    line = lines(result)["label"]
    assert "Resource not accessible by integration" in line
    assert "add `issues: write` to the workflow's `permissions:`" in line
    assert "GitHub App the permission Issues: Read and write" in line
    assert healthy.repo_labels.get("octo/digest", {}) == {}


def refuse_label_creation(server, code: str, field: str) -> None:
    """The next label creation gets GitHub's 422 Validation Failed with this error."""
    server.fail_next(r"/labels$", 422, method="POST", body={
        "message": "Validation Failed",
        "errors": [{"resource": "Label", "code": code, "field": field}],
        "documentation_url": "https://docs.github.com/rest", "status": "422"})


def test_422_a_label_created_meanwhile_is_fine(site, healthy):
    refuse_label_creation(healthy, "already_exists", "name")
    result = doctor(site, healthy)
    assert result.exit_code == 0, result.output


def test_422_any_other_validation_failure_is_a_problem_with_githubs_words(site, healthy):
    refuse_label_creation(healthy, "invalid", "color")
    result = doctor(site, healthy)
    line = lines(result)["label"]
    assert result.exit_code == 1 and line.startswith("PROBLEM")
    assert "(422 Validation Failed: color invalid)" in line
    assert line.endswith("Fix: create label 'digest' by hand: Issues > Labels > New label")
    assert "422 Validation Failed" in line and "color invalid" in line


def test_no_token_and_no_repository_are_named(site, github_server):
    result = doctor(site, github_server, token="")
    assert "PROBLEM  token: no GitHub token" in result.output and result.exit_code == 1
    result = doctor(site, github_server, GITHUB_REPOSITORY="")  # site has no origin
    assert "give --repo OWNER/NAME" in result.output and not github_server.requests


def test_the_repository_comes_from_the_origin_remote(tmp_path):
    import subprocess

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    for url, expected in [("git@github.com:octo/site.git", "octo/site"),
                          ("https://github.com/octo/my.site", "octo/my.site"),
                          ("/srv/git/site.git", "")]:
        subprocess.run(["git", "-C", str(tmp_path), "remote", "remove", "origin"],
                       capture_output=True)
        subprocess.run(["git", "-C", str(tmp_path), "remote", "add", "origin", url], check=True)
        assert origin_repository(tmp_path) == expected


# -- --llm ------------------------------------------------------------------------------

def test_llm_one_token_request(site, healthy, llm_server):
    healthy.repo_labels["octo/digest"] = {"digest": {"name": "digest"}}
    env = {"DIGEST_LLM_BASE_URL": llm_server.base_url, "DIGEST_LLM_API_KEY": LLM_API_KEY}
    result = doctor(site, healthy, "--llm", **env)
    assert result.exit_code == 0, result.output
    assert lines(result)["llm"].startswith("ok")
    [request] = llm_server.requests_to("/v1/chat/completions")
    assert request.json["max_tokens"] == 1
    assert LLM_API_KEY not in result.output

    refused = doctor(site, healthy, "--llm", **{**env, "DIGEST_LLM_API_KEY": "sk-wrong"})
    assert "refused the key (401)" in lines(refused)["llm"] and refused.exit_code == 1
    closed = doctor(site, healthy, "--llm", **{**env, "DIGEST_LLM_BASE_URL": "http://127.0.0.1:9"})
    assert "cannot reach" in lines(closed)["llm"]


# -- the label in publishing: created only when missing ----------------------------------

def client(server, token: str) -> GitHub:
    return GitHub(server.url, "octo/digest", token, timeout=5, retries=0, retry_delay=0)


def test_ensure_labels_creates_only_the_missing_ones(github_server):
    github_server.repo_labels["octo/digest"] = {"digest": {"name": "digest"}}
    with client(github_server, GITHUB_TOKEN) as gh:
        assert gh.ensure_labels(["digest", "needs-review"]) == ["needs-review"]
        assert gh.ensure_labels(["digest", "needs-review"]) == []
    [create] = github_server.requests_to("/repos/octo/digest/labels", method="POST")
    assert create.json["name"] == "needs-review"


@pytest.mark.parametrize("token, fix, not_said", [
    (PAT, "give the fine-grained token the repository permission Issues: Read and write",
     "workflow"),
    (ACTIONS_TOKEN, "add `issues: write` to the workflow's `permissions:`", "classic"),
    ("ghp_classicToken", "a classic token needs the `repo` scope", "workflow"),
])
def test_a_label_refusal_names_the_fix_for_the_kind_of_token(github_server, token, fix,
                                                             not_said):
    github_server.grant(token, "contents:write", "pull_requests:write")
    with client(github_server, token) as gh, pytest.raises(GitHubError) as caught:
        gh.ensure_labels(["digest"])
    message = str(caught.value)
    assert caught.value.status == 403 and fix in message and not_said not in message
    assert token not in message


# -- the docs agree with the doctor and the workflows ------------------------------------

def test_setup_md_shows_what_the_doctor_says_for_each_step():
    from digest_cli.doctor import CHECKS

    setup = (REPO / "docs" / "setup.md").read_text(encoding="utf-8")
    for check in CHECKS:
        if check.name != "label":  # its problem needs a refusal; the text shows the refusal
            assert f"`PROBLEM  {check.name}:" in setup, check.name
    assert "`PROBLEM  label:" in setup and "`PROBLEM  base path:" in setup
    # in the order of the checklist
    positions = [setup.index(f"PROBLEM  {c.name}:") for c in CHECKS]
    assert positions == sorted(positions)


def test_one_pages_set_up_in_every_doc():
    for doc in ("setup.md", "site.md"):
        text = (REPO / "docs" / doc).read_text(encoding="utf-8")
        assert "Source: GitHub Actions" in text, doc
    site = (REPO / "docs" / "site.md").read_text(encoding="utf-8")
    assert '"Deploy from a branch" is not supported' in site
    assert "Re-run jobs*, or" not in (REPO / "docs" / "setup.md").read_text(encoding="utf-8")


def test_the_token_table_lists_each_workflows_permissions():
    from ruamel.yaml import YAML

    setup = (REPO / "docs" / "setup.md").read_text(encoding="utf-8")
    row = next(line for line in setup.splitlines() if line.startswith("| `GITHUB_TOKEN`"))
    for name, jobs, label in (("daily.yml", ["digest", "publish"], "daily:"),
                              ("sync.yml", ["sync"], "sync:"),
                              ("review.yml", ["ticks"], "review ticks:"),
                              ("pages.yml", ["build"], "Pages build:")):
        wf = YAML(typ="safe").load((REPO / ".github" / "workflows" / name).read_text("utf-8"))
        perms = {(scope, level) for job in jobs
                 for scope, level in (wf["jobs"][job].get("permissions")
                                      or wf["permissions"]).items()}
        part = row[row.index(label):].split(";")[0]
        assert part.count("`") // 2 == len(perms), (name, part)  # no more, no fewer
        for scope, level in perms:
            assert f"`{scope}: {level}`" in part, (name, scope)


def test_the_template_leaves_url_and_baseurl_to_the_pages_build():
    """GitHub's metadata plugin and the Pages workflow fill them only when unset."""
    from ruamel.yaml import YAML

    from digest_cli.doctor import config_baseurl

    config = YAML(typ="safe").load((REPO / "_config.yml").read_text(encoding="utf-8"))
    assert "baseurl" not in config and "url" not in config
    assert config_baseurl(REPO) is None
