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
  or a bare JSON list); answers every label now on the issue. A label the repository
  lacks is created, which needs ``issues:write``: without it 403 "You do not have
  permission to create labels on this repository."
* ``GET  /repos/{owner}/{repo}/labels/{name}``        one label, 404 when missing
* ``POST /repos/{owner}/{repo}/labels``               create (name, color, description);
  422 ``already_exists`` / ``missing_field`` / ``invalid`` (a colour that is not 6 hex)
* ``GET  /repos/{owner}/{repo}/actions/permissions/workflow``  ``default_workflow_permissions``
  and ``can_approve_pull_request_reviews`` (the "Allow GitHub Actions to create and approve
  pull requests" box; state ``actions_can_approve``); needs ``administration:read``
* ``GET  /repos/{owner}/{repo}/pages``                the Pages site (state ``pages``: None
  gives 404, else ``{"build_type": "workflow"|"legacy", "html_url": ..., "cname": ...}``);
  needs ``pages:read``
* ``GET  /repos/{owner}/{repo}/actions/secrets/{name}``  a secret's name and dates, never
  its value (state ``secrets``); 404 when missing; needs ``secrets:read``
* ``GET  /repos/{owner}/{repo}/actions/workflows/{id}``  a workflow by file name (state
  ``workflows``: ``{"daily.yml": "active"|"disabled_manually"|"disabled_inactivity"|...}``);
  needs ``actions:read``

Permissions: ``grant(token, "issues:write", ...)`` makes ``token`` a known token with
exactly those permissions (``write`` includes ``read``); a request it lacks the permission
for gets GitHub's 403 "Resource not accessible by integration" (an Actions or App token,
``ghs_``) or "... by personal access token" (``github_pat_``). The constructor's token
(or any token with ``token=None``) may do everything.

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
_R = r"^/repos/([^/]+)/([^/]+)"
# (method, path, handler, the permissions of which one is needed)
_ROUTES = [
    ("GET", re.compile(_R + r"$"), "get_repo", ("metadata:read",)),
    ("GET", re.compile(_R + r"/pulls$"), "list_pulls", ("pull_requests:read",)),
    ("POST", re.compile(_R + r"/pulls$"), "create_pull", ("pull_requests:write",)),
    ("GET", re.compile(_R + r"/pulls/(\d+)$"), "get_pull", ("pull_requests:read",)),
    ("PATCH", re.compile(_R + r"/pulls/(\d+)$"), "update_pull", ("pull_requests:write",)),
    ("POST", re.compile(_R + r"/issues/(\d+)/labels$"), "add_labels",
     ("issues:write", "pull_requests:write")),
    ("GET", re.compile(_R + r"/labels/([^/]+)$"), "get_label", ("metadata:read",)),
    ("POST", re.compile(_R + r"/labels$"), "create_label", ("issues:write",)),
    ("GET", re.compile(_R + r"/actions/permissions/workflow$"), "get_workflow_permissions",
     ("administration:read",)),
    ("GET", re.compile(_R + r"/pages$"), "get_pages", ("pages:read",)),
    ("GET", re.compile(_R + r"/actions/secrets/([^/]+)$"), "get_secret", ("secrets:read",)),
    ("GET", re.compile(_R + r"/actions/workflows/([^/]+)$"), "get_workflow", ("actions:read",)),
    ("GET", re.compile(_R + r"/collaborators/([^/]+)/permission$"), "get_permission",
     ("metadata:read",)),
    ("GET", re.compile(_R + r"/issues/(\d+)/comments$"), "list_comments",
     ("issues:read", "pull_requests:read")),
    ("POST", re.compile(_R + r"/issues/(\d+)/comments$"), "create_comment",
     ("issues:write", "pull_requests:write")),
    ("PATCH", re.compile(_R + r"/issues/comments/(\d+)$"), "update_comment",
     ("issues:write", "pull_requests:write")),
]
DOC_LABEL = "https://docs.github.com/rest/issues/labels#create-a-label"
DOC_PAGES = "https://docs.github.com/rest/pages/pages#get-a-apiname-pages-site"
DOC_SECRET = "https://docs.github.com/rest/actions/secrets#get-a-repository-secret"
DOC_WORKFLOW = "https://docs.github.com/rest/actions/workflows#get-a-workflow"
DOC_PERMS = ("https://docs.github.com/rest/actions/permissions"
             "#get-default-workflow-permissions-for-a-repository")
