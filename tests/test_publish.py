"""`digest publish` against a real bare repository as origin and FakeGitHub as the API.

No network: origin is a folder, the GitHub API a server on 127.0.0.1.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from digest_cli.errors import PublishError
from digest_cli.fetch.day import fetch_day
from digest_cli.fetch.select import History
from digest_cli.posts.write import render_days
from digest_cli.publish.branches import restore_day
from digest_cli.publish.commits import commit_message
from digest_cli.publish.day import publish_day
from digest_cli.records.model import ArxivId, Day, MachineText, Manifest, text_hash
from digest_cli.records.store import load_day, write_day, write_paper
from digest_cli.records.writer import Writer
from digest_cli.settings import load_settings
from tests.clikit import run_cli
from tests.conftest import SAMPLE
from tests.fakes.github_server import ACTIONS_FORBIDDEN, FakeGitHub
from tests.gitkit import IDENTITY, git, has_branch, make_site_repo

REPO = Path(__file__).resolve().parents[1]
DAY = date(2026, 1, 28)
D = DAY.isoformat()
BRANCH = f"digest/{D}"
TOKEN = "t0ken-Secret-123"
UTC = timezone.utc
TUESDAY, WEDNESDAY = date(2026, 3, 10), date(2026, 3, 11)
MONDAY_NOON = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)  # announced for Tuesday's post
MONDAY_EVENING = datetime(2026, 3, 9, 19, 0, tzinfo=UTC)  # after the cut-off: Wednesday's


pytestmark = pytest.mark.usefixtures("isolated_git")  # CI machines may have no user.name


class Site:
    """A bare `origin` and a clone of it with an initial commit on main."""

    def __init__(self, tmp: Path) -> None:
        self.origin = tmp / "origin.git"
        self.root = tmp / "site"
        make_site_repo(self.origin, self.root, git)

    def settings(self, server: FakeGitHub | None = None, root: Path | None = None,
                 **env: str):
        environ = {"DIGEST_GITHUB_RETRY_DELAY": "0"}
        if server is not None:
            environ.update(GITHUB_API_URL=server.url, GITHUB_REPOSITORY="owner/site",
                           GITHUB_TOKEN=TOKEN)
        environ.update(env)
        return load_settings(root or self.root, environ=environ)

    def write_day(self, n: int | None = 3) -> None:
        """The sample day's first `n` papers as the pipeline would leave them, post rendered."""
        sample = load_day(load_settings(SAMPLE, environ={}), DAY)
        papers = sample.papers if n is None else sample.papers[:n]
        manifest = replace(sample.manifest, papers=[p.id.base for p in papers])
        settings = self.settings()
        write_day(settings, type(sample)(manifest, papers), Writer())
        self.render()

    def render(self) -> None:
        render_days(self.settings(), [DAY], Writer())

    def remote_log(self, ref: str = BRANCH) -> list[str]:
        out = git(self.origin, "log", "--format=%s", ref)
        return out.splitlines()

    def remote_has(self, branch: str) -> bool:
        return has_branch(self.origin, branch)


@pytest.fixture
def site(tmp_path) -> Site:
    return Site(tmp_path)


@pytest.fixture
def gh(site) -> FakeGitHub:
    server = FakeGitHub(token=TOKEN, owner="owner", repo="site")
    server.branch_exists = lambda owner, repo, branch: site.remote_has(branch)
    with server:
        yield server


def invoke(site: Site, gh: FakeGitHub | None, *args: str, token: str = TOKEN,
           repository: str = "owner/site", summary: Path | None = None):
    env = {"GITHUB_API_URL": gh.url if gh else "", "GITHUB_REPOSITORY": repository,
           "GITHUB_TOKEN": token, "DIGEST_GITHUB_RETRY_DELAY": "0",
           "GITHUB_STEP_SUMMARY": str(summary) if summary else ""}
    return run_cli(site.root, "publish", *args, env=env, catch_exceptions=True)


# -- the git half ------------------------------------------------------------------

