"""Run twice: a second `digest run --publish` of a finished day changes nothing.

No file is written (bytes and mtimes unchanged), no LLM call, no commit, no push, no write
to the GitHub API (the pull request keeps its body and `updated_at`), in each place a
second run happens:

* the same working tree (an editor's clone, or a runner that keeps its workspace): the
  arXiv answer cache is still fresh, so arXiv is not asked either;
* a new checkout of main, as each scheduled CI job starts: the day's files come back from
  the branch, arXiv is asked again (no cache), nothing else;
* a checkout of the day's branch (an editor reviewing it): `git status` stays empty.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from digest_cli.records.store import load_day
from tests.drill_kit import BRANCH, DAY, D, Drill, git, paper_id
from tests.fakes.llm_server import english_responder

N = 6


def files(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file of the working tree outside .git: bytes and mtime."""
    return {p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in root.rglob("*") if p.is_file() and ".git" not in p.relative_to(root).parts}


class Counts:
    """What the fakes and the origin have seen so far."""

    def __init__(self, drill: Drill) -> None:
        self.llm = drill.llm.calls
        self.arxiv = len(drill.arxiv.query_requests)
        self.pdfs = sum(drill.pdfs.hits.values())
        self.github = len(drill.gh.requests)
        self.github_writes = len(drill.gh.writes)
        self.pushes = drill.pushes()
        self.tip = drill.remote_tip()
        self.pr = dict(drill.gh.pulls[0]) if drill.gh.pulls else None


@pytest.fixture
def published(tmp_path):
    """A day that one `digest run --publish` fetched, translated, rendered and published."""
    with Drill(tmp_path, n=N, page_size=4) as drill:
        result = drill.run()
        assert result.exit_code == 0, result.output
        assert drill.llm.calls == 3 * N and drill.pushes() == 1 and len(drill.gh.pulls) == 1
        yield drill


def assert_nothing_published(drill: Drill, before: Counts) -> None:
    assert drill.llm.calls == before.llm, "the LLM was asked again"
    assert drill.remote_tip() == before.tip and drill.pushes() == before.pushes
    assert len(drill.gh.writes) == before.github_writes, [
        (r.method, r.path) for r in drill.gh.writes]
    [pr] = drill.gh.pulls
    assert pr == before.pr  # body, title, labels, updated_at: all as they were


def test_the_same_working_tree_changes_nothing(published):
    drill = published
    before, tree = Counts(drill), files(drill.root)
    status = git(drill.root, "status", "--porcelain", "--untracked-files=all")

    result = drill.run()

    assert result.exit_code == 0, result.output
    assert_nothing_published(drill, before)
    assert files(drill.root) == tree  # not one file rewritten, even with equal bytes
    assert git(drill.root, "status", "--porcelain", "--untracked-files=all") == status
    assert len(drill.arxiv.query_requests) == before.arxiv  # the cached answer is fresh
    assert f"{BRANCH} is up to date" in result.stdout
    assert "pull request #1 is up to date" in result.stdout
    # a third time, with the arXiv cache expired: arXiv is asked, nothing else changes
    result = drill.run(DIGEST_ARXIV_CACHE_TTL="0")
    assert result.exit_code == 0, result.output
    assert_nothing_published(drill, before)
    assert len(drill.arxiv.query_requests) == before.arxiv + 2  # 7 results, pages of 4
    changed = {k for k, v in files(drill.root).items() if tree.get(k) != v}
    assert {k.split("/")[1] for k in changed} == {"arxiv"}, changed  # only the new answers


def test_a_new_checkout_of_main_changes_nothing(published):
    drill = published
    before = Counts(drill)
    clone = drill.fresh_clone()

    result = drill.run(root=clone)

    assert result.exit_code == 0, result.output
    assert f"restore: {N + 2} files of the day taken from its branch" in result.stdout
    assert_nothing_published(drill, before)
    assert len(drill.arxiv.query_requests) == before.arxiv + 2  # no cache in a new checkout
    assert sum(drill.pdfs.hits.values()) == before.pdfs  # nothing to translate: no PDF
    for name in [*(f"data/{D}/{paper_id(i)}.yaml" for i in range(N)),
                 f"data/{D}/manifest.yaml", f"_posts/{D}-arxiv.md"]:
        assert (clone / name).read_bytes() == (drill.root / name).read_bytes(), name
    status = git(clone, "status", "--porcelain").splitlines()
    assert sorted(status) == [f"?? _posts/{D}-arxiv.md", f"?? data/{D}/"]


