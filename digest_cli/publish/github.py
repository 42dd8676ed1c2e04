"""A small client for the part of the GitHub REST API that publishing uses: find, create
and update the pull request of a day, and put labels on it.

Configured as GitHub Actions configures itself (GITHUB_API_URL, GITHUB_REPOSITORY,
GITHUB_TOKEN, through `Settings`). The token travels only in the Authorization header:
never in a URL, a log line or an error message.

Every failure becomes a `GitHubError` (a `PublishError`) whose message is one line that
says what to do about it; the HTTP status and GitHub's own message ride along.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from digest_cli import __version__
from digest_cli.errors import PublishError, scrub
from digest_cli.retry import Backoff, Transient, retry, retry_after

if TYPE_CHECKING:
    from digest_cli.bounded import Reply, Session
    from digest_cli.settings import Settings

log = logging.getLogger(__name__)

API_VERSION = "2022-11-28"
ACTIONS_NOT_PERMITTED = "not permitted to create or approve pull requests"
ALLOW_ACTIONS_SETTING = ("Settings > Actions > General > Workflow permissions > "
                         '"Allow GitHub Actions to create and approve pull requests"')
_RETRY_STATUSES = (500, 502, 503, 504)
MAX_ANSWER_BYTES = 16 << 20  # the largest answers (a pull request list) are ~1 MB


class GitHubError(PublishError):
    """The GitHub API refused or failed; `status` and `github_message` say how."""

    def __init__(self, message: str, *, status: int | None = None,
                 github_message: str = "", errors: list[Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.github_message = github_message
        self.errors = errors or []

    def mentions(self, text: str) -> bool:
        """True when GitHub's message or one of its `errors` contains `text`."""
        texts = [self.github_message] + [str(e.get("message", "")) if isinstance(e, dict)
                                         else str(e) for e in self.errors]
        return any(text.lower() in t.lower() for t in texts)

    def invalid_field(self, name: str) -> bool:
        """True for a 422 that names `name` as an invalid field (e.g. an unknown head)."""
        return any(isinstance(e, dict) and e.get("field") == name for e in self.errors)


@dataclass
class PullRequest:
    """The fields of a pull request that publishing looks at."""

    number: int
    url: str
    title: str
    body: str
    head: str
    base: str
    labels: list[str] = field(default_factory=list)
    author: str = ""  # who opened it: the identity the site publishes with

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PullRequest:
        user = data.get("user")
        return cls(number=int(data["number"]), url=str(data.get("html_url") or ""),
                   title=str(data.get("title") or ""), body=str(data.get("body") or ""),
                   head=str(data.get("head", {}).get("ref") or ""),
                   base=str(data.get("base", {}).get("ref") or ""),
                   labels=[str(x.get("name")) for x in data.get("labels") or []],
                   author=str(user.get("login") or "") if isinstance(user, dict) else "")


