"""One end-to-end setup for the drills: a site repository cloned from a bare origin, the fake
arXiv, LLM, PDF and GitHub servers, and `digest run` run against them: in a process of its
own that a *tripwire* kills with SIGKILL at a chosen point (`python -m digest_cli`, or forked
from a `ForkServer` that has done the imports once), or in-process to finish.

Kill points need no hook in the code under test: the fakes see requests arrive (the Nth
arXiv page, LLM call, PDF or GitHub request), a `git` shim first on PATH sees git commands
(the Nth `commit-tree`, before or after it ran), hooks in the bare origin see a push land
(pre-receive: nothing updated yet; post-receive: the ref moved, `git push` not returned),
and polling sees files appear. The whole process group is killed, git children included,
as a cancelled CI job is.

Also used by benchmarks/bench_rerun.py.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from tests import gitkit
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.github_server import FakeGitHub
from tests.fakes.llm_server import FakeLLM, is_brief_request
from tests.fakes.pdf_server import FakePDFs, paper_pdf
from tests.fakes.translate_kit import (
    ANALYSIS_MODEL,
    TRANSLATE_MODEL,
    abstract_for,
    by_model,
    env_for,
    title_of,
)
from tests.gitkit import make_site_repo

REPO = Path(__file__).resolve().parents[1]
DAY = date(2026, 11, 25)  # a Wednesday: its window holds Monday evening's announcement
D = DAY.isoformat()
BRANCH = f"digest/{D}"
OWNER, NAME = "owner", "site"
TOKEN = "ghs_drillToken0123456789"
LLM_KEY = "sk-drill-key-0123456789"
KINDS = {TRANSLATE_MODEL: "translation", ANALYSIS_MODEL: "analysis"}
# Submitted Monday 2026-11-23 from 02:00 UTC, 10 minutes apart (before the 19:00 UTC
# cutoff for up to 100 papers): announced Monday 20:00 ET, shown on DAY.
FIRST_SUBMISSION = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)


def git(cwd: Path, *args: str, check: bool = True) -> str:
    return gitkit.git(cwd, *args, check=check, env=git_env())


def git_env() -> dict[str, str]:
    """The environment minus anything that configures digest or git from outside."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DIGEST_", "GITHUB_", "GIT_", "DEEPSEEK_"))}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    return env


def paper_id(i: int) -> str:
    return f"2611.{20001 + i:05d}"


def title(i: int) -> str:
    return f"Drill paper {i}: robust speech {paper_id(i)}"


# -- the tripwire -----------------------------------------------------------------------

