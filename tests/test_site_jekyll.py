"""The site, built by real Jekyll: posts rendered from records come out whole, and
hostile text (Liquid, Markdown, HTML, LaTeX, odd Unicode) stays literal and harmless.

The Jekyll tests need `jekyll` on PATH (Debian: `apt-get install jekyll ruby-jekyll-feed`)
and are skipped without it. The build runs once per session, on a copy of the site files
in a temporary folder, with posts rendered from records by the real `digest_cli` code.
The round-trip tests (render -> import -> render) need no Jekyll and always run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest

from digest_cli.fetch.schedule import window_for
from digest_cli.hygiene import clean_text
from digest_cli.posts.importer import import_post
from digest_cli.posts.render import paper_anchor, render_day, topic_url
from digest_cli.posts.write import render_days
from digest_cli.records.model import (
    ArxivId,
    Day,
    MachineText,
    Manifest,
    Paper,
    text_hash,
)
from digest_cli.records.store import load_day, load_yaml, write_day
from digest_cli.records.topics import default_topics
from digest_cli.records.writer import Writer
from digest_cli.settings import load_settings

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "tests" / "fixtures" / "sample"  # the tests' own sample day (conftest.py)
SITE_FILES = ["_config.yml", "_layouts", "_includes", "index.html", "assets", "archive", "search",
              "404.html"]
CASES = load_yaml(REPO / "tests" / "hostile" / "cases.yaml")
SAMPLE_DAY = date(2026, 1, 28)
TRANSLATED_DAY = date(2026, 1, 26)  # every case as title, authors, translation, 详细解读
ABSTRACT_DAY = date(2026, 1, 27)  # every case as title, authors, abstract (待翻译)
JEKYLL = shutil.which("jekyll")
BUILD_TIMEOUT = 300
MATHJAX_SRC = "/assets/mathjax/tex-chtml.js"  # served by the site itself
LONG_TITLE = " ".join(["Self-Supervised {{ x }} Speech | Representation <b>*Learning*</b>"] * 40)

needs_jekyll = pytest.mark.skipif(
    JEKYLL is None, reason="`jekyll` is not on PATH (apt-get install jekyll ruby-jekyll-feed)")


# -- hostile records -------------------------------------------------------------------

def _machine(text: str, source: str = "full_text") -> MachineText:
    return MachineText(text, "test-model", "v1", "2026-01-26T01:00:00+00:00", source,
                       text_hash(text))


def _paper(pid: str, title: str, text: str, translated: bool) -> Paper:
    """One paper carrying `text` in every field a post shows."""
    aid = ArxivId.parse(pid)
    return Paper(
        id=ArxivId(aid.base, aid.version or 1), title=title, authors=[text, "Ada Lovelace"],
        categories=["eess.AS", "cs.SD"],
        abs_url=f"https://arxiv.org/abs/{aid.base}v{aid.version or 1}",
        pdf_url=f"https://arxiv.org/pdf/{aid.base}v{aid.version or 1}",
        abstract=text,
        translation=_machine(text) if translated else None,
        analysis=_machine(text, "full_text" if translated else "abstract"),
    )


def _day(day: date, papers: list[Paper]) -> Day:
    start, end = window_for(day)
    manifest = Manifest(date=day, window_start=start, window_end=end,
                        fetched=len(papers) + 3, papers=[p.id.base for p in papers])
    return Day(manifest, papers)


def hostile_day(day: date, translated: bool) -> Day:
    """A day with one paper per hostile case, an old-style id and a 2000-character title."""
    offset = 10000 if translated else 20000
    papers = [_paper(f"2601.{offset + n:05d}", case["text"], case["text"], translated)
              for n, case in enumerate(CASES)]
    papers.append(_paper("hep-th/9901001v1", "Old-style id hep-th/9901001v1", "旧式编号。",
                         translated))
    papers.append(_paper(f"2601.{offset + 9000:05d}", LONG_TITLE[:2000], "长标题。", translated))
    if not translated:
        papers.append(_paper(f"2601.{offset + 9001:05d}", "Empty abstract", "", False))
        papers[-1].analysis = None
    return _day(day, papers)


def _settings(root: Path):
    return load_settings(root, environ={})


# -- a small DOM from html.parser ------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}
BLOCK = {"p", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "div", "details",
         "summary", "table", "tr", "td", "th", "pre", "blockquote", "hr", "br", "dt", "dd"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str | None]
    children: list = field(default_factory=list)  # Node or str
    parent: Node | None = None

    def iter(self):
        """This node and every element below it, in document order."""
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter()

    def elements(self) -> list[Node]:
        return [c for c in self.children if isinstance(c, Node)]

    def text(self) -> str:
        """The visible text, with a space where a block element starts or ends."""
        out = []
        for child in self.children:
            if isinstance(child, str):
                out.append(child)
            elif child.tag not in ("script", "style"):
                pad = " " if child.tag in BLOCK else ""
                out.append(pad + child.text() + pad)
        return "".join(out)

    def find(self, tag: str, **attrs) -> list[Node]:
        return [n for n in self.iter() if n.tag == tag
                and all(n.attrs.get(k) == v for k, v in attrs.items())]


class DomBuilder(HTMLParser):
    """Builds a tree the way a browser would for well-formed output; a stray end tag
    closes the nearest open element of that name (as browsers do), or is ignored."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs), parent=self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, dict(attrs), parent=self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node is not self.root:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse_html(path: Path) -> Node:
    builder = DomBuilder()
    builder.feed(path.read_text(encoding="utf-8"))
    builder.close()
    return builder.root