class GitHub:
    """The REST client for one repository (`owner/name`)."""

    def __init__(self, api_url: str, repository: str, token: str, *, timeout: float = 30.0,
                 retries: int = 2, retry_delay: float = 1.0,
                 sleep: Callable[[float], object] = time.sleep) -> None:
        owner, _, name = repository.partition("/")
        if not owner or not name or "/" in name:
            raise PublishError(f"GITHUB_REPOSITORY must be owner/name, got {repository!r}")
        token = token.strip()  # a secret pasted with its line break is still the secret
        if not token.isascii() or not token.isprintable():
            raise PublishError("GITHUB_TOKEN holds characters that cannot go into an HTTP "
                               "header (a line break or space pasted with it?): set it again")
        self.repository, self.owner = repository, owner
        self._token = token
        self.api_url = api_url.rstrip("/")
        self.retries, self._sleep = retries, sleep
        self.backoff = Backoff(retry_delay)
        self.timeout = timeout  # the whole request, not each read (digest_cli.bounded)
        self._session: Session | None = None  # one HTTP client for the run, made when used
        self._headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": f"digest/{__version__}",
        }

    @classmethod
    def from_settings(cls, settings: Settings) -> GitHub:
        """A client configured by GITHUB_API_URL, GITHUB_REPOSITORY and GITHUB_TOKEN."""
        return cls(settings.github_api_url, settings.github_repository, settings.github_token,
                   timeout=settings.github_timeout, retries=settings.github_retries,
                   retry_delay=settings.github_retry_delay)

    def close(self) -> None:
        """Close the HTTP connections (a later request opens them again)."""
        if self._session is not None:
            self._session.close()

    def __enter__(self) -> GitHub:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- pull requests -------------------------------------------------------------
    def find_pull(self, branch: str) -> PullRequest | None:
        """The open pull request whose head is `branch` of this repository, if any."""
        found = self._request("GET", f"/repos/{self.repository}/pulls", "list pull requests",
                              params={"head": f"{self.owner}:{branch}", "state": "open",
                                      "per_page": 100})
        if not isinstance(found, list):
            raise GitHubError(f"GitHub answered the pull request list of {self.repository} "
                              "with something that is not a list")
        pulls = [PullRequest.from_json(p) for p in found if isinstance(p, dict)]
        pulls = [p for p in pulls if p.head == branch]  # GitHub ignores a malformed head
        return min(pulls, key=lambda p: p.number) if pulls else None

    def create_pull(self, branch: str, base: str, title: str, body: str) -> PullRequest:
        """Open a pull request from `branch` into `base`."""
        data = self._request("POST", f"/repos/{self.repository}/pulls", "create a pull request",
                             json={"title": title, "head": branch, "base": base, "body": body})
        return PullRequest.from_json(data)

    def update_pull(self, number: int, **fields: str) -> PullRequest:
        """Change the title and/or body of pull request `number`."""
        data = self._request("PATCH", f"/repos/{self.repository}/pulls/{number}",
                             f"update pull request #{number}", json=fields)
        return PullRequest.from_json(data)

    def add_labels(self, number: int, labels: list[str]) -> list[str]:
        """Add `labels` to issue/PR `number` (missing labels are created); all its labels."""
        data = self._request("POST", f"/repos/{self.repository}/issues/{number}/labels",
                             f"label pull request #{number}", json={"labels": labels})
        return [str(x.get("name")) for x in data if isinstance(x, dict)]

    def permission(self, user: str) -> str:
        """The role of `user` in the repository: admin, maintain, write, triage, read or
        none (a user GitHub does not know has none)."""
        from urllib.parse import quote

        try:
            data = self._request("GET", f"/repos/{self.repository}/collaborators/"
                                 f"{quote(user, safe='')}/permission",
                                 f"read the permission of {user}")
        except GitHubError as exc:
            if exc.status == 404:
                return "none"
            raise
        if not isinstance(data, dict):
            return "none"
        # `permission` is the base role (maintain -> write, triage -> read); `role_name` may
        # be an organisation's custom role, whose name says nothing of write access.
        return str(data.get("permission") or data.get("role_name") or "none")

    def comments(self, number: int) -> list[dict[str, Any]]:
        """The comments on issue/PR `number` (the first 100: a day's PR has a few)."""
        data = self._request("GET", f"/repos/{self.repository}/issues/{number}/comments",
                             f"list the comments of #{number}", params={"per_page": 100})
        return [c for c in data if isinstance(c, dict)] if isinstance(data, list) else []

    def create_comment(self, number: int, body: str) -> dict[str, Any]:
        """Comment on issue/PR `number`."""
        path = f"/repos/{self.repository}/issues/{number}/comments"
        return _object(self._request("POST", path, f"comment on #{number}",
                                     json={"body": body}))

    def update_comment(self, comment_id: int, body: str) -> dict[str, Any]:
        """Replace the text of a comment."""
        path = f"/repos/{self.repository}/issues/comments/{comment_id}"
        return _object(self._request("PATCH", path, f"update comment {comment_id}",
                                     json={"body": body}))

    # -- labels and set-up (`digest doctor`) -----------------------------------------
    def repo_get(self, path: str, what: str) -> Any:
        """GET `/repos/OWNER/NAME{path}`: the decoded JSON; a refusal raises GitHubError."""
        return self._request("GET", f"/repos/{self.repository}{path}", what)

    def label_exists(self, name: str) -> bool:
        """Whether the repository has label `name` (reading labels needs no permission)."""
        from urllib.parse import quote

        try:
            self.repo_get(f"/labels/{quote(name, safe='')}", f"read label {name!r}")
        except GitHubError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def create_label(self, name: str, color: str = "1d76db") -> None:
        """Create label `name`; one created meanwhile is fine. A refusal names the fix."""
        try:
            self._request("POST", f"/repos/{self.repository}/labels", f"create label {name!r}",
                          json={"name": name, "color": color,
                                "description": "A day of the arXiv digest"})
        except GitHubError as exc:
            if exc.status == 422 and any(isinstance(e, dict) and e.get("code") == "already_exists"
                                         for e in exc.errors):
                return
            if exc.status == 403:
                raise GitHubError(f"the token may not create label {name!r} in "
                                  f"{self.repository} (403 {exc.github_message}): "
                                  f"{grant_hint(self._token, 'Issues', 'issues: write')}",
                                  status=403, github_message=exc.github_message) from None
            raise

    def grant_hint(self, permission: str, scope: str | None, write: bool = True) -> str:
        """How to give this client's token `permission` (see `grant_hint`)."""
        return grant_hint(self._token, permission, scope, write)

    def ensure_labels(self, names: list[str]) -> list[str]:
        """Create those of `names` the repository lacks (only those); the ones created."""
        missing = [name for name in names if not self.label_exists(name)]
        for name in missing:
            self.create_label(name)
        return missing

    # -- transport -----------------------------------------------------------------
    def _request(self, method: str, path: str, what: str, **kw: Any) -> Any:
        """Send one request, retrying 5xx and connection failures; the decoded JSON."""
        def warn(attempt: int, wait: float, exc: Transient) -> None:
            log.warning("GitHub: %s failed (%s, attempt %d), retrying in %.1f s", what,
                        exc.reason, attempt + 1, wait)

        try:
            response = retry(lambda: self._send(method, path, **kw), retries=self.retries,
                             backoff=self.backoff, sleep=self._sleep, on_retry=warn)
        except Transient as exc:
            if exc.answer is None:  # no answer at all
                raise GitHubError(f"cannot reach the GitHub API at {self.api_url} to {what} "
                                  f"({exc.reason}); check GITHUB_API_URL") from None
            response = exc.answer  # the last 5xx: its message says what went wrong
        return self._decode(response, what)

    def _send(self, method: str, path: str, **kw: Any) -> Reply:
        """One request; `Transient` for a 5xx or no answer."""
        from digest_cli.bounded import HTTPError, Session  # heavy: only when a request is made

        if self._session is None:  # a total deadline and a size cap per request
            self._session = Session(deadline=self.timeout, max_bytes=MAX_ANSWER_BYTES,
                                    follow_redirects=False, headers=self._headers)
        try:
            response = self._session.request(method, self.api_url + path, **kw)
        except HTTPError as exc:
            raise Transient(f"{type(exc).__name__}: {scrub(str(exc), [self._token])}"
                            ) from None
        if response.status_code in _RETRY_STATUSES:
            raise Transient(f"HTTP {response.status_code}", response.status_code,
                            retry_after(response.headers), answer=response)
        return response

    def _decode(self, response: Reply, what: str) -> Any:
        if response.status_code >= 400:
            raise api_error(response, what, self.repository, token=self._token)
        try:
            return response.json()
        except ValueError:
            raise GitHubError(f"GitHub answered {what} with status {response.status_code} "
                              "but a body that is not JSON; check GITHUB_API_URL") from None


