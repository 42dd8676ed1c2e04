"""The review marks, tested against a model: no tick or untick of an editor is ever lost.

A hypothesis state machine plays a day's pull request on the fake GitHub: editors tick and
untick boxes in the body (each edit an `edited` event with the text before it), outsiders
edit their own comments holding the papers marker, editors push commits that change a
paper's text or mark it (`digest review --mark` in a clone), and the two workflows run as their steps do, phase by phase, interleaved in
any order: review.yml (a gate, then one running and one pending run per pull request: a
new pending run replaces the old one), sync.yml (a new push cancels the running one). Each
phase calls the library functions the workflow's step calls (`apply_ticks`,
`refresh_pull_request`); the branch is a list of commits (record folders), a push rebases
the marks onto the head as git would.

At the end, with every run done: each paper's record is approved (reviewed, nothing
changed since) exactly when the last action of a person with write access on it was a
tick (a later commit changing its text undoes the approval), and the body's boxes show
the same. The three orderings of issue 19's "Why" are explicit tests below.

CI runs it with the `ci` profile (fixed seed); MODEL_EXAMPLES sets the number of examples.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pytest
from hypothesis import Phase
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

from digest_cli.publish.body import PAPERS_MARKER, parse_state, parse_ticks, pr_texts, set_box
from digest_cli.publish.pull_request import refresh_pull_request
from digest_cli.publish.ticks import apply_ticks
from digest_cli.records.model import Day
from digest_cli.records.review import approved, review_hash, set_reviewed
from digest_cli.records.store import (
    load_day,
    load_paper,
    paper_path,
    write_manifest,
)
from digest_cli.records.writer import Writer
from digest_cli.settings import load_settings
from tests.fakes.github_server import FakeGitHub

REPO = Path(__file__).resolve().parents[1]
DAY = date(2026, 1, 28)
BRANCH = "digest/2026-01-28"
PAPERS = ("2601.19786", "2601.19781", "2601.19767")
EDITORS = {"ed": "write", "lead": "maintain"}
OUTSIDER = "mallory"  # no role: reads the public repository, like anyone
EXAMPLES = int(os.environ.get("MODEL_EXAMPLES", "200"))


# -- the branch: a list of commits ----------------------------------------------------

class Branch:
    """The day's branch on the remote: commit i is a folder holding the site's records."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root, self.env, self.commits = root, env, []
        first = root / "c0"
        src = REPO / "tests" / "fixtures" / "sample" / "data" / DAY.isoformat()  # the tests' own
        folder = first / "data" / DAY.isoformat()
        folder.mkdir(parents=True)
        for pid in PAPERS:
            shutil.copy(src / f"{pid}.yaml", folder)
        shutil.copy(src / "manifest.yaml", folder)
        self._trim_manifest(first)
        self.commits.append(first)
        self.versions = [dict.fromkeys(PAPERS, 0)]  # per commit: each paper's text version

    def _trim_manifest(self, root: Path) -> None:
        from digest_cli.records.store import MANIFEST, manifest_from_dict
        from digest_cli.records.yamlio import load_yaml

        folder = root / "data" / DAY.isoformat()
        manifest = manifest_from_dict(load_yaml(folder / MANIFEST), folder / MANIFEST)
        papers = [p for p in manifest.papers if str(p) in PAPERS]
        write_manifest(folder, replace(manifest, papers=papers), Writer())

    @property
    def head(self) -> int:
        return len(self.commits) - 1

    def settings(self, index: int):
        return load_settings(self.commits[index], environ=self.env)

    def sha(self, index: int) -> str:
        return f"{index + 1:040x}"

    def newer(self, index: int):
        """`newer(sha)` for records read at commit `index`: a linear history."""
        return lambda sha: int(sha, 16) - 1 > index

    def commit(self, change, text_of: str | None = None) -> int:
        """A new commit: the head's records with `change(folder)` applied (`text_of`: the
        paper whose text it changes)."""
        new = self.root / f"c{len(self.commits)}"
        shutil.copytree(self.commits[-1], new)
        change(new / "data" / DAY.isoformat())
        self.commits.append(new)
        versions = dict(self.versions[-1])
        if text_of is not None:
            versions[text_of] += 1
        self.versions.append(versions)
        return self.head

    def checkout(self, index: int, where: Path) -> Path:
        """A working copy of commit `index` (the run's own, to write in)."""
        if where.exists():
            shutil.rmtree(where)
        shutil.copytree(self.commits[index], where)
        return where


