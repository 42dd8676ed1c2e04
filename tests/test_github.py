"""The GitHub REST client against FakeGitHub on 127.0.0.1: requests, answers, errors."""

from __future__ import annotations

import pytest

from digest_cli.errors import PublishError
from digest_cli.publish.github import GitHub, GitHubError
from tests.fakes.fixtures import GITHUB_TOKEN
from tests.fakes.github_server import ACTIONS_FORBIDDEN


def client(server, token: str = GITHUB_TOKEN, repository: str = "octo/digest",
           retries: int = 2) -> GitHub:
    return GitHub(server.url, repository, token, timeout=5, retries=retries, retry_delay=0)


def test_create_find_update_and_label(github_server):
    github_server.add_branch("digest/2026-01-28")
    gh = client(github_server)
    assert gh.find_pull("digest/2026-01-28") is None

    pr = gh.create_pull("digest/2026-01-28", "main", "arXiv Daily", "body | one")
    assert (pr.number, pr.head, pr.base, pr.body) == (1, "digest/2026-01-28", "main",
                                                      "body | one")
    assert pr.url == "https://github.com/octo/digest/pull/1"
    found = gh.find_pull("digest/2026-01-28")
    assert found is not None and found.number == 1

    updated = gh.update_pull(1, body="new body")
    assert updated.body == "new body" and github_server.pulls[0]["body"] == "new body"
    assert gh.add_labels(1, ["digest", "needs-review"]) == ["digest", "needs-review"]
    assert github_server.labels[1] == ["digest", "needs-review"]
    gh.close()


def test_requests_carry_the_token_only_in_the_header(github_server):
    github_server.add_branch("b")
    with client(github_server) as gh:
        gh.find_pull("b")
        gh.create_pull("b", "main", "t", "x")
    for req in github_server.requests:
        assert req.header("authorization") == f"Bearer {GITHUB_TOKEN}"
        assert GITHUB_TOKEN not in req.raw_path
        assert req.header("x-github-api-version") == "2022-11-28"
        assert req.header("accept") == "application/vnd.github+json"
    listing = github_server.requests_to("/repos/octo/digest/pulls", method="GET")[0]
    assert listing.query["head"] == "octo:b" and listing.query["state"] == "open"


def test_find_pull_ignores_other_heads_and_closed_ones(github_server):
    github_server.add_pull("digest/2026-01-27", title="yesterday")
    github_server.add_pull("digest/2026-01-28", title="closed", state="closed")
    with client(github_server) as gh:
        assert gh.find_pull("digest/2026-01-28") is None
        github_server.add_pull("digest/2026-01-28", title="open")
        assert gh.find_pull("digest/2026-01-28").title == "open"


@pytest.mark.parametrize("status, message, expected", [
    (401, None, "GITHUB_TOKEN is invalid or expired"),
    (403, ACTIONS_FORBIDDEN, '"Allow GitHub Actions to create and approve pull requests"'),
    (403, "Resource not accessible by integration", "`permissions: pull-requests: write`"),
    (404, None, "octo/digest not found, or the token cannot access it"),
    (500, None, "GitHub refused to create a pull request (500 Server Error)"),
])
def test_errors_become_one_line_that_says_what_to_do(github_server, status, message, expected):
    github_server.add_branch("b")
    github_server.fail_next(r"/pulls$", status, message, method="POST", times=3)
    with client(github_server) as gh, pytest.raises(GitHubError) as err:
        gh.create_pull("b", "main", "t", "x")
    text = str(err.value)
    assert expected in text and "\n" not in text and GITHUB_TOKEN not in text
    assert err.value.status == status and isinstance(err.value, PublishError)


def test_a_real_bad_token_gets_401(github_server):
    with client(github_server, token="ghs_wrong") as gh, pytest.raises(GitHubError) as err:
        gh.find_pull("b")
    assert err.value.status == 401 and "Bad credentials" in str(err.value)
    assert "ghs_wrong" not in str(err.value)


def test_an_unknown_repository_gets_404(github_server):
    with client(github_server, repository="octo/nope") as gh, pytest.raises(GitHubError) as e:
        gh.find_pull("b")
    assert e.value.status == 404 and "check GITHUB_REPOSITORY" in str(e.value)