LABELS_FORBIDDEN = "You do not have permission to create labels on this repository."


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
        # login -> role ("admin", "maintain", "write", "triage", "read", or a custom role
        # as "name:base"); others read a public repository; `unknown_users` get a 404.
        self.collaborators: dict[str, str] = {}
        self.unknown_users: set[str] = set()
        self.comments: list[dict[str, Any]] = []  # issue comments, all repos and numbers
        self._next_number = 1
        # What `digest doctor` reads; a fresh repository from the template.
        self.permissions: dict[str, set[str]] = {}
        self.repo_labels: dict[str, dict[str, dict[str, Any]]] = {}
        self.actions_can_approve = False
        self.default_workflow_permissions = "read"
        self.pages: dict[str, Any] | None = None
        self.secrets: set[str] = set()
        self.workflows: dict[str, str] = {"daily.yml": "active", "sync.yml": "active",
                                          "pages.yml": "active", "ci.yml": "active"}
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

    def grant(self, token: str, *permissions: str) -> None:
        """Make `token` known, with exactly these permissions ("issues:write", ...)."""
        with self._state_lock:
            self.permissions[token] = set(permissions)

    def enable_pages(self, build_type: str = "workflow", cname: str | None = None) -> None:
        """A Pages site as GitHub reports it; `build_type` "legacy" is "Deploy from a branch"."""
        host = cname or f"{self.owner}.github.io"
        path = "/" if cname or self.repo == f"{self.owner}.github.io" else f"/{self.repo}/"
        self.pages = {"url": f"https://api.github.com/repos/{self.full_name}/pages",
                      "status": "built", "cname": cname, "custom_404": False,
                      "html_url": f"https://{host}{path}", "build_type": build_type,
                      "source": {"branch": "main", "path": "/"}, "public": True,
                      "https_enforced": True}

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
                self.token is not None and tok.strip() != self.token
                and tok.strip() not in self.permissions):
            return self._error(401, "Bad credentials", DOCS)

        for method, rx, name, needs in _ROUTES:
            m = rx.match(req.path.rstrip("/") or "/")
            if m and method == req.method:
                owner, repo = m.group(1), m.group(2)
                full = f"{owner}/{repo}"
                if full not in self.repos:
                    return self._error(404, "Not Found", DOC_REPO)
                if not any(self._may(tok.strip(), need) for need in needs):
                    by = ("personal access token" if tok.strip().startswith("github_pat_")
                          else "integration")
                    return self._error(403, f"Resource not accessible by {by}", DOCS)
                if req.method in ("POST", "PATCH") and (req.json_error or req.json is None):
                    return self._error(400, "Problems parsing JSON", DOCS)
                with self._state_lock:
                    return getattr(self, "_" + name)(req, owner, repo, *m.groups()[2:])
        return self._error(404, "Not Found", DOCS)

    def _may(self, token: str, need: str) -> bool:
        """Whether `token` has `need` ("issues:read"); write includes read."""
        granted = self.permissions.get(token)
        if granted is None or need == "metadata:read":
            return True
        scope, _, level = need.partition(":")
        return need in granted or (level == "read" and f"{scope}:write" in granted)

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
        # As GitHub answers: a login it does not know is 404; anyone else may read a public
        # repository (and nothing of a private one); `permission` is the base role
        # (maintain -> write, triage -> read), `role_name` the role itself, which may be a
        # custom one ("reviewer:write" here: a custom role on the write base role).
        if user in self.unknown_users:
            return self._error(404, f"{user} is not a user", DOCS)
        private = self.repos.get(f"{owner}/{repo}", {}).get("private", False)
        role = self.collaborators.get(user, "none" if private else "read")
        role, _, base = role.partition(":")
        legacy = base or {"maintain": "write", "triage": "read"}.get(role, role)
        flags = {"admin": legacy == "admin", "maintain": role in ("admin", "maintain"),
                 "push": legacy in ("admin", "write"),
                 "triage": legacy in ("admin", "write") or role == "triage",
                 "pull": legacy != "none"}
        return self._json({"permission": legacy, "role_name": role,
                           "user": {**self._user(user), "permissions": flags}})

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
        known = self.repo_labels.setdefault(f"{owner}/{repo}", {})
        if any(x not in known for x in names) and not self._may(self._token(req), "issues:write"):
            return self._error(403, LABELS_FORBIDDEN, DOC_LABELS)
        for name in names:
            known.setdefault(name, self._label(f"{owner}/{repo}", name))
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

    def _token(self, req: RecordedRequest) -> str:
        return (req.header("authorization") or "").partition(" ")[2].strip()

    def _label(self, full: str, name: str, color: str | None = None,
               description: str | None = None) -> dict[str, Any]:
        return {"id": int(_sha(full + name)[:8], 16), "node_id": "LA_" + _sha(name)[:12],
                "url": f"https://api.github.com/repos/{full}/labels/{name}", "name": name,
                "color": color or _sha(name)[:6], "default": False, "description": description}

    def _get_label(self, req: RecordedRequest, owner: str, repo: str, name: str) -> Response:
        from urllib.parse import unquote

        label = self.repo_labels.get(f"{owner}/{repo}", {}).get(unquote(name))
        return self._json(label) if label else self._error(404, "Not Found", DOC_LABEL)

    def _create_label(self, req: RecordedRequest, owner: str, repo: str) -> Response:
        data = req.json if isinstance(req.json, dict) else {}
        name, color = data.get("name"), data.get("color")
        if not isinstance(name, str) or not name.strip():
            return self._validation(DOC_LABEL, {"resource": "Label", "field": "name",
                                                "code": "missing_field"})
        if color is not None and not re.fullmatch(r"[0-9a-fA-F]{6}", str(color)):
            return self._validation(DOC_LABEL, {"resource": "Label", "field": "color",
                                                "code": "invalid"})
        known = self.repo_labels.setdefault(f"{owner}/{repo}", {})
        if name in known:
            return self._validation(DOC_LABEL, {"resource": "Label", "field": "name",
                                                "code": "already_exists"})
        known[name] = self._label(f"{owner}/{repo}", name, color, data.get("description"))
        return self._json(known[name], 201)

    def _get_workflow_permissions(self, req: RecordedRequest, owner: str, repo: str) -> Response:
        return self._json({"default_workflow_permissions": self.default_workflow_permissions,
                           "can_approve_pull_request_reviews": self.actions_can_approve})

    def _get_pages(self, req: RecordedRequest, owner: str, repo: str) -> Response:
        if self.pages is None:
            return self._error(404, "Not Found", DOC_PAGES)
        return self._json(self.pages)

    def _get_secret(self, req: RecordedRequest, owner: str, repo: str, name: str) -> Response:
        if name not in self.secrets:
            return self._error(404, "Not Found", DOC_SECRET)
        return self._json({"name": name, "created_at": _now(), "updated_at": _now()})

    def _get_workflow(self, req: RecordedRequest, owner: str, repo: str, name: str) -> Response:
        state = self.workflows.get(name)
        if state is None:
            return self._error(404, "Not Found", DOC_WORKFLOW)
        full = f"{owner}/{repo}"
        return self._json({"id": int(_sha(full + name)[:8], 16), "name": name,
                           "path": f".github/workflows/{name}", "state": state,
                           "html_url": f"{self.html_base}/{full}/actions/workflows/{name}"})
