"""The one retry helper (digest_cli/retry.py) and the one secret scrubber (errors.scrub)
that the arXiv, LLM and GitHub clients and every error path share."""

from __future__ import annotations

import asyncio
import random

import pytest

from digest_cli.errors import scrub
from digest_cli.publish.github import GitHub
from digest_cli.retry import Backoff, Transient, aretry, retry
from digest_cli.settings import load_settings
from tests.fakes.fixtures import GITHUB_TOKEN


def test_backoff_grows_and_is_capped():
    backoff = Backoff(3.0, cap=20.0)
    assert [backoff.delay(n) for n in range(4)] == [3.0, 6.0, 12.0, 20.0]


def test_the_servers_retry_after_wins_but_is_capped_too():
    backoff = Backoff(3.0, cap=20.0)
    assert backoff.delay(2, retry_after=0.5) == 0.5  # the server knows when it is ready
    assert backoff.delay(0, retry_after=3600) == 20.0


def test_jitter_draws_from_the_stated_fraction():
    backoff = Backoff(2.0, jitter=0.5, rng=random.Random(7))
    waits = [backoff.delay(1) for _ in range(200)]
    assert all(2.0 <= w <= 4.0 for w in waits) and len(set(waits)) > 100


class Flaky:
    """Fails `times` times with a Transient, then answers."""

    def __init__(self, times: int, retry_after: float | None = None) -> None:
        self.times, self.retry_after, self.calls = times, retry_after, 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.times:
            raise Transient(f"fault {self.calls}", 503, self.retry_after)
        return "ok"


def test_retry_sleeps_through_the_injected_sleep_and_returns_the_answer():
    slept, seen = [], []
    result = retry(Flaky(2), retries=3, backoff=Backoff(1.0), sleep=slept.append,
                   on_retry=lambda n, wait, exc: seen.append((n, wait, exc.reason)))
    assert result == "ok" and slept == [1.0, 2.0]
    assert seen == [(0, 1.0, "fault 1"), (1, 2.0, "fault 2")]


def test_retry_gives_up_with_the_last_fault_and_the_count():
    slept = []
    with pytest.raises(Transient) as caught:
        retry(Flaky(5, retry_after=0.25), retries=2, backoff=Backoff(1.0), sleep=slept.append)
    assert (caught.value.reason, caught.value.retries) == ("fault 3", 2)
    assert slept == [0.25, 0.25]


def test_on_retry_may_stop_the_retries():
    def refuse(n, wait, exc):
        raise RuntimeError(f"not waiting {wait} s")

    slept = []
    with pytest.raises(RuntimeError, match="not waiting 9 s"):
        retry(Flaky(1, retry_after=9), retries=3, backoff=Backoff(1.0), sleep=slept.append,
              on_retry=refuse)
    assert slept == []


def test_aretry_follows_the_same_rules():
    slept = []

    async def sleep(seconds):
        slept.append(seconds)

    flaky = Flaky(1)

    async def attempt():
        return flaky()

    assert asyncio.run(aretry(attempt, retries=1, backoff=Backoff(0.5), sleep=sleep)) == "ok"
    assert slept == [0.5] and flaky.calls == 2


def test_github_honours_retry_after_through_the_same_helper(github_server):
    github_server.add_branch("b")
    github_server.fail_next(r"/pulls$", 503, headers={"Retry-After": "7"})
    slept = []
    with GitHub(github_server.url, "octo/digest", GITHUB_TOKEN, retries=1, retry_delay=0,
                sleep=slept.append) as gh:
        assert gh.find_pull("b") is None
    assert slept == [7.0]


def test_scrub_takes_out_secrets_as_pasted_and_credentials_in_urls():
    text = ("push to https://x-access-token:ghs_abc@github.com/o/r failed; key sk-123 "
            "and token ghp_XYZ")
    out = scrub(text, ["sk-123\n", " ghp_XYZ", ""])
    assert out == ("push to https://***@github.com/o/r failed; key *** and token ***")


def test_settings_list_every_secret_for_the_scrubber(tmp_path):
    settings = load_settings(tmp_path, environ={"DIGEST_LLM_API_KEY": "sk-1",
                                                 "GITHUB_TOKEN": "ghp_2"})
    assert sorted(settings.secrets) == ["ghp_2", "sk-1"]
    assert load_settings(tmp_path, environ={}).secrets == []