def test_first_publish_commits_each_paper_then_the_post_and_opens_the_pr(site, gh):
    site.write_day(n=None)
    (site.root / "notes.txt").write_text("an editor's unrelated work\n", encoding="utf-8")
    head_before = git(site.root, "rev-parse", "HEAD")

    report = publish_day(site.settings(gh), DAY)

    log = site.remote_log()
    assert log[0] == "Render 2026-01-28: 20 papers"
    assert log[-1] == "Initial site"
    adds = log[1:-1][::-1]
    assert len(adds) == 20 and all(s.startswith("Add 26") for s in adds)
    assert adds[0].startswith("Add 2601.19786: Rethinking Discrete Speech")
    assert all(len(s) <= 72 for s in log)
    # each paper commit holds exactly its record
    files = git(site.origin, "show", "--name-only", "--format=", f"{BRANCH}~20").splitlines()
    assert files == [f"data/{D}/2601.19786.yaml"]
    files = git(site.origin, "show", "--name-only", "--format=", BRANCH).splitlines()
    assert sorted(files) == [f"_posts/{D}-arxiv.md", f"data/{D}/manifest.yaml"]
    author = git(site.origin, "log", "-1", "--format=%an <%ae>|%cn", BRANCH)
    assert author == ("github-actions[bot] <41898282+github-actions[bot]@users.noreply."
                      "github.com>|github-actions[bot]")
    # the working tree, HEAD and the index are as they were
    assert git(site.root, "rev-parse", "HEAD") == head_before
    assert git(site.root, "branch", "--show-current") == "main"
    assert (site.root / "notes.txt").read_text(encoding="utf-8").startswith("an editor's")
    assert git(site.root, "diff", "--cached", "--name-only") == ""
    # the pull request
    assert report.pushed and len(report.commits) == 21 and report.pr_created
    [pr] = gh.open_pulls(BRANCH)
    assert pr["title"] == "arXiv Daily – 2026-01-28 (20 papers)"
    assert pr["base"]["ref"] == "main" and pr["head"]["label"] == f"owner:{BRANCH}"
    assert "- [ ] **2601.19786** · Rethinking Discrete Speech" in pr["body"]
    assert f"digest preview --date {D} --open" in pr["body"]
    assert f"digest translate --date {D} --only ID --force" in pr["body"]
    assert gh.labels[pr["number"]] == ["digest"]
    assert (report.pr_number, report.pr_url) == (pr["number"], pr["html_url"])


def test_publishing_twice_makes_no_commit_no_push_and_one_pr(site, gh):
    site.write_day()
    publish_day(site.settings(gh), DAY)
    tip = git(site.origin, "rev-parse", BRANCH)
    gh.clear_requests()

    again = publish_day(site.settings(gh), DAY)

    assert again.commits == [] and not again.pushed
    assert git(site.origin, "rev-parse", BRANCH) == tip
    assert len(gh.open_pulls()) == 1 and not again.pr_created and not again.pr_updated
    assert gh.requests_to("/repos/owner/site/pulls", method="PATCH") == []
    assert gh.requests_to("/repos/owner/site/pulls", method="POST") == []
    assert gh.requests_to("/repos/owner/site/issues") == []  # labels already there


def test_an_edit_gives_one_update_commit_and_updates_the_pr_body(site, gh):
    site.write_day()
    publish_day(site.settings(gh), DAY)
    settings = site.settings(gh)
    day = load_day(settings, DAY)
    paper = day.papers[1]
    paper.title = "A Better | Title with `code`"
    write_paper(settings.day_path(DAY), paper, Writer())
    site.render()

    report = publish_day(settings, DAY)

    assert [c.message for c in report.commits] == [
        f"Update {paper.id.base}: A Better | Title with `code`", "Render 2026-01-28: 3 papers"]
    assert report.pushed and report.pr_updated and not report.pr_created
    [pr] = gh.open_pulls(BRANCH)
    assert r"A Better \| Title with \`code\`" in pr["body"]
    assert len(site.remote_log()) == 1 + 3 + 1 + 2