class Tripwire:
    """Kills the armed run's process group the first time `hit(kind)` counts to `nth`."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.kind: str | None = None
        self.nth = 0
        self.counts: Counter[str] = Counter()
        self.fired = threading.Event()
        self.dead = threading.Event()
        self.settled = threading.Event()  # the request that tripped it has been handled
        self._lock = threading.Lock()

    def arm(self, proc: subprocess.Popen, kind: str | None, nth: int = 1) -> None:
        with self._lock:
            self.proc, self.kind, self.nth = proc, kind, nth
            self.counts.clear()
            self.fired.clear()
            self.dead.clear()
            self.settled.clear()

    def disarm(self) -> None:
        with self._lock:
            self.proc, self.kind = None, None

    def hit(self, kind: str) -> bool:
        """Count an event; at the armed one, SIGKILL the group and hold the server thread
        until the process is gone, so the answer is never delivered. True if it tripped
        (the caller then sets `settled` once it has handled the request)."""
        with self._lock:
            self.counts[kind] += 1
            due = (self.proc is not None and kind == self.kind
                   and self.counts[kind] == self.nth and not self.fired.is_set())
            if due:
                self.kill()
        if due:
            self.dead.wait(10)
        return due

    def around(self, kinds: list[str], handle: Callable[[], Any]) -> Any:
        """Count `kinds` for a request, then handle it (the fake still answers a request
        whose client is dead, as a real service does)."""
        tripped = [self.hit(kind) for kind in kinds]
        try:
            return handle()
        finally:
            if any(tripped):
                self.settled.set()

    def kill(self) -> None:
        if self.proc is not None and not self.fired.is_set():
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.fired.set()


class DrillLLM(FakeLLM):
    """FakeLLM counting for the tripwire, and logging each transport fault it injects."""

    def __init__(self, trip: Tripwire, **kw: Any) -> None:
        super().__init__(**kw)
        self.trip = trip
        self.fault_log: list[str] = []

    def _next_fault(self):
        fault = super()._next_fault()
        if fault is not None:
            self.fault_log.append(str(fault.get("status") or fault["kind"]))
        return fault

    def handle(self, req):
        kinds = ["llm"] if req.path.rstrip("/") == "/v1/chat/completions" else []
        return self.trip.around(kinds, lambda: super(DrillLLM, self).handle(req))


class DrillPDFs(FakePDFs):
    def __init__(self, trip: Tripwire, pdfs: dict[str, bytes]) -> None:
        super().__init__(pdfs)
        self.trip = trip

    def handle(self, req):
        return self.trip.around(["pdf"], lambda: super(DrillPDFs, self).handle(req))


class DrillGitHub(FakeGitHub):
    """FakeGitHub whose requests count as `github:METHOD /last/part` for the tripwire."""

    def __init__(self, trip: Tripwire, **kw: Any) -> None:
        super().__init__(**kw)
        self.trip = trip

    def handle(self, req):
        tail = re.sub(r"^/repos/[^/]+/[^/]+", "", req.path) or "/"
        kinds = [f"github:{req.method} {re.sub(r'/[0-9]+', '/N', tail)}", "github"]
        return self.trip.around(kinds, lambda: super(DrillGitHub, self).handle(req))

    @property
    def writes(self) -> list:
        return [r for r in self.requests if r.method in ("POST", "PATCH", "PUT", "DELETE")]


# -- the git shim and the origin's hooks -------------------------------------------------

SHIM = """#!/bin/sh
# Drill tripwire: the Nth `git $DRILL_GIT_CMD` marks {tripped} (before or after running)
# and waits there for the drill to kill the process group.
if [ -n "$DRILL_GIT_CMD" ] && [ "$1" = "$DRILL_GIT_CMD" ]; then
    n=$(( $(cat {count} 2>/dev/null || echo 0) + 1 ))
    echo "$n" > {count}
    if [ "$n" = "$DRILL_GIT_NTH" ]; then
        if [ "$DRILL_GIT_WHEN" = after ]; then {real} "$@"; fi
        : > {tripped}
        sleep 60
        exit 1
    fi
fi
exec {real} "$@"
"""

HOOK = """#!/bin/sh
# Logs each push to {pushes}; the drill tripwire inside the push marks {tripped} and
# waits to be killed.
cat >/dev/null
echo {name} >> {pushes}
if [ "$DRILL_HOOK" = "{name}" ]; then
    : > {tripped}
    sleep 60
fi
exit 0
"""


def _script(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


# -- a fork server: the killed runs without paying the imports each time -----------------

ZYGOTE = r"""
import json, os, signal, sys
import digest_cli.cli, digest_cli.run, digest_cli.fetch.day, digest_cli.translate.day
import digest_cli.posts.sync, digest_cli.publish.day, digest_cli.publish.branches
import digest_cli.publish.github, digest_cli.posts.check
import git, httpx2, lxml, openai, pypdf, ruamel.yaml
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the children
print("ready", flush=True)
for line in sys.stdin:
    job = json.loads(line)
    pid = os.fork()
    if pid == 0:
        os.setsid()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.environ.clear()
        os.environ.update(job["env"])
        code = 1
        try:
            digest_cli.cli.cli.main(job["argv"], prog_name="digest")
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        finally:
            os._exit(code)
    print(pid, flush=True)
"""


class ForkServer:
    """A Python process that imported digest_cli and its libraries once and forks a child
    per run. Each child is a process of its own (pid, process group, environment) that
    runs the CLI as `python -m digest_cli` does, without ~1.5 s of imports: the kill drills
    start 20 runs."""

    def __init__(self) -> None:
        env = {**git_env(), "PYTHONPATH": str(REPO)}
        self.proc = subprocess.Popen([sys.executable, "-c", ZYGOTE], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=env,
                                     start_new_session=True)
        assert self.proc.stdout is not None and self.proc.stdout.readline() == "ready\n"

    def spawn(self, argv: list[str], env: dict[str, str]) -> Forked:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"argv": argv, "env": env}) + "\n")
        self.proc.stdin.flush()
        return Forked(int(self.proc.stdout.readline()))

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(10)


class Forked:
    """A run forked by the ForkServer: `pid` (also its process group), `poll`, `wait`."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def poll(self) -> int | None:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return 0  # gone (its status went to the fork server, which let the kernel reap it)
        return None

    def wait(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while self.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)