_TYPOGRAPHIC = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "–": "--", "—": "---",
                              "…": "...", "«": "<<", "»": ">>"})


def norm(text: str) -> str:
    """Text as compared: kramdown's typographic quotes and dashes undone, spaces folded."""
    return re.sub(r"\s+", " ", text.translate(_TYPOGRAPHIC)).strip()


def shown(case: dict, formatted: bool) -> str:
    """What a reader must see of a case: `shown` where Markdown formats it."""
    text = case.get("shown", case["text"]) if formatted else case["text"]
    return norm(clean_text(text))


@dataclass
class PaperHtml:
    """The part of a built post between one paper heading and the next."""

    heading: Node
    meta: Node
    body: list[Node]
    details: Node | None
    rule: Node | None

    @property
    def body_text(self) -> str:
        """The text after the PDF link: a translation that starts with a list joins the
        metadata list (kramdown merges adjacent lists), so it is cut by text, not tags."""
        text = norm(" ".join(n.text() for n in [self.meta] + self.body))
        return re.split(r"PDF: https://arxiv\.org/pdf/\S+ ", text + " ", maxsplit=1)[1].strip()


def post_content(page: Node) -> Node:
    found = page.find("div", **{"class": "post-content"})
    assert len(found) == 1, "the post layout must wrap the content in div.post-content"
    return found[0]


def split_papers(content: Node) -> list[PaperHtml]:
    """Top-level elements of a post, cut at each top-level <h2>."""
    children = content.elements()
    starts = [i for i, n in enumerate(children)
              if n.tag == "h2" and n.attrs.get("id", "").startswith("arxiv-")]
    papers = []
    for n, start in enumerate(starts):
        part = children[start:starts[n + 1] if n + 1 < len(starts) else len(children)]
        rest = part[2:]
        details = [x for x in rest if x.tag == "details"]
        rules = [x for x in rest if x.tag == "hr"]
        end = next((i for i, x in enumerate(rest) if x.tag in ("details", "hr")), len(rest))
        papers.append(PaperHtml(part[0], part[1], rest[:end], details[0] if details else None,
                                rules[-1] if rules else None))
    return papers


# -- the build -------------------------------------------------------------------------

@dataclass
class Build:
    root: Path
    site: Path
    seconds: float
    output: str
    days: dict[date, Day]
    parsed: dict[Path, Node] = field(default_factory=dict)

    def post(self, day: date) -> Path:
        return self.site / f"{day:%Y/%m/%d}" / "arxiv.html"

    def page(self, path: Path) -> Node:
        """A built page, parsed once per session."""
        if path not in self.parsed:
            self.parsed[path] = parse_html(path)
        return self.parsed[path]

    def papers(self, day: date) -> list[PaperHtml]:
        return split_papers(post_content(self.page(self.post(day))))


