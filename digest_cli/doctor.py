"""`digest doctor`: check a site repository's set-up through the GitHub API and locally.

The checks follow GitHub's settings pages in the order docs/setup.md walks through them:
Settings > General (default branch), Actions > General (may Actions open pull requests),
Pages (source "GitHub Actions", base path), Secrets and variables (the LLM key, by name
only), then the Actions tab (the daily workflow enabled) and the pull request label, and,
on request, one one-token LLM request. Each check gives `Finding`s: a problem carries its
fix. A refusal (401, 403, 404, 422) is a finding too, naming the permission to grant for
the kind of token in use; a 401 or a missing repository ends the API checks.
"""

from __future__ import annotations

import logging
import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from digest_cli.errors import DigestError
from digest_cli.publish.github import ALLOW_ACTIONS_SETTING, GitHub, GitHubError
from digest_cli.records.yamlio import load_yaml

if TYPE_CHECKING:
    from digest_cli.settings import Settings

log = logging.getLogger(__name__)

DAILY_WORKFLOW = "daily.yml"
LLM_PROBE_BYTES = 1 << 20  # a one-token answer is a few hundred bytes
PAGES_SOURCE = "Settings > Pages > Build and deployment > Source: GitHub Actions"
_REMOTE = re.compile(r"github\.com[:/]([\w.-]+)/([\w.-]+?)(?:\.git)?/?$")


@dataclass(frozen=True)
class Finding:
    """One result: `ok`, or a problem with the `fix` that removes it."""

    check: str
    ok: bool
    message: str
    fix: str = ""

    def line(self) -> str:
        """The one line `digest doctor` prints for it."""
        if self.ok:
            return f"ok       {self.check}: {self.message}"
        return f"PROBLEM  {self.check}: {self.message}. Fix: {self.fix}"


def ok(check: str, message: str) -> Finding:
    return Finding(check, True, message)


def problem(check: str, message: str, fix: str) -> Finding:
    return Finding(check, False, message, fix)


@dataclass(frozen=True)
class Check:
    """An API check and the repository permission it reads with (for a 403's fix)."""

    name: str
    permission: str
    scope: str | None  # the workflow `permissions:` entry giving it to GITHUB_TOKEN
    run: Callable[[GitHub, Settings], list[Finding]]


# A GitHub owner (letters, digits, hyphens) and a repository name.
OWNER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+")


def run_doctor(settings: Settings, *, repository: str = "", llm: bool = False,
               client: Callable[[str], GitHub] | None = None) -> list[Finding]:
    """Every finding, in the order of docs/setup.md. `client(repository)` makes the
    GitHub client (default: from the settings)."""
    given = (repository, "--repo") if repository else (
        (settings.github_repository, "GITHUB_REPOSITORY") if settings.github_repository
        else (origin_repository(settings.root), "the origin remote"))
    if given[0] and not OWNER_NAME.fullmatch(given[0]):  # named where it came from
        return [problem("repository", f"{given[1]} gives {given[0]!r}, which is not "
                        "OWNER/NAME", "give --repo OWNER/NAME, e.g. --repo octo/digest")]
    findings = list(_api_findings(settings, given[0], client))
    if llm:
        findings.append(check_llm(settings))
    return findings


def _api_findings(settings: Settings, repository: str,
                  client: Callable[[str], GitHub] | None) -> Iterator[Finding]:
    if not repository:
        yield problem("repository", "which repository to check is unknown",
                      "give --repo OWNER/NAME (or set GITHUB_REPOSITORY)")
        return
    if not settings.github_token:
        yield problem("token", "no GitHub token to read the settings with",
                      "set GITHUB_TOKEN to a token of the repository's owner, e.g. "
                      "`export GITHUB_TOKEN=$(gh auth token)`")
        return
    make = client or (lambda repo: GitHub(settings.github_api_url, repo, settings.github_token,
                                          timeout=settings.github_timeout,
                                          retries=settings.github_retries,
                                          retry_delay=settings.github_retry_delay))
    try:
        gh = make(repository)
    except DigestError as exc:
        yield problem("repository", str(exc), "give --repo OWNER/NAME")
        return
    with gh:
        for check in CHECKS:
            found, stop = _run_check(check, gh, settings)
            yield from found
            if stop:
                return


def _run_check(check: Check, gh: GitHub,
               settings: Settings) -> tuple[list[Finding], bool]:
    """The check's findings, and whether the API checks must stop (401, no repository)."""
    try:
        return check.run(gh, settings), False
    except GitHubError as exc:
        if exc.status is None:  # no answer at all: every other check would say the same
            return [problem("github api", f"no answer from the GitHub API at {gh.api_url}",
                            "check the network, and GITHUB_API_URL if it is not "
                            "https://api.github.com")], True
        said = f"GitHub answered {exc.status} {exc.github_message}".strip()
        if exc.status == 401:
            return [problem("token", f"the token is invalid or expired ({said})",
                            "create a new token and set GITHUB_TOKEN to it")], True
        if exc.status == 404 and check.name == "default branch":
            return [problem("repository", f"{gh.repository} not found, or the token cannot "
                            f"see it ({said})", "check --repo OWNER/NAME, and give the token "
                            "access to the repository")], True
        if exc.status == 403:
            return [problem(check.name, f"the token may not read this ({said})",
                            gh.grant_hint(check.permission, check.scope, write=False))], False
        fix = "see GitHub's message; run again" if exc.github_message else "run again later"
        return [problem(check.name, f"{exc}", fix)], False


