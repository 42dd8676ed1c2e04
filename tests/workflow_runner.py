"""Runs a workflow job's steps as GitHub's runner would, on this machine, for tests.

`run:` steps go to `bash -e FILE` (the runner's default shell) in the workspace, with the
runner's GITHUB_* variables and the step's `env:`, whose `${{ }}` expressions are
evaluated against the contexts given (github, secrets, vars, inputs, steps). A step's
`if:` is evaluated the same way. `uses:` steps are done by handlers the test passes
(e.g. checkout = a clone of the bare origin); a step with no handler is recorded as
skipped, so a test can say which ones it stood in for.

Expressions: the subset the workflows use (context paths, 'strings', ==, !=, &&, ||,
!, parentheses, startsWith/contains, and the status functions success(), always(),
cancelled(), failure() as they are while no step has failed).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

_TOKEN = re.compile(r"\s*(\|\||&&|==|!=|!|\(|\)|,|'(?:[^']|'')*'|[A-Za-z_][\w.-]*)")


class Expression:
    """A parser and evaluator for one `${{ }}` expression."""

    def __init__(self, text: str, contexts: dict[str, Any]) -> None:
        self.tokens = _tokens(text)
        self.contexts = contexts

    def value(self) -> Any:
        result = self._or()
        assert not self.tokens, f"unparsed: {self.tokens}"
        return result

    def _or(self) -> Any:
        left = self._and()
        while self._take("||"):
            right = self._and()
            left = left if _truthy(left) else right
        return left

    def _and(self) -> Any:
        left = self._compare()
        while self._take("&&"):
            right = self._compare()
            left = right if _truthy(left) else left
        return left

    def _compare(self) -> Any:
        left = self._unary()
        for op in ("==", "!="):
            if self._take(op):
                same = str(left).lower() == str(self._unary()).lower()
                return same if op == "==" else not same
        return left

    def _unary(self) -> Any:
        if self._take("!"):
            return not _truthy(self._unary())
        if self._take("("):
            inner = self._or()
            assert self._take(")")
            return inner
        token = self.tokens.pop(0)
        if token.startswith("'"):
            return token[1:-1].replace("''", "'")
        if self._take("("):
            if self._take(")"):  # a status function: this runner stops at a failing step
                return {"success": True, "always": True, "cancelled": False,
                        "failure": False}[token]
            args = [self._or()]
            while self._take(","):
                args.append(self._or())
            assert self._take(")")
            return _call(token, args, self.contexts)
        if token in ("true", "false"):
            return token == "true"
        return self._lookup(token)

    def _lookup(self, path: str) -> Any:
        value: Any = self.contexts
        for part in path.split("."):
            value = value.get(part, "") if isinstance(value, dict) else ""
        return value

    def _take(self, token: str) -> bool:
        if self.tokens and self.tokens[0] == token:
            self.tokens.pop(0)
            return True
        return False


def _tokens(text: str) -> list[str]:
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        assert m, f"cannot read {text[pos:]!r}"
        tokens.append(m.group(1))
        pos = m.end()
    return tokens


def _truthy(value: Any) -> bool:
    return value not in ("", None, False, 0)


def _call(name: str, args: list[Any], contexts: dict[str, Any]) -> Any:
    if name == "hashFiles":  # sha256 of the matching files of the workspace, "" if none
        import hashlib

        root = Path(contexts["github"]["workspace"])
        files = sorted(f for pattern in args for f in root.glob(str(pattern)) if f.is_file())
        digest = hashlib.sha256(b"".join(hashlib.sha256(f.read_bytes()).digest()
                                         for f in files))
        return digest.hexdigest() if files else ""
    a, b = (str(x).lower() for x in args[:2])
    return {"startsWith": a.startswith(b), "contains": b in a}[name]


def evaluate(value: Any, contexts: dict[str, Any]) -> Any:
    """`value` with every `${{ }}` in it evaluated (a whole-value expression keeps its type)."""
    if not isinstance(value, str) or "${{" not in value:
        return value
    whole = re.fullmatch(r"\s*\$\{\{(.*?)\}\}\s*", value, re.S)
    if whole:
        return Expression(whole.group(1), contexts).value()
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: _text(Expression(m.group(1), contexts).value()),
                  value)


def _condition(text: str) -> str:
    """An `if:` as an expression: GitHub takes it with or without `${{ }}`."""
    return text if text.strip().startswith("${{") else "${{ " + text + " }}"


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


@dataclass
class JobRun:
    """What happened: each step's name and outcome ("ran", "skipped", "handled")."""

    steps: list[tuple[str, str]] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)  # step name -> its log
    job_outputs: dict[str, str] = field(default_factory=dict)  # the job's `outputs:`


