"""A link checker over the site built with a base path (no network): every href and src
of every built page resolves to a file inside the site, anchors included."""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tests.site_kit import JEKYLL, MATH_DAY, REPO, SAMPLE_DAY, SITE_URL


class Links(HTMLParser):
    """The href/src values and the ids of one page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        for name in ("href", "src"):
            if attrs.get(name) is not None:
                self.links.append(attrs[name])


def parse(path: Path) -> Links:
    parser = Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def target(site: Path, base_path: str, page: Path, link: str) -> tuple[Path | None, str]:
    """The file a site-internal link points at and its fragment; None when it leaves the
    base path."""
    parts = urlsplit(link)
    if not parts.path:
        return page, parts.fragment
    if parts.path.startswith("/"):
        if not (parts.path + "/").startswith(base_path + "/"):
            return None, parts.fragment
        rel = parts.path[len(base_path):]
        path = site / unquote(rel).lstrip("/")
    else:
        path = (page.parent / unquote(parts.path)).resolve()
    if path.is_dir() or parts.path.endswith("/"):
        path = path / "index.html"
    return path, parts.fragment


def test_every_link_resolves_inside_the_site(built_site):
    site, base = built_site.site, built_site.base_path
    pages = sorted(site.rglob("*.html"))
    assert len(pages) >= 15
    ids = {}
    broken = []
    for page in pages:
        if "pagefind" in page.parts:
            continue
        parsed = parse(page)
        ids[page] = parsed.ids
        for link in parsed.links:
            scheme = urlsplit(link).scheme
            if scheme in ("http", "https") and urlsplit(link).netloc not in ("", "127.0.0.1"):
                continue  # arXiv, PDFs, code links: outside the site by design
            assert scheme == "", f"{page}: {link}"
            path, fragment = target(site, base, page, link)
            if path is None or not path.is_file():
                broken.append(f"{page.relative_to(site)} -> {link}")
            elif fragment and path.suffix == ".html":
                if fragment not in (ids.get(path) or parse(path).ids):
                    broken.append(f"{page.relative_to(site)} -> {link} (no such id)")
    assert broken == []


def test_links_carry_the_base_path(built_site):
    index = parse(built_site.site / "index.html")
    internal = [x for x in index.links if x.startswith("/")]
    assert internal and all(x.startswith(built_site.base_path + "/") for x in internal)


def test_topic_pages_and_feeds_link_papers_to_their_pages(built_site):
    page = parse(built_site.site / "topics" / "codec" / "index.html")
    day = f"{built_site.base_path}/{MATH_DAY:%Y/%m/%d}/arxiv.html"
    assert built_site.paper_path("2601.20001") in page.links
    assert built_site.paper_path("2601.20003") in page.links
    assert day in page.links  # the day heading
    assert not any("20002" in link for link in page.links)  # `music`, not codec
    feed = ET.parse(built_site.site / "topics" / "codec" / "feed.xml").getroot()
    ns = {"a": "http://www.w3.org/2005/Atom"}
    hrefs = [e.get("href") for e in feed.findall("a:entry/a:link", ns)]
    assert hrefs and all(h.startswith(f"{SITE_URL}/papers/") for h in hrefs), hrefs
    assert feed.find("a:id", ns).text == f"{SITE_URL}/topics/codec/"  # absolute ids


def test_home_page_shows_counts_and_topics(built_site):
    html = (built_site.site / "index.html").read_text(encoding="utf-8")
    assert re.search(r"2026-01-29</time></a>\s*<span class=\"count\">4 篇</span>", html)
    assert "编解码与离散化 2" in html
    assert html.count("2026-01-28</time>") == 1  # each date once


def test_days_link_to_each_other(built_site):
    later = parse(built_site.site / f"{MATH_DAY:%Y/%m/%d}" / "arxiv.html")
    earlier = parse(built_site.site / f"{SAMPLE_DAY:%Y/%m/%d}" / "arxiv.html")
    prev = [a for t, a in later.tags if t == "a" and a.get("rel") == "prev"]
    nxt = [a for t, a in earlier.tags if t == "a" and a.get("rel") == "next"]
    assert prev and prev[0]["href"] == f"{built_site.base_path}/{SAMPLE_DAY:%Y/%m/%d}/arxiv.html"
    assert nxt and nxt[0]["href"] == f"{built_site.base_path}/{MATH_DAY:%Y/%m/%d}/arxiv.html"


def test_archive_lists_every_day_by_month(built_site):
    archive = parse(built_site.site / "archive" / "index.html")
    days = [x for x in archive.links if re.search(r"/2026/01/\d\d/arxiv\.html$", x)]
    assert sorted(days) == sorted(f"{built_site.base_path}/{d:%Y/%m/%d}/arxiv.html"
                                  for d in (SAMPLE_DAY, MATH_DAY))


def test_the_feed_keeps_readable_tex(built_site):
    feed = (built_site.site / "feed.xml").read_text(encoding="utf-8")
    assert "\\mathcal{L} = \\sum_{i=1}^{N}" in feed


def test_the_repository_is_left_as_it_was(built_site):
    """The generated pages go to the staging copy, never into the site repository."""
    assert not (built_site.root / "topics").exists()
    assert not (built_site.root / "_data").exists()
    assert not (built_site.root / "_site.new").exists()


# What Jekyll may publish from the repository's top level: the reader's site and nothing
# of the tool (its code, tests, docs, lock files, records).
PUBLISHED = {"assets", "archive", "search", "index.html", "feed.xml", "404.html"}


def test_a_build_of_the_repository_publishes_only_the_site(tmp_path):
    """Every file git tracks, built as Pages builds a checkout: no tool folder in _site."""
    if JEKYLL is None:
        pytest.skip("`jekyll` is not on PATH (apt-get install jekyll ruby-jekyll-feed)")
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True,
                             check=True).stdout.decode().split("\0")
    checkout = tmp_path / "checkout"
    for name in filter(None, tracked):
        if (REPO / name).is_file():
            (checkout / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(REPO / name, checkout / name)
    subprocess.run([JEKYLL, "build", "-q", "-s", str(checkout), "-d", str(tmp_path / "_site")],
                   check=True, capture_output=True, timeout=300)
    top = {p.name for p in (tmp_path / "_site").iterdir()}
    assert not {"requirements", "tests", "digest_cli", "benchmarks", "docs", "data",
                "pyproject.toml", "README.md", "glossary.yaml", ".ci", ".github"} & top
    assert {name for name in top if not re.fullmatch(r"\d{4}", name)} <= PUBLISHED
    assert "index.html" in top and "assets" in top
