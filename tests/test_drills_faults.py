"""Fault drills: the daily job against a failing LLM, a failing arXiv and a full disk.

* 30% of LLM requests fail (429, 500, a hang past the timeout, a broken body, an English
  answer, an answer cut into headings): every paper ends done or has its failure listed,
  and nothing of a failure shows in the post; a re-run with a healthy LLM finishes the day.
* arXiv fails (5xx, malformed pages, dropped connections, a rejected query, a page that
  fails after a good one) while a finished day is fetched again: exit 1 with one line
  naming the stage, and the previous records, post and branch untouched.
* A write fails (RLIMIT_FSIZE in the run's process: writes past the limit fail with EFBIG,
  as they would with ENOSPC; chmod cannot stop root): exit 1 with one line naming the
  file, the previous files intact, no temp file left; a re-run finishes.
"""

from __future__ import annotations

import random
import re
import resource
import signal
import subprocess
import sys
from collections import Counter
from datetime import timedelta

import pytest

from tests.drill_kit import DAY, LLM_KEY, TOKEN, Drill, paper_id, title
from tests.fakes.llm_server import ENGLISH_TEXT, english_responder, headings_responder
from tests.fakes.translate_kit import TRANSLATE_MODEL, by_model, title_of

N = 8
ERROR_TEXT = ("失败", "Error", "Traceback", "None", "TODO", ENGLISH_TEXT[:30],
              "## 1)", "以下是")


def snapshot(drill: Drill) -> dict[str, bytes]:
    """Every file of the site's data/ and _posts/ (temp files included), by path."""
    return {p.relative_to(drill.root).as_posix(): p.read_bytes()
            for folder in ("data", "_posts") for p in (drill.root / folder).rglob("*")
            if p.is_file()}


def one_error_line(stderr: str) -> str:
    """The error line of a failed run; fails if there is a traceback or more than one."""
    assert "Traceback" not in stderr, stderr[-3000:]
    lines = [line for line in stderr.splitlines() if line.startswith("Error")]
    assert len(lines) == 1, stderr[-3000:]
    assert LLM_KEY not in stderr and TOKEN not in stderr
    return lines[0]


# -- the LLM fails 30% of the time ------------------------------------------------------

def flaky_llm(seed: int, log: list[str]):
    """A responder whose answers go wrong 1 time in 8 (English, or cut into headings),
    and always English for paper 0's translation (so one paper surely fails); each bad
    answer is logged."""
    rng, good = random.Random(seed), by_model()

    def respond(req):
        if title_of(req) == title(0) and req["model"] == TRANSLATE_MODEL:
            return english_responder(req)  # not logged: not drawn at random
        draw = rng.random()
        if draw < 1 / 16:
            log.append("english")
            return english_responder(req)
        if draw < 1 / 8:
            log.append("headings")
            return headings_responder(good)(req)
        return good(req)
    return respond


@pytest.mark.parametrize("seed", [1, 2])
def test_with_30_percent_of_llm_calls_failing_every_paper_ends_done_or_failed(tmp_path, seed):
    with Drill(tmp_path, n=N, llm_timeout="1", llm_retries="3") as drill:
        bad_answers: list[str] = []
        drill.llm.responder = flaky_llm(seed, bad_answers)
        # 20% transport faults, then 1 in 8 of the rest a bad answer: about 30% in all
        drill.llm.random_faults(0.2, kinds=("429", "500", "hang", "broken_json"), seed=seed,
                                hang_seconds=3)

        result = drill.run()

        assert result.exit_code == 0, result.output
        faults = Counter(drill.llm.fault_log + bad_answers)
        drawn = drill.llm.calls - 3  # paper 0's translation: asked, then repaired twice
        print(f"seed {seed}: {drill.llm.calls} LLM requests, faults {dict(faults)}")
        assert 0.15 <= sum(faults.values()) / drawn <= 0.5, faults  # about 30%
        assert len(faults) >= 4, faults  # most kinds of fault happened
        day = load(drill)
        failed = [(p.id.base, f.field) for p in day.papers for f in p.failures]
        assert (paper_id(0), "translation") in failed
        for paper in day.papers:
            missing = {k for k in ("translation", "analysis") if getattr(paper, k) is None}
            assert {f.field for f in paper.failures} == missing, paper.id
            for failure in paper.failures:
                assert failure.reason and LLM_KEY not in failure.reason
                assert f"failed: {paper.id.base} {failure.field}: " in result.stdout
        assert_clean_post(drill)
        [pr] = drill.gh.pulls
        assert paper_id(0) in pr["body"] and "❌" in pr["body"]

        # a healthy LLM: the re-run asks only for what failed
        drill.llm.clear_faults()
        drill.llm.responder = by_model()
        calls = drill.llm.calls
        result = drill.run()

        assert result.exit_code == 0, result.output
        day = load(drill)
        assert all(p.translation and p.analysis and not p.failures for p in day.papers)
        assert drill.llm.calls - calls == len(failed)  # once each, no repair needed
        assert_clean_post(drill)
        assert "【待翻译】" not in drill.post().read_text("utf-8")