def editor_pushes(site: Site, tmp_path: Path, paper_id: str = "2601.19786") -> Path:
    """An editor clones the PR branch, changes a record and pushes."""
    editor = tmp_path / "editor"
    git(tmp_path, "clone", "-q", "-b", BRANCH, str(site.origin), str(editor))
    record = editor / "data" / D / f"{paper_id}.yaml"
    record.write_text(record.read_text(encoding="utf-8") + "# checked\n", encoding="utf-8")
    git(editor, *IDENTITY, "commit", "-q", "-a", "-m", "Editor note")
    git(editor, "push", "-q", "origin", BRANCH)
    return editor


def test_a_rerun_continues_the_branch_with_an_editors_commits(site, gh, tmp_path):
    site.write_day()
    publish_day(site.settings(gh), DAY)
    editor_pushes(site, tmp_path)
    # the next run starts from a fresh checkout of main, as in Actions: it restores the
    # day from the branch, then the pipeline changes another paper
    shutil.rmtree(site.root / "data" / D)
    (site.root / "_posts" / f"{D}-arxiv.md").unlink()
    settings = site.settings(gh)
    assert len(restore_day(settings, DAY)) == 5
    day = load_day(settings, DAY)
    day.papers[2].journal_ref = "ICASSP 2026"  # a field the post does not show
    write_paper(settings.day_path(DAY), day.papers[2], Writer())

    report = publish_day(settings, DAY)

    log = site.remote_log()
    assert log[0].startswith(f"Update {day.papers[2].id.base}: ") and log[1] == "Editor note"
    assert len(report.commits) == 1 and report.pushed and not report.pr_created
    # the editor's change is still there, the branch was not rewritten
    assert git(site.origin, "show", f"{BRANCH}:data/{D}/2601.19786.yaml").endswith("# checked")
    assert len(gh.open_pulls()) == 1


def test_a_working_tree_without_an_editors_commit_is_refused(site, gh, tmp_path):
    site.write_day()
    publish_day(site.settings(gh), DAY)
    editor_pushes(site, tmp_path)
    tip = git(site.origin, "rev-parse", BRANCH)
    settings = site.settings(gh)
    day = load_day(settings, DAY)
    day.papers[2].journal_ref = "ICASSP 2026"  # a field the post does not show
    write_paper(settings.day_path(DAY), day.papers[2], Writer())

    with pytest.raises(PublishError, match="changed on the branch by Editor") as err:
        publish_day(settings, DAY)

    assert "2601.19786.yaml" in str(err.value) and "'Editor note'" in str(err.value)
    assert git(site.origin, "rev-parse", BRANCH) == tip
    # the editor's clone has the branch checked out: publishing there goes on top of it
    settings = site.settings(gh, root=tmp_path / "editor")
    day = load_day(settings, DAY)
    day.papers[2].journal_ref = "ICASSP 2026"  # a field the post does not show
    write_paper(settings.day_path(DAY), day.papers[2], Writer())
    report = publish_day(settings, DAY)
    assert [c.message.split(":")[0] for c in report.commits] == [
        f"Update {day.papers[2].id.base}"]
    assert git(site.origin, "rev-parse", f"{BRANCH}~1") == tip
    assert git(tmp_path / "editor", "status", "--porcelain") == "?? .digest-cache/"


@pytest.mark.parametrize("name", ["translation", "title_zh"])
def test_publish_refuses_to_replace_an_editors_text_with_a_machines(site, gh, name):
    site.write_day()
    settings = site.settings(gh)
    day = load_day(settings, DAY)
    paper = day.papers[0]
    machine = "机器翻译。"
    setattr(paper, name, MachineText(machine, model="m", source="abstract",
                                     hash=text_hash(machine)))
    write_paper(settings.day_path(DAY), paper, Writer())
    site.render()
    publish_day(settings, DAY)
    # an editor fixes the text in the working tree and publishes it
    setattr(paper, name, MachineText("编辑改过的译文。", model="m", source="abstract",
                                     hash=text_hash(machine)))
    assert getattr(paper, name).edited
    write_paper(settings.day_path(DAY), paper, Writer())
    site.render()
    publish_day(settings, DAY)
    tip = git(site.origin, "rev-parse", BRANCH)
    # a forced re-run writes a new machine text over it
    again = "新的机器翻译。"
    setattr(paper, name, MachineText(again, model="m", source="abstract",
                                     hash=text_hash(again)))
    write_paper(settings.day_path(DAY), paper, Writer())
    site.render()

    with pytest.raises(PublishError, match=f"editor's {name}") as err:
        publish_day(settings, DAY)

    assert err.value.paper_id == paper.id.base
    assert git(site.origin, "rev-parse", BRANCH) == tip