def test_422_details_are_kept_for_the_caller(github_server):
    github_server.add_pull("b")
    with client(github_server) as gh, pytest.raises(GitHubError) as err:
        gh.create_pull("b", "main", "t", "x")  # GitHub: a PR already exists for octo:b
    assert err.value.status == 422 and err.value.mentions("already exists")
    assert "A pull request already exists for octo:b" in str(err.value)
    with client(github_server) as gh, pytest.raises(GitHubError) as err:
        gh.create_pull("missing", "main", "t", "x")
    assert err.value.invalid_field("head") and not err.value.invalid_field("base")


def test_rate_limit_is_named(github_server):
    github_server.fail_next(".*", 403, "API rate limit exceeded for installation ID 1.",
                            headers={"X-RateLimit-Remaining": "0",
                                     "X-RateLimit-Reset": "1769580000"})
    with client(github_server) as gh, pytest.raises(GitHubError, match="rate limit.*1769580000"):
        gh.find_pull("b")


def test_server_errors_are_retried(github_server):
    github_server.add_branch("b")
    github_server.fail_next(r"/pulls$", 502, method="GET", times=2)
    with client(github_server) as gh:
        assert gh.find_pull("b") is None
    assert len(github_server.requests_to("/repos/octo/digest/pulls", method="GET")) == 3


def test_retries_run_out(github_server):
    github_server.fail_next(r"/pulls$", 503, method="GET", times=5)
    with client(github_server, retries=1) as gh, pytest.raises(GitHubError, match="503"):
        gh.find_pull("b")
    assert len(github_server.requests) == 2


def test_one_client_keeps_one_connection_for_all_its_requests(github_server):
    github_server.add_branch("b")
    with client(github_server) as gh:
        pr = gh.create_pull("b", "main", "t", "x")
        gh.add_labels(pr.number, ["digest"])
        assert gh.find_pull("b") is not None
    assert len(github_server.requests) == 3 and github_server.connections == 1


def test_an_unreachable_api(github_server):
    url = github_server.url
    github_server.stop()
    gh = GitHub(url, "octo/digest", GITHUB_TOKEN, timeout=2, retries=1, retry_delay=0)
    with pytest.raises(GitHubError, match="cannot reach the GitHub API at http://127.0.0.1"):
        gh.find_pull("b")


def test_a_body_that_is_not_json(github_server):
    github_server.fail_next(r"/pulls$", 200, method="GET", body="<html>proxy</html>")
    with client(github_server) as gh, pytest.raises(GitHubError, match="not a list"):
        gh.find_pull("b")


def test_a_malformed_repository_name():
    with pytest.raises(PublishError, match="GITHUB_REPOSITORY must be owner/name"):
        GitHub("http://127.0.0.1:9", "just-a-name", "t")


def test_a_token_pasted_with_a_line_break_works_and_never_shows(github_server):
    # httpx refused the header and put it, token included, into the error message.
    with GitHub(github_server.url, "octo/digest", GITHUB_TOKEN + "\n", timeout=5,
                retries=0, retry_delay=0) as gh:
        assert gh.find_pull("digest/2026-01-28") is None
    assert github_server.requests[-1].header("authorization") == f"Bearer {GITHUB_TOKEN}"
    with pytest.raises(PublishError) as err:
        GitHub(github_server.url, "octo/digest", GITHUB_TOKEN + "\r\nX-Evil: 1", retries=0)
    assert GITHUB_TOKEN not in str(err.value) and "GITHUB_TOKEN" in str(err.value)
    with pytest.raises(PublishError, match="cannot go into an HTTP header"):
        GitHub(github_server.url, "octo/digest", "ghp_tökén", retries=0)


def test_a_label_the_token_may_not_create_says_what_to_change(github_server):
    # With `pull-requests: write` only, GitHub refuses to create a missing label; the error
    # told the user to grant `pull-requests: write`, which the workflow already had.
    github_server.add_branch("b")
    github_server.fail_next(r"/labels$", 403, "You do not have permission to create labels "
                            "on this repository.", method="POST", times=3)
    with GitHub(github_server.url, "octo/digest", GITHUB_TOKEN, retries=0) as gh:
        pr = gh.create_pull("b", "main", "t", "x")
        with pytest.raises(GitHubError) as err:
            gh.add_labels(pr.number, ["digest"])
    assert "issues: write" in str(err.value) and "pr_labels" in str(err.value)