# -- the setup --------------------------------------------------------------------------

@dataclass
class RunResult:
    """A finished in-process run: exit code and output."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class Drill:
    """A site cloned from a bare origin, the fakes started, `digest run` ready to go.

    Use as a context manager (stops the servers)."""

    def __init__(self, tmp: Path, n: int = 8, *, llm_latency: float = 0.05,
                 page_size: int = 3, **settings: Any) -> None:
        self.tmp, self.n = tmp, n
        self.origin, self.root = tmp / "origin.git", tmp / "site"
        self.trip = Tripwire()
        self.arxiv = FakeArxiv()
        self.arxiv.on_query = self._on_arxiv_query
        self.llm = DrillLLM(self.trip, api_key=LLM_KEY, responder=by_model(),
                            latency=llm_latency)
        self.pdfs = DrillPDFs(self.trip, {f"{paper_id(i)}v1": paper_pdf(
            title(i), {"Introduction": 6, "Method": 8, "Experiments": 6, "Conclusion": 3})
            for i in range(n)})
        self.gh = DrillGitHub(self.trip, token=TOKEN, owner=OWNER, repo=NAME)
        self.gh.branch_exists = lambda owner, repo, branch: self.remote_has(branch)
        self.settings = {"arxiv_delay": "0", "arxiv_page_size": str(page_size),
                         "github_retry_delay": "0", "llm_concurrency": "4", **settings}
        self._make_repos()
        self._add_papers()

    def _on_arxiv_query(self, req) -> None:
        if self.trip.hit("arxiv"):
            self.trip.settled.set()  # FakeArxiv answers from its state: nothing to wait for

    # lifecycle
    def __enter__(self) -> Drill:
        for server in (self.arxiv, self.llm, self.pdfs, self.gh):
            server.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.trip.dead.set()
        for server in (self.arxiv, self.llm, self.pdfs, self.gh):
            server.stop()

    def _make_repos(self) -> None:
        make_site_repo(self.origin, self.root, git, gitignore=REPO / ".gitignore")
        self.shim = self.tmp / "shim"
        self.shim.mkdir()
        marks = {"count": self.tmp / "git-count", "tripped": self.tmp / "tripped",
                 "real": shutil.which("git"), "pushes": self.tmp / "pushes.log"}
        _script(self.shim / "git", SHIM.format(**marks))
        for name in ("pre-receive", "post-receive"):
            _script(self.origin / "hooks" / name, HOOK.format(name=name, **marks))

    def _add_papers(self) -> None:
        for i in range(self.n):
            self.arxiv.add_paper(id=paper_id(i), title=title(i),
                                 authors=["Jane Doe", "John Roe"], summary=abstract_for(i),
                                 categories=["eess.AS", "cs.SD"],
                                 published=FIRST_SUBMISSION + timedelta(minutes=10 * i))
        # a paper of another day: fetched by the look-back, not shown on DAY
        self.arxiv.add_paper(id="2611.19999", title="Tuesday's paper",
                             summary="We study a later problem.", categories=["cs.SD"],
                             published=datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc))

    # environment
    def env(self, **extra: str) -> dict[str, str]:
        """Everything `digest run --publish` needs, pointing at the fakes."""
        env = git_env()
        env.update(env_for(self.llm, self.pdfs))
        env.update({f"DIGEST_{k.upper()}": str(v) for k, v in self.settings.items()})
        env.update(DIGEST_ARXIV_API_URL=self.arxiv.query_url, GITHUB_API_URL=self.gh.url,
                   GITHUB_REPOSITORY=f"{OWNER}/{NAME}", GITHUB_TOKEN=TOKEN,
                   GITHUB_STEP_SUMMARY="", PYTHONPATH=str(REPO))
        env.update(extra)
        return env

    def argv(self, root: Path | None = None, *args: str) -> list[str]:
        return ["--root", str(root or self.root), "run", "--date", D, "--publish", *args]

    # runs
    def run(self, *args: str, root: Path | None = None, **env: str) -> RunResult:
        """`digest run --date D --publish` in this process, to completion."""
        from tests.clikit import run_cli

        full = {k: None for k in os.environ if k.startswith(("DIGEST_", "GITHUB_", "GIT_"))}
        full.update(self.env(**env))
        result = run_cli(None, *self.argv(root, *args), env=full)
        return RunResult(result.exit_code, result.stdout, result.stderr)

    def run_subprocess(self, *args: str, root: Path | None = None, timeout: float = 60,
                       **env: str) -> RunResult:
        proc = subprocess.run([sys.executable, "-m", "digest_cli", *self.argv(root, *args)],
                              env=self.env(**env), capture_output=True, text=True,
                              timeout=timeout)
        return RunResult(proc.returncode, proc.stdout, proc.stderr)

    def run_killed(self, point: KillPoint, timeout: float = 60,
                   forks: ForkServer | None = None) -> bool:
        """Start the run in a process of its own (`python -m digest_cli`, or forked by
        `forks`) and SIGKILL its process group at `point`. True if the kill came; False
        if the run ended first."""
        for mark in ("git-count", "tripped"):
            (self.tmp / mark).unlink(missing_ok=True)
        env = self.env(PATH=f"{self.shim}{os.pathsep}{os.environ.get('PATH', '')}",
                       GIT_PYTHON_GIT_EXECUTABLE=str(self.shim / "git"), **point.env())
        if forks is not None:
            proc: Any = forks.spawn(self.argv(), env)
        else:
            proc = subprocess.Popen([sys.executable, "-m", "digest_cli", *self.argv()],
                                    env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, start_new_session=True)
        self.trip.arm(proc, point.kind if point.server_side else None, point.nth)
        deadline = time.monotonic() + timeout
        try:
            while proc.poll() is None and time.monotonic() < deadline:
                if not point.server_side and point.reached(self):
                    self.trip.kill()
                    break
                self.trip.fired.wait(0.005)
        finally:
            if proc.poll() is None and not self.trip.fired.is_set():
                self.trip.kill()  # timeout: do not leave it running
            proc.wait()
            self.trip.dead.set()
            self._settle(point)
            self.trip.disarm()
        return self.trip.fired.is_set()

    def _settle(self, point: KillPoint) -> None:
        """Let the fakes finish the requests that reached them before the kill, so that
        what they recorded is complete."""
        if point.server_side and self.trip.fired.is_set():
            self.trip.settled.wait(10)
        deadline = time.monotonic() + 5
        while self.llm.in_flight and time.monotonic() < deadline:
            time.sleep(0.01)

    # state
    def remote_has(self, branch: str) -> bool:
        return gitkit.has_branch(self.origin, branch, env=git_env())

    def pushes(self) -> int:
        """Pushes the origin received (each runs its pre-receive hook)."""
        log = self.tmp / "pushes.log"
        return log.read_text().split().count("pre-receive") if log.is_file() else 0

    def remote_tip(self) -> str | None:
        return git(self.origin, "rev-parse", BRANCH) if self.remote_has(BRANCH) else None

    def settings_obj(self, root: Path | None = None):
        from digest_cli.settings import load_settings

        return load_settings(root or self.root, environ={})

    def day_folder(self, root: Path | None = None) -> Path:
        return (root or self.root) / "data" / D

    def post(self, root: Path | None = None) -> Path:
        return (root or self.root) / "_posts" / f"{D}-arxiv.md"

    def records(self, root: Path | None = None) -> list[Path]:
        folder = self.day_folder(root)
        return sorted(p for p in folder.glob("2*.yaml")) if folder.is_dir() else []

    def complete_papers(self, root: Path | None = None) -> int:
        """Records that hold both texts (a partial file fails to load: not counted)."""
        from digest_cli.errors import DigestError
        from digest_cli.records.store import load_paper

        count = 0
        for path in self.records(root):
            try:
                paper = load_paper(path)
            except (DigestError, OSError):
                continue
            count += bool(paper.translation and paper.analysis)
        return count

    def asks(self) -> Counter[tuple[str, str]]:
        """First questions (no repair) the LLM received, by (paper title, kind)."""
        return Counter((title_of(r), "brief" if is_brief_request(r)
                        else KINDS.get(r["model"], r["model"]))
                       for r in self.llm.chat_requests
                       if not any(m.get("role") == "assistant" for m in r["messages"]))

    def cached_answers(self) -> set[tuple[str, str]]:
        """(paper id, kind) whose answer is in the LLM answer cache."""
        out = set()
        folder = self.root / ".digest-cache" / "llm"
        for kind in ("translation", "analysis", "brief"):
            for sub in (folder / kind).glob("*") if (folder / kind).is_dir() else []:
                if any(sub.glob("*.json")):
                    out.add((re.sub(r"v\d+$", "", sub.name), kind))
        return out

    def stored_texts(self, root: Path | None = None) -> set[tuple[str, str]]:
        """(paper id, kind) whose text is in its record."""
        from digest_cli.errors import DigestError
        from digest_cli.records.store import load_paper

        out = set()
        for path in self.records(root):
            try:
                paper = load_paper(path)
            except (DigestError, OSError):
                continue
            out |= {(paper.id.base, k) for k in ("translation", "analysis")
                    if getattr(paper, k) is not None}
            if paper.title_zh is not None:  # the brief's three fields come from one answer
                out.add((paper.id.base, "brief"))
        return out

    def fresh_clone(self, name: str = "clone") -> Path:
        """A new checkout of origin's default branch, as a CI job starts from."""
        path = self.tmp / name
        git(self.tmp, "clone", "-q", str(self.origin), str(path))
        return path

    def branch_commits(self) -> list[tuple[str, str]]:
        """(sha, subject) of origin's digest/D beyond main, oldest first."""
        out = git(self.origin, "log", "--reverse", "--format=%H %s", f"main..{BRANCH}")
        return [tuple(line.split(" ", 1)) for line in out.splitlines()]  # type: ignore[misc]

    def temp_files(self, root: Path | None = None) -> list[Path]:
        """Leftover temp files of atomic writes in the day's folders."""
        root = root or self.root
        return sorted(p for folder in (root / "data", root / "_posts") if folder.is_dir()
                      for p in folder.rglob(".*.tmp"))


