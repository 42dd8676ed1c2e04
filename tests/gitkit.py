"""Real git for tests: one `git` helper, and a throwaway site repository (a bare `origin`
and a clone with one commit on main)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

IDENTITY = ["-c", "user.name=Editor", "-c", "user.email=editor@example.org"]


def git(cwd: Path, *args: str, check: bool = True, env: dict[str, str] | None = None) -> str:
    """`git ARGS` in `cwd` (with `env` as the whole environment when given); its output,
    stripped. A failure raises CalledProcessError unless `check` is False."""
    return subprocess.run(["git", *args], cwd=cwd, check=check, capture_output=True,
                          text=True, env=env).stdout.strip()


def has_branch(repo: Path, branch: str, env: dict[str, str] | None = None) -> bool:
    """True when `repo` has the local branch `branch`."""
    return subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"],
                          cwd=repo, capture_output=True, env=env).returncode == 0


def make_site_repo(origin: Path, root: Path, git: Callable[..., str],
                   gitignore: Path | None = None) -> None:
    """Create `origin` (bare) and its clone `root`: [tool.digest], empty data/ and _posts/,
    committed and pushed to main. `git(cwd, *args)` runs git as the caller needs."""
    git(origin.parent, "init", "-q", "--bare", "-b", "main", str(origin))
    git(origin.parent, "clone", "-q", str(origin), str(root))
    if gitignore is not None:
        shutil.copy(gitignore, root / ".gitignore")
    (root / "pyproject.toml").write_text(
        '[tool.digest]\ncategories = ["cs.SD", "eess.AS"]\n', encoding="utf-8")
    for folder in ("data", "_posts"):
        (root / folder).mkdir()
        (root / folder / ".keep").write_text("", encoding="utf-8")
    git(root, "add", ".")
    git(root, *IDENTITY, "commit", "-q", "-m", "Initial site")
    git(root, "push", "-q", "origin", "main")
