"""Review: `digest review`, ticks in the PR body, and the review workflow's shell steps run
for real against FakeGitHub on 127.0.0.1 and a bare git origin."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from digest_cli.publish.body import parse_ticks, pr_body, set_box
from digest_cli.publish.ticks import apply_ticks, changed_ticks
from digest_cli.records.store import load_day, load_paper
from digest_cli.records.writer import Writer
from digest_cli.settings import load_settings
from tests.clikit import one_error, run_cli
from tests.conftest import SAMPLE_DAY
from tests.fakes.github_server import FakeGitHub
from tests.gitkit import IDENTITY, git
from tests.test_workflows import BIN, load, pr_checkout, run_step, step  # noqa: F401 - a fixture

RECORD = "data/2026-01-28/2601.19786.yaml"
OTHER = "data/2026-01-28/2601.19781.yaml"


def tick(body: str, paper_id: str, ticked: bool = True) -> str:
    """The body with the paper's box clicked, as GitHub's task list does."""
    assert paper_id in parse_ticks(body)
    return set_box(body, paper_id, ticked)


# -- the library and the command -------------------------------------------------------

def test_only_changed_boxes_are_taken():
    old = "- [ ] **2601.1** a\n- [x] **2601.2** b\n- [ ] **2601.3** c\n"
    new = "- [x] **2601.1** a\n- [x] **2601.2** b\n- [ ] **2601.3** c\n"
    assert changed_ticks(new, old) == {"2601.1": True}
    assert changed_ticks(new, None) == {"2601.1": True, "2601.2": True, "2601.3": False}


def test_ticks_set_and_clear_reviewed_and_need_write_access(sample_site, settings_for):
    settings = settings_for(sample_site)
    body = pr_body(load_day(settings, SAMPLE_DAY), settings)
    roles = {"editor": "write", "boss": "admin", "reader": "read", "stranger": "none"}
    ticked = tick(body, "2601.19786")
    report = apply_ticks(settings, ticked, body, "editor", Writer(), permission=roles.get)
    assert report.changed == ["2601.19786"] and report.day == SAMPLE_DAY
    assert load_paper(sample_site / RECORD).reviewed is True
    for who in ("reader", "stranger"):
        report = apply_ticks(settings, tick(ticked, "2601.19781"), ticked, who, Writer(),
                             permission=roles.get)
        assert not report.allowed and report.changed == []
    assert load_paper(sample_site / OTHER).reviewed is False
    report = apply_ticks(settings, body, ticked, "boss", Writer(), permission=roles.get)
    assert report.changed == ["2601.19786"]
    assert load_paper(sample_site / RECORD).reviewed is False


def test_the_records_follow_every_box_not_only_the_ones_this_edit_changed(sample_site,
                                                                         settings_for):
    # Three quick ticks: the run of the middle edit was cancelled, so the last edit's old
    # text already has the middle tick. It must still reach the record.
    settings = settings_for(sample_site)
    body = pr_body(load_day(settings, SAMPLE_DAY), settings)
    first = tick(body, "2601.19786")
    middle = tick(first, "2601.19781")
    last = tick(middle, "2601.19767")
    roles = {"editor": "write"}
    apply_ticks(settings, first, body, "editor", Writer(), permission=roles.get)
    report = apply_ticks(settings, last, middle, "editor", Writer(), permission=roles.get)
    assert report.edited == {"2601.19767": True}
    assert report.changed == ["2601.19781", "2601.19767"]
    reviewed = {p.id.base for p in load_day(settings, SAMPLE_DAY).papers if p.reviewed}
    assert reviewed == {"2601.19786", "2601.19781", "2601.19767"}
    asked = []
    report = apply_ticks(settings, last, middle, "editor", Writer(),
                         permission=lambda who: asked.append(who) or "write")
    assert report.changed == [] and asked == []  # the records match: nobody is asked


def test_review_table_lists_status_and_marks(sample_site):
    result = run_cli(sample_site, "review", "--date", str(SAMPLE_DAY), "--mark", "2601.19786")
    assert result.exit_code == 0 and "1 record changed: 2601.19786" in result.output
    result = run_cli(sample_site, "review", "--date", str(SAMPLE_DAY))
    assert result.exit_code == 0
    assert "reviewed 1 of 20" in result.output and "translated" in result.output
    assert "2601.19786" in result.output and "✓" in result.output
    result = run_cli(sample_site, "review", "--date", str(SAMPLE_DAY), "--unmark", "2601.19786")
    assert "1 record changed" in result.output
    assert load_paper(sample_site / RECORD).reviewed is False
    result = run_cli(sample_site, "review", "--date", str(SAMPLE_DAY), "--mark", "2601.19786",
                     "--mark", "2601.19781")
    assert "2 records changed: 2601.19786, 2601.19781" in result.output


def test_review_table_is_one_line_a_paper_at_80_columns(sample_site):
    record = sample_site / RECORD
    record.write_text(re.sub(r"(?m)^title: .*$", "title: " + "Supercalifragilistic" * 8,
                             record.read_text()))
    result = run_cli(sample_site, "review", "--date", str(SAMPLE_DAY), env={"COLUMNS": "80"})
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    rows = [line for line in lines if re.match(r"│ \d+ ", line)]
    assert len(rows) == 20  # no title or path folded onto a second line
    assert "2601.19786 │ Supercalifragilistic" in rows[0] and "…" in rows[0]
    assert "records: data/2026-01-28/<id>.yaml" in result.output


def test_marking_a_paper_the_day_does_not_show_is_one_line(sample_site):
    result = run_cli(sample_site, "review", "--date", str(SAMPLE_DAY), "--mark", "2601.19786",
                     "--mark", "2601.00001")
    assert result.exit_code == 1
    assert "paper 2601.00001 is not shown on 2026-01-28" in one_error(result)
    assert load_paper(sample_site / RECORD).reviewed is False  # nothing half-done


def test_review_needs_a_date(sample_site):
    assert run_cli(sample_site, "review").exit_code == 2


def test_review_table_shows_a_title_with_brackets_as_text(sample_site):
    record = sample_site / RECORD
    record.write_text(re.sub(r"(?m)^title: .*$", "title: '[b]x[/b]'",
                             record.read_text()))
    result = run_cli(sample_site, "review", "--date", str(SAMPLE_DAY))
    assert "[b]x[/b]" in result.output


# -- the workflow ------------------------------------------------------------------------

def run_review_step(work: Path, name: str, job: str = "ticks",
                    **env: str) -> subprocess.CompletedProcess:
    script = step(load("review.yml"), job, name)["run"]
    full = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
            "GITHUB_ACTIONS": "true", "RUNNER_TEMP": str(work.parent), **env}
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=work, env=full,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def github(pr_checkout):  # noqa: F811 - the fixture imported above
    settings = load_settings(pr_checkout, environ={})
    body = pr_body(load_day(settings, SAMPLE_DAY), settings)
    with FakeGitHub(token="t0ken", owner="octo", repo="site") as gh:
        gh.collaborators = {"editor": "write", "reader": "read"}
        gh.add_pull("digest/2026-01-28", title="arXiv Daily", body=body)
        yield gh, body


def api_env(gh: FakeGitHub, **extra: str) -> dict[str, str]:
    return {"GITHUB_API_URL": gh.api_url, "GITHUB_REPOSITORY": "octo/site",
            "GITHUB_TOKEN": "t0ken", **extra}


def edit_body(gh: FakeGitHub, text: str) -> str:
    """A person saves the PR body (GitHub keeps it; the event carries it)."""
    [pr] = gh.open_pulls("digest/2026-01-28")
    pr["body"] = text
    return text


COMMIT_ENV = {"HEAD_REF": "digest/2026-01-28", "ACTOR": "editor", "ACTOR_ID": "1234"}


def reviewed_on_origin(work: Path, record: str) -> bool:
    git(work, *IDENTITY, "fetch", "-q", "origin")
    text = git(work, *IDENTITY, "show", f"origin/digest/2026-01-28:{record}")
    return "reviewed: true" in text


def test_workflow_finds_the_branch_of_the_pull_request(pr_checkout, github):  # noqa: F811
    gh, _ = github
    out = pr_checkout.parent / "out.txt"
    result = run_review_step(pr_checkout, "Find the branch", job="who",
                             **api_env(gh, NUMBER="1", GITHUB_OUTPUT=str(out)))
    assert result.returncode == 0, result.stderr
    assert out.read_text() == "ref=digest/2026-01-28\n"


def test_workflow_ticked_box_marks_the_record_and_refreshes_the_body(pr_checkout,  # noqa: F811
                                                                     github):
    gh, body = github
    new = edit_body(gh, tick(body, "2601.19786"))
    result = run_review_step(pr_checkout, "Take the ticks into the records",
                             **api_env(gh, NEW_TEXT=new, OLD_TEXT=body, ACTOR="editor"))
    assert result.returncode == 0, result.stderr
    assert "1 record changed: 2601.19786" in result.stdout
    result = run_review_step(pr_checkout, "Commit the marks", **COMMIT_ENV)
    assert result.returncode == 0, result.stderr
    assert reviewed_on_origin(pr_checkout, RECORD)
    assert not reviewed_on_origin(pr_checkout, OTHER)
    result = run_review_step(pr_checkout, "Refresh the pull request's task list",
                             **api_env(gh, HEAD_REF="digest/2026-01-28"))
    assert result.returncode == 0, result.stderr
    [pr] = gh.open_pulls("digest/2026-01-28")
    assert "**Reviewed 1 of 20** papers" in pr["body"]
    boxes = parse_ticks(pr["body"])
    assert boxes["2601.19786"] and not boxes["2601.19781"]
    assert any(r.path.endswith("/collaborators/editor/permission") for r in gh.requests)


def test_workflow_unticked_box_clears_the_mark(pr_checkout, github):  # noqa: F811
    gh, body = github
    run_cli(pr_checkout, "review", "--date", str(SAMPLE_DAY), "--mark", "2601.19786")
    git(pr_checkout, *IDENTITY, "commit", "-q", "-a", "-m", "Reviewed one")
    ticked = tick(body, "2601.19786")
    result = run_review_step(pr_checkout, "Take the ticks into the records",
                             **api_env(gh, NEW_TEXT=body, OLD_TEXT=ticked, ACTOR="editor"))
    assert result.returncode == 0, result.stderr
    assert load_paper(pr_checkout / RECORD).reviewed is False
    result = run_review_step(pr_checkout, "Commit the marks", **COMMIT_ENV)
    assert result.returncode == 0, result.stderr
    assert not reviewed_on_origin(pr_checkout, RECORD)


def test_workflow_ignores_ticks_of_a_user_without_write_access(pr_checkout,  # noqa: F811
                                                               github):
    gh, body = github
    before = git(pr_checkout, *IDENTITY, "rev-parse", "origin/digest/2026-01-28")
    result = run_review_step(pr_checkout, "Take the ticks into the records",
                             **api_env(gh, NEW_TEXT=tick(body, "2601.19786"), OLD_TEXT=body,
                                       ACTOR="reader"))
    assert result.returncode == 0, result.stderr
    assert "reader has no write access" in result.stdout
    result = run_review_step(pr_checkout, "Commit the marks", **COMMIT_ENV)
    assert result.returncode == 0 and "No record changed." in result.stdout
    git(pr_checkout, *IDENTITY, "fetch", "-q", "origin")
    assert git(pr_checkout, *IDENTITY, "rev-parse", "origin/digest/2026-01-28") == before


def test_workflow_keeps_the_middle_of_three_quick_ticks(pr_checkout, github):  # noqa: F811
    # The concurrency group keeps one pending run: the middle edit's run never ran.
    gh, body = github
    first = tick(body, "2601.19786")
    middle = tick(first, "2601.19781")
    last = tick(middle, "2601.19767")
    edit_body(gh, last)
    for new, old in ((first, body), (last, middle)):
        result = run_review_step(pr_checkout, "Take the ticks into the records",
                                 **api_env(gh, NEW_TEXT=new, OLD_TEXT=old, ACTOR="editor"))
        assert result.returncode == 0, result.stderr
        result = run_review_step(pr_checkout, "Commit the marks", **COMMIT_ENV)
        assert result.returncode == 0, result.stderr
    result = run_review_step(pr_checkout, "Refresh the pull request's task list",
                             **api_env(gh, HEAD_REF="digest/2026-01-28"))
    assert result.returncode == 0, result.stderr
    for paper in ("2601.19786", "2601.19781", "2601.19767"):
        assert reviewed_on_origin(pr_checkout, f"data/2026-01-28/{paper}.yaml"), paper
    [pr] = gh.open_pulls("digest/2026-01-28")
    assert "**Reviewed 3 of 20** papers" in pr["body"]
    assert parse_ticks(pr["body"])["2601.19781"]


def push_meanwhile(work: Path, path: str, text: str) -> str:
    """Another writer (the other workflow, an editor) pushes to the branch; its commit."""
    other = work.parent / "other"
    git(work.parent, *IDENTITY, "clone", "-q", "-b", "digest/2026-01-28",
        str(work.parent / "origin.git"), str(other))
    target = other / path
    target.write_text(text(target.read_text()) if callable(text) else text, encoding="utf-8")
    git(other, *IDENTITY, "commit", "-q", "-a", "-m", "Meanwhile")
    git(other, *IDENTITY, "push", "-q", "origin", "HEAD:refs/heads/digest/2026-01-28")
    return git(other, "rev-parse", "HEAD")


def test_workflow_takes_a_push_made_meanwhile_before_pushing_the_marks(pr_checkout,  # noqa: F811
                                                                       github):
    gh, body = github
    result = run_review_step(pr_checkout, "Take the ticks into the records",
                             **api_env(gh, NEW_TEXT=tick(body, "2601.19786"), OLD_TEXT=body,
                                       ACTOR="editor"))
    assert result.returncode == 0, result.stderr
    meanwhile = push_meanwhile(pr_checkout, OTHER, lambda text: text.replace(
        "reviewed: false", "reviewed: true"))
    result = run_review_step(pr_checkout, "Commit the marks", **COMMIT_ENV)
    assert result.returncode == 0, result.stderr
    assert reviewed_on_origin(pr_checkout, RECORD) and reviewed_on_origin(pr_checkout, OTHER)
    log = git(pr_checkout, "log", "--format=%H", "origin/digest/2026-01-28")
    assert meanwhile in log.split()


def test_sync_takes_a_push_made_meanwhile_before_pushing_the_posts(pr_checkout):  # noqa: F811
    record = pr_checkout / RECORD
    record.write_text(record.read_text(encoding="utf-8").replace(
        "title: Rethinking", "title: Revisiting"), encoding="utf-8")
    git(pr_checkout, *IDENTITY, "commit", "-q", "-a", "-m", "Fix the title")
    git(pr_checkout, *IDENTITY, "push", "-q", "origin", "HEAD:refs/heads/digest/2026-01-28")
    git(pr_checkout, "checkout", "-q", "--detach")  # as actions/checkout of the head sha
    meanwhile = push_meanwhile(pr_checkout, OTHER, lambda text: text.replace(
        "reviewed: false", "reviewed: true"))  # review.yml's marks
    assert run_step(pr_checkout, "Check the records and render the posts").returncode == 0
    result = run_step(pr_checkout, "Commit the re-rendered posts", SAME_REPO="true",
                      HEAD_REF="digest/2026-01-28")
    assert result.returncode == 0, result.stderr
    git(pr_checkout, *IDENTITY, "fetch", "-q", "origin")
    post = git(pr_checkout, "show", "origin/digest/2026-01-28:_posts/2026-01-28-arxiv.md")
    assert "Revisiting" in post and reviewed_on_origin(pr_checkout, OTHER)
    assert meanwhile in git(pr_checkout, "log", "--format=%H", "origin/digest/2026-01-28")


def test_workflow_acts_only_on_body_edits_of_a_days_pull_request():
    wf = load("review.yml")
    assert wf["on"] == {"pull_request": {"types": ["edited"]},
                        "issue_comment": {"types": ["edited"]}}
    assert wf["permissions"] == {"contents": "read"}
    who = wf["jobs"]["who"]
    assert "github.event.changes.body != null" in who["if"]
    assert "startsWith(github.event.pull_request.head.ref, 'digest/')" in who["if"]
    assert who["permissions"] == {"contents": "read", "pull-requests": "read"}
    job = wf["jobs"]["ticks"]
    assert job["needs"] == "who" and "needs.who.outputs.allowed == 'true'" in job["if"]
    assert job["permissions"] == {"contents": "write", "pull-requests": "write"}
    take = step(wf, "ticks", "Take the ticks into the records")
    assert take["env"]["ACTOR"] == "${{ github.event.sender.login }}"
    assert "--actor" in take["run"]


def test_concurrency_is_per_job_so_an_outsiders_edit_never_replaces_an_editors_run():
    # A workflow-level group held every event's run, an outsider's too: a second pending
    # run replaced the editor's. Now only runs that passed `who` wait in the group.
    wf = load("review.yml")
    assert "concurrency" not in wf and "concurrency" not in wf["jobs"]["who"]
    assert wf["jobs"]["ticks"]["concurrency"] == {
        "group": "review-${{ github.event.pull_request.number || github.event.issue.number }}",
        "cancel-in-progress": False}


def _who_runs(event: str, payload: dict) -> bool:
    from tests.workflow_runner import evaluate

    condition = "${{ " + load("review.yml")["jobs"]["who"]["if"] + " }}"
    return bool(evaluate(condition, {"github": {"event_name": event, "event": payload}}))


def test_only_task_list_edits_start_a_review_run():
    marker = "<!-- digest-papers:2026-01-28 -->\n- [x] **2601.19786** a\n"
    comment = {"issue": {"pull_request": {"url": "x"}},
               "changes": {"body": {"from": marker.replace("[x]", "[ ]")}}}
    bot = {**comment, "comment": {"body": marker, "user": {"login": "github-actions[bot]",
                                                            "type": "Bot"}}}
    assert _who_runs("issue_comment", bot)
    # whose comment it is, `who` asks GitHub (below): a person may be the token's owner
    other = {**comment, "comment": {"body": "a reply", "user": {"login": "github-actions[bot]",
                                                                 "type": "Bot"}}}
    assert not _who_runs("issue_comment", other)
    assert not _who_runs("issue_comment", {**bot, "issue": {}})  # an issue, not a PR
    body = {"pull_request": {"head": {"ref": "digest/2026-01-28"}},
            "changes": {"body": {"from": "old"}}}
    assert _who_runs("pull_request", body)
    assert not _who_runs("pull_request", {**body, "changes": {"title": {"from": "t"}}})


@pytest.mark.parametrize("login, role, allowed", [
    ("editor", "write", "true"), ("boss", "admin", "true"), ("keeper", "maintain", "true"),
    ("custom", "reviewer:write", "true"), ("triager", "triage", "false"),
    ("reader", "read", "false"), ("passer-by", None, "false"), ("ghost", "404", "false"),
])
def test_who_asks_github_whether_the_editor_may_write(pr_checkout, login, role,  # noqa: F811
                                                       allowed):
    with FakeGitHub(token="t0ken", owner="octo", repo="site") as gh:
        if role == "404":
            gh.unknown_users.add(login)
        elif role is not None:
            gh.collaborators[login] = role
        out = pr_checkout.parent / "out.txt"
        result = run_review_step(pr_checkout, "Ask whether the editor may write", job="who",
                                 **api_env(gh, ACTOR=login, GITHUB_OUTPUT=str(out)))
        assert result.returncode == 0, result.stderr
        assert out.read_text() == f"allowed={allowed}\n"


@pytest.mark.parametrize("author, kind, allowed", [
    ("github-actions[bot]", "Bot", "true"),  # GITHUB_TOKEN or the App
    ("site-owner", "User", "true"),  # opened the pull request: published with DIGEST_PR_TOKEN
    ("editor", "User", "false"),  # an editor's comment that carries the marker is theirs
    ("mallory", "User", "false"),  # an outsider's comment holding the marker
])
def test_who_takes_a_comment_only_when_the_site_wrote_it(pr_checkout, author, kind,  # noqa: F811
                                                         allowed):
    (pr_checkout.parent / "pr.json").write_text(json.dumps({"user": {"login": "site-owner"}}))
    with FakeGitHub(token="t0ken", owner="octo", repo="site") as gh:
        gh.collaborators = {"editor": "write", "site-owner": "admin"}
        out = pr_checkout.parent / "out.txt"
        result = run_review_step(pr_checkout, "Ask whether the editor may write", job="who",
                                 **api_env(gh, ACTOR="editor", AUTHOR=author, AUTHOR_TYPE=kind,
                                           GITHUB_OUTPUT=str(out)))
        assert result.returncode == 0, result.stderr
        assert out.read_text() == f"allowed={allowed}\n"
        asked = [r.path.rsplit("/", 2)[1] for r in gh.requests if r.path.endswith("/permission")]
        assert asked == ["editor"]  # the editor's access; the comment's author by name
        assert ("not the site" in result.stdout) == (allowed == "false")


def test_the_mark_commit_names_the_person_and_the_papers(pr_checkout, github):  # noqa: F811
    gh, body = github
    new = tick(tick(body, "2601.19786"), "2601.19781")
    result = run_review_step(pr_checkout, "Take the ticks into the records",
                             **api_env(gh, NEW_TEXT=new, OLD_TEXT=body, ACTOR="editor"))
    assert result.returncode == 0, result.stderr
    result = run_review_step(pr_checkout, "Commit the marks", **COMMIT_ENV)
    assert result.returncode == 0, result.stderr
    author = git(pr_checkout, "log", "-1", "--format=%an <%ae>|%cn|%s",
                 "origin/digest/2026-01-28")
    assert author == ("editor <1234+editor@users.noreply.github.com>|github-actions[bot]|"
                      "Review of 2026-01-28: @editor reviewed 2601.19786, 2601.19781")
    record = load_paper(pr_checkout / RECORD)
    assert record.reviewed and record.reviewed_by == "editor"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", record.reviewed_at or "")


@pytest.mark.parametrize("workflow, job, env", [
    ("daily.yml", "publish", {"DAY": "2026-01-28"}),
    ("sync.yml", "sync", {"HEAD_REF": "digest/2026-01-28"}),
])
def test_workflows_preview_the_day_for_the_artifact(pr_checkout, workflow, job,  # noqa: F811
                                                    env):
    out = pr_checkout.parent / "out.txt"
    script = step(load(workflow), job, "Preview the day")["run"]
    full = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
            "GITHUB_OUTPUT": str(out), **env}
    result = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=pr_checkout,
                            env=full, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    outputs = dict(line.split("=", 1) for line in out.read_text().splitlines())
    assert outputs["day"] == "2026-01-28"
    assert "<article" in (pr_checkout / outputs["path"]).read_text(encoding="utf-8")
    upload = step(load(workflow), job, "Upload the preview")
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert upload["with"]["path"] == "${{ steps.day.outputs.path }}"
    link = step(load(workflow), job, "Link the preview from the job summary")
    assert link["env"]["URL"] == "${{ steps.preview.outputs.artifact-url }}"
    assert "GITHUB_STEP_SUMMARY" in link["run"]


def test_tasks_that_do_not_fit_go_to_comments_that_are_kept_up_to_date():
    from digest_cli.publish.github import GitHub
    from digest_cli.publish.pull_request import sync_overflow_comments

    marker = "<!-- digest-papers:2026-01-28 -->"
    with FakeGitHub(token="t0ken") as fake:
        number = fake.add_pull("digest/2026-01-28", body="body")["number"]
        with GitHub(fake.api_url, fake.full_name, "t0ken", retries=0) as gh:
            gh.create_comment(number, "an editor's comment")
            sync_overflow_comments(gh, number, "2026-01-28", [f"{marker}\n- [ ] **2601.1** a\n"])
            sync_overflow_comments(gh, number, "2026-01-28", [f"{marker}\n- [x] **2601.1** a\n"])
            bodies = [c["body"] for c in fake.comments]
            assert bodies == ["an editor's comment", f"{marker}\n- [x] **2601.1** a\n"]
            sync_overflow_comments(gh, number, "2026-01-28", [])  # fits now: costs nothing
            assert [c["body"] for c in fake.comments] == bodies


# -- who, when, what: changed after review ---------------------------------------------

def test_a_mark_keeps_who_when_and_what_and_a_later_edit_shows(sample_site, settings_for):
    from datetime import datetime, timezone

    from digest_cli.publish.body import CHANGED

    settings = settings_for(sample_site)
    body = pr_body(load_day(settings, SAMPLE_DAY), settings)
    at = datetime(2026, 1, 28, 9, 30, tzinfo=timezone.utc)
    apply_ticks(settings, tick(body, "2601.19786"), body, "editor", Writer(),
                permission={"editor": "write"}.get, now=at)
    text = (sample_site / RECORD).read_text(encoding="utf-8")
    assert "\nreviewed: true\n" in text
    assert re.search(r"\nreviewed_by: editor\nreviewed_at: '2026-01-28T09:30:00Z'\n"
                     r"reviewed_hash: sha256:[0-9a-f]{16}\nreviewed_from: [0-9a-f]{6}\n$", text)
    # (bookkeeping, at the end of the record)
    result = run_cli(sample_site, "review", "--date", str(SAMPLE_DAY))
    assert "2601.19786: reviewed by editor at 2026-01-28T09:30:00Z" in result.output
    # An editor rewords the translation afterwards: the paper is changed since review.
    (sample_site / RECORD).write_text(text.replace("离散语音表征标记已成为", "离散语音表征单元已成为"),
                                      encoding="utf-8")
    day = load_day(settings, SAMPLE_DAY)
    body = pr_body(day, settings)
    assert parse_ticks(body)["2601.19786"] is False  # to tick again
    [line] = [x for x in body.splitlines() if "**2601.19786**" in x]
    assert line.startswith(f"- [ ] {CHANGED} · ✏️ edited · **2601.19786**")
    assert "1 changed since review" in body
    papers = [x for x in body.splitlines() if x.startswith("- [")]
    assert "**2601.19786**" in papers[0]  # changed since review comes before unreviewed
    result = run_cli(sample_site, "review", "--date", str(SAMPLE_DAY))
    assert "changed since reviewed by editor" in result.output and "reviewed 0 of 20" in \
        result.output
    assert run_cli(sample_site, "render", "--date", str(SAMPLE_DAY)).exit_code == 0
    result = run_cli(sample_site, "check", "--date", str(SAMPLE_DAY))
    assert result.exit_code == 0, result.output  # a warning
    assert "2601.19786.yaml:21" in result.output and \
        "changed since it was reviewed by editor" in result.output
    # Ticking again approves the new text.
    body = pr_body(day, settings)
    apply_ticks(settings, tick(body, "2601.19786"), body, "editor", Writer(),
                permission={"editor": "write"}.get)
    assert parse_ticks(pr_body(load_day(settings, SAMPLE_DAY), settings))["2601.19786"]
    assert "changed since" not in run_cli(sample_site, "check", "--date",
                                          str(SAMPLE_DAY)).output


def test_unticking_clears_who_when_and_what(sample_site, settings_for):
    settings = settings_for(sample_site)
    body = pr_body(load_day(settings, SAMPLE_DAY), settings)
    ticked = tick(body, "2601.19786")
    roles = {"editor": "write"}.get
    apply_ticks(settings, ticked, body, "editor", Writer(), permission=roles)
    apply_ticks(settings, tick(ticked, "2601.19786", False), ticked, "editor", Writer(),
                permission=roles)
    text = (sample_site / RECORD).read_text(encoding="utf-8")
    assert "reviewed: false\n" in text and "reviewed_by" not in text
    assert "reviewed_hash" not in text


def test_a_glossary_term_not_kept_is_a_check_warning(sample_site):
    record = sample_site / RECORD
    text = record.read_text(encoding="utf-8")
    record.write_text(text.replace("abstract: |\n", "abstract: |\n  Discrete speech "
                                   "tokens help speech synthesis.\n", 1), encoding="utf-8")
    (sample_site / "glossary.yaml").write_text("speech synthesis: 语音合成\nHuBERT: keep\n",
                                               encoding="utf-8")
    assert run_cli(sample_site, "render", "--date", str(SAMPLE_DAY)).exit_code == 0
    result = run_cli(sample_site, "check", "--date", str(SAMPLE_DAY))
    assert result.exit_code == 0, result.output
    assert "the abstract says 'speech synthesis', but the glossary's '语音合成' is not in " \
           "the translation" in result.output
    assert "HuBERT" not in result.output  # not in this abstract


def test_the_record_link_opens_the_file_in_files_changed(sample_site):
    import hashlib

    settings = load_settings(sample_site, environ={"GITHUB_REPOSITORY": "octo/site"})
    from digest_cli.publish.body import pr_texts

    body, _ = pr_texts(load_day(settings, SAMPLE_DAY), settings, "digest/2026-01-28",
                       number=7)
    anchor = hashlib.sha256(RECORD.encode()).hexdigest()
    assert f"[record](https://github.com/octo/site/pull/7/files#diff-{anchor})" in body


# -- the parser, the comments, the permission --------------------------------------------

def test_the_task_list_parser_is_linear_and_bounded():
    from digest_cli.publish.body import TEXT_LIMIT

    assert parse_ticks("\n" * 65536) == {}  # took ~28 s with `^\s*` and re.M
    assert parse_ticks(" " * 65536 + "\n- [x] **2601.1** a") == {"2601.1": True}
    late = "x" * TEXT_LIMIT + "\n- [x] **2601.2** b\n"
    assert parse_ticks(late) == {}  # longer than any text GitHub keeps: not read
    assert parse_ticks("- [x] ❌ failed · **2601.3** c\r\n- [ ] **2601.4** d") == {
        "2601.3": True, "2601.4": False}


def test_an_outsiders_comment_with_the_marker_is_never_rewritten():
    from digest_cli.publish.github import GitHub
    from digest_cli.publish.pull_request import sync_overflow_comments

    marker = "<!-- digest-papers:2026-01-28 -->"
    with FakeGitHub(token="t0ken") as fake:
        number = fake.add_pull("digest/2026-01-28", body="body")["number"]
        fake.comments.append({"id": 1, "body": f"{marker}\n- [x] **2601.1** mine\n",
                              "_repo": fake.full_name, "_number": number,
                              "user": {"login": "mallory", "type": "User"}})
        with GitHub(fake.api_url, fake.full_name, "t0ken", retries=0) as gh:
            sync_overflow_comments(gh, number, "2026-01-28", [f"{marker}\n- [ ] **2601.1** a\n"])
        assert fake.comments[0]["body"] == f"{marker}\n- [x] **2601.1** mine\n"
        assert fake.comments[1]["body"] == f"{marker}\n- [ ] **2601.1** a\n"
        assert fake.comments[1]["user"]["type"] == "Bot"


def test_comments_published_with_a_personal_token_are_the_sites_own():
    """With DIGEST_PR_TOKEN the pull request and its overflow comments are written by a
    person (type User), the owner of the token: those comments are kept up to date, not
    written again beside themselves; an editor's or an outsider's comment that carries
    the marker is still left alone."""
    from digest_cli.publish.github import GitHub
    from digest_cli.publish.pull_request import sync_overflow_comments

    marker = "<!-- digest-papers:2026-01-28 -->"
    with FakeGitHub(token="t0ken", login="site-owner") as fake:
        pr = fake.add_pull("digest/2026-01-28", body="body")
        number = pr["number"]
        assert pr["user"]["login"] == "site-owner"
        with GitHub(fake.api_url, fake.full_name, "t0ken", retries=0) as gh:
            author = gh.find_pull("digest/2026-01-28").author
            sync_overflow_comments(gh, number, "2026-01-28", [f"{marker}\n- [ ] **2601.1** a\n"],
                                   publisher=author)
            for n, who in enumerate(("editor", "mallory")):
                fake.comments.append({"id": 7 + n, "body": f"{marker}\n- [x] **2601.1** {who}\n",
                                      "_repo": fake.full_name, "_number": number,
                                      "user": {"login": who, "type": "User"}})
            sync_overflow_comments(gh, number, "2026-01-28", [f"{marker}\n- [x] **2601.1** a\n",
                                                              f"{marker}\n- [ ] **2601.2** b\n"],
                                   publisher=author)
        assert [(c["user"]["login"], c["body"]) for c in fake.comments] == [
            ("site-owner", f"{marker}\n- [x] **2601.1** a\n"),
            ("editor", f"{marker}\n- [x] **2601.1** editor\n"),
            ("mallory", f"{marker}\n- [x] **2601.1** mallory\n"),
            ("site-owner", f"{marker}\n- [ ] **2601.2** b\n")]
        assert fake.comments[0]["user"]["type"] == "User"


def test_the_fake_answers_the_permission_endpoint_as_github_does():
    from digest_cli.publish.github import GitHub

    with FakeGitHub(token="t0ken") as fake:
        fake.collaborators = {"keeper": "maintain", "custom": "reviewer:write",
                              "triager": "triage"}
        fake.unknown_users.add("ghost")
        with GitHub(fake.api_url, fake.full_name, "t0ken", retries=0) as gh:
            assert gh.permission("keeper") == "write"  # the base role
            assert gh.permission("custom") == "write"
            assert gh.permission("triager") == "read"
            assert gh.permission("passer-by") == "read"  # anyone reads a public repository
            assert gh.permission("ghost") == "none"  # 404
        fake.repos[fake.full_name]["private"] = True
        with GitHub(fake.api_url, fake.full_name, "t0ken", retries=0) as gh:
            assert gh.permission("passer-by") == "none"


def test_sync_refreshes_the_task_list_from_the_branch_head_even_after_a_refusal(
        pr_checkout, github):  # noqa: F811
    # sync.yml checked out an editor's commit; review.yml then pushed a mark. The refresh
    # reads the branch's head (not the older checkout), and runs after a failed sync too.
    gh, body = github
    git(pr_checkout, "checkout", "-q", "--detach")  # as actions/checkout of the head sha
    push_meanwhile(pr_checkout, RECORD, lambda text: text.replace(
        "reviewed: false", "reviewed: true"))
    result = run_step(pr_checkout, "Refresh the pull request's task list",
                      **api_env(gh, HEAD_REF="digest/2026-01-28",
                                RUNNER_TEMP=str(pr_checkout.parent)))
    assert result.returncode == 0, result.stderr
    [pr] = gh.open_pulls("digest/2026-01-28")
    assert parse_ticks(pr["body"])["2601.19786"] is True
    assert "**Reviewed 1 of 20**" in pr["body"]
    assert "reviewed: false" in (pr_checkout / RECORD).read_text()  # the checkout is old
    refresh = step(load("sync.yml"), "sync", "Refresh the pull request's task list")
    assert refresh["if"].startswith("${{ !cancelled() &&")
