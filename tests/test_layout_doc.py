"""docs/layout.md ("where things are") names every module of digest_cli, so it stays true."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_every_module_is_in_docs_layout():
    doc = (REPO / "docs" / "layout.md").read_text(encoding="utf-8")
    package = REPO / "digest_cli"
    modules = sorted(p.relative_to(package).as_posix() for p in package.rglob("*.py")
                     if p.name not in ("__init__.py", "__main__.py"))
    missing = [m for m in modules if f"`{m}`" not in doc]
    assert missing == [], f"docs/layout.md does not say where these are: {missing}"