@dataclass
class Runner:
    """One job of one workflow, run in `workspace`."""

    workflow: Path
    job: str
    workspace: Path
    contexts: dict[str, Any]
    env: dict[str, str]  # the runner's environment (PATH, GITHUB_*, ...)
    uses: dict[str, Callable[[dict[str, Any]], dict[str, str] | None]] = field(
        default_factory=dict)  # action name -> handler(with) -> outputs
    skip_runs: dict[str, str] = field(default_factory=dict)  # step name -> why
    wrap: list[str] = field(default_factory=list)  # e.g. ["faketime", "-f", "@..."]
    done: JobRun = field(default_factory=JobRun)  # the last run's steps, also after a failure

    def run(self) -> JobRun:
        """Every step in order; a failing `run:` raises CalledProcessError (the job fails)."""
        job = YAML(typ="safe").load(self.workflow.read_text(encoding="utf-8"))["jobs"][self.job]
        if "if" in job:
            assert _truthy(evaluate(_condition(job["if"]), self.contexts)), job["if"]
        self.contexts.setdefault("steps", {})
        self.contexts.setdefault("runner", {"temp": self.env["RUNNER_TEMP"], "os": "Linux"})
        done = self.done = JobRun()
        try:
            for index, step in enumerate(job["steps"]):
                name = step.get("name") or step.get("uses", "").split("@")[0] or f"step {index}"
                if "if" in step and not _truthy(evaluate(_condition(step["if"]),
                                                         self.contexts)):
                    done.steps.append((name, "skipped"))
                    continue
                outputs = self._step(step, name, done)
                if step.get("id"):
                    self.contexts["steps"][step["id"]] = {"outputs": outputs or {}}
        finally:  # a failed job's outputs are what its steps had set
            done.job_outputs = {k: _text(evaluate(v, self.contexts))
                                for k, v in (job.get("outputs") or {}).items()}
        return done

    def runs(self) -> bool:
        """Whether the job's `if:` lets it run."""
        job = YAML(typ="safe").load(self.workflow.read_text(encoding="utf-8"))["jobs"][self.job]
        return "if" not in job or _truthy(evaluate(_condition(job["if"]), self.contexts))

    def _step(self, step: dict[str, Any], name: str, done: JobRun) -> dict[str, str] | None:
        if "uses" in step:
            action = step["uses"].split("@")[0]
            handler = self.uses.get(action)
            with_ = {k: evaluate(v, self.contexts) for k, v in (step.get("with") or {}).items()}
            done.steps.append((name, "handled" if handler else "skipped"))
            return handler(with_) if handler else None
        if name in self.skip_runs:
            done.steps.append((name, "skipped"))
            return None
        env = {**self.env, **{k: _text(evaluate(v, self.contexts))
                              for k, v in (step.get("env") or {}).items()}}
        script = Path(self.env["RUNNER_TEMP"]) / f"step-{len(done.steps)}.sh"
        script.write_text(step["run"], encoding="utf-8")
        output = script.with_suffix(".output")  # the step's GITHUB_OUTPUT file
        output.write_text("", encoding="utf-8")
        env["GITHUB_OUTPUT"] = str(output)
        result = subprocess.run([*self.wrap, "bash", "-e", str(script)], cwd=self.workspace,
                                env=env, capture_output=True, text=True, timeout=120)
        done.steps.append((name, "ran"))
        done.outputs[name] = result.stdout + result.stderr
        if result.returncode != 0:
            raise subprocess.CalledProcessError(result.returncode, name, result.stdout,
                                                result.stderr)
        return _outputs(output.read_text(encoding="utf-8"))


class Artifacts:
    """actions/upload-artifact and download-artifact between the jobs of a test: the
    uploaded folder's files by artifact name, written back under the download's path."""

    def __init__(self) -> None:
        self.stored: dict[str, dict[str, bytes]] = {}

    def upload(self, workspace: Path) -> Callable[[dict[str, Any]], dict[str, str]]:
        def handle(with_: dict[str, Any]) -> dict[str, str]:
            root = workspace / str(with_["path"])
            files = [root] if root.is_file() else sorted(p for p in root.rglob("*")
                                                          if p.is_file())
            base = root.parent if root.is_file() else root
            self.stored[str(with_["name"])] = {p.relative_to(base).as_posix(): p.read_bytes()
                                               for p in files}
            return {"artifact-url": f"https://github.com/artifacts/{with_['name']}"}
        return handle

    def download(self, workspace: Path) -> Callable[[dict[str, Any]], None]:
        def handle(with_: dict[str, Any]) -> None:
            target = workspace / str(with_.get("path") or ".")
            # an empty context (`${{ runner.temp }}/day` -> `/day`) must not write into /
            assert target.parent != Path("/"), with_
            for rel, data in self.stored[str(with_["name"])].items():
                (target / rel).parent.mkdir(parents=True, exist_ok=True)
                (target / rel).write_bytes(data)
        return handle


def _outputs(text: str) -> dict[str, str]:
    """`name=value` lines of a GITHUB_OUTPUT file (the `name<<EOF` form is not used here)."""
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def runner_env(workspace: Path, temp: Path, *, event: str, repository: str, api_url: str,
               ref: str = "refs/heads/main", extra: dict[str, str] | None = None
               ) -> dict[str, str]:
    """The variables GitHub's runner sets for every step (the ones our steps read)."""
    temp.mkdir(parents=True, exist_ok=True)
    summary = temp / "step_summary.md"
    summary.touch()
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("DIGEST_", "GITHUB_", "GIT_", "RUNNER_"))}
    base.update({"CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": event,
                 "GITHUB_REPOSITORY": repository, "GITHUB_API_URL": api_url,
                 "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REF": ref,
                 "GITHUB_WORKSPACE": str(workspace), "GITHUB_STEP_SUMMARY": str(summary),
                 "RUNNER_TEMP": str(temp), "RUNNER_OS": "Linux", "TZ": "UTC",
                 "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull})
    base.update(extra or {})
    return base