MARK_FIELDS = ("reviewed", "reviewed_by", "reviewed_at", "reviewed_hash")


def rebase_marks(base: Path, checkout: Path, changed: list[str]):
    """What `git pull --rebase` does with a mark commit: each record the run changed is
    merged (git merge-file) onto the head's, from the commit the run checked out."""
    def change(folder: Path) -> None:
        for pid in changed:
            name = f"data/{DAY.isoformat()}/{pid}.yaml"
            subprocess.run(["git", "merge-file", "-q", str(folder / f"{pid}.yaml"),
                            str(base / name), str(checkout / name)], check=True)
    return change


def edit_text(pid: str, n: int):
    """An editor's commit: a sentence added to the paper's translation, on its own line
    as the records lay sentences out (in a text editor: the other lines as they were)."""
    def change(folder: Path) -> None:
        path = paper_path(folder, pid)
        text = path.read_text(encoding="utf-8")
        start = text.index("translation:\n  text: |-\n") + len("translation:\n  text: |-\n")
        end = text.index("\n", start)
        path.write_text(text[:end] + f"\n    这是第 {n} 次修订。" + text[end:],
                        encoding="utf-8")
    return change


# -- the runs ---------------------------------------------------------------------------

@dataclass
class Event:
    """An `edited` event of the body or a comment."""

    actor: str
    old: str
    new: str
    bots_text: bool = True


@dataclass
class ReviewRun:
    event: Event
    phase: str = "start"  # start -> take -> fetch -> write -> done
    checkout: Path | None = None
    base: int = 0
    fetched: int | None = None


@dataclass
class SyncRun:
    sha: int
    phase: str = "fetch"  # fetch -> write -> done (sync re-renders posts: no record change)
    fetched: int | None = None