def test_restore_day_brings_back_the_branch_records_missing_locally(site, gh):
    site.write_day()
    publish_day(site.settings(gh), DAY)
    shutil.rmtree(site.root / "data" / D)
    (site.root / "_posts" / f"{D}-arxiv.md").unlink()

    restored = restore_day(site.settings(gh), DAY)

    names = sorted(p.name for p in restored)
    assert names == [f"{D}-arxiv.md", "2601.19767.yaml", "2601.19781.yaml", "2601.19786.yaml",
                     "manifest.yaml"]
    assert load_day(site.settings(gh), DAY).manifest.shown == 3
    assert restore_day(site.settings(gh), DAY) == []  # nothing missing any more
    assert publish_day(site.settings(gh), DAY).commits == []


def test_publish_from_the_checked_out_branch_keeps_git_status_clean(site, gh):
    site.write_day()
    publish_day(site.settings(gh), DAY)
    git(site.root, "stash", "-u", "-q")  # an editor's clone switches to the PR branch
    git(site.root, "switch", "-q", BRANCH)
    git(site.root, "stash", "drop", "-q")
    settings = site.settings(gh)
    day = load_day(settings, DAY)
    day.papers[0].reviewed = True
    write_paper(settings.day_path(DAY), day.papers[0], Writer())
    site.render()

    report = publish_day(settings, DAY)

    assert [c.message.split(":")[0] for c in report.commits] == ["Update 2601.19786"]
    assert git(site.root, "rev-parse", "HEAD") == report.commits[-1].sha
    assert git(site.root, "status", "--porcelain", "--untracked-files=no") == ""


def test_an_unreachable_origin_stops_before_any_commit(site, gh):
    site.write_day()
    real = site.origin
    gone = site.root.parent / "gone.git"
    real.rename(gone)
    with pytest.raises(PublishError, match="reading remote 'origin' failed: .*gone|"
                       "reading remote 'origin' failed"):
        publish_day(site.settings(gh), DAY)
    assert subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"refs/heads/{BRANCH}"],
                          cwd=site.root).returncode == 1  # absent, not an error (128)
    gone.rename(real)

    report = publish_day(site.settings(gh), DAY)
    assert report.pushed and len(site.remote_log()) == 5 and report.pr_created


def test_rejected_push_keeps_the_local_commits_and_a_rerun_pushes(site, gh):
    site.write_day()
    hook = site.origin / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'error: push refused by a hook' >&2\nexit 1\n")
    hook.chmod(0o755)

    with pytest.raises(PublishError, match="git push to .origin. failed.*run again") as err:
        publish_day(site.settings(gh), DAY)
    assert "push refused by a hook" in str(err.value)
    local = git(site.root, "log", "--format=%s", BRANCH).splitlines()
    assert len(local) == 5 and not site.remote_has(BRANCH)

    hook.unlink()
    report = publish_day(site.settings(gh), DAY)
    assert report.commits == [] and report.pushed and report.pr_created
    assert site.remote_log() == local


def test_nothing_to_publish_when_the_day_is_already_on_main(site, gh):
    site.write_day()
    git(site.root, "add", "data", "_posts")
    git(site.root, *IDENTITY, "commit", "-q", "-m", "merged earlier")
    git(site.root, "push", "-q", "origin", "main")

    report = publish_day(site.settings(gh), DAY)

    assert report.nothing_to_publish and not report.pushed and report.pr_number is None
    assert not site.remote_has(BRANCH) and gh.requests == []