# -- kill points ------------------------------------------------------------------------

@dataclass(frozen=True)
class KillPoint:
    """Where the run is killed. `kind`:

    * `arxiv`, `pdf`, `llm`, `github`, `github:METHOD /path`: the Nth such request arrives
      at the fake (killed while it is in flight);
    * `git:CMD` (`when` before|after): the Nth `git CMD` the run starts;
    * `hook:pre-receive`, `hook:post-receive`: inside the push, in the origin;
    * `file:records`, `file:complete`, `file:usage`, `file:post`: polled from the files.
    """

    name: str
    phase: str
    kind: str
    nth: int = 1
    when: str = "before"
    fresh_clone: bool = False  # re-run from a new checkout, as a re-run CI job does

    @property
    def server_side(self) -> bool:
        return self.kind.split(":")[0] in ("arxiv", "pdf", "llm", "github")

    def env(self) -> dict[str, str]:
        head, _, rest = self.kind.partition(":")
        if head == "git":
            return {"DRILL_GIT_CMD": rest, "DRILL_GIT_NTH": str(self.nth),
                    "DRILL_GIT_WHEN": self.when}
        if head == "hook":
            return {"DRILL_HOOK": rest}
        return {}

    def reached(self, drill: Drill) -> bool:
        head, _, rest = self.kind.partition(":")
        if head in ("git", "hook"):
            return (drill.tmp / "tripped").exists()
        if rest == "records":
            return len(drill.records()) >= self.nth
        if rest == "complete":
            return drill.complete_papers() >= self.nth
        if rest == "usage":  # translate records its spending in the manifest as it ends
            manifest = drill.day_folder() / "manifest.yaml"
            return manifest.is_file() and "\n  translate:\n" in manifest.read_text("utf-8")
        if rest == "post":
            return drill.post().is_file()
        raise ValueError(self.kind)

    def __str__(self) -> str:
        return self.name