class Site:
    """The pull request, its branch and the runs of both workflows."""

    def __init__(self, gh: FakeGitHub, root: Path) -> None:
        self.gh, self.root = gh, root
        env = {"GITHUB_API_URL": gh.api_url, "GITHUB_REPOSITORY": gh.full_name,
               "GITHUB_TOKEN": "t0ken", "DIGEST_GITHUB_RETRIES": "0"}
        self.branch = Branch(root, env)
        settings = self.branch.settings(0)
        body, _ = pr_texts(load_day(settings, DAY), settings, BRANCH, head=self.branch.sha(0))
        self.number = gh.add_pull(BRANCH, title="arXiv Daily", body=body)["number"]
        # Per paper, the last action of a person with write access: ticked or not, and
        # the versions of its text the ticks since the last untick approved (a tick
        # approves what the pull request showed; it never takes back an approval).
        self.actions = {p.id.base: (approved(p), {0} if approved(p) else set())
                        for p in load_day(settings, DAY).papers}
        self.review: ReviewRun | None = None
        self.pending: ReviewRun | None = None
        self.sync: SyncRun | None = None
        self.edits = 0
        self.runs = 0

    # GitHub's side --------------------------------------------------------------------
    @property
    def body(self) -> str:
        [pr] = self.gh.open_pulls(BRANCH)
        return pr["body"]

    def person_edits_box(self, who: str, pid: str, ticked: bool) -> None:
        old = self.body
        new = set_box(old, pid, ticked)
        if new == old:
            return  # nothing changed: GitHub sends no `edited` event
        [pr] = self.gh.open_pulls(BRANCH)
        pr["body"] = new
        if self.event(Event(who, old, new)):
            self.act(pid, ticked, self.shown_version(old, pid))

    def act(self, pid: str, ticked: bool, version: int) -> None:
        """A person's tick (approving `version` of the texts) or untick."""
        before_ticked, versions = self.actions[pid]
        self.actions[pid] = (True, (versions if before_ticked else set()) | {version}) \
            if ticked else (False, set())

    def shown_version(self, body: str, pid: str) -> int:
        """The version of the paper's texts the body showed when the person clicked (its
        state line keeps their hash; a box kept for a person keeps the older hash)."""
        shown = parse_state(body)[1][pid][2]
        for index in range(self.branch.head, -1, -1):
            settings = self.branch.settings(index)
            paper = load_paper(paper_path(settings.day_path(DAY), pid))
            if review_hash(paper) == shown:
                return self.branch.versions[index][pid]
        raise AssertionError(f"the body shows texts of {pid} no commit had")

    def outsider_edits_comment(self, ticked: bool) -> None:
        marker = PAPERS_MARKER.format(date=DAY.isoformat())
        boxes = "".join(f"- [{'x' if ticked else ' '}] **{pid}** mine\n" for pid in PAPERS)
        old = f"{marker}\n" + boxes.replace("[x]", "[ ]")
        self.gh.comments.append({"id": 5000 + len(self.gh.comments), "body": old + boxes,
                                 "_repo": self.gh.full_name, "_number": self.number,
                                 "user": {"login": OUTSIDER, "type": "User"}})
        self.event(Event(OUTSIDER, old, f"{marker}\n{boxes}", bots_text=False))

    def event(self, event: Event) -> bool:
        """review.yml's `who` job: only the bot's text, edited by a user with write
        access, reaches the concurrency group (where it replaces the pending run)."""
        from digest_cli.publish.github import GitHub

        if not event.bots_text:
            return False
        with GitHub(self.gh.api_url, self.gh.full_name, "t0ken", retries=0) as api:
            if api.permission(event.actor) not in ("admin", "write"):
                return False
        self.pending = ReviewRun(event)
        return True

    def editor_pushes(self, pid: str) -> None:
        self.edits += 1
        self.branch.commit(edit_text(pid, self.edits), text_of=pid)
        self.pushed()

    def editor_marks_by_commit(self, who: str, pid: str, ticked: bool) -> None:
        """`digest review --mark/--unmark ID --actor WHO` in a clone, committed, pushed."""
        def change(folder: Path) -> None:
            settings = load_settings(folder.parents[1], environ=self.branch.env)
            set_reviewed(settings, DAY, {pid: ticked}, Writer(), by=who)
        self.branch.commit(change)
        self.act(pid, ticked, self.branch.versions[-1][pid])
        self.pushed()

    def pushed(self) -> None:
        self.sync = SyncRun(self.branch.head)  # cancel-in-progress: the running one stops

    # the workflows' phases -----------------------------------------------------------------
    def step_review(self) -> None:
        run = self.review
        if run is None:
            self.review, self.pending = self.pending, None
            return
        self.runs += 1
        if run.phase == "start":  # actions/checkout of the branch
            run.base = self.branch.head
            run.checkout = self.branch.checkout(run.base, self.root / f"r{self.runs}")
            run.phase = "take"
        elif run.phase == "take":  # digest review --from-pr-body; commit; pull --rebase; push
            settings = load_settings(run.checkout, environ=self.branch.env)
            report = apply_ticks(settings, run.event.new, run.event.old, run.event.actor,
                                 Writer(), day=DAY)
            if report.changed:
                base = self.branch.commits[run.base]
                self.branch.commit(rebase_marks(base, run.checkout, report.changed))
                self.pushed()  # with the App's token the marks' commit gets its checks
            run.phase = "fetch"
        elif run.phase == "fetch":  # git fetch; a worktree of the head
            run.fetched, run.phase = self.branch.head, "write"
        else:  # digest review --refresh-pr --taken NEW
            self.refresh(run.fetched, taken=run.event.new)
            self.review = None

    def step_sync(self) -> None:
        run = self.sync
        if run is None:
            return
        if run.phase == "fetch":
            run.fetched, run.phase = self.branch.head, "write"
        else:
            self.refresh(run.fetched)
            self.sync = None

    def refresh(self, index: int, taken: str | None = None) -> None:
        settings = self.branch.settings(index)
        refresh_pull_request(settings, load_day(settings, DAY), BRANCH,
                             head=self.branch.sha(index), taken=taken,
                             newer=self.branch.newer(index))

    def busy(self) -> bool:
        return any((self.review, self.pending, self.sync))

    def settle(self) -> None:
        for _ in range(200):
            if not self.busy():
                return
            self.step_review() if (self.review or self.pending) else self.step_sync()
        raise AssertionError("the runs never settled")

    # what is true at the end ------------------------------------------------------------------
    @property
    def expected(self) -> dict[str, bool]:
        """Approved: the last action was a tick, and a tick since the last untick
        approved the text the paper has now."""
        now = self.branch.versions[-1]
        return {pid: ticked and now[pid] in versions
                for pid, (ticked, versions) in self.actions.items()}

    def check(self) -> None:
        settings = self.branch.settings(self.branch.head)
        records = {p.id.base: approved(p) for p in load_day(settings, DAY).papers}
        assert records == self.expected, "the records lost a person's last action"
        assert parse_ticks(self.body) == self.expected, "the body does not show the records"