# -- the checks, in the order of GitHub's settings pages ---------------------------------

def check_default_branch(gh: GitHub, settings: Settings) -> list[Finding]:
    """The default branch is the one the Pages workflow deploys and PRs target."""
    repo = gh.repo_get("", "read the repository")
    branch = str(repo.get("default_branch") or "")
    wanted = settings.base_branch or ""
    deploys = pages_branches(settings.root)
    if wanted and wanted != branch:
        return [problem("default branch", f"the default branch is {branch!r} but the setting "
                        f"`base_branch` is {wanted!r}", "Settings > General > Default branch, "
                        "or change `base_branch` in pyproject.toml")]
    if deploys and branch not in deploys:
        return [problem("default branch", f"the default branch is {branch!r} but "
                        f".github/workflows/pages.yml deploys pushes to {', '.join(deploys)}",
                        f"rename the branch (Settings > General > Default branch) or set "
                        f"`branches: [{branch}]` in pages.yml")]
    return [ok("default branch", f"{branch}; pull requests target it and Pages deploys it")]


def check_actions_may_open_prs(gh: GitHub, settings: Settings) -> list[Finding]:
    """Settings > Actions > General: may GITHUB_TOKEN open pull requests?"""
    perms = gh.repo_get("/actions/permissions/workflow", "read the workflow permissions")
    if not perms.get("can_approve_pull_request_reviews"):
        return [problem("actions", "GitHub Actions may not create pull requests, so the daily "
                        "run stops after pushing its branch", f"tick {ALLOW_ACTIONS_SETTING}")]
    return [ok("actions", "GitHub Actions may create pull requests")]


def check_pages(gh: GitHub, settings: Settings) -> list[Finding]:
    """Settings > Pages: built by the workflow, and a base path the site agrees with."""
    try:
        pages = gh.repo_get("/pages", "read the Pages site")
    except GitHubError as exc:
        if exc.status != 404:
            raise
        return [problem("pages", "GitHub Pages is not enabled", PAGES_SOURCE)]
    if pages.get("build_type") != "workflow":
        return [problem("pages", f"Pages is built from a branch ({pages.get('build_type')}), "
                        "not by .github/workflows/pages.yml", PAGES_SOURCE)]
    base = urlsplit(str(pages.get("html_url") or "")).path.rstrip("/")
    found = [ok("pages", f"built by GitHub Actions, served at {pages.get('html_url')}")]
    return found + [check_base_path(settings.root, base)]


def check_base_path(root: Path, base: str) -> Finding:
    """`baseurl` in _config.yml is unset (the workflow passes the base path) or agrees."""
    configured = config_baseurl(root)
    if configured is None:
        return ok("base path", f"the Pages workflow builds for {base or '/'!r}")
    if configured.rstrip("/") != base:
        return problem("base path", f"_config.yml has baseurl {configured!r} but Pages serves "
                       f"the site at {base or '/'!r}, so its links break", "delete `baseurl` "
                       "from _config.yml: the Pages workflow passes the right one")
    return ok("base path", f"baseurl {configured!r} matches the Pages URL")


def check_llm_secret(gh: GitHub, settings: Settings) -> list[Finding]:
    """Settings > Secrets and variables > Actions: the LLM key exists (its name only)."""
    name = settings.llm_api_key_env
    try:
        gh.repo_get(f"/actions/secrets/{name}", f"read secret {name}")
    except GitHubError as exc:
        if exc.status != 404:
            raise
        return [problem("secret", f"the repository has no secret {name}, so nothing is "
                        "translated", "Settings > Secrets and variables > Actions > New "
                        f"repository secret: {name} = the LLM service's API key")]
    return [ok("secret", f"{name} is set")]


def check_daily_workflow(gh: GitHub, settings: Settings) -> list[Finding]:
    """The Actions tab: the daily workflow exists on the default branch and is enabled."""
    try:
        workflow = gh.repo_get(f"/actions/workflows/{DAILY_WORKFLOW}", "read the daily workflow")
    except GitHubError as exc:
        if exc.status != 404:
            raise
        return [problem("daily workflow", f".github/workflows/{DAILY_WORKFLOW} is not on the "
                        "default branch", "push it to the default branch")]
    state = str(workflow.get("state") or "")
    why = {"disabled_inactivity": "GitHub turned it off after 60 days without activity",
           "disabled_fork": "scheduled workflows are off in a fork until enabled",
           "disabled_manually": "it was turned off"}
    if state != "active":
        return [problem("daily workflow", f"the daily workflow is {state}: "
                        f"{why.get(state, 'it does not run')}", "Actions > Daily digest > "
                        "Enable workflow (in a fork, first: Actions > I understand my "
                        "workflows, go ahead and enable them)")]
    when = schedule_text(settings.root)
    return [ok("daily workflow", f"enabled; it runs {when}" if when else "enabled")]