def test_a_checkout_of_the_days_branch_stays_clean(published):
    drill = published
    before = Counts(drill)
    clone = drill.fresh_clone()
    git(clone, "switch", "-q", BRANCH)
    head = git(clone, "rev-parse", "HEAD")

    result = drill.run(root=clone)

    assert result.exit_code == 0, result.output
    assert_nothing_published(drill, before)
    assert git(clone, "status", "--porcelain", "--untracked-files=all") == ""
    assert git(clone, "rev-parse", "HEAD") == head
    assert DAY.isoformat() in result.stdout


# -- a re-run that would change only timestamps -------------------------------------------

def next_second() -> None:
    """Sleep into the next wall-clock second: a stamp written from now on differs from
    every stamp written before (records stamp to the second)."""
    time.sleep(1.02 - time.time() % 1)


def failures_of(drill: Drill) -> dict[str, list[tuple[str, str, str]]]:
    return {p.id.base: [(f.field, f.reason, f.at or "") for f in p.failures]
            for p in load_day(drill.settings_obj(), DAY).papers}


def test_a_rerun_that_fails_the_same_papers_again_commits_nothing_and_exits_0(tmp_path):
    """The LLM answers every paper in English (refused by validation). The first run
    publishes the day marked 待翻译 and exits 3; a re-run asks again, fails the same
    way, and since only the failures' times would change, writes, commits and pushes
    nothing, and exits 0 saying so."""
    with Drill(tmp_path, n=3, page_size=4) as drill:
        drill.llm.responder = english_responder
        first = drill.run()
        assert first.exit_code == 3, first.output
        assert drill.pushes() == 1 and len(drill.gh.pulls) == 1
        failed = failures_of(drill)
        assert all(failed.values()) and len(failed) == 3
        before, tree = Counts(drill), files(drill.root)
        next_second()

        again = drill.run()

        assert again.exit_code == 0, again.output
        assert drill.llm.calls > before.llm  # it did ask again: the LLM might have answered
        assert "3 of the failed papers failed as their records already say" in again.stdout
        assert "Error" not in again.output
        assert failures_of(drill) == failed  # `at` still says since when
        assert files(drill.root) == tree  # not one file rewritten, caches included
        assert drill.remote_tip() == before.tip and drill.pushes() == before.pushes
        assert len(drill.gh.writes) == before.github_writes
        [pr] = drill.gh.pulls
        assert pr == before.pr


def test_a_rerun_with_a_new_reason_records_it_and_still_fails(tmp_path):
    """The same papers failing for another reason is news: recorded, published, status 3."""
    with Drill(tmp_path, n=2, page_size=4) as drill:
        drill.llm.responder = english_responder
        assert drill.run().exit_code == 3
        failed, tip = failures_of(drill), drill.remote_tip()
        drill.llm.responder = lambda req: "不是一个合格的答案。"
        next_second()

        again = drill.run()

        assert again.exit_code == 3, again.output
        assert "failed as their records already say" not in again.stdout
        now = failures_of(drill)
        for pid, entries in now.items():
            old = {name: (reason, at) for name, reason, at in failed[pid]}
            for name, reason, at in entries:  # a new reason is stamped anew, an old one kept
                assert at > old[name][1] if reason != old[name][0] else at == old[name][1]
            assert [e[1] for e in entries] != [e[1] for e in failed[pid]]
        assert drill.remote_tip() != tip


def test_a_forced_rerun_that_gets_the_same_answers_commits_nothing(published):
    """`--force` asks the LLM again; the same texts from the same model and prompt keep
    their `generated_at`, so nothing is written or committed."""
    drill = published
    before, tree = Counts(drill), files(drill.root)
    next_second()

    result = drill.run("--force")

    assert result.exit_code == 0, result.output
    assert drill.llm.calls == before.llm + 3 * N  # asked anew, not from the cache
    assert {k for k, v in files(drill.root).items() if tree.get(k) != v
            and not k.startswith(".digest-cache/")} == set()  # the cache holds the new answers
    assert drill.remote_tip() == before.tip and drill.pushes() == before.pushes
    assert len(drill.gh.writes) == before.github_writes