# -- the state machine ------------------------------------------------------------------

_GITHUB: list[FakeGitHub] = []


def shared_github() -> FakeGitHub:
    """One fake GitHub for all examples (a server a example is most of their time),
    emptied for each."""
    if not _GITHUB:
        gh = FakeGitHub(token="t0ken", owner="octo", repo="site")
        gh.start()
        _GITHUB.append(gh)
    gh = _GITHUB[0]
    gh.pulls.clear()
    gh.comments.clear()
    gh.requests.clear()
    gh.collaborators = dict(EDITORS)
    return gh


class ReviewMarks(RuleBasedStateMachine):
    """Ticks, unticks, commits, outsiders and both workflows' phases in any order."""

    def __init__(self) -> None:
        super().__init__()
        self.gh = shared_github()
        self.tmp = Path(tempfile.mkdtemp(prefix="marks-model-"))
        # Every API request makes a client whose TLS context reads the CA bundle (~60 ms,
        # most of an example); only plain HTTP to 127.0.0.1 happens here, so an empty CA
        # folder (httpx's documented SSL_CERT_DIR, read lazily) stands in.
        self.cert_env = {k: os.environ.pop(k, None) for k in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
        os.environ["SSL_CERT_DIR"] = str(self.tmp)
        self.site: Site | None = None

    @initialize()
    def open_the_pull_request(self) -> None:
        self.site = Site(self.gh, self.tmp)

    @rule(who=st.sampled_from(sorted(EDITORS)), pid=st.sampled_from(PAPERS),
          ticked=st.booleans())
    def editor_clicks_a_box(self, who: str, pid: str, ticked: bool) -> None:
        self.site.person_edits_box(who, pid, ticked)

    @rule(ticked=st.booleans())
    def outsider_edits_a_comment_with_the_marker(self, ticked: bool) -> None:
        self.site.outsider_edits_comment(ticked)

    @rule(pid=st.sampled_from(PAPERS))
    def editor_pushes_a_text_change(self, pid: str) -> None:
        self.site.editor_pushes(pid)

    # Marks made in a commit while a review run is under way would conflict with its marks
    # in git (that run then fails at `git pull --rebase`): the model keeps them apart.
    @precondition(lambda self: self.site and not (self.site.review or self.site.pending))
    @rule(who=st.sampled_from(sorted(EDITORS)), pid=st.sampled_from(PAPERS),
          ticked=st.booleans())
    def editor_marks_in_a_commit(self, who: str, pid: str, ticked: bool) -> None:
        # ...and its sync run refreshes the body before anyone clicks: a box ticked and
        # unticked on a body that does not show the commit's mark yet, both runs replaced
        # while pending, leaves no trace for a later run (docs/review.md, known limits).
        self.site.editor_marks_by_commit(who, pid, ticked)
        while self.site.sync:
            self.site.step_sync()

    @precondition(lambda self: self.site and (self.site.review or self.site.pending))
    @rule()
    def review_run_advances(self) -> None:
        self.site.step_review()

    @precondition(lambda self: self.site and self.site.sync)
    @rule()
    def sync_run_advances(self) -> None:
        self.site.step_sync()

    def teardown(self) -> None:
        try:
            if self.site is not None:
                self.site.settle()
                self.site.check()
        finally:
            for key, value in self.cert_env.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            shutil.rmtree(self.tmp, ignore_errors=True)


ReviewMarks.TestCase.settings = hsettings(
    max_examples=EXAMPLES, stateful_step_count=25, deadline=None,
    phases=[p for p in Phase if p != Phase.shrink or not os.environ.get("MODEL_NO_SHRINK")])
test_review_marks_model = ReviewMarks.TestCase


# -- the three orderings of issue 19, one by one ------------------------------------------

@pytest.fixture
def site(tmp_path):
    with FakeGitHub(token="t0ken", owner="octo", repo="site") as gh:
        gh.collaborators = dict(EDITORS)
        yield Site(gh, tmp_path)


def test_a_stale_refresh_does_not_erase_a_tick(site):
    # An editor pushes; sync.yml checks out that commit. Meanwhile review.yml takes a
    # tick, pushes the mark and refreshes the body. Then sync's refresh runs with the
    # records it checked out (as before `git fetch`): it must not untick the box, and the
    # next unrelated tick must not unmark the paper.
    site.editor_pushes("2601.19767")
    stale = site.branch.head
    site.person_edits_box("ed", "2601.19786", True)
    while site.review or site.pending:
        site.step_review()
    site.sync = None  # the sync started by the mark's push: not yet
    site.refresh(stale)  # sync.yml's refresh from its own (older) checkout
    assert parse_ticks(site.body)["2601.19786"] is True
    site.person_edits_box("lead", "2601.19781", True)
    site.settle()
    site.check()
    assert site.expected == {"2601.19786": True, "2601.19781": True, "2601.19767": False}


def test_a_replaced_pending_run_loses_no_tick(site):
    # A run is under way; an editor ticks (pending run 1); the running run's refresh
    # (from records without that tick) comes; a second editor ticks (pending run 2
    # replaces run 1, and its `changes.body.from` already has the first tick).
    site.person_edits_box("ed", "2601.19767", True)
    site.step_review()  # running
    site.step_review()  # checked out
    site.person_edits_box("ed", "2601.19786", True)  # pending: run 1
    while site.review:
        site.step_review()  # the running run takes its tick and refreshes the body
    assert parse_ticks(site.body)["2601.19786"] is True  # kept: newer than the records
    site.person_edits_box("lead", "2601.19781", True)  # pending: run 2 replaces run 1
    site.settle()
    site.check()
    assert all(site.expected.values())


def test_an_outsiders_edit_neither_replaces_an_editors_run_nor_marks_papers(site):
    site.person_edits_box("ed", "2601.19786", True)  # the editor's run is pending
    site.outsider_edits_comment(True)  # the marker, every box ticked, by an outsider
    assert site.pending is not None and site.pending.event.actor == "ed"
    site.settle()
    site.check()
    assert site.expected == {"2601.19786": True, "2601.19781": False, "2601.19767": False}
    # An editor who edits the outsider's comment (were it let through) takes only the
    # box they changed, never the rest of the outsider's ticks.
    settings = site.branch.settings(site.branch.head)
    [comment] = [c for c in site.gh.comments if c["user"]["login"] == OUTSIDER]
    edited = set_box(comment["body"], "2601.19781", False)
    edited = set_box(edited, "2601.19781", True).replace("mine\n", "mine \n", 1)
    report = apply_ticks(settings, edited, comment["body"], "ed", Writer(), day=DAY)
    assert report.changed == []


def test_the_day_is_a_few_papers_of_the_sample(site):
    day: Day = load_day(site.branch.settings(0), DAY)
    assert [p.id.base for p in day.papers] == list(PAPERS)