def test_base_branch_comes_from_the_remote_default(site, gh):
    git(site.root, "push", "-q", "origin", "main:trunk")
    git(site.origin, "symbolic-ref", "HEAD", "refs/heads/trunk")
    site.write_day()
    report = publish_day(site.settings(gh), DAY)
    assert report.base == "trunk" and gh.open_pulls()[0]["base"]["ref"] == "trunk"
    report = publish_day(site.settings(gh, DIGEST_BASE_BRANCH="main"), DAY)
    assert report.base == "main"


def test_a_stale_post_is_refused_before_any_commit(site, gh):
    site.write_day()
    post = site.root / "_posts" / f"{D}-arxiv.md"
    post.write_text(post.read_text(encoding="utf-8") + "stray\n", encoding="utf-8")
    with pytest.raises(PublishError, match="render --date 2026-01-28"):
        publish_day(site.settings(gh), DAY)
    assert not site.remote_has(BRANCH) and gh.requests == []


def test_commit_message_is_one_short_line():
    assert commit_message("Add", "2601.00001", "Short\n title") == "Add 2601.00001: Short title"
    long = "A " + "very long " * 20 + "title"
    msg = commit_message("Update", "2601.00001", long)
    subject, _, rest = msg.partition("\n\n")
    assert len(subject) <= 72 and subject.endswith("…") and " " + "very" in subject
    assert rest == " ".join(long.split())


# -- the command and GitHub's errors -----------------------------------------------

def test_cli_publish_prints_what_it_did_and_writes_the_job_summary(site, gh, tmp_path):
    site.write_day()
    summary = tmp_path / "summary.md"
    result = invoke(site, gh, "--date", D, summary=summary)
    assert result.exit_code == 0, result.output
    assert f"pushed {BRANCH}" in result.stdout
    assert "opened pull request #1 https://github.com/owner/site/pull/1" in result.stdout
    text = summary.read_text(encoding="utf-8")
    assert "| 1 | Rethinking Discrete Speech" in text and "[#1](" in text
    result = invoke(site, gh)  # no --date: the newest day
    assert result.exit_code == 0 and f"{BRANCH} is up to date" in result.stdout
    assert TOKEN not in result.output


def assert_one_line_error(result, *fragments: str) -> None:
    assert result.exit_code == 1, result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("Error")]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output and TOKEN not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def assert_rerun_finishes(site, gh, tip: str) -> None:
    gh.clear_faults()
    result = invoke(site, gh, "--date", D)
    assert result.exit_code == 0, result.output
    assert git(site.origin, "rev-parse", BRANCH) == tip  # no new or duplicate commits
    assert len(gh.open_pulls(BRANCH)) == 1 and gh.labels[gh.open_pulls()[0]["number"]]


def test_401_bad_credentials(site, gh):
    site.write_day()
    result = invoke(site, gh, "--date", D, token="ghs_expired_" + TOKEN)
    assert_one_line_error(result, "GITHUB_TOKEN is invalid or expired", "401",
                          f"pushed {BRANCH}", f"digest publish --date {D}")
    assert "ghs_expired_" not in result.output
    assert_rerun_finishes(site, gh, git(site.origin, "rev-parse", BRANCH))


def test_403_actions_not_permitted_to_create_pull_requests(site, gh):
    site.write_day()
    gh.fail_next(r"/pulls$", 403, ACTIONS_FORBIDDEN, method="POST")
    result = invoke(site, gh, "--date", D)
    assert_one_line_error(result, "Settings > Actions > General > Workflow permissions",
                          '"Allow GitHub Actions to create and approve pull requests"')
    assert site.remote_has(BRANCH) and gh.open_pulls() == []
    assert_rerun_finishes(site, gh, git(site.origin, "rev-parse", BRANCH))


def test_403_without_pull_requests_write(site, gh):
    site.write_day()
    gh.fail_next(r"/pulls$", 403, "Resource not accessible by integration", method="POST")
    result = invoke(site, gh, "--date", D)
    assert_one_line_error(result, "pull-requests: write", "Resource not accessible")
    assert_rerun_finishes(site, gh, git(site.origin, "rev-parse", BRANCH))


