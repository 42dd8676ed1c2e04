"""Kill drills: `digest run --publish` is killed with SIGKILL (its whole process group, git
children included) at 20 points from fetch to the pull request, then run again.

Afterwards: every paper is translated, and no answer was asked for twice once it was
stored (in the record or the answer cache; a request in flight at the kill may be asked
again); every YAML file loads and `digest check` finds nothing; `git fsck` is clean; the
branch on origin holds one complete commit per paper and one Render commit, each commit's
tree whole; there is exactly one pull request; the working tree holds only the day's files
(publishing never touches HEAD or the index).

How each point is reached without a hook in the code: see tests/drill_kit.py. Most killed
runs are forked from a process that imported digest_cli once (20 runs would spend half the
drill's time importing); every fifth is a plain `python -m digest_cli`.
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from dataclasses import dataclass

import pytest

from tests.drill_kit import (
    BRANCH,
    DAY,
    D,
    Drill,
    ForkServer,
    KillPoint,
    git,
    git_env,
    paper_id,
    title,
)

# What writer.write_atomic names its temp files: `.<name>.<8 random characters>.tmp`.
TEMP = re.compile(r"\.[^/]+\.(?:yaml|md)\.[a-z0-9_]{8}\.tmp")
N = 6  # papers: 18 LLM answers (translation, 详细解读, brief), 2 arXiv pages of 4

POINTS = [
    # fetch
    KillPoint("fetch: first arXiv page in flight", "fetch", "arxiv", 1),
    KillPoint("fetch: second arXiv page in flight", "fetch", "arxiv", 2),
    KillPoint("fetch: the day's records being written", "fetch", "file:records", 1),
    # translate
    KillPoint("translate: first PDF download in flight", "translate", "pdf", 1),
    KillPoint("translate: first LLM request in flight", "translate", "llm", 1),
    KillPoint("translate: 5th LLM request in flight", "translate", "llm", 5),
    KillPoint("translate: 9th LLM request in flight", "translate", "llm", 9),
    KillPoint("translate: last LLM request in flight", "translate", "llm", 3 * N),
    KillPoint("translate: first paper written", "translate", "file:complete", 1),
    KillPoint("translate: half the papers written", "translate", "file:complete", N // 2),
    # render
    KillPoint("render: translation done, its usage recorded", "render", "file:usage"),
    KillPoint("render: post written", "render", "file:post"),
    # commit
    KillPoint("commit: hashing the day's files", "commit", "git:hash-object"),
    KillPoint("commit: before the first commit", "commit", "git:commit-tree", 1),
    KillPoint("commit: after the 4th commit", "commit", "git:commit-tree", 4, "after"),
    KillPoint("commit: branch moved, not pushed", "commit", "git:update-ref", 1, "after"),
    # push
    KillPoint("push: inside the origin's pre-receive hook", "push", "hook:pre-receive"),
    KillPoint("push: ref updated, git push not returned", "push", "hook:post-receive"),
    # pull request (re-run from a new checkout, as a re-run CI job does)
    KillPoint("PR: create request in flight", "pr", "github:POST /pulls", fresh_clone=True),
    KillPoint("PR: labels request in flight", "pr", "github:POST /issues/N/labels",
              fresh_clone=True),
]

PLAIN = {POINTS[i].name for i in range(0, len(POINTS), 5)}


@dataclass
class AtKill:
    """What the killed run left behind."""

    asks: Counter
    stored: set
    cached: set
    remote_tip: str | None
    pulls: int


@pytest.fixture(scope="module")
def forks():
    server = ForkServer()
    yield server
    server.close()


@pytest.fixture
def drill(tmp_path):
    with Drill(tmp_path, n=N, page_size=4) as d:
        yield d


def test_twenty_points_cover_every_phase():
    assert len(POINTS) == 20 and len({p.name for p in POINTS}) == 20
    assert {p.phase for p in POINTS} == {"fetch", "translate", "render", "commit", "push", "pr"}


@pytest.mark.parametrize("point", POINTS, ids=str)
def test_a_run_killed_anywhere_is_finished_by_running_again(drill, forks, point):
    killed = drill.run_killed(point, forks=None if point.name in PLAIN else forks)
    assert killed, f"the run ended before the kill point {point}"
    at_kill = AtKill(drill.asks(), drill.stored_texts(), drill.cached_answers(),
                     drill.remote_tip(), len(drill.gh.pulls))
    assert_state_at_kill(drill, point, at_kill)
    root = drill.fresh_clone() if point.fresh_clone else drill.root

    result = drill.run(root=root)

    assert result.exit_code == 0, result.output
    assert_translated_once(drill, at_kill, fresh=point.fresh_clone)
    assert_files_whole(drill, root)
    assert_history_whole(drill, root)
    assert_one_pull_request(drill)
    assert_working_tree(drill, root)


def assert_state_at_kill(drill: Drill, point: KillPoint, at: AtKill) -> None:
    """The kill landed in the phase it is named after."""
    published = point.phase in ("pr",) or point.kind == "hook:post-receive"
    assert (at.remote_tip is not None) == published, at.remote_tip
    if point.phase == "fetch" and point.kind == "arxiv":
        assert not drill.day_folder().exists()
    if point.phase in ("translate", "render", "commit", "push"):
        assert (drill.day_folder() / "manifest.yaml").is_file()
    if point.phase in ("render", "commit", "push", "pr"):
        assert drill.complete_papers() == N
    if point.phase in ("commit", "push", "pr"):
        assert drill.post().is_file()
    if point.phase == "translate":
        assert not drill.post().exists()
        assert drill.complete_papers() < N or point.kind == "file:complete"
    if point.kind == "github:POST /pulls":
        assert at.pulls == 1  # GitHub made it; the run never heard back
    assert at.pulls <= 1


def assert_translated_once(drill: Drill, at: AtKill, fresh: bool) -> None:
    asks = drill.asks()
    for i in range(N):
        for kind in ("translation", "analysis", "brief"):
            key, stored_key = (title(i), kind), (paper_id(i), kind)
            assert at.asks[key] <= 1, f"{key} asked {at.asks[key]} times before the kill"
            again = asks[key] - at.asks[key]
            if stored_key in at.stored or stored_key in at.cached:
                assert again == 0, f"{key} was stored, yet asked again"
            assert again <= 1, f"{key} asked {again} times by the re-run"
            assert asks[key] >= 1
    if fresh:  # the branch's records came back with their texts: nothing to translate
        assert sum(asks.values()) == sum(at.asks.values())


def assert_files_whole(drill: Drill, root) -> None:
    from digest_cli.posts.check import check_days
    from digest_cli.records.store import load_day, load_yaml

    settings = drill.settings_obj(root)
    for path in (root / "data").rglob("*.yaml"):
        assert load_yaml(path) is not None, path
    day = load_day(settings, DAY)
    assert sorted(p.id.base for p in day.papers) == sorted(paper_id(i) for i in range(N))
    assert all(p.translation and p.analysis and not p.failures for p in day.papers)
    assert check_days(settings) == []
    # A write the kill interrupted left its temp file; the re-run's write removed it.
    assert drill.temp_files(root) == []


def assert_history_whole(drill: Drill, root) -> None:
    for repo in (drill.origin, root):
        fsck = subprocess.run(["git", "fsck", "--full", "--no-dangling"], cwd=repo,
                              capture_output=True, text=True, env=git_env())
        assert fsck.returncode == 0 and not fsck.stdout.strip(), fsck.stdout + fsck.stderr
    commits = drill.branch_commits()
    subjects = [s for _, s in commits]
    assert subjects[-1] == f"Render {D}: {N} papers"
    adds = subjects[:-1]
    assert sorted(s.split(":")[0] for s in adds) == sorted(f"Add {paper_id(i)}"
                                                           for i in range(N)), subjects
    for k, (sha, subject) in enumerate(commits, start=1):
        assert_commit_whole(drill, sha, subject, records=min(k, N))
    tip = commits[-1][0]
    for path in [*drill.records(root), drill.day_folder(root) / "manifest.yaml",
                 drill.post(root)]:
        rel = path.relative_to(root).as_posix()
        assert git(drill.origin, "show", f"{tip}:{rel}") == path.read_text("utf-8").strip()


def assert_commit_whole(drill: Drill, sha: str, subject: str, records: int) -> None:
    """The commit's tree: `records` whole, translated records; the post and the manifest
    from the Render commit on."""
    from digest_cli.records.store import loads, paper_from_dict

    names = git(drill.origin, "ls-tree", "--name-only", f"{sha}:data/{D}").splitlines()
    papers = [n for n in names if n != "manifest.yaml"]
    assert len(papers) == records, (subject, names)
    for name in papers:
        text = git(drill.origin, "show", f"{sha}:data/{D}/{name}")
        paper = paper_from_dict(loads(text), drill.day_folder() / name)
        assert paper.translation and paper.analysis, (subject, name)
    rendered = subject.startswith("Render")
    assert ("manifest.yaml" in names) == rendered, subject
    posts = git(drill.origin, "ls-tree", "--name-only", f"{sha}:_posts").splitlines()
    assert (f"{D}-arxiv.md" in posts) == rendered, subject


def assert_one_pull_request(drill: Drill) -> None:
    assert len(drill.gh.pulls) == 1
    [pr] = drill.gh.pulls
    assert pr["state"] == "open" and pr["head"]["ref"] == BRANCH
    assert drill.gh.labels[pr["number"]] == ["digest"]
    assert all(paper_id(i) in pr["body"] for i in range(N))


def assert_working_tree(drill: Drill, root) -> None:
    """HEAD stays on main; the day's files are untracked there (they live on the branch),
    nothing else changed; the local branch is origin's."""
    assert git(root, "rev-parse", "HEAD") == git(drill.origin, "rev-parse", "main")
    status = git(root, "status", "--porcelain", "--untracked-files=all").splitlines()
    expected = [f"?? _posts/{D}-arxiv.md", f"?? data/{D}/manifest.yaml"]
    expected += [f"?? data/{D}/{paper_id(i)}.yaml" for i in range(N)]
    expected += [f"?? {p.relative_to(root).as_posix()}" for p in drill.temp_files(root)]
    assert sorted(status) == sorted(expected)
    assert git(root, "rev-parse", BRANCH) == drill.remote_tip()


def test_a_temp_file_left_by_a_killed_write_is_cleaned_up_by_the_next_run(drill):
    assert drill.run().exit_code == 0
    # what SIGKILL leaves between write_atomic's mkstemp and its os.replace
    stale = drill.day_folder() / f".{paper_id(0)}.yaml.k1ll3d_x.tmp"
    stale.write_text("date: '2026-11-25'\nid: '2611.2", encoding="utf-8")

    assert drill.run().exit_code == 0

    assert not stale.exists()
