"""pytest fixtures for the fake servers.

Enable with ``pytest_plugins = ["tests.fakes.fixtures"]`` in ``tests/conftest.py``.

* ``arxiv_server``  -> running :class:`FakeArxiv` (no papers yet)
* ``llm_server``    -> running :class:`FakeLLM` with ``api_key=LLM_API_KEY``
* ``github_server`` -> running :class:`FakeGitHub` for ``octo/digest`` with
  ``token=GITHUB_TOKEN`` and known branches {"main"}
* ``shared_arxiv_fixtures`` -> ``Path`` of the recorded real arXiv answers in
  ``../shared/fixtures/arxiv`` beside the checkout; skips (saying why) when absent

Each server is started fresh for each test and stopped afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .arxiv_server import FakeArxiv
from .github_server import FakeGitHub
from .llm_server import FakeLLM

LLM_API_KEY = "sk-test-fake-key-0123456789"
GITHUB_TOKEN = "ghs_fakeTestToken0123456789"
SHARED_ARXIV_DIR = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "arxiv"


@pytest.fixture
def arxiv_server() -> Iterator[FakeArxiv]:
    with FakeArxiv() as server:
        yield server


@pytest.fixture
def llm_server() -> Iterator[FakeLLM]:
    with FakeLLM(api_key=LLM_API_KEY) as server:
        yield server


@pytest.fixture
def github_server() -> Iterator[FakeGitHub]:
    with FakeGitHub(token=GITHUB_TOKEN, owner="octo", repo="digest") as server:
        yield server


def shared_arxiv_fixture(name: str) -> Path:
    """Path of a recorded arXiv answer in shared/fixtures/arxiv; skips if absent."""
    path = SHARED_ARXIV_DIR / name
    if not path.is_file():
        pytest.skip(f"recorded arXiv fixture {path} is absent (the shared/ folder beside the "
                    "checkout exists only on CI and project machines, not in a fresh clone)")
    return path


@pytest.fixture
def shared_arxiv_fixtures() -> Path:
    if not SHARED_ARXIV_DIR.is_dir():
        pytest.skip(f"{SHARED_ARXIV_DIR} is absent (the shared/ folder beside the checkout "
                    "exists only on CI and project machines, not in a fresh clone)")
    return SHARED_ARXIV_DIR