def _copy_site(root: Path) -> None:
    for name in SITE_FILES + ["pyproject.toml"]:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, root / name)
        else:
            shutil.copy(source, root / name)


@pytest.fixture(scope="module")
def build(tmp_path_factory) -> Build:
    """The site with the sample day and two hostile days, built once by `jekyll build`."""
    if JEKYLL is None:
        pytest.skip("`jekyll` is not on PATH (apt-get install jekyll ruby-jekyll-feed)")
    root = tmp_path_factory.mktemp("site")
    _copy_site(root)
    settings = _settings(root)
    shutil.copytree(SAMPLE / "data" / SAMPLE_DAY.isoformat(), settings.day_path(SAMPLE_DAY))
    for day in (hostile_day(TRANSLATED_DAY, True), hostile_day(ABSTRACT_DAY, False)):
        write_day(settings, day, Writer())
    days = [SAMPLE_DAY, TRANSLATED_DAY, ABSTRACT_DAY]
    render_days(settings, days, Writer())
    env = dict(os.environ, LC_ALL="C.UTF-8", LANG="C.UTF-8", JEKYLL_ENV="production",
               JEKYLL_NO_BUNDLER_REQUIRE="1")
    started = time.monotonic()
    proc = subprocess.run([JEKYLL, "build", "--safe", "--source", str(root), "--destination",
                           str(root / "_site")], cwd=root, env=env, capture_output=True,
                          text=True, timeout=BUILD_TIMEOUT)
    seconds = time.monotonic() - started
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"jekyll build failed:\n{output}"
    loaded = {d: load_day(settings, d) for d in days}
    return Build(root, root / "_site", seconds, output, loaded)


# -- tests: the build as a whole -------------------------------------------------------

@needs_jekyll
def test_build_is_clean(build):
    assert "Liquid Exception" not in build.output
    assert "Liquid Warning" not in build.output
    assert not re.search(r"\b(error|warning|deprecat\w*)\b", build.output, re.I), build.output
    print(f"jekyll build: {build.seconds:.1f} s")


@needs_jekyll
def test_every_post_is_built(build):
    """Jekyll skips a post with bad front matter without failing: each must be there."""
    for day in build.days:
        assert build.post(day).is_file(), f"{build.post(day)} missing:\n{build.output}"


@needs_jekyll
def test_tool_files_are_not_published(build):
    published = {p.relative_to(build.site).parts[0] for p in build.site.rglob("*")}
    assert not published & {"data", "tests", "digest_cli", "docs", "pyproject.toml",
                            "_posts", "_layouts", "_includes", "_config.yml"}
    assert {"index.html", "feed.xml", "assets", "2026"} <= published


@needs_jekyll
def test_index_lists_posts_newest_first(build):
    page = parse_html(build.site / "index.html")
    links = [a.attrs["href"] for a in page.find("a") if "arxiv" in (a.attrs.get("href") or "")]
    assert links == [f"/{d:%Y/%m/%d}/arxiv.html" for d in sorted(build.days, reverse=True)]


@needs_jekyll
def test_feed_is_valid_atom_with_every_post(build):
    tree = ET.parse(build.site / "feed.xml")  # hostile `]]>` must not break the CDATA
    ns = {"a": "http://www.w3.org/2005/Atom"}
    titles = [e.text for e in tree.getroot().findall("a:entry/a:title", ns)]
    assert titles == [f"arXiv Daily – {d.isoformat()}" for d in sorted(build.days, reverse=True)]
    head = parse_html(build.site / "index.html").find("link", type="application/atom+xml")
    assert head and head[0].attrs["href"] == "/feed.xml"


