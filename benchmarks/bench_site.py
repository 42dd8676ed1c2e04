"""Page weight of a 20-paper day and the time of `digest site build` (reader's-site issue).

    python benchmarks/bench_site.py

Builds the site (real Jekyll and Pagefind, base path /repo) with the shipped 20-paper day
and a copy of it in which one translation has inline and display math, then prints what a
reader downloads for each day page: the HTML, the stylesheet, the scripts; MathJax is
counted only on the page with math (its component, `ui/safe`, and the woff fonts a page of
ordinary TeX asks for). Sizes raw and gzipped (as Pages serves them). Nothing here is a
pass/fail test.
"""

from __future__ import annotations

import gzip
import re
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from digest_cli.posts.write import render_days  # noqa: E402
from digest_cli.records.model import MachineText  # noqa: E402
from digest_cli.records.store import load_day, write_day  # noqa: E402
from digest_cli.records.writer import Writer  # noqa: E402
from digest_cli.settings import Settings, load_settings  # noqa: E402
from digest_cli.site.build import build_site  # noqa: E402

SAMPLE = date(2026, 1, 28)
WITH_MATH = date(2026, 1, 29)
SITE_FILES = ["_config.yml", "_layouts", "_includes", "index.html", "assets", "archive",
              "search", "404.html", "pyproject.toml"]
# The fonts MathJax's CHTML output fetches for ordinary TeX (main, math italic, size).
MATH_FONTS = ["MathJax_Main-Regular.woff", "MathJax_Math-Italic.woff", "MathJax_Zero.woff",
              "MathJax_Size1-Regular.woff", "MathJax_Calligraphic-Regular.woff"]


def site_root(root: Path) -> Settings:
    """The site's files in `root`, with the tests' copy of the sample day (no briefs: a
    site may delete its own data/); returns the site's settings."""
    for name in SITE_FILES:
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, root / name)
    settings = load_settings(root, environ={})
    shutil.copytree(REPO / "tests" / "fixtures" / "sample" / "data" / SAMPLE.isoformat(),
                    settings.day_path(SAMPLE))
    return settings


def make_site(root: Path) -> None:
    settings = site_root(root)
    day = load_day(settings, SAMPLE)
    day.manifest.date = WITH_MATH
    text = day.papers[0].translation.text
    day.papers[0].translation = MachineText(
        text + "\n\n损失为 $\\mathcal{L} = \\sum_i x_i^2$，\n\n$$\\hat{y} = \\arg\\max_k p(k)$$",
        source="human")
    write_day(settings, day, Writer())
    render_days(settings, [SAMPLE, WITH_MATH], Writer(), force=True)


def weight(site: Path, page: Path, base: str, math_shown: bool = False
           ) -> dict[str, tuple[int, int]]:
    """Bytes (raw, gzipped) of the page, its stylesheets, its scripts, and MathJax with its
    fonts once math is shown (the inline loader fetches it only then)."""
    html = page.read_text(encoding="utf-8")
    parts = {"HTML": [page]}
    links = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    scripts = re.findall(r'<script[^>]* src="([^"]+)"', html)
    if math_shown:
        scripts += re.findall(r"var src = '([^']+tex-chtml\.js)'", html)
    parts["CSS"] = [site / link[len(base):].lstrip("/") for link in links]
    parts["scripts"] = [site / src[len(base):].lstrip("/") for src in scripts]
    if any("mathjax" in src for src in scripts):
        mathjax = site / "assets" / "mathjax"
        parts["scripts"].append(mathjax / "ui" / "safe.js")
        parts["MathJax fonts"] = [mathjax / "output/chtml/fonts/woff-v2" / f for f in MATH_FONTS]
    return {name: (sum(p.stat().st_size for p in files),
                   sum(len(gzip.compress(p.read_bytes(), 9)) for p in files))
            for name, files in parts.items()}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_site(root)
        started = time.monotonic()
        report = build_site(load_settings(root, environ={}), root / "_site", "/repo")
        seconds = time.monotonic() - started
        print(f"digest site build, 2 days, {report.pages} pages: {seconds:.1f} s")
        for day, label, shown in ((SAMPLE, "20-paper day, no math", False),
                                  (WITH_MATH, "20-paper day with math, none shown yet", False),
                                  (WITH_MATH, "20-paper day with math, shown", True)):
            page = report.out / f"{day:%Y/%m/%d}" / "arxiv.html"
            parts = weight(report.out, page, "/repo", shown)
            total = tuple(sum(v[i] for v in parts.values()) for i in (0, 1))
            print(f"\n{label}: total {total[0] / 1024:.0f} KiB, gzipped {total[1] / 1024:.0f} KiB")
            for name, (raw, packed) in parts.items():
                print(f"  {name:14} {raw / 1024:7.1f} KiB  gzipped {packed / 1024:6.1f} KiB")
        index = report.out / "pagefind"
        size = sum(p.stat().st_size for p in index.rglob("*") if p.is_file())
        print(f"\nsearch index (pagefind/, fetched in pieces as a reader searches): "
              f"{size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
