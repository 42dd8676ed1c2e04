"""Shared fixtures: a throwaway site repository, sample papers, the seed post."""

from __future__ import annotations

import os
import re
import shutil
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from digest_cli.records.model import ArxivId, Day, MachineText, Manifest, Paper, text_hash
from digest_cli.settings import load_settings

pytest_plugins = ["tests.fakes.fixtures", "tests.site_kit"]

REPO = Path(__file__).resolve().parents[1]

# CI (.ci/pytest sets HYPOTHESIS_PROFILE=ci) runs the property tests on the same examples
# every time, so a rare case found on a developer's machine fails there, not at random
# in someone's pull request; locally each run tries new examples.
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
# The seed post: DIGEST_SEED if set, else ../shared's beside the checkout, else the copy
# committed in tests/fixtures/seed (so the byte-for-byte tests run on GitHub and on a fresh
# clone too, instead of skipping).
SEED_NAME = "2026-01-28-arxiv.md"
SHARED_SEED = REPO.parent / "shared" / "seed" / SEED_NAME
COMMITTED_SEED = REPO / "tests" / "fixtures" / "seed" / SEED_NAME
SEED = Path(os.environ.get("DIGEST_SEED")
            or (SHARED_SEED if SHARED_SEED.is_file() else COMMITTED_SEED))
SAMPLE_DAY = date(2026, 1, 28)
# The tests' own copy of the sample day (records, post, glossary): the suite never reads the
# site's data/ or _posts/, so a site that removed the sample day, or holds a year of days,
# passes it unchanged (docs/setup.md).
SAMPLE = REPO / "tests" / "fixtures" / "sample"


@pytest.fixture
def isolated_git(monkeypatch, tmp_path):
    """No global or system git config, no identity from the environment: as on a CI
    machine, which may have no user.name at all."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME",
                 "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def seed_post() -> Path:
    """The real post of the blog we replace (see SEED). A DIGEST_SEED that names no file
    is an error, not a skip: the byte-for-byte tests must run."""
    if not SEED.is_file():
        pytest.fail(f"the seed post {SEED} is absent (DIGEST_SEED names no file?)")
    return SEED


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """An empty site repository."""
    (tmp_path / "data").mkdir()
    (tmp_path / "_posts").mkdir()
    return tmp_path


@pytest.fixture
def sample_site(site: Path) -> Path:
    """A site holding the sample day (the tests' copy, tests/fixtures/sample)."""
    shutil.copytree(SAMPLE / "data" / SAMPLE_DAY.isoformat(), site / "data" / SAMPLE_DAY.isoformat())
    shutil.copy(SAMPLE / "_posts" / f"{SAMPLE_DAY}-arxiv.md", site / "_posts")
    return site


@pytest.fixture
def rendered_site(sample_site: Path) -> Path:
    """The sample site after `digest render --all`, which records the rendered state."""
    from tests.clikit import run_cli

    assert run_cli(sample_site, "render", "--all").exit_code == 0
    return sample_site


@pytest.fixture
def settings_for():
    def make(root: Path, **overrides):
        return load_settings(root, environ={}, overrides=overrides)

    return make


def make_paper(n: int = 1, **fields) -> Paper:
    """A plausible paper record; fields override."""
    base = fields.pop("id", f"2601.{19000 + n:05d}")
    translated = fields.pop("translated", True)
    paper = Paper(
        id=ArxivId.parse(base) if isinstance(base, str) else base,
        title=f"Paper number {n}",
        authors=["Ada Lovelace", "Alan Turing"],
        categories=["eess.AS", "cs.SD"],
        abs_url=f"https://arxiv.org/abs/{base}v1",
        pdf_url=f"https://arxiv.org/pdf/{base}v1",
        abstract=f"We study problem {n} and improve the error rate by 12.5%.",
        published=datetime(2026, 1, 27, 3, 0, tzinfo=timezone.utc),
        updated=datetime(2026, 1, 27, 3, 0, tzinfo=timezone.utc),
    )
    if paper.id.version is None:
        paper.id = ArxivId(paper.id.base, 1)
    if translated:
        text = f"我们研究了问题 {n}，将错误率降低了 12.5%。"
        paper.translation = MachineText(text, "m", "translate-v1", "2026-01-28T01:00:00+00:00",
                                        "full_text", text_hash(text))
        analysis = (f"1)  \n- **背景**：问题 {n} 在噪声环境下明显退化，现有方法依赖大量标注。\n\n"
                    "2)  \n- **方法**：提出基于自监督特征的加权融合框架，联合训练各个模块。\n\n"
                    "3)  \n- **结果**：错误率降低 12.5%，在全部测试集上优于基线。")
        paper.analysis = MachineText(analysis, "m", "analysis-v1", "2026-01-28T01:00:00+00:00",
                                     "full_text", text_hash(analysis))
    for key, value in fields.items():
        setattr(paper, key, value)
    return paper


def make_day(papers: list[Paper], day: date = SAMPLE_DAY, fetched: int | None = None) -> Day:
    from digest_cli.fetch.schedule import window_for

    start, end = window_for(day)
    manifest = Manifest(date=day, window_start=start, window_end=end,
                        fetched=len(papers) if fetched is None else fetched,
                        papers=[p.id.base for p in papers])
    return Day(manifest, papers)


def blocks(post: str) -> list[str]:
    """The post's paper blocks, each from its heading to its `---` line."""
    return re.findall(r"^## [^\n]*\n(?:\{: #arxiv-[^\n]*\n)?- \*\*Authors.*?\n---\n", post,
                      flags=re.M | re.S)


def take_out(post: str, pid: str) -> str:
    block = next(b for b in blocks(post) if f"/abs/{pid}" in b)
    return post.replace(block + "\n", "", 1)