def _object(data: Any) -> dict[str, Any]:
    """A JSON answer that should be an object (a comment): {} when it is not."""
    return data if isinstance(data, dict) else {}


def _body(response: Reply) -> tuple[str, list[Any]]:
    try:
        data = response.json()
    except ValueError:
        return "", []
    if not isinstance(data, dict):
        return "", []
    errors = data.get("errors")
    errors = errors if isinstance(errors, list) else []
    return " ".join(str(data.get("message") or "").split())[:200], errors


def api_error(response: Reply, what: str, repository: str,
              token: str = "") -> GitHubError:
    """The one-line error for a 4xx/5xx answer: what happened and what to change."""
    status = response.status_code
    message, errors = _body(response)
    said = f"{status} {message}".strip()
    if status == 401:
        text = f"GITHUB_TOKEN is invalid or expired (GitHub answered {said})"
    elif status == 403 and ACTIONS_NOT_PERMITTED in message.lower():
        text = (f"GitHub Actions is not permitted to create pull requests in {repository}: "
                f"enable {ALLOW_ACTIONS_SETTING}")
    elif status in (403, 422) and _label_denied(message, errors):
        text = (f"the token may not create labels in {repository} ({said}): "
                f"{grant_hint(token, 'Issues', 'issues: write')}; or create the labels of "
                "the setting `pr_labels` in the repository")
    elif status in (403, 429) and _rate_limited(response, message):
        text = (f"GitHub's API rate limit is exhausted ({said}); re-run after "
                f"{response.headers.get('x-ratelimit-reset', 'a while')} (epoch seconds)")
    elif status == 403:
        text = (f"GITHUB_TOKEN may not {what} in {repository} ({said}): give the workflow "
                "`permissions: pull-requests: write` (and `contents: write`)")
    elif status == 404:
        text = (f"repository {repository} not found, or the token cannot access it (404): "
                "check GITHUB_REPOSITORY and the token's access")
    else:
        detail = "; ".join(_error_text(e) for e in errors)
        text = f"GitHub refused to {what} ({said}{': ' + detail if detail else ''})"
    return GitHubError(text, status=status, github_message=message, errors=errors)


