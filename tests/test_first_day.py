"""The first day of a new site, end to end: a repository from this template -> `digest
doctor` -> the first scheduled run (late) -> its pull request -> an editor's commit ->
the sync workflow -> merge -> the Pages build. Against the fake GitHub, arXiv, LLM and PDF
servers, a bare git remote and real Jekyll; each workflow's `run:` steps run as GitHub's
runner runs them (tests/workflow_runner.py: bash -e, GITHUB_* variables, inputs and
secrets through `env:`), and each job's token may do exactly what its `permissions:` say.

Stood in for: `actions/checkout` (a clone of the bare origin), `actions/configure-pages`
(reads the Pages site from the fake API with the job's token), `upload-pages-artifact`
(the folder is checked); setup-python, cache and the install steps are skipped (this venv
already holds the locked packages; test_workflows checks the commands); the run's clock
is `faketime`'s: the scheduled run starts at 05:47 UTC, late. The Pages build is the
workflow's own step, `digest site build --base-path "$BASE_PATH"`.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx2
import pytest
from ruamel.yaml import YAML

from tests import gitkit
from tests.drill_kit import FIRST_SUBMISSION, abstract_for, paper_id, title
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.github_server import FakeGitHub
from tests.fakes.llm_server import FakeLLM, english_responder
from tests.fakes.pdf_server import FakePDFs, paper_pdf
from tests.fakes.translate_kit import ANALYSIS_MODEL, TRANSLATE_MODEL, by_model
from tests.gitkit import IDENTITY
from tests.workflow_runner import Artifacts, Runner, runner_env

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = REPO / ".github" / "workflows"
DAY = "2026-11-25"  # a Wednesday: its window holds Monday evening's announcement
BRANCH = f"digest/{DAY}"
OWNER, NAME = "owner", "site"
OWNER_TOKEN = "github_pat_11OWNER0fakeFineGrainedAdmin"
LLM_KEY = "sk-first-day-0123456789"
N = 4
# Not the site: the tool, its tests, its benchmarks (the tool is installed, not built);
# and the sample day, which the owner removes (docs/setup.md, step 0).
NOT_COPIED = ("tests/", "benchmarks/", "digest_cli/", "data/2026-01-28/",
              "_posts/2026-01-28-arxiv.md")



def cl_title(i: int) -> str:
    return f"Drill paper {i}: faithful machine translation with large language models {paper_id(i)}"


def cl_abstract(i: int) -> str:
    return (f"We propose method number {i} for document-level machine translation with a large "
            f"language model. It raises BLEU by 2.{i % 10} points on WMT23 and keeps terminology "
            "consistent across 12 language pairs.")


# The two ways a site starts (docs/setup.md): a copy of this repository, speech and audio;
# `digest new` for another field, here cs.CL, with its own topics and glossary.
FIELDS = {
    "template": {"categories": ["eess.AS", "cs.SD"], "title": title, "abstract": abstract_for},
    "new-cs.CL": {"categories": ["cs.CL"], "title": cl_title, "abstract": cl_abstract},
}

pytestmark = pytest.mark.skipif(
    shutil.which("jekyll") is None or shutil.which("faketime") is None,
    reason="needs Debian's jekyll and faketime (.ci/run installs both)")


def git(cwd: Path, *args: str) -> str:
    return gitkit.git(cwd, *IDENTITY, *args)


def job_permissions(workflow: str, job: str) -> list[str]:
    """The job's `permissions:` as the fake's grants ("pull_requests:write")."""
    wf = YAML(typ="safe").load((WORKFLOWS / workflow).read_text(encoding="utf-8"))
    perms = wf["jobs"][job].get("permissions") or wf["permissions"]
    return [f"{scope.replace('-', '_')}:{level}" for scope, level in perms.items()]


@pytest.fixture(params=list(FIELDS))
def world(request, tmp_path, monkeypatch):
    """The servers, a bare origin holding a new repository (of FIELDS' kind)."""
    field = FIELDS[request.param]
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    arxiv, pdfs = FakeArxiv(), FakePDFs({f"{paper_id(i)}v1": paper_pdf(
        field["title"](i), {"Introduction": 3, "Method": 3}) for i in range(N)})
    llm = FakeLLM(api_key=LLM_KEY, responder=by_model())
    gh = FakeGitHub(token=OWNER_TOKEN, owner=OWNER, repo=NAME)
    for i in range(N):
        arxiv.add_paper(id=paper_id(i), title=field["title"](i), authors=["Jane Doe"],
                        summary=field["abstract"](i), categories=field["categories"],
                        published=FIRST_SUBMISSION + timedelta(minutes=10 * i))
    origin = tmp_path / "origin.git"
    gh.branch_exists = lambda owner, repo, branch: subprocess.run(
        ["git", "--git-dir", str(origin), "rev-parse", "--verify", "-q",
         f"refs/heads/{branch}"], capture_output=True).returncode == 0
    servers = (arxiv, pdfs, llm, gh)
    for server in servers:
        server.start()
    try:
        yield {"tmp": tmp_path, "origin": origin, "arxiv": arxiv, "pdfs": pdfs, "llm": llm,
               "gh": gh, "kind": request.param, "title": field["title"]}
    finally:
        for server in servers:
            server.stop()


def new_site_from_template(w) -> Path:
    """"Use this template" (or `digest new` for cs.CL): the template's files in a new
    repository; the owner then sets the endpoints in [tool.digest] (here: the fakes) and
    pushes."""
    site = w["tmp"] / "owner"
    if w["kind"] == "new-cs.CL":
        made = subprocess.run(["digest", "new", str(site), "--categories", "cs.CL",
                               "--title", "arXiv 每日 · 自然语言处理"],
                              capture_output=True, text=True, timeout=120)
        assert made.returncode == 0, made.stderr
    files = [] if site.exists() else subprocess.run(
        ["git", "-C", str(REPO), "ls-files"], capture_output=True, text=True,
        check=True).stdout.splitlines()
    for name in files:
        if not name.startswith(NOT_COPIED) and (REPO / name).is_file():
            (site / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, site / name)
    with (site / "pyproject.toml").open("a", encoding="utf-8") as fh:
        fh.write(f'arxiv_api_url = "{w["arxiv"].query_url}"\narxiv_delay = 0\n'
                 f'llm_base_url = "{w["llm"].base_url}"\nllm_model = "{TRANSLATE_MODEL}"\n'
                 f'llm_analysis_model = "{ANALYSIS_MODEL}"\nllm_backoff = 0.01\n'
                 f'pdf_url_template = "{w["pdfs"].template}"\ngithub_retry_delay = 0\n')
    git(w["tmp"], "init", "-q", "--bare", "-b", "main", str(w["origin"]))
    git(site, "init", "-q", "-b", "main")
    git(site, "add", ".")
    git(site, "commit", "-q", "-m", "Initial commit from the template")
    git(site, "remote", "add", "origin", str(w["origin"]))
    git(site, "push", "-q", "origin", "main")
    return site


def doctor(w, site: Path) -> subprocess.CompletedProcess:
    env = runner_env(site, w["tmp"] / "doctor", event="local", repository=f"{OWNER}/{NAME}",
                     api_url=w["gh"].url, extra={"GITHUB_TOKEN": OWNER_TOKEN})
    return subprocess.run(["digest", "--root", str(site), "doctor"], env=env,
                          capture_output=True, text=True, timeout=60)


def checkout(w, workspace: Path, ref: str = "main"):
    """actions/checkout: the repository at `ref` in the workspace."""
    def handle(with_: dict) -> None:
        subprocess.run(["git", "clone", "-q", str(w["origin"]), str(workspace)], check=True)
        git(workspace, "checkout", "-q", with_.get("ref") or ref)
    return handle


def runner(w, workflow: str, job: str, event: str, contexts: dict, token: str,
           attempt: str = "", **kw) -> Runner:
    w["gh"].grant(token, *job_permissions(workflow, job))
    workspace = w["tmp"] / f"runner-{workflow}-{job}-{event}{attempt}"
    contexts = {"github": {"token": token, "repository": f"{OWNER}/{NAME}",
                           "event_name": event, "workspace": str(workspace),
                           **contexts.pop("github", {})},
                "vars": {}, **contexts}
    env = runner_env(workspace, w["tmp"] / f"temp-{workflow}-{job}-{event}{attempt}", event=event,
                     repository=f"{OWNER}/{NAME}", api_url=w["gh"].url)
    artifacts = w.setdefault("artifacts", Artifacts())
    return Runner(WORKFLOWS / workflow, job, workspace, contexts, env,
                  uses={"actions/checkout": checkout(w, workspace),
                        "actions/upload-artifact": artifacts.upload(workspace),
                        "actions/download-artifact": artifacts.download(workspace)}, **kw)


def daily(w, event: str, inputs: dict, tokens: tuple[str, str], **kw) -> dict[str, Runner]:
    """daily.yml as GitHub runs it: the read-only `digest` job, then `publish` with its
    outputs (`needs`) and its artifact, when its `if:` lets it run. Each job has a token
    of its own, which may do what its `permissions:` say. A failing step raises
    CalledProcessError (the first job's, after `publish` ran when its `if:` let it); the
    runners (`.done`) say what ran."""
    skip = {"Install digest": "the venv holds the locked packages"}
    jobs = {"digest": runner(w, "daily.yml", "digest", event,
                             {"secrets": {"DIGEST_LLM_API_KEY": LLM_KEY}, "inputs": inputs},
                             tokens[0], skip_runs=skip, **kw)}
    w["last"] = jobs
    failed = None
    try:
        jobs["digest"].run()
    except subprocess.CalledProcessError as exc:
        failed = exc
    outputs = jobs["digest"].done.job_outputs
    jobs["publish"] = runner(w, "daily.yml", "publish", event,
                             {"secrets": {}, "inputs": inputs,
                              "needs": {"digest": {"outputs": outputs}}},
                             tokens[1], skip_runs=skip, **kw)
    if jobs["publish"].runs():
        jobs["publish"].run()
    if failed is not None:
        raise failed
    return jobs


def test_the_first_day(world):
    w, gh = world, world["gh"]
    site = new_site_from_template(w)

    # 1. digest doctor on the new repository: the three settings to change, with fixes
    first = doctor(w, site)
    assert first.returncode == 1, first.stdout + first.stderr
    assert [line.split(":")[0] for line in first.stdout.splitlines()
            if line.startswith("PROBLEM")] == ["PROBLEM  actions", "PROBLEM  pages",
                                               "PROBLEM  secret"]
    gh.actions_can_approve = True  # the owner follows docs/setup.md
    gh.enable_pages("workflow")
    gh.secrets.add("DIGEST_LLM_API_KEY")
    again = doctor(w, site)
    assert again.returncode == 0, again.stdout

    # 2. the first scheduled run, started three and a half hours late
    tokens = ("ghs_dailyReadOnlyToken0123", "ghs_dailyPublishToken0123")
    jobs = daily(w, "schedule", {}, tokens, wrap=["faketime", "-f", f"@{DAY} 05:47:00"])
    run, published = jobs["digest"].done, jobs["publish"].done
    assert ("Fetch, translate and render", "ran") in run.steps
    assert ("Publish", "ran") in published.steps
    assert dict(published.steps)["actions/create-github-app-token"] == "skipped"  # no App
    out = run.outputs["Fetch, translate and render"] + published.outputs["Publish"]
    assert f"digest run {DAY}" in out
    assert (f"::notice title=Post date {DAY}::Scheduled for 02:20 UTC, started 05:47 UTC: "
            f"did {DAY}") in out
    [pr] = gh.open_pulls(BRANCH)
    assert f"{N} papers" in pr["title"] and gh.labels[pr["number"]] == ["digest"]
    summary = (w["tmp"] / "temp-daily.yml-publish-schedule" / "step_summary.md")
    assert pr["html_url"] in summary.read_text("utf-8")
    assert LLM_KEY not in out and not any(token in out for token in tokens)
    # the job that read arXiv, the PDFs and the LLM could only read the repository
    assert gh.permissions[tokens[0]] == {"contents:read"}

    # 3. an editor fixes a title on the branch and pushes
    editor = w["tmp"] / "editor"
    git(w["tmp"], "clone", "-q", str(w["origin"]), str(editor))
    git(editor, "switch", "-q", BRANCH)
    record = editor / "data" / DAY / f"{paper_id(0)}.yaml"
    text = record.read_text(encoding="utf-8")
    assert w["title"](0) in text
    record.write_text(text.replace(w["title"](0), "Edited by an editor"), encoding="utf-8")
    git(editor, "commit", "-q", "-am", "Fix a title")
    git(editor, "push", "-q", "origin", BRANCH)
    head = git(editor, "rev-parse", "HEAD")

    # 4. the sync workflow on the pull request re-renders the post and commits it back
    same = {"full_name": f"{OWNER}/{NAME}"}
    sync = runner(w, "sync.yml", "sync", "pull_request", {
        "github": {"head_ref": BRANCH, "event": {"pull_request": {
            "number": pr["number"], "head": {"sha": head, "repo": same},
            "base": {"sha": git(editor, "rev-parse", "origin/main")}}}},
        "secrets": {}}, "ghs_syncActionsToken0123",
        skip_runs={"Install digest": "the venv holds the locked packages"})
    sync.env["GITHUB_HEAD_REF"] = BRANCH
    done = sync.run()
    ran = [name for name, outcome in done.steps if outcome == "ran"]
    assert ran == ["The days the pull request touches",
                   "Check the records and render the posts", "Commit the re-rendered posts",
                   "Refresh the pull request's task list", "Preview the day",
                   "Link the preview from the job summary",
                   "Check records, texts and posts"], done.steps
    git(editor, "pull", "-q")
    assert git(editor, "log", "-1", "--format=%s") == "Re-render posts from the records"
    post = (editor / "_posts" / f"{DAY}-arxiv.md").read_text(encoding="utf-8")
    assert "Edited by an editor" in post and w["title"](0) not in post
    if w["kind"] == "new-cs.CL":  # the site's own glossary went into every prompt
        prompts = [str(req["messages"]) for req in w["llm"].chat_requests]
        assert prompts and all("- large language model → 大语言模型" in p and "- WavLM" not in p
                               for p in prompts)

    # 5. merge: main gets the day
    git(editor, "switch", "-q", "main")
    git(editor, "merge", "-q", "--no-ff", BRANCH, "-m", f"Merge pull request #{pr['number']}")
    git(editor, "push", "-q", "origin", "main")

    # 6. the Pages build on the push to main, for the base path GitHub reports
    pages_token = "ghs_pagesActionsToken0123"
    pages = runner(w, "pages.yml", "build", "push", {}, pages_token,
                   skip_runs={"Install Jekyll": "installed by .ci/run",
                              "Install digest": "the venv holds the locked packages"})
    pages.uses["actions/configure-pages"] = configure_pages(w, pages_token)
    artifact: list[Path] = []
    pages.uses["actions/upload-pages-artifact"] = (
        lambda with_: artifact.append(pages.workspace / with_.get("path", "_site")))
    built = pages.run()
    assert pages.contexts["steps"]["pages"]["outputs"]["base_path"] == f"/{NAME}"
    assert f"with base path /{NAME}" in built.outputs["Build the site"]
    check_site(artifact[0], f"/{NAME}")
    site_title = {"template": "arXiv Daily · 语音与音频", "new-cs.CL": "arXiv 每日 · 自然语言处理"}
    assert site_title[w["kind"]] in (artifact[0] / "index.html").read_text(encoding="utf-8")


def configure_pages(w, token: str):
    """actions/configure-pages: reads the Pages site with the job's token (403 without
    `pages: read`); outputs base_path and base_url."""
    def handle(with_: dict) -> dict[str, str]:
        answer = httpx2.get(f"{w['gh'].url}/repos/{OWNER}/{NAME}/pages",
                           headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert answer.status_code == 200, answer.text
        url = answer.json()["html_url"].rstrip("/")
        return {"base_url": url, "base_path": urlsplit(url).path,
                "origin": f"{urlsplit(url).scheme}://{urlsplit(url).netloc}"}
    return handle


def check_site(site: Path, base: str) -> None:
    page = site / DAY.replace("-", "/") / "arxiv.html"
    html = page.read_text(encoding="utf-8")
    assert "Edited by an editor" in html
    assert f'href="{base}/assets/css/site.css"' in html
    links = re.findall(r'(?:href|src)="(/[^"]*)"', html)
    assert links and all(link.startswith(base + "/") for link in links), links


def test_a_day_nothing_could_be_translated_for_is_previewed_then_red_and_a_rerun_is_quiet(
        world):
    """The LLM answers every paper in English (refused by validation). The daily run still
    publishes the day (marked 待翻译) and previews it, and the first job's last step fails
    the run (status 3). The next run, failing the same papers the same way, commits
    nothing and ends green."""
    w, gh = world, world["gh"]
    new_site_from_template(w)
    w["llm"].responder = english_responder
    tokens = ("ghs_dailyReadOnlyToken0001", "ghs_dailyPublishToken0001")

    with pytest.raises(subprocess.CalledProcessError) as red:
        daily(w, "workflow_dispatch", {"date": DAY}, tokens)
    assert (red.value.cmd, red.value.returncode) == (
        "Fail when not one translation could be made", 3)
    assert "still publishes and previews the day" in red.value.stdout
    ran = dict(w["last"]["publish"].done.steps)
    assert [ran[name] for name in ("Publish", "Preview the day", "Upload the preview",
                                   "Link the preview from the job summary")] == [
        "ran", "ran", "handled", "ran"]
    [pr] = gh.open_pulls(BRANCH)
    summary = w["tmp"] / "temp-daily.yml-publish-workflow_dispatch" / "step_summary.md"
    assert "https://github.com/artifacts/preview-" in summary.read_text(encoding="utf-8")
    tip = gitkit.git(w["origin"], "rev-parse", BRANCH)

    # The next scheduled run: same papers, same refusals; only times would change.
    jobs = daily(w, "schedule", {}, ("ghs_dailyReadOnlyToken0002", "ghs_dailyPublishToken0002"),
                 wrap=["faketime", "-f", f"@{DAY} 05:47:00"])
    run, published = jobs["digest"].done, jobs["publish"].done
    assert dict(run.steps)["Fail when not one translation could be made"] == "skipped"
    out = run.outputs["Fetch, translate and render"] + published.outputs["Publish"]
    assert "failed as their records already say (same reasons): nothing new to write" in out
    assert f"{BRANCH} is up to date" in out
    assert gitkit.git(w["origin"], "rev-parse", BRANCH) == tip
    assert gh.open_pulls(BRANCH) == [pr]

    # An editor fixes a title on the branch; the LLM is back; the day is run again. The
    # read-only job restores the editor's record and translates; the publish job (another
    # checkout, of main) is told which branch commit those records came from, so it
    # commits the translations over the editor's fix instead of refusing to.
    editor = w["tmp"] / "editor"
    git(w["tmp"], "clone", "-q", str(w["origin"]), str(editor))
    git(editor, "switch", "-q", BRANCH)
    record = editor / "data" / DAY / f"{paper_id(0)}.yaml"
    record.write_text(record.read_text(encoding="utf-8").replace(
        w["title"](0), "Edited by an editor"), encoding="utf-8")
    git(editor, "commit", "-q", "-am", "Fix a title")
    git(editor, "push", "-q", "origin", BRANCH)
    w["llm"].responder = by_model()
    daily(w, "workflow_dispatch", {"date": DAY},
          ("ghs_dailyReadOnlyToken0003", "ghs_dailyPublishToken0003"), attempt="-again")
    git(editor, "pull", "-q")
    text = record.read_text(encoding="utf-8")
    assert "Edited by an editor" in text and "\ntranslation:\n" in text
    assert git(editor, "log", "-1", "--format=%s", "--", str(record)).startswith(
        f"Update {paper_id(0)}: Edited by an editor")
