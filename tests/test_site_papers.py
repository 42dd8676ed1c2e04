"""A page per paper, search by paper, light pages and the site basics (issue 21), on the
site built once with real Jekyll and Pagefind (tests/site_kit.py), plus the text rules of
`digest_cli/site/enrich.py` on their own."""

from __future__ import annotations

import gzip
import json
import re
import shutil
from html.parser import HTMLParser

import pytest

from digest_cli.records.model import ArxivId
from digest_cli.records.topics import default_topics
from digest_cli.site.enrich import enrich, safe_https
from digest_cli.site.pages import paper_path, search_tokens, staged_post, zh_tokens
from tests.conftest import SAMPLE_DAY, make_paper
from tests.site_kit import ANALYSIS_TEX, CODE_URL, MATH_DAY, SITE_URL

PAGE_BUDGET = 60 * 1024  # a day without open math, gzipped (issue 21, point 4)


class Page(HTMLParser):
    """Tags with their attributes and the visible text of one built page."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def find(self, tag: str, **attrs) -> list[dict]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def built(built_site, path: str) -> str:
    return (built_site.site / path.strip("/") / "index.html").read_text(encoding="utf-8") \
        if not path.endswith(".html") else (built_site.site / path.strip("/")).read_text("utf-8")


# -- Paths and text rules -----------------------------------------------------------

@pytest.mark.parametrize("pid, path", [
    ("2602.23333v2", "/papers/2602.23333/"), ("0704.0001", "/papers/0704.0001/"),
    ("hep-th/9901001v1", "/papers/hep-th_9901001/"), ("math.GT/0309136", "/papers/math.GT_0309136/")])
def test_a_paper_page_url_comes_from_its_id_without_version(pid, path):
    assert paper_path(ArxivId.parse(pid)) == path


def test_search_tokens_name_the_id_as_a_reader_types_it():
    paper = make_paper(1, id="hep-th/9901001")
    assert search_tokens(paper).split() == ["hep-th/9901001", "hepth9901001",
                                            "arxivhepth9901001", "idhepth9901001"]


def test_chinese_pairs_are_ascii_tokens_one_per_pair():
    tokens = zh_tokens("声码器", "声码器 and 器").split()
    assert tokens == [f"zh{ord('声'):04x}{ord('码'):04x}", f"zh{ord('码'):04x}{ord('器'):04x}"]
    assert zh_tokens("only English, 1 字") == ""


@pytest.mark.parametrize("text, html", [
    (f"代码见 {CODE_URL}。", f"代码见 <{CODE_URL}>。"),
    ("见 https://example.org/a_(b)).", "见 <https://example.org/a_(b)>)."),
    ("\\textbf{显著} 与 \\emph{新}", "**显著** 与 *新*"),
    ("参见 \\cite{smith2020, lee2021}", "参见 &#91;smith2020, lee2021&#93;"),
    ("\\url{https://example.org/x}", "<https://example.org/x>"),
    ("\\url{javascript:alert(1)}", "javascript:alert(1)"),
])
def test_urls_and_text_commands_become_markup(text, html):
    assert enrich(text) == html


@pytest.mark.parametrize("text", [
    "javascript:alert(1)", "http://example.org/plain", "data:text/html,<b>x</b>",
    "`https://example.org/in-code`", "[x](https://example.org/y)",
    "$\\textbf{x}$".replace("\\", "&#92;"),  # TeX as the escaper leaves it: for MathJax
    "https://exa mple.org", "```\nhttps://example.org/fenced\n```"])
def test_nothing_else_becomes_a_link_or_markup(text):
    assert enrich(text) == text


@pytest.mark.parametrize("url, ok", [
    ("https://example.org/x", True), ("https://localhost/x", False),
    ("https://ex\\ample.org", False), ("http://example.org", False), ("https://.org", False)])
def test_only_wellformed_https_urls_are_links(url, ok):
    assert safe_https(url) is ok


def test_the_staged_post_links_each_paper_and_the_post_keeps_its_bytes(site, settings_for):
    from digest_cli.posts.render import render_day
    from tests.conftest import make_day

    papers = [make_paper(1), make_paper(2)]
    post = render_day(make_day(papers), settings_for(site, post_format="classic"))
    staged = staged_post(post, papers, default_topics())
    assert staged.count("- **本文页面**：") == 2
    assert "[2601.19001]({{ site.baseurl }}/papers/2601.19001/)" in staged
    assert "本文页面" not in post


# -- The built site -----------------------------------------------------------------

def test_each_paper_has_its_page(built_site):
    html = built(built_site, "papers/2601.20002")
    page = Page(html)
    text = "".join(page.text)
    assert "第 2 篇：音频离散化" in text  # Chinese title
    assert "Zebrafinch: Learning Birdsong Syntax" in text and "Ada Lovelace" in text
    assert "斑胸草雀" in text and "We study problem 2" in text  # translation and abstract
    assert page.find("details") and "详细解读" in text
    assert {"href": "https://arxiv.org/abs/2601.20002v1", "lang": "en"} in page.find("a")
    day = built_site.post_path(MATH_DAY) + "#arxiv-2601-20002"
    assert any(a.get("href") == day for a in page.find("a"))
    chips = [a["href"] for a in page.find("a") if a.get("class") == "tag"]
    assert chips == [f"{built_site.base_path}/topics/music/"]
    assert page.find("time", datetime=MATH_DAY.isoformat())
    # the arXiv comments' code URL is a link
    assert {"href": "https://example.org/code"} in page.find("a")


def test_a_paper_page_has_canonical_and_open_graph_tags(built_site):
    page = Page(built(built_site, "papers/2601.20002"))
    url = f"{SITE_URL}/papers/2601.20002/"
    assert page.find("link", rel="canonical") == [{"rel": "canonical", "href": url}]
    og = {a["property"]: a["content"] for a in page.find("meta") if "property" in a}
    assert og["og:url"] == url and og["og:title"] == "第 2 篇：音频离散化"
    assert og["og:description"] == "本文提出第 2 种方法，显著降低了错误率。"
    assert og["og:type"] == "article"


def test_the_day_page_keeps_its_papers_and_links_each_to_its_page(built_site):
    for day, ids in ((MATH_DAY, [f"2601.2000{n}" for n in range(1, 5)]), (SAMPLE_DAY, None)):
        page = Page(built(built_site, built_site.post_path(day)[len(built_site.base_path):]))
        links = [a["href"] for a in page.find("a") if "/papers/" in a.get("href", "")]
        headings = [a for a in page.find("h2") if a.get("id", "").startswith("arxiv-")]
        assert len(links) == len(headings) == (len(ids) if ids else 20)
        if ids:
            assert links == [built_site.paper_path(i) for i in ids]
        for link in links:
            assert (built_site.site / link[len(built_site.base_path):].strip("/")
                    / "index.html").is_file()


def test_urls_and_text_commands_in_a_translation_read_well(built_site):
    for path in ("papers/2601.20001", built_site.post_path(MATH_DAY)[len(built_site.base_path):]):
        html = built(built_site, path)
        assert f'<a href="{CODE_URL}">{CODE_URL}</a>' in html
        assert "<strong>显著</strong>" in html and "[smith2020, lee2021]" in html
        assert "\\textbf" not in html and "\\cite" not in html
    assert "javascript:" not in built(built_site, "papers/2601.20003").split("<body>")[1] \
        .replace("\\href{javascript:alert(1)}", "")  # only as TeX text, for ui/safe


def test_only_paper_pages_are_searchable(built_site):
    entry = json.loads((built_site.site / "pagefind" / "pagefind-entry.json").read_text())
    papers = len(list((built_site.site / "papers").glob("*/index.html")))
    assert papers == 24
    assert sum(lang["page_count"] for lang in entry["languages"].values()) == papers
    day = built(built_site, built_site.post_path(MATH_DAY)[len(built_site.base_path):])
    assert "data-pagefind-body" not in day


def test_a_day_without_open_math_is_light(built_site):
    """The math day: its HTML, stylesheet and inline loader under 60 KB gzipped; MathJax
    is not among what the page asks for until math is shown."""
    html = built(built_site, built_site.post_path(MATH_DAY)[len(built_site.base_path):])
    css = (built_site.site / "assets" / "css" / "site.css").read_bytes()
    assert "$" in html and "tex-chtml.js" in html  # math, and its loader
    assert not re.search(r"<script[^>]*\bsrc=[^>]*tex-chtml", html)
    weight = len(gzip.compress(html.encode("utf-8"))) + len(gzip.compress(css))
    assert weight < PAGE_BUDGET, weight
    # a real 20-paper day (the shipped one, about 32 KB gzipped) is under it too
    full = built(built_site, built_site.post_path(SAMPLE_DAY)[len(built_site.base_path):])
    assert len(gzip.compress(full.encode("utf-8"))) + len(gzip.compress(css)) < PAGE_BUDGET


def test_a_paper_with_math_only_in_its_analysis_keeps_the_tex(built_site):
    html = built(built_site, "papers/2601.20004")
    assert ANALYSIS_TEX in html.replace("&#92;", "\\") and "<details" in html


def test_site_basics_favicon_404_and_one_description_per_page(built_site):
    site, base = built_site.site, built_site.base_path
    assert (site / "assets" / "favicon.svg").is_file()
    missing = Page((site / "404.html").read_text(encoding="utf-8"))
    assert {a["href"] for a in missing.find("a")} >= {f"{base}/", f"{base}/search/"}
    descriptions = {}
    for path in sorted(site.rglob("*.html")):
        if "pagefind" in path.parts:
            continue
        page = Page(path.read_text(encoding="utf-8"))
        metas = page.find("meta", name="description")
        assert len(metas) == 1, path
        assert page.find("link", rel="icon"), path
        descriptions[path.relative_to(site).as_posix()] = metas[0]["content"]
    days = [d for p, d in descriptions.items() if p.endswith("arxiv.html")]
    papers = [d for p, d in descriptions.items() if p.startswith("papers/")]
    assert len(set(days)) == len(days) == 2 and MATH_DAY.isoformat() in days[1]
    assert len(set(papers)) >= len(papers) - 1  # summaries differ (the sample's are abstracts)


def test_the_feed_ids_are_absolute(built_site):
    feed = (built_site.site / "feed.xml").read_text(encoding="utf-8")
    ids = re.findall(r"<id>([^<]+)</id>", feed)
    assert ids and all(i.startswith(SITE_URL + "/") for i in ids), ids[:3]


def test_before_briefs_the_site_reads_well(built_site):
    """The sample day has no Chinese titles, summaries or topics yet: the home page names
    its papers by their English titles, and the topics page counts them as unsorted."""
    home = Page((built_site.site / "index.html").read_text(encoding="utf-8"))
    english = [a for a in home.find("a", lang="en") if "/papers/" in a["href"]]
    assert len(english) == 3  # the sample day's first three
    chinese = [a for a in home.find("a") if "/papers/2601.2000" in a.get("href", "")]
    assert len(chinese) == 3 and not any("lang" in a for a in chinese)  # the math day's
    topics = (built_site.site / "topics" / "index.html").read_text(encoding="utf-8")
    assert re.search(r'<span class="unsorted">20</span>', topics)
    toc = built(built_site, built_site.post_path(SAMPLE_DAY)[len(built_site.base_path):])
    assert toc.count('lang="en"') >= 20


def test_the_contents_titles_are_not_broken_mid_word(built_site):
    css = (built_site.site / "assets" / "css" / "site.css").read_text(encoding="utf-8")
    assert "break-all" not in css
    assert ".post-content h2 + ul:not(.toc) a" in css


# -- Hostile text on the pages the site build makes ----------------------------------

@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory):
    """The hostile days of tests/hostile/cases.yaml built by `digest site build`: paper
    pages and the staged, enriched day posts (plain `jekyll build` makes neither)."""
    from digest_cli.posts.write import render_days
    from digest_cli.records.store import write_day
    from digest_cli.records.writer import Writer
    from digest_cli.settings import load_settings
    from digest_cli.site.build import build_site
    from tests.site_kit import JEKYLL, REPO, SITE_FILES
    from tests.test_site_jekyll import ABSTRACT_DAY, TRANSLATED_DAY, hostile_day

    if JEKYLL is None:
        pytest.skip("`jekyll` is not on PATH (apt-get install jekyll ruby-jekyll-feed)")
    root = tmp_path_factory.mktemp("hostile-site")
    for name in SITE_FILES:  # the site without the sample days
        (shutil.copytree if (REPO / name).is_dir() else shutil.copy)(REPO / name, root / name)
    settings = load_settings(root, environ={})
    days = [hostile_day(TRANSLATED_DAY, True), hostile_day(ABSTRACT_DAY, False)]
    for day in days:
        write_day(settings, day, Writer())
    render_days(settings, [d.manifest.date for d in days], Writer(), force=True)
    report = build_site(settings, root / "_site", "/h")
    return report.out, days


def test_hostile_text_runs_nothing_on_paper_and_day_pages(hostile_site):
    from tests.test_site_jekyll import ALLOWED_SCHEMES, BAD_TAGS, parse_html

    site, days = hostile_site
    pages = [site / "papers" / p.id.file_stem / "index.html" for d in days for p in d.papers]
    pages += [site / f"{d.manifest.date:%Y/%m/%d}" / "arxiv.html" for d in days]
    for path in pages:
        page = parse_html(path)
        assert len(page.find("script")) == len(page.find("head")[0].find("script")) <= 1, path
        main = page.find("main")[0]
        for node in page.iter():
            for name, value in node.attrs.items():
                assert not name.lower().startswith("on"), (path, node.tag, name)
                if name in ("href", "src", "action", "formaction", "data"):
                    scheme = re.sub(r"[\x00-\x20]", "", value or "").lower()
                    assert not scheme.startswith(("javascript:", "vbscript:", "data:")), value
        for node in main.iter():
            assert node.tag not in BAD_TAGS, (path, node.tag)
            assert "style" not in node.attrs, (path, node.tag)
            if node.tag == "a":
                href = node.attrs.get("href") or ""
                assert href.startswith((*ALLOWED_SCHEMES, "/h/", "#")), (path, href)


def test_hostile_titles_show_literally_on_paper_pages(hostile_site):
    from tests.test_site_jekyll import CASES, norm, parse_html, shown

    site, days = hostile_site
    for n, case in enumerate(CASES):
        for day in days:
            paper = day.papers[n]
            page = parse_html(site / "papers" / paper.id.file_stem / "index.html")
            assert norm(page.find("h1")[0].text()) == shown(case, False), case["name"]
            assert shown(case, True) in norm(page.find("main")[0].text()), case["name"]


def test_topic_names_link_to_their_topic_pages(built_site):
    """In the contents (〔编解码与离散化、语音识别〕), the metadata and on paper pages."""
    html = built(built_site, built_site.post_path(MATH_DAY)[len(built_site.base_path):])
    toc = html[html.index('id="contents"'):html.index('class="toc"') + 2000]
    toc = toc[:toc.index("</ul>")]
    topics = re.findall(r'href="([^"]*/topics/[^"]*)"', toc)
    assert topics.count(f"{built_site.base_path}/topics/codec/") == 2  # papers 1 and 3
    assert f"{built_site.base_path}/topics/music/" in topics
    header = html[html.index('class="post-meta"'):html.index("</p>", html.index('class="post-meta"'))]
    assert "<a " not in header  # the post's tags are labels, not links