def load(drill: Drill):
    from digest_cli.records.store import load_day

    return load_day(drill.settings_obj(), DAY)


def assert_clean_post(drill: Drill) -> None:
    from digest_cli.posts.check import check_days

    post = drill.post().read_text("utf-8")
    for text in ERROR_TEXT:
        assert text not in post, f"{text!r} in the post"
    assert post.count("\n## ") == N + 1  # the papers and the contents list (目录)
    assert check_days(drill.settings_obj()) == []


# -- arXiv fails on a re-fetch of a finished day -----------------------------------------

ARXIV_FAULTS = {
    "HTTP 500 on every try": lambda a: a.fail_next(500, times=3),
    "HTTP 503 with Retry-After on every try": lambda a: a.fail_next(503, retry_after="0",
                                                                    times=3),
    "malformed page on every try": lambda a: a.malformed_next(times=3),
    "connection reset on every try": lambda a: a.reset_next(times=3),
    "Retry-After of an hour": lambda a: a.fail_next(429, retry_after="3600"),
    "query rejected (HTTP 400)": lambda a: a.fail_next(400, message="malformed query"),
    "second page fails after a good first": lambda a: (a.ok_next(), a.fail_next(500, times=3)),
    "second page empty on every try": lambda a: (a.ok_next(), a.empty_page_next(times=3)),
}
ARXIV_MESSAGES = {
    "HTTP 500 on every try": "HTTP 500 after 2 retries",
    "HTTP 503 with Retry-After on every try": "HTTP 503 after 2 retries",
    "malformed page on every try": "malformed XML",
    "connection reset on every try": "connection broken",
    "Retry-After of an hour": "retry after 3600 s",
    "query rejected (HTTP 400)": "arXiv rejected the query (HTTP 400: malformed query)",
    "second page fails after a good first": "HTTP 500 after 2 retries",
    "second page empty on every try": "empty page after 2 retries",
}


@pytest.fixture
def finished(tmp_path):
    """A day fetched, translated, rendered and published; then arXiv has news for it."""
    with Drill(tmp_path, n=6, page_size=4) as drill:
        result = drill.run()
        assert result.exit_code == 0, result.output
        # arXiv changes a title only with a new version (see fetch.refresh)
        drill.arxiv.add_paper(id=paper_id(2), version=2, title="A retitled paper",
                              authors=["Jane Doe", "John Roe"],
                              summary=drill.arxiv.papers[2]["summary"],
                              categories=["eess.AS", "cs.SD"],
                              published=drill.arxiv.papers[2]["published"],
                              updated=drill.arxiv.papers[2]["published"] + timedelta(hours=1))
        yield drill


@pytest.mark.parametrize("fault", list(ARXIV_FAULTS))
def test_arxiv_faults_leave_the_finished_day_as_it_was(finished, fault):
    drill = finished
    before, tip = snapshot(drill), drill.remote_tip()
    github_writes = len(drill.gh.writes)
    ARXIV_FAULTS[fault](drill.arxiv)

    result = drill.run(DIGEST_ARXIV_CACHE_TTL="0", DIGEST_ARXIV_RETRIES="2")

    assert result.exit_code == 1, result.output
    line = one_error_line(result.stderr)
    assert line.startswith("Error (fetch): ") and ARXIV_MESSAGES[fault] in line, line
    assert "URL: http://127.0.0.1" in line or "rejected" in line
    assert snapshot(drill) == before
    assert drill.remote_tip() == tip and len(drill.gh.writes) == github_writes

    drill.arxiv.clear_faults()  # arXiv is back: the news arrives
    result = drill.run(DIGEST_ARXIV_CACHE_TTL="0")
    assert result.exit_code == 0, result.output
    assert "A retitled paper" in drill.post().read_text("utf-8")