def schedule_text(root: Path) -> str:
    """When the daily workflow's `schedule:` runs it, from its cron ("" if unknown)."""
    try:
        workflow = load_yaml(root / ".github" / "workflows" / DAILY_WORKFLOW)
        crons = [str(entry["cron"]) for entry in workflow["on"]["schedule"]]
    except (DigestError, OSError, KeyError, TypeError):
        return ""
    texts = []
    for cron in crons:
        fields = cron.split()
        if len(fields) == 5 and fields[2:] == ["*", "*", "*"] and all(
                f.isdigit() for f in fields[:2]):
            texts.append(f"every day at {int(fields[1]):02d}:{int(fields[0]):02d} UTC")
        else:
            texts.append(f"on the cron schedule {cron!r} (UTC)")
    return " and ".join(texts)


def check_labels(gh: GitHub, settings: Settings) -> list[Finding]:
    """The pull request labels exist, or the token creates them now (only when missing)."""
    found = []
    for name in settings.pr_labels:
        if gh.label_exists(name):
            found.append(ok("label", f"{name!r} exists"))
            continue
        try:
            gh.create_label(name)
        except GitHubError as exc:
            if exc.status == 403:
                fix = gh.grant_hint("Issues", "issues: write")
            elif exc.status == 422:
                fix = f"create label {name!r} by hand: Issues > Labels > New label"
            else:
                raise
            details = "; ".join(" ".join(str(e.get(k)) for k in ("field", "code") if e.get(k))
                                for e in exc.errors if isinstance(e, dict))
            said = f"{exc.status} {exc.github_message}" + (f": {details}" if details else "")
            found.append(problem("label", f"label {name!r} is missing and the token could "
                                 f"not create it ({said})", fix))
            continue
        found.append(ok("label", f"{name!r} was missing; created it"))
    return found


CHECKS = [
    Check("default branch", "Metadata", None, check_default_branch),
    Check("actions", "Administration", None, check_actions_may_open_prs),
    Check("pages", "Pages", "pages: read", check_pages),
    Check("secret", "Secrets", None, check_llm_secret),
    Check("daily workflow", "Actions", "actions: read", check_daily_workflow),
    Check("label", "Issues", "issues: write", check_labels),
]


# -- local -----------------------------------------------------------------------------

def check_llm(settings: Settings) -> Finding:
    """One one-token chat completion to the configured endpoint (`--llm`)."""
    from digest_cli.bounded import HTTPError, request  # heavy: only for `--llm`

    if not settings.llm_api_key:
        return problem("llm", f"{settings.llm_api_key_env} is not set here",
                       f"export {settings.llm_api_key_env}=... to test the endpoint")
    url = settings.llm_base_url.rstrip("/") + "/chat/completions"
    body = {"model": settings.llm_model, "max_tokens": 1,
            "messages": [{"role": "user", "content": "Say 1."}]}
    try:  # a total deadline: a hanging endpoint must not hang the doctor
        answer = request("POST", url, json=body, deadline=settings.llm_timeout,
                         max_bytes=LLM_PROBE_BYTES,
                         headers={"Authorization": f"Bearer {settings.llm_api_key.strip()}"})
    except HTTPError as exc:
        return problem("llm", f"cannot reach {url} ({type(exc).__name__})",
                       "check `llm_base_url`")
    if answer.status_code in (401, 403):
        return problem("llm", f"{url} refused the key ({answer.status_code})",
                       f"set {settings.llm_api_key_env} (and the repository secret) to a "
                       "valid key")
    if answer.status_code >= 400:
        return problem("llm", f"{url} answered {answer.status_code}",
                       f"check `llm_base_url` and `llm_model` ({settings.llm_model!r})")
    return ok("llm", f"{settings.llm_model} at {settings.llm_base_url} answered")


def pages_branches(root: Path) -> list[str]:
    """The branches whose pushes .github/workflows/pages.yml deploys ([] if unreadable)."""
    try:
        workflow = load_yaml(root / ".github/workflows/pages.yml")
        return [str(b) for b in workflow["on"]["push"]["branches"]]
    except (DigestError, OSError, KeyError, TypeError):
        return []


def config_baseurl(root: Path) -> str | None:
    """`baseurl` from _config.yml; None when unset or empty (Jekyll's default)."""
    try:
        config = load_yaml(root / "_config.yml")
    except (DigestError, OSError):
        return None
    value = config.get("baseurl") if isinstance(config, dict) else None
    return str(value) if value else None


def origin_repository(root: Path) -> str:
    """OWNER/NAME of the `origin` remote when it is on github.com, else ""."""
    try:
        url = subprocess.run(["git", "-C", str(root), "remote", "get-url", "origin"],
                             capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    match = _REMOTE.search(url)
    return f"{match.group(1)}/{match.group(2)}" if match else ""