def test_404_unknown_repository(site, gh):
    site.write_day()
    result = invoke(site, gh, "--date", D, repository="owner/nope")
    assert_one_line_error(result, "owner/nope not found", "GITHUB_REPOSITORY")
    assert site.remote_has(BRANCH)
    assert_rerun_finishes(site, gh, git(site.origin, "rev-parse", BRANCH))


def test_422_pull_request_already_exists_falls_back_to_update(site, gh):
    site.write_day()
    gh.add_pull(BRANCH, title="Opened by someone meanwhile", body="old", owner="owner",
                repo="site")
    # the list answers before that PR existed: create then hits GitHub's real 422
    gh.fail_next(r"/pulls$", 200, method="GET", body=[])
    result = invoke(site, gh, "--date", D)
    assert result.exit_code == 0, result.output
    [pr] = gh.open_pulls(BRANCH)
    assert pr["title"].startswith("arXiv Daily") and "Rethinking" in pr["body"]
    assert "updated pull request #1" in result.stdout


def test_422_head_branch_missing_says_it_was_not_pushed(site, gh):
    site.write_day()
    gh.branch_exists = lambda owner, repo, branch: branch == "main"
    result = invoke(site, gh, "--date", D)
    assert_one_line_error(result, f"GitHub does not know branch {BRANCH}",
                          "the branch was not pushed")
    gh.branch_exists = lambda owner, repo, branch: site.remote_has(branch)
    assert_rerun_finishes(site, gh, git(site.origin, "rev-parse", BRANCH))


def test_missing_token_pushes_first_and_names_the_variable(site, gh):
    site.write_day()
    result = invoke(site, gh, "--date", D, token="")
    assert_one_line_error(result, f"pushed {BRANCH}; set GITHUB_TOKEN to open the pull request")
    assert site.remote_has(BRANCH) and gh.requests == []
    assert_rerun_finishes(site, gh, git(site.origin, "rev-parse", BRANCH))


def test_an_unreachable_api_is_one_line_too(site, gh):
    site.write_day()
    url = gh.url
    gh.stop()
    env = {"GITHUB_API_URL": url, "GITHUB_REPOSITORY": "owner/site", "GITHUB_TOKEN": TOKEN,
           "DIGEST_GITHUB_RETRY_DELAY": "0", "GITHUB_STEP_SUMMARY": ""}
    result = run_cli(site.root, "publish", "--date", D, env=env, catch_exceptions=True)
    assert_one_line_error(result, "cannot reach the GitHub API", "GITHUB_API_URL")


def test_not_a_git_repository(tmp_path):
    root = tmp_path / "plain"
    shutil.copytree(SAMPLE / "data" / D, root / "data" / D)
    settings = load_settings(root, environ={})
    render_days(settings, [DAY], Writer())
    with pytest.raises(PublishError, match="not inside a git repository"):
        publish_day(settings, DAY)


def test_a_day_merged_and_deleted_starts_a_fresh_branch_from_main(site, gh):
    site.write_day()
    first = publish_day(site.settings(gh), DAY)
    git(site.origin, "update-ref", "refs/heads/main", first.commits[-1].sha)  # merged
    git(site.origin, "update-ref", "-d", f"refs/heads/{BRANCH}")  # branch deleted
    gh.pulls[0]["state"] = "closed"
    other = site.root.parent / "other"  # main moves on
    git(site.root.parent, "clone", "-q", str(site.origin), str(other))
    (other / "README.md").write_text("site\n", encoding="utf-8")
    git(other, "add", "README.md")
    git(other, *IDENTITY, "commit", "-q", "-m", "Add a README")
    git(other, "push", "-q", "origin", "HEAD:main")
    main = git(other, "rev-parse", "HEAD")
    settings = site.settings(gh)
    day = load_day(settings, DAY)
    day.papers[0].journal_ref = "Erratum: new results"  # not shown in the post
    write_paper(settings.day_path(DAY), day.papers[0], Writer())

    report = publish_day(settings, DAY)

    assert [c.message.split(":")[0] for c in report.commits] == ["Update 2601.19786"]
    assert git(site.origin, "rev-parse", f"{BRANCH}~1") == main
    assert report.pr_created and report.pr_number == 2 and len(gh.open_pulls()) == 1