# -- a write fails: the disk is full ---------------------------------------------------

def file_size_limit(limit: int):
    """For preexec_fn: files may not grow past `limit` bytes (writes fail with EFBIG
    instead of the process being killed by SIGXFSZ)."""
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def paper_of(paper_title: str) -> str:
    return paper_title.rsplit(" ", 1)[1]


def without_usage(manifest: bytes) -> dict:
    from digest_cli.records.store import loads

    data = loads(manifest.decode("utf-8"))
    data.pop("usage")
    return data


def run_limited(drill: Drill, limit: int, *args: str, **env: str):
    return subprocess.run([sys.executable, "-m", "digest_cli", *drill.argv(None, *args)],
                          env=drill.env(**env), capture_output=True, text=True, timeout=60,
                          preexec_fn=file_size_limit(limit))


# Sizes here: an arXiv page ~4 KB, a record ~1.7 KB untranslated and ~2.6 KB translated,
# an answer in the cache < 0.6 KB, a manifest < 1 KB, the post ~7 KB.
WRITE_FAULTS = {
    # a re-fetch with news from arXiv: the page cannot be cached
    "fetch: the arXiv answer cache": (1000, "fetch", r"\.digest-cache/arxiv/\w+\.xml"),
    # translation of a day fetched with --no-llm: the record cannot be written
    "translate: a record": (1500, "translate", r"data/2026-11-25/2611\.\d+\.yaml"),
    # a retitled paper: the records can be written, the post cannot
    "render: the post": (5000, "render", r"_posts/2026-11-25-arxiv\.md"),
}


@pytest.mark.parametrize("where", list(WRITE_FAULTS))
def test_a_write_failure_is_one_line_and_keeps_the_previous_files(tmp_path, where):
    limit, stage, file_pattern = WRITE_FAULTS[where]
    with Drill(tmp_path, n=6, page_size=4) as drill:
        result = drill.run(*(["--no-llm"] if stage == "translate" else []))
        assert result.exit_code == 0, result.output
        if stage != "translate":
            published = drill.arxiv.papers[2]["published"]
            drill.arxiv.add_paper(id=paper_id(2), version=2, title="A retitled paper",
                                  authors=["Jane Doe", "John Roe"],
                                  summary=drill.arxiv.papers[2]["summary"],
                                  categories=["eess.AS", "cs.SD"], published=published,
                                  updated=published + timedelta(hours=1))
        before = snapshot(drill)
        ttl = "0" if stage != "translate" else "3600"

        failed = run_limited(drill, limit, DIGEST_ARXIV_CACHE_TTL=ttl)

        assert failed.returncode == 1, failed.stdout + failed.stderr
        line = one_error_line(failed.stderr)
        assert re.search(file_pattern, line) and "File too large" in line, line
        after = snapshot(drill)
        assert drill.temp_files() == []
        if stage == "render":  # fetch wrote the news into the records; the post is the old
            post = f"_posts/{DAY}-arxiv.md"
            assert after[post] == before[post]
        elif stage == "translate":  # the tokens already spent are added to the manifest
            manifest = f"data/{DAY}/manifest.yaml"
            assert without_usage(after.pop(manifest)) == without_usage(before.pop(manifest))
            assert after == before
        else:
            assert after == before

        cached, asked = drill.cached_answers(), drill.asks()
        if stage == "translate":
            assert any(kind == "translation" for _, kind in cached)
        result = drill.run(DIGEST_ARXIV_CACHE_TTL=ttl)
        assert result.exit_code == 0, result.output
        assert all(p.translation and p.analysis for p in load(drill).papers)
        # answers that reached the cache are not asked again (a 详细解读 is: the PDF could
        # not be cached on the full disk, so it was asked from the abstract alone)
        again = drill.asks() - asked
        assert not [key for key in again if (key[1] == "translation" and
                                             (paper_of(key[0]), key[1]) in cached)]