@needs_jekyll
def test_layout_loads_mathjax_for_dollar_math(build):
    scripts = parse_html(build.post(TRANSLATED_DAY)).find("script")  # its cases have TeX
    # no <script src>: the inline loader fetches MathJax when math is about to be shown
    assert [s.attrs.get("src") for s in scripts if s.attrs.get("src")] == []
    config = "".join(s.text() for s in scripts if not s.attrs.get("src"))
    assert f"var src = '{MATHJAX_SRC}'" in config
    assert "inlineMath: [['$', '$']" in config and "displayMath: [['$$', '$$']" in config
    # MathJax 3's safe extension is ui/safe: no javascript: from \href in post text.
    assert "load: ['ui/safe']" in config and "[tex]/safe" not in config
    assert (build.site / MATHJAX_SRC.lstrip("/")).is_file()
    assert (build.site / "assets/mathjax/ui/safe.js").is_file()


@needs_jekyll
def test_a_day_without_math_loads_no_script(build):
    assert parse_html(build.post(SAMPLE_DAY)).find("script") == []


# -- tests: the sample day -------------------------------------------------------------

@needs_jekyll
def test_sample_day_has_every_paper_and_details(build):
    day = build.days[SAMPLE_DAY]
    papers = split_papers(post_content(parse_html(build.post(SAMPLE_DAY))))
    assert [norm(p.heading.text()) for p in papers] == [norm(p.title) for p in day.papers]
    assert len(papers) == 20
    assert all(p.details is not None and p.rule is not None for p in papers)
    assert len(parse_html(build.post(SAMPLE_DAY)).find("details")) == 20


@needs_jekyll
def test_sample_day_details_markdown_becomes_lists(build):
    """kramdown parses the `<div markdown="1">` inside <details>: bullets become <ul>."""
    for paper in split_papers(post_content(parse_html(build.post(SAMPLE_DAY)))):
        summary = paper.details.find("summary")
        assert [norm(s.text()) for s in summary] == [f"详细解读：{norm(paper.heading.text())}"]
        assert paper.details.find("ul") and paper.details.find("li")
        assert paper.details.find("strong")  # **研究背景** became bold
        assert "- **" not in paper.details.text()


@needs_jekyll
def test_ascii_quotes_in_chinese_text_stay_ascii(build):
    """kramdown's smart quotes made "口音ABX任务" into two closing quotes (”口音ABX任务”)."""
    text = build.papers(SAMPLE_DAY)[0].body_text
    assert '新颖的"口音ABX任务"衡量' in re.sub(r"\s+", " ", " ".join(
        n.text() for n in [build.papers(SAMPLE_DAY)[0].meta] + build.papers(SAMPLE_DAY)[0].body))
    assert "”口音" not in text


@needs_jekyll
def test_header_line_is_not_a_table_and_titles_are_english(build):
    page = parse_html(build.post(SAMPLE_DAY))
    assert post_content(page).find("table") == []
    headings = [h for h in post_content(page).find("h2") if h.attrs.get("id", "").startswith("arxiv-")]
    assert len(headings) == 20 and all(h.attrs.get("lang") == "en" for h in headings)


# -- tests: hostile text ---------------------------------------------------------------

HOSTILE_DAYS = [TRANSLATED_DAY, ABSTRACT_DAY]
ALLOWED_SCHEMES = ("https://", "http://")
BAD_TAGS = {"script", "iframe", "object", "embed", "style", "img", "form", "input", "svg",
            "math", "link", "meta", "base", "frame", "frameset", "textarea", "button"}


@needs_jekyll
@pytest.mark.parametrize("day", HOSTILE_DAYS)
def test_hostile_day_keeps_every_paper(build, day):
    records = build.days[day].papers
    page = parse_html(build.post(day))
    papers = split_papers(post_content(page))
    assert len(papers) == len(records)
    assert [norm(p.heading.text()) for p in papers] == [norm(p.title) for p in records]
    with_analysis = [r for r in records if r.analysis is not None]
    assert len(page.find("details")) == len(with_analysis)
    assert [p.details is not None for p in papers] == [r.analysis is not None for r in records]
    assert all(p.rule is not None for p in papers), "a paper lost its --- separator"
    assert len(page.find("summary")) == len(with_analysis)


