"""A fake of the small part of the GitHub REST API that publishing uses.

Endpoints (``{owner}/{repo}`` must be a repository the fake knows, else 404):

* ``GET  /repos/{owner}/{repo}``                      repository (``default_branch``)
* ``GET  /repos/{owner}/{repo}/pulls``                list; ``state`` (open|closed|all,
  default open), ``head`` (``owner:branch``; like GitHub, a bare ``branch`` without
  the owner is silently ignored), ``base``, ``per_page`` (default 30), ``page``
* ``POST /repos/{owner}/{repo}/pulls``                create (title, head, base, body, draft)
* ``GET  /repos/{owner}/{repo}/pulls/{number}``       one pull request
* ``PATCH /repos/{owner}/{repo}/pulls/{number}``      update title, body, state, base
* ``POST /repos/{owner}/{repo}/issues/{number}/labels``  add labels (``{"labels": [...]}``
  or a bare JSON list); answers every label now on the issue

Every request needs ``Authorization: Bearer <token>`` or ``token <token>``:
no header gives 401 "Requires authentication", a wrong token 401 "Bad
credentials". Error bodies have GitHub's shape ``{"message",
"documentation_url", "status"}`` (plus ``errors`` for 422 Validation Failed).
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from ._base import FakeServer, RecordedRequest, Response

__all__ = ["FakeGitHub"]

DOCS = "https://docs.github.com/rest"
DOC_CREATE = "https://docs.github.com/rest/pulls/pulls#create-a-pull-request"
DOC_UPDATE = "https://docs.github.com/rest/pulls/pulls#update-a-pull-request"
DOC_LIST = "https://docs.github.com/rest/pulls/pulls#list-pull-requests"
DOC_GET = "https://docs.github.com/rest/pulls/pulls#get-a-pull-request"
DOC_LABELS = "https://docs.github.com/rest/issues/labels#add-labels-to-an-issue"
DOC_REPO = "https://docs.github.com/rest/repos/repos#get-a-repository"
ACTIONS_FORBIDDEN = "GitHub Actions is not permitted to create or approve pull requests."

_JSON = "application/json; charset=utf-8"
_ROUTES = [
    ("GET", re.compile(r"^/repos/([^/]+)/([^/]+)$"), "get_repo"),
    ("GET", re.compile(r"^/repos/([^/]+)/([^/]+)/pulls$"), "list_pulls"),
    ("POST", re.compile(r"^/repos/([^/]+)/([^/]+)/pulls$"), "create_pull"),
    ("GET", re.compile(r"^/repos/([^/]+)/([^/]+)/pulls/(\d+)$"), "get_pull"),
    ("PATCH", re.compile(r"^/repos/([^/]+)/([^/]+)/pulls/(\d+)$"), "update_pull"),
    ("POST", re.compile(r"^/repos/([^/]+)/([^/]+)/issues/(\d+)/labels$"), "add_labels"),
    ("GET", re.compile(r"^/repos/([^/]+)/([^/]+)/collaborators/([^/]+)/permission$"),
     "get_permission"),
    ("GET", re.compile(r"^/repos/([^/]+)/([^/]+)/issues/(\d+)/comments$"), "list_comments"),
    ("POST", re.compile(r"^/repos/([^/]+)/([^/]+)/issues/(\d+)/comments$"), "create_comment"),
    ("PATCH", re.compile(r"^/repos/([^/]+)/([^/]+)/issues/comments/(\d+)$"), "update_comment"),
]


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sha(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class FakeGitHub(FakeServer):
    """Fake GitHub REST API for one or more repositories.

    Constructor: ``FakeGitHub(token=None, owner="octo", repo="digest",
    default_branch="main", branches=None, login="github-actions[bot]")``.
    With ``token=None`` any non-empty token is accepted (a header is still
    required).

    State: ``pulls`` (list of PR dicts in GitHub's JSON shape, all repos),
    ``labels`` (``{number: [label names]}``), ``branches`` (set of known branch
    names; a PR's head and base must be in it, else 422; defaults to the default
    branch), ``branch_exists`` (optional callback ``(owner, repo, branch) ->
    bool`` that replaces the set), ``repos`` (``{"owner/repo": {...}}``).
    """

    def __init__(self, token: str | None = None, owner: str = "octo", repo: str = "digest",
                 default_branch: str = "main", branches: set[str] | None = None,
                 login: str = "github-actions[bot]") -> None:
        super().__init__()
        self.token = token
        self.owner = owner
        self.repo = repo
        self.login = login
        self.html_base = "https://github.com"
        self.repos: dict[str, dict[str, Any]] = {}
        self.add_repo(owner, repo, default_branch)
        self.branches: set[str] = set(branches) if branches is not None else {default_branch}
        self.branch_exists: Callable[[str, str, str], bool] | None = None
        self.pulls: list[dict[str, Any]] = []
        self.labels: dict[int, list[str]] = {}
        self._faults: list[dict[str, Any]] = []
        # login -> role ("admin", "maintain", "write", "triage", "read"); others: "none".
        self.collaborators: dict[str, str] = {}
        self.comments: list[dict[str, Any]] = []  # issue comments, all repos and numbers
        self._next_number = 1
        self._state_lock = threading.RLock()

    # -- setup ------------------------------------------------------------------
    @property
    def api_url(self) -> str:
        return self.url

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repo}"

    def add_repo(self, owner: str, repo: str, default_branch: str = "main") -> dict[str, Any]:
        full = f"{owner}/{repo}"
        self.repos[full] = {"owner": owner, "name": repo, "default_branch": default_branch,
                            "private": False}
        return self.repos[full]

    def add_branch(self, *names: str) -> None:
        self.branches.update(names)

    def add_pull(self, head: str, title: str = "Existing PR", body: str | None = None,
                 base: str | None = None, state: str = "open", owner: str | None = None,
                 repo: str | None = None) -> dict[str, Any]:
        """Seed a pull request directly (no validation). ``head`` is a branch name."""
        owner, repo = owner or self.owner, repo or self.repo
        with self._state_lock:
            self.branches.add(head)
            return self._new_pull(owner, repo, head, owner, base or self.repos[f"{owner}/{repo}"]["default_branch"],
                                  title, body, state=state)

    def open_pulls(self, head: str | None = None) -> list[dict[str, Any]]:
        """Open PRs, optionally only those whose ``head.ref`` is ``head``."""
        with self._state_lock:
            return [p for p in self.pulls
                    if p["state"] == "open" and (head is None or p["head"]["ref"] == head)]

    # -- faults -----------------------------------------------------------------
    def fail_next(self, path_regex: str = ".*", status: int = 500, message: str | None = None,
                  times: int = 1, method: str | None = None,
                  headers: dict[str, str] | None = None, body: Any = None) -> None:
        """The next ``times`` requests whose path matches ``path_regex`` (``re.search``)
        and, if given, ``method``, get ``status`` with ``{"message": message, ...}``.

        ``message`` defaults to GitHub's wording for the status ("Not Found",
        "Bad credentials", ...). Matching faults are used in the order queued.
        Example: ``fail_next(r"/pulls$", 403, ACTIONS_FORBIDDEN, method="POST")``.
        """
        with self._state_lock:
            for _ in range(times):
                self._faults.append({"regex": re.compile(path_regex), "status": status,
                                     "message": message, "method": method,
                                     "headers": headers or {}, "body": body})

    def clear_faults(self) -> None:
        with self._state_lock:
            self._faults.clear()

    # -- helpers ------------------------------------------------------------------
    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        h = {"Content-Type": _JSON, "X-GitHub-Media-Type": "github.v3; format=json",
             "X-GitHub-Request-Id": _sha(str(id(extra)) + _now())[:20].upper(),
             "X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "4999",
             "X-RateLimit-Resource": "core", "X-GitHub-Api-Version-Selected": "2022-11-28"}
        h.update(extra or {})
        return h

    def _json(self, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response.json(data, status=status, headers=self._headers(headers), content_type=_JSON)

    def _error(self, status: int, message: str, doc: str = DOCS,
               errors: list[dict[str, Any]] | None = None,
               headers: dict[str, str] | None = None) -> Response:
        body: dict[str, Any] = {"message": message}
        if errors is not None:
            body["errors"] = errors
        body["documentation_url"] = doc
        body["status"] = str(status)
        return self._json(body, status, headers)

    def _validation(self, doc: str, *errors: dict[str, Any]) -> Response:
        return self._error(422, "Validation Failed", doc, errors=list(errors))

    def _known_branch(self, owner: str, repo: str, branch: str) -> bool:
        if self.branch_exists is not None:
            return bool(self.branch_exists(owner, repo, branch))
        return branch in self.branches

    def _user(self, login: str) -> dict[str, Any]:
        return {"login": login, "id": int(_sha(login)[:7], 16),
                "type": "Bot" if login.endswith("[bot]") else "User",
                "html_url": f"{self.html_base}/{login}",
                "url": f"https://api.github.com/users/{login}"}

    def _repo_json(self, full: str) -> dict[str, Any]:
        r = self.repos[full]
        return {
            "id": int(_sha(full)[:8], 16), "node_id": "R_" + _sha(full)[:16], "name": r["name"],
            "full_name": full, "private": r["private"], "owner": self._user(r["owner"]),
            "html_url": f"{self.html_base}/{full}", "url": f"https://api.github.com/repos/{full}",
            "default_branch": r["default_branch"], "fork": False, "visibility": "public",
            "permissions": {"admin": False, "maintain": False, "push": True, "triage": True, "pull": True},
        }

    def _ref(self, full: str, owner: str, branch: str) -> dict[str, Any]:
        return {"label": f"{owner}:{branch}", "ref": branch, "sha": _sha(full + branch),
                "user": self._user(owner), "repo": self._repo_json(full)}

    def _new_pull(self, owner: str, repo: str, head: str, head_owner: str, base: str,
                  title: str, body: str | None, state: str = "open", draft: bool = False) -> dict[str, Any]:
        full = f"{owner}/{repo}"
        number = self._next_number
        self._next_number += 1
        ts = _now()
        pr = {
            "url": f"https://api.github.com/repos/{full}/pulls/{number}",
            "id": 1_000_000 + number, "node_id": f"PR_fake{number}",
            "html_url": f"{self.html_base}/{full}/pull/{number}",
            "diff_url": f"{self.html_base}/{full}/pull/{number}.diff",
            "issue_url": f"https://api.github.com/repos/{full}/issues/{number}",
            "number": number, "state": state, "locked": False, "title": title, "body": body,
            "user": self._user(self.login), "labels": [], "draft": draft,
            "created_at": ts, "updated_at": ts, "closed_at": None if state == "open" else ts,
            "merged_at": None, "merged": False, "mergeable": None,
            "head": self._ref(full, head_owner, head), "base": self._ref(full, owner, base),
            "author_association": "CONTRIBUTOR",
        }
        self.pulls.append(pr)
        return pr

    def _find_pull(self, full: str, number: int) -> dict[str, Any] | None:
        for p in self.pulls:
            if p["number"] == number and p["base"]["repo"]["full_name"] == full:
                return p
        return None

    # -- dispatch -----------------------------------------------------------------
    def handle(self, req: RecordedRequest) -> Response:
        with self._state_lock:
            for i, f in enumerate(self._faults):
                if f["regex"].search(req.path) and (f["method"] is None or f["method"] == req.method):
                    del self._faults[i]
                    return self._fault_response(f)

        auth = req.header("authorization") or ""
        scheme, _, tok = auth.partition(" ")
        if not auth.strip():
            return self._error(401, "Requires authentication", DOCS)
        if scheme.lower() not in ("bearer", "token") or not tok.strip() or (
                self.token is not None and tok.strip() != self.token):
            return self._error(401, "Bad credentials", DOCS)

        for method, rx, name in _ROUTES:
            m = rx.match(req.path.rstrip("/") or "/")
            if m and method == req.method:
                owner, repo = m.group(1), m.group(2)
                full = f"{owner}/{repo}"
                if full not in self.repos:
                    return self._error(404, "Not Found", DOC_REPO)
                if req.method in ("POST", "PATCH") and (req.json_error or req.json is None):
                    return self._error(400, "Problems parsing JSON", DOCS)
                with self._state_lock:
                    return getattr(self, "_" + name)(req, owner, repo, *m.groups()[2:])
        return self._error(404, "Not Found", DOCS)

    def _fault_response(self, f: dict[str, Any]) -> Response:
        status = f["status"]
        if f["body"] is not None:
            return self._json(f["body"], status, f["headers"])
        default = {400: "Bad Request", 401: "Bad credentials", 403: "Forbidden", 404: "Not Found",
                   409: "Conflict", 422: "Validation Failed", 500: "Server Error",
                   502: "Server Error", 503: "Service Unavailable"}.get(status, "Error")
        return self._error(status, f["message"] or default, DOCS, headers=f["headers"])

    # -- endpoints ----------------------------------------------------------------
    def _get_repo(self, req: RecordedRequest, owner: str, repo: str) -> Response:
        return self._json(self._repo_json(f"{owner}/{repo}"))

    def _list_pulls(self, req: RecordedRequest, owner: str, repo: str) -> Response:
        full = f"{owner}/{repo}"
        state = req.query.get("state", "open") or "open"
        if state not in ("open", "closed", "all"):
            return self._validation(DOC_LIST, {"resource": "Search", "field": "state", "code": "invalid"})
        pulls = [p for p in self.pulls if p["base"]["repo"]["full_name"] == full
                 and (state == "all" or p["state"] == state)]
        head = req.query.get("head", "")
        if ":" in head:  # GitHub ignores a head filter without the "owner:" part
            pulls = [p for p in pulls if p["head"]["label"] == head]
        if req.query.get("base"):
            pulls = [p for p in pulls if p["base"]["ref"] == req.query["base"]]
        pulls.sort(key=lambda p: p["number"], reverse=True)  # default sort: created desc
        try:
            per_page = min(100, max(1, int(req.query.get("per_page") or 30)))
            page = max(1, int(req.query.get("page") or 1))
        except ValueError:
            per_page, page = 30, 1
        return self._json(pulls[(page - 1) * per_page: page * per_page])

    def _create_pull(self, req: RecordedRequest, owner: str, repo: str) -> Response:
        data = req.json if isinstance(req.json, dict) else {}
        title, head, base = data.get("title"), data.get("head"), data.get("base")
        for field in ("head", "base"):
            if not data.get(field):
                return self._validation(DOC_CREATE, {"resource": "PullRequest", "field": field,
                                                     "code": "missing_field"})
        if not title:
            return self._validation(DOC_CREATE, {"resource": "PullRequest", "field": "title",
                                                 "code": "missing_field"})
        head_owner, _, head_ref = head.rpartition(":")
        head_owner = head_owner or owner
        if not self._known_branch(head_owner, repo, head_ref):
            return self._validation(DOC_CREATE, {"resource": "PullRequest", "field": "head",
                                                 "code": "invalid"})
        if not self._known_branch(owner, repo, base):
            return self._validation(DOC_CREATE, {"resource": "PullRequest", "field": "base",
                                                 "code": "invalid"})
        if head_ref == base and head_owner == owner:
            return self._validation(DOC_CREATE, {"resource": "PullRequest", "code": "custom",
                                                 "message": f"No commits between {base} and {head_ref}"})
        full = f"{owner}/{repo}"
        for p in self.pulls:
            if (p["state"] == "open" and p["base"]["repo"]["full_name"] == full
                    and p["head"]["label"] == f"{head_owner}:{head_ref}"):
                return self._validation(DOC_CREATE, {
                    "resource": "PullRequest", "code": "custom",
                    "message": f"A pull request already exists for {head_owner}:{head_ref}."})
        pr = self._new_pull(owner, repo, head_ref, head_owner, base, title, data.get("body"),
                            draft=bool(data.get("draft")))
        return self._json(pr, 201, {"Location": pr["url"]})

    def _get_pull(self, req: RecordedRequest, owner: str, repo: str, number: str) -> Response:
        pr = self._find_pull(f"{owner}/{repo}", int(number))
        return self._json(pr) if pr else self._error(404, "Not Found", DOC_GET)

    def _update_pull(self, req: RecordedRequest, owner: str, repo: str, number: str) -> Response:
        pr = self._find_pull(f"{owner}/{repo}", int(number))
        if pr is None:
            return self._error(404, "Not Found", DOC_UPDATE)
        data = req.json if isinstance(req.json, dict) else {}
        if "state" in data and data["state"] not in ("open", "closed"):
            return self._validation(DOC_UPDATE, {"resource": "PullRequest", "field": "state",
                                                 "code": "invalid"})
        if "base" in data and not self._known_branch(owner, repo, data["base"]):
            return self._validation(DOC_UPDATE, {"resource": "PullRequest", "field": "base",
                                                 "code": "invalid"})
        for key in ("title", "body"):
            if key in data:
                pr[key] = data[key]
        if "base" in data:
            pr["base"] = self._ref(f"{owner}/{repo}", owner, data["base"])
        if "state" in data:
            pr["state"] = data["state"]
            pr["closed_at"] = _now() if data["state"] == "closed" else None
        pr["updated_at"] = _now()
        return self._json(pr)

    def _get_permission(self, req: RecordedRequest, owner: str, repo: str,
                        user: str) -> Response:
        # GitHub maps roles to the legacy `permission` (maintain -> write, triage -> read).
        role = self.collaborators.get(user, "none")
        legacy = {"maintain": "write", "triage": "read"}.get(role, role)
        return self._json({"permission": legacy, "role_name": role, "user": self._user(user)})

    def _list_comments(self, req: RecordedRequest, owner: str, repo: str,
                       number: str) -> Response:
        if self._find_pull(f"{owner}/{repo}", int(number)) is None:
            return self._error(404, "Not Found", DOCS)
        return self._json([c for c in self.comments
                           if c["_repo"] == f"{owner}/{repo}" and c["_number"] == int(number)])

    def _create_comment(self, req: RecordedRequest, owner: str, repo: str,
                        number: str) -> Response:
        body = req.json.get("body") if isinstance(req.json, dict) else None
        if self._find_pull(f"{owner}/{repo}", int(number)) is None:
            return self._error(404, "Not Found", DOCS)
        if not isinstance(body, str) or not body:
            return self._validation(DOCS, {"resource": "IssueComment", "code": "missing_field",
                                           "field": "body"})
        if len(body) > 65536:
            return self._validation(DOCS, {"resource": "IssueComment", "code": "custom",
                                           "field": "body", "message": "body is too long "
                                           "(maximum is 65536 characters)"})
        comment = {"id": 1000 + len(self.comments), "body": body, "_repo": f"{owner}/{repo}",
                   "_number": int(number), "user": self._user(self.login),
                   "html_url": f"{self.html_base}/{owner}/{repo}/pull/{number}"}
        self.comments.append(comment)
        return self._json(comment, status=201)

    def _update_comment(self, req: RecordedRequest, owner: str, repo: str,
                        comment_id: str) -> Response:
        found = [c for c in self.comments if c["id"] == int(comment_id)]
        body = req.json.get("body") if isinstance(req.json, dict) else None
        if not found:
            return self._error(404, "Not Found", DOCS)
        if not isinstance(body, str) or len(body) > 65536:
            return self._validation(DOCS, {"resource": "IssueComment", "code": "invalid",
                                           "field": "body"})
        found[0]["body"] = body
        return self._json(found[0])

    def _add_labels(self, req: RecordedRequest, owner: str, repo: str, number: str) -> Response:
        n = int(number)
        pr = self._find_pull(f"{owner}/{repo}", n)
        if pr is None:
            return self._error(404, "Not Found", DOC_LABELS)
        data = req.json
        names = data.get("labels") if isinstance(data, dict) else data
        if not isinstance(names, list) or not all(isinstance(x, str) for x in names):
            return self._error(422, "Invalid request.\n\nFor 'links/0/schema', "
                               f"{data!r} is not an array.", DOC_LABELS)
        current = self.labels.setdefault(n, [])
        for name in names:
            if name not in current:
                current.append(name)
        full = f"{owner}/{repo}"
        objs = [{"id": int(_sha(full + x)[:8], 16), "node_id": "LA_" + _sha(x)[:12],
                 "url": f"https://api.github.com/repos/{full}/labels/{x}", "name": x,
                 "color": _sha(x)[:6], "default": False, "description": None} for x in current]
        pr["labels"] = objs
        return self._json(objs)