# -- re-runs: other days under review, editors' ticks --------------------------------------

def test_papers_of_a_day_still_under_review_are_not_shown_again(isolated_git, tmp_path,
                                                                 arxiv_server):
    # The scheduled job checks out main, where a day whose pull request is not merged yet
    # has no records: the next day took its papers for unshown ones and showed them twice.
    site = Site(tmp_path)
    with FakeGitHub(token=TOKEN, owner="owner", repo="site") as gh:
        gh.branch_exists = lambda owner, repo, branch: True
        env = {"DIGEST_ARXIV_API_URL": arxiv_server.query_url, "DIGEST_ARXIV_DELAY": "0"}
        settings = site.settings(gh, **env)
        # an earlier day, merged long ago
        old = date(2026, 3, 3)
        write_day(settings, Day(Manifest(date=old, window_start=MONDAY_NOON,
                                         window_end=MONDAY_NOON, fetched=0, papers=[]), []),
                  Writer())
        git(site.root, "add", "data")
        git(site.root, "-c", "user.name=E", "-c", "user.email=e@x", "commit", "-q", "-m", "old")
        git(site.root, "push", "-q", "origin", "main")
        arxiv_server.add_paper(id="2603.08001", published=MONDAY_NOON, categories=["cs.SD"])
        arxiv_server.add_paper(id="2603.09001", published=MONDAY_EVENING,
                               categories=["cs.SD"])
        # Tuesday's run: fetch, render, publish; the pull request stays open
        fetch_day(settings, TUESDAY, now=datetime(2026, 3, 10, 1, 0, tzinfo=UTC))
        render_days(settings, [TUESDAY], Writer())
        assert publish_day(settings, TUESDAY).pr_created
        # Wednesday's run starts from a fresh checkout of main
        shutil.rmtree(settings.day_path(TUESDAY))
        settings.post_path(TUESDAY).unlink()
        shutil.rmtree(settings.cache_path)
        stem = ArxivId.parse("2603.08001").file_stem
        assert History.load(settings, WEDNESDAY).elsewhere(stem, WEDNESDAY) == set()

        assert restore_day(settings, WEDNESDAY) == []
        report = fetch_day(settings, WEDNESDAY, now=datetime(2026, 3, 11, 1, 0, tzinfo=UTC))

    assert load_day(settings, WEDNESDAY).manifest.papers == ["2603.09001"]
    assert report.late == []
    # the note is for Wednesday's run only: another day's fetch does not trust it
    assert History.load(settings, date(2026, 3, 12)).elsewhere(stem, date(2026, 3, 12)) \
        == set()


def test_a_rerun_updates_the_body_whose_only_tasks_are_the_papers(isolated_git, tmp_path):
    # GitHub shows a body's task items as "N of M tasks": the review checklist is plain
    # bullets, so M is the papers (it was the papers plus the checklist's items).
    site = Site(tmp_path)
    with FakeGitHub(token=TOKEN, owner="owner", repo="site") as gh:
        gh.branch_exists = lambda owner, repo, branch: True
        settings = site.settings(gh)
        site.write_day()
        publish_day(settings, date(2026, 1, 28))
        body = gh.pulls[0]["body"]
        gh.pulls[0]["body"] = body.replace("\n", "\r\n")  # saved in GitHub's web editor
        assert not publish_day(settings, date(2026, 1, 28)).pr_updated  # nothing to change

        day = load_day(settings, date(2026, 1, 28))
        day.manifest.usage = {"translate": {"calls": 3, "input_tokens": 10, "output_tokens": 5}}
        write_day(settings, day, Writer())
        site.render()
        report = publish_day(settings, date(2026, 1, 28))

    assert report.pr_updated
    new_body = gh.pulls[0]["body"]
    assert "- **LLM requests**: 3" in new_body
    assert "- Titles, authors and links look right in the preview" in new_body
    tasks = [line for line in new_body.split("\n") if line.startswith(("- [ ]", "- [x]"))]
    assert len(tasks) == len(day.papers) and all("**" in task for task in tasks)
