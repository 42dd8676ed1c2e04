"""Fake arXiv, OpenAI-compatible LLM and GitHub servers for the tests (stdlib only)."""

from .arxiv_server import FakeArxiv
from .github_server import FakeGitHub
from .llm_server import FakeLLM

__all__ = ["FakeArxiv", "FakeGitHub", "FakeLLM"]
