"""`digest site build`: the whole site as the Pages workflow publishes it.

Stages, each plain data in and out: copy the site's own files into a staging folder (the
repository stays clean), write the generated topic pages, feeds and day counts there
(`pages`), run Jekyll with the base path, then index the result with Pagefind. The output
folder is replaced only when all of that succeeded.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from digest_cli.errors import DigestError
from digest_cli.records.store import day_dates, load_day, load_yaml
from digest_cli.site.pages import generated_files, index_papers, post_url, staged_post

# How a command is run: `subprocess.run`, or a stand-in in tests.
Runner = Callable[..., "subprocess.CompletedProcess[str]"]

if TYPE_CHECKING:
    from digest_cli.records.model import Paper
    from digest_cli.settings import Settings

log = logging.getLogger(__name__)

# Never part of the site, whatever _config.yml says (the tool, its records, its output).
ALWAYS_SKIPPED = {"_site", ".git", ".venv", "node_modules", ".jekyll-cache", "data", "tests",
                  "digest_cli", "benchmarks", "docs", ".digest-cache", "_preview"}
JEKYLL_TIMEOUT = 900.0
PAGEFIND_TIMEOUT = 600.0


class SiteError(DigestError):
    """The site could not be built or served."""

    stage = "site"


@dataclass
class BuildReport:
    """What a build made."""

    out: Path
    base_path: str
    pages: int
    days: int
    seconds: float


def normal_base_path(value: str | None) -> str:
    """`/REPO` from `REPO`, `/REPO/` or `/REPO`; '' for a user or custom-domain site."""
    value = (value or "").strip().strip("/")
    if any(c in value for c in ' "\'<>?#\\{}%') or ".." in value.split("/"):
        raise SiteError(f"--base-path {value!r}: expected a URL path such as /REPO")
    return "/" + value if value else ""


def site_address(site_url: str) -> tuple[str, str]:
    """The `site_url` setting split into Jekyll's `url` (scheme and host) and the base
    path: ('https://owner.github.io', '/repo'); ('', '') when unset."""
    from urllib.parse import urlsplit

    value = site_url.strip().rstrip("/")
    if not value:
        return "", ""
    parts = urlsplit(value)
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host or parts.query or parts.fragment \
            or any(c in value for c in ' "\'<>\\{}'):
        raise SiteError(f"setting 'site_url': {site_url!r} is not an address such as "
                        "https://OWNER.github.io/REPO")
    return f"{parts.scheme}://{parts.netloc}", normal_base_path(parts.path)


def build_site(settings: Settings, out: Path, base_path: str = "", jekyll: str | None = None,
               run: Runner = subprocess.run) -> BuildReport:
    """Build the site of `settings.root` into `out` (replaced at the end). The base path is
    `base_path`, else the path of the `site_url` setting."""
    started = time.monotonic()
    url, url_path = site_address(settings.site_url)
    base_path = normal_base_path(base_path) or url_path
    jekyll = jekyll or shutil.which("jekyll")
    if jekyll is None:
        raise SiteError("`jekyll` is not installed (Debian: apt-get install jekyll "
                        "ruby-jekyll-feed; or gem install jekyll jekyll-feed)")
    out = out.resolve()
    with tempfile.TemporaryDirectory(prefix="digest-site-") as tmp:
        source, built = Path(tmp) / "source", Path(tmp) / "site"
        copy_sources(settings.root.resolve(), source,
                     skip={out, out.with_name(out.name + ".new"), out.with_name(out.name + ".old")})
        days = write_generated(settings, source)
        run_jekyll(jekyll, source, built, base_path, run, url=url)
        run_pagefind(built, run)
        replace_folder(built, out)
    pages = sum(1 for _ in out.rglob("*.html"))
    return BuildReport(out, base_path, pages, days, time.monotonic() - started)


def copy_sources(root: Path, source: Path, skip: set[Path]) -> None:
    """The site's own files (what Jekyll would read) into `source`: not the tool, its
    records, dot folders or what `_config.yml` excludes at the top level."""
    if not (root / "_config.yml").is_file():
        raise SiteError("no _config.yml: not a site repository", path=root)
    excluded = [str(x).rstrip("/") for x in _config(root / "_config.yml").get("exclude") or []]

    def ignore(folder: str, names: list[str]) -> set[str]:
        here = Path(folder)
        return {n for n in names if (here / n).resolve() in skip or
                (here == root and (n in ALWAYS_SKIPPED or n.startswith(".") or
                                   any(fnmatch.fnmatch(n, x) for x in excluded)))}

    shutil.copytree(root, source, ignore=ignore, symlinks=False)


def site_days(settings: Settings) -> list[tuple[date, str, list[Paper], str, Path]]:
    """(day, post URL, papers, post text, post file) of every day that has both records
    and a post."""
    permalink = _permalink(settings.root / "_config.yml")
    days = []
    for day in day_dates(settings):
        post = settings.post_path(day)
        if post.is_file():
            days.append((day, post_url(day, post.stem, permalink),
                         load_day(settings, day).papers,
                         post.read_text(encoding="utf-8", errors="replace"), post))
    return days


def _config(path: Path) -> dict[str, Any]:
    data = load_yaml(path)
    return data if isinstance(data, dict) else {}


def _permalink(config: Path) -> str:
    return str(_config(config).get("permalink") or "date")


def write_generated(settings: Settings, source: Path) -> int:
    """Topic pages, topic feeds and day counts into the staging source; the day count."""
    days = site_days(settings)
    root = settings.root.resolve()
    for _, _, papers, post, path in days:  # each paper linked to its page
        staged = source / path.resolve().relative_to(root)
        staged.write_text(staged_post(post, papers, settings.topics), encoding="utf-8")
    offset = datetime(2026, 1, 1, tzinfo=ZoneInfo(settings.timezone)).strftime("%z")
    zone = offset[:3] + ":" + offset[3:]
    for name, content in generated_files(index_papers([d[:4] for d in days], settings.topics),
                                         zone).items():
        path = source / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return len(days)


def _run(run: Runner, args: list[str], what: str, timeout: float, **kwargs: Any) -> str:
    try:
        proc = run(args, capture_output=True, text=True, timeout=timeout, **kwargs)
    except subprocess.TimeoutExpired:
        raise SiteError(f"{what} took more than {timeout:.0f} s") from None
    output = (proc.stdout or "") + (proc.stderr or "")
    if proc.returncode != 0:
        tail = "\n".join(output.strip().splitlines()[-15:])
        raise SiteError(f"{what} failed (exit {proc.returncode}):\n{tail}")
    return output


def run_jekyll(jekyll: str, source: Path, dest: Path, base_path: str, run: Runner,
               url: str = "") -> None:
    """`jekyll build` of the staging source; fails on a Liquid error too. `url` (the
    site's scheme and host) makes canonical links and feed ids absolute."""
    env = dict(os.environ, JEKYLL_ENV="production", JEKYLL_NO_BUNDLER_REQUIRE="1",
               LC_ALL="C.UTF-8", LANG="C.UTF-8")
    args = [jekyll, "build", "--source", str(source), "--destination", str(dest),
            "--baseurl", base_path]
    if url:  # an extra config file beside the staging source, never published
        extra = source.parent / "_config.url.yml"
        extra.write_text(f"url: {json.dumps(url)}\n", encoding="utf-8")
        args += ["--config", f"{source / '_config.yml'},{extra}"]
    output = _run(run, args, "jekyll build", JEKYLL_TIMEOUT, cwd=source, env=env)
    if "Liquid Exception" in output or "Liquid Warning" in output:
        raise SiteError(f"jekyll build reported a Liquid problem:\n{output.strip()[-2000:]}")
    log.info("jekyll: %s", output.strip().splitlines()[-1] if output.strip() else "done")


def run_pagefind(site: Path, run: Runner) -> None:
    """The search index (`pagefind/` in the site): Chinese is segmented by the extended
    build of the `pagefind[extended]` package."""
    _run(run, [sys.executable, "-m", "pagefind", "--site", str(site), "--silent"],
         "pagefind", PAGEFIND_TIMEOUT)
    if not (site / "pagefind" / "pagefind-ui.js").is_file():
        raise SiteError("pagefind made no search index (is `pagefind[extended]` installed?)")


def replace_folder(built: Path, out: Path) -> None:
    """Put the new site in place of `out`: the old one stays until the new one is whole."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staged = out.with_name(out.name + ".new")
    shutil.rmtree(staged, ignore_errors=True)
    shutil.copytree(built, staged)
    old = out.with_name(out.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if out.exists():
        out.rename(old)
    staged.rename(out)
    shutil.rmtree(old, ignore_errors=True)