def token_kind(token: str) -> str:
    """What issued `token`, from its prefix: "actions" (GITHUB_TOKEN or a GitHub App
    installation token, both `ghs_`), "fine-grained", "classic", or "unknown"."""
    for prefix, kind in (("ghs_", "actions"), ("github_pat_", "fine-grained"),
                         ("ghp_", "classic"), ("gho_", "classic")):
        if token.startswith(prefix):
            return kind
    return "unknown"


def grant_hint(token: str, permission: str, scope: str | None, write: bool = True) -> str:
    """How to give `token` the repository permission `permission` ("Issues"); `scope` is
    the workflow's `permissions:` entry ("issues: write"), None when GITHUB_TOKEN cannot
    have it (e.g. Administration: an owner's token is needed)."""
    level = "Read and write" if write else "Read-only"
    pat = f"give the fine-grained token the repository permission {permission}: {level}"
    app = (f"give the GitHub App the permission {permission}: {level} and accept it in "
           "the installation")
    workflow = (f"add `{scope}` to the workflow's `permissions:`" if scope else
                "GITHUB_TOKEN cannot have it: run this with the owner's token")
    return {"actions": f"{workflow}; with a GitHub App token, {app}",
            "fine-grained": pat,
            "classic": "a classic token needs the `repo` scope (better: " + pat + ")",
            }.get(token_kind(token), f"{workflow}; or {pat}")


def _label_denied(message: str, errors: list[Any]) -> bool:
    """GitHub refused to create a missing label: the token lacks `issues: write`."""
    return ("permission to create labels" in message.lower()
            or any(isinstance(e, dict) and e.get("field") == "label" for e in errors))


def _rate_limited(response: Reply, message: str) -> bool:
    return (response.headers.get("x-ratelimit-remaining") == "0"
            or "rate limit" in message.lower())


def _error_text(error: Any) -> str:
    if not isinstance(error, dict):
        return " ".join(str(error).split())[:200]
    if error.get("message"):
        return " ".join(str(error["message"]).split())[:200]
    return " ".join(str(error.get(k)) for k in ("field", "code") if error.get(k))