@needs_jekyll
@pytest.mark.parametrize("day", HOSTILE_DAYS)
def test_hostile_text_runs_nothing(build, day):
    page = parse_html(build.post(day))
    head = page.find("head")[0]
    layout_scripts = parse_html(build.post(TRANSLATED_DAY)).find("script")  # the MathJax loader
    assert len(page.find("script")) == len(head.find("script")) == len(layout_scripts) == 1
    content = post_content(page)
    made = {f"#{paper_anchor(p.id)}" for p in build.days[day].papers}
    made |= {"#contents"} | {topic_url(slug).replace("{{ site.baseurl }}", "") for slug in default_topics().by_slug}
    for node in page.iter():
        for name, value in node.attrs.items():
            assert not name.lower().startswith("on"), f"<{node.tag} {name}={value!r}>"
            if name in ("href", "src", "action", "formaction", "xlink:href", "data"):
                scheme = re.sub(r"[\x00-\x20]", "", value or "").lower()
                assert not scheme.startswith(("javascript:", "vbscript:", "data:")), value
    for node in content.iter():
        assert node.tag not in BAD_TAGS, f"<{node.tag}> made from post text"
        assert "style" not in node.attrs, f"<{node.tag} style=...> made from post text"
        if node.tag == "a":  # arXiv links, or the contents and topic links render makes
            href = node.attrs.get("href") or ""
            assert href.startswith(ALLOWED_SCHEMES) or href in made, node.attrs


@needs_jekyll
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_hostile_text_shows_literally(build, case):
    n = CASES.index(case)
    done = build.post(TRANSLATED_DAY)
    translated = build.papers(TRANSLATED_DAY)[n]
    untranslated = build.papers(ABSTRACT_DAY)[n]
    for paper in (translated, untranslated):
        assert norm(paper.heading.text()) == shown(case, False), done
        assert norm(paper.meta.text()).startswith(
            f"Authors: {shown(case, False)}, Ada Lovelace Categories: eess.AS, cs.SD")
        assert shown(case, True) in norm(paper.details.text())
    assert shown(case, True) in translated.body_text
    assert untranslated.body_text.startswith("【待翻译】")
    assert shown(case, True) in untranslated.body_text


@needs_jekyll
def test_long_title_and_old_style_id(build):
    for day in HOSTILE_DAYS:
        papers = {norm(p.heading.text()): p for p in build.papers(day)}
        assert norm(LONG_TITLE[:2000]) in papers
        old = papers["Old-style id hep-th/9901001v1"]
        hrefs = [a.attrs["href"] for a in old.meta.find("a")]
        assert hrefs == ["https://arxiv.org/abs/hep-th/9901001v1",
                         "https://arxiv.org/pdf/hep-th/9901001v1"]


# -- tests: round trip without Jekyll --------------------------------------------------

def _records(settings) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in settings.data_path.rglob("*.yaml")}


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_hostile_text_round_trips(tmp_path, case):
    """render -> import -> render: the same post bytes, the records untouched."""
    settings = _settings(tmp_path)
    papers = [_paper("2601.10001", case["text"], case["text"], True),
              _paper("2601.10002", case["text"], case["text"], False)]
    write_day(settings, _day(TRANSLATED_DAY, papers), Writer())
    written = _records(settings)
    render_days(settings, [TRANSLATED_DAY], Writer())  # may note what it rendered
    records = _records(settings)
    assert {p: b for p, b in records.items() if p.name != "manifest.yaml"} == \
        {p: b for p, b in written.items() if p.name != "manifest.yaml"}
    post = settings.post_path(TRANSLATED_DAY)
    first = post.read_bytes()
    day, _ = import_post(post, settings, load_day(settings, TRANSLATED_DAY))
    writer = Writer()
    write_day(settings, day, writer)
    assert writer.changed == [], f"import changed records:\n{first.decode()}"
    assert _records(settings) == records
    assert render_day(load_day(settings, TRANSLATED_DAY), settings).encode() == first
