"""`digest preview`: a standalone page of a day, and a server that re-renders it."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from digest_cli.records.store import write_day
from tests.clikit import one_error, run_cli
from tests.conftest import REPO, SAMPLE_DAY

DAY = str(SAMPLE_DAY)
FOLDER = Path(f"data/{DAY}")


@contextmanager
def served(server: Any) -> Iterator[tuple[Any, threading.Event]]:
    """A PreviewServer serving (and watching the records) in a thread while the block runs;
    the event stops it, and the block may wait on it."""
    stop = threading.Event()
    thread = threading.Thread(target=server.serve_forever, args=(stop,), daemon=True)
    thread.start()
    try:
        yield server, stop
    finally:
        stop.set()
        thread.join(5)


def test_preview_writes_a_page_with_the_analysis_rendered(sample_site):
    result = run_cli(sample_site, "preview", "--date", str(SAMPLE_DAY))
    assert result.exit_code == 0
    page = Path(result.output.strip())
    html = page.read_text(encoding="utf-8")
    assert html.count("<details><summary>详细解读</summary>") == 20
    assert html.count("<article") == 20
    # The inner markdown of the 详细解读 is rendered, not left as text.
    assert "<strong>研究背景</strong>" in html and "<li>" in html
    assert "MathJax" in html


def test_preview_escapes_html_in_text(site, settings_for):
    from digest_cli.records.writer import Writer
    from tests.conftest import make_day, make_paper

    paper = make_paper(1, title="<script>alert(1)</script>")
    paper.translation.text = "x <img src=x onerror=alert(1)> y"
    write_day(settings_for(site), make_day([paper]), Writer())
    html = Path(run_cli(site, "preview", "--date", str(SAMPLE_DAY)).output.strip()).read_text()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_preview_server_rerenders_when_a_record_changes(sample_site, settings_for):
    import urllib.request

    from digest_cli.posts.preview import PreviewServer

    preview = PreviewServer(settings_for(sample_site), SAMPLE_DAY, port=0, interval=0.05)
    with served(preview) as (server, stop):
        page = urllib.request.urlopen(server.url, timeout=5).read().decode()
        assert "离散语音表征标记" in page
        record = sample_site / "data" / str(SAMPLE_DAY) / "2601.19786.yaml"
        record.write_text(record.read_text().replace("离散语音表征标记", "已改的译文"))
        for _ in range(100):
            if server.renders > 1:
                break
            stop.wait(0.05)
        page = urllib.request.urlopen(server.url, timeout=5).read().decode()
        assert "已改的译文" in page and server.renders == 2
        record.write_text("title: [broken\n")  # mid-edit: the last good page stays
        stop.wait(0.3)
        assert "已改的译文" in urllib.request.urlopen(server.url, timeout=5).read().decode()


def test_the_preview_server_ignores_a_record_that_vanished(sample_site, settings_for):
    from digest_cli.posts.preview import PreviewServer

    server = PreviewServer(settings_for(sample_site), SAMPLE_DAY, port=0)
    try:
        (sample_site / FOLDER / "editor-swap.yaml").symlink_to(sample_site / "gone.yaml")
        assert server.check() is False  # no crash of the watcher thread
    finally:
        server.httpd.server_close()


def test_preview_serve_on_a_taken_port_is_one_line(sample_site):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = one_error(run_cli(sample_site, "preview", "--date", DAY, "--serve",
                             "--port", str(port)))
    assert line.startswith("Error (preview): ") and f"127.0.0.1:{port}" in line


def test_part_lines_are_text_as_kramdown_shows_them(sample_site):
    """`1)` is an ordered-list marker to CommonMark (mistune) but text to the site's
    kramdown: the preview must not show three empty numbered items."""
    page = Path(run_cli(sample_site, "preview", "--date", DAY).output.strip()).read_text()
    analyses = page.split("<summary>详细解读</summary>")[1:]
    assert len(analyses) == 20
    for analysis in analyses:
        assert "<li></li>" not in analysis and '<ol start="2">' not in analysis
        assert "<p>1)</p>" in analysis and "<p>2)" in analysis and "<p>3)" in analysis
    # kramdown: `<p>2)<br />\n论文提出了…</p>` when text follows the part line's hard break
    assert "<p>2)<br />\n论文提出了" in page


def test_preview_curls_quotes_but_not_in_code_or_tex():
    from digest_cli.posts.preview import _markdown, kramdown_like

    html = kramdown_like('He said "hi", it\'s `a "b"` and $x\'$ here.', _markdown())
    assert "“hi”" in html and "it’s" in html
    assert '<code>a &quot;b&quot;</code>' in html or '<code>a "b"</code>' in html
    assert "x'" in html


def test_preview_shows_english_status_reviewed_mark_and_record_path(site, settings_for):
    from digest_cli.records.model import Failure
    from digest_cli.records.writer import Writer
    from tests.conftest import make_day, make_paper

    done = make_paper(1, reviewed=True)
    failed = make_paper(2, translated=False, failures=[Failure("translation", "timeout")])
    write_day(settings_for(site), make_day([done, failed]), Writer())
    page = Path(run_cli(site, "preview", "--date", DAY).output.strip()).read_text()
    first, second = page.split("<article")[1:]
    assert '<span class="reviewed">✓ reviewed</span>' in first
    assert f"<code>data/{DAY}/2601.19001.yaml</code>" in first
    assert '<details class="en"><summary>English abstract</summary><table class="pairs">' \
        '<tr><td>We study problem 1' in first  # one sentence each: side by side
    assert '<span class="status failed">failed</span> · not reviewed' in second
    assert "toggleEnglish(true)" in page and "已审校：1 篇" in page
    assert "/__version" not in page  # the reload script is only for --serve


def test_preview_pairs_sentences_marks_what_is_not_aligned_and_glossary_misses(
        site, settings_for):
    from dataclasses import replace

    from digest_cli.records.model import MachineText
    from digest_cli.records.writer import Writer
    from tests.conftest import make_day, make_paper

    two = make_paper(1)
    two.abstract = "We build a speech synthesis model. It reads text aloud."
    two.translation = MachineText("我们构建了一个模型。它能朗读文本。", source="abstract")
    odd = replace(make_paper(2), abstract="One sentence. And another one.")
    (site / "glossary.yaml").write_text("speech synthesis: 语音合成\n", encoding="utf-8")
    write_day(settings_for(site), make_day([two, odd]), Writer())
    page = Path(run_cli(site, "preview", "--date", DAY).output.strip()).read_text()
    first, second = page.split("<article")[1:]
    assert "<tr><td>We build a speech synthesis model.</td><td>我们构建了一个模型。</td></tr>" \
        "<tr><td>It reads text aloud.</td><td>它能朗读文本。</td></tr>" in first
    assert "glossary: <mark>speech synthesis</mark> → <mark>语音合成</mark> missing" in first
    assert '<p class="note">not aligned: 2 English sentences, 1 Chinese</p>' in second
    assert "glossary:" not in second


def test_served_page_reloads_through_the_version_endpoint(sample_site, settings_for):
    import urllib.request

    from digest_cli.posts.preview import PreviewServer

    preview = PreviewServer(settings_for(sample_site), SAMPLE_DAY, port=0, interval=0.05)
    with served(preview) as (server, stop):
        base = server.url.rsplit("/", 1)[0]
        assert "fetch('/__version'" in urllib.request.urlopen(server.url, timeout=5).read().decode()
        assert urllib.request.urlopen(base + "/__version", timeout=5).read() == b"1"
        record = sample_site / FOLDER / "2601.19786.yaml"
        record.write_text(record.read_text().replace("离散语音表征标记", "已改的译文"))
        for _ in range(100):
            if server.renders > 1:
                break
            stop.wait(0.05)
        assert urllib.request.urlopen(base + "/__version", timeout=5).read() == b"2"


# -- MathJax: the site's vendored copy, with ui/safe -----------------------------------

HREF_TEX = r"$\href{javascript:alert(1)}{x}$"


def with_mathjax(root: Path) -> Path:
    """The site's vendored MathJax in the repository `root`, as in a site from the template."""
    import shutil

    shutil.copytree(REPO / "assets" / "mathjax", root / "assets" / "mathjax")
    return root


def math_site(site: Path, settings_for) -> Path:
    from digest_cli.records.writer import Writer
    from tests.conftest import make_day, make_paper

    paper = make_paper(1)
    paper.translation.text = f"损失为 $\\mathcal{{L}} = x^2$，链接 {HREF_TEX} 不应可点。"
    write_day(settings_for(site), make_day([paper]), Writer())
    return site


def test_preview_loads_the_vendored_mathjax_with_ui_safe(site, settings_for):
    page = Path(run_cli(with_mathjax(math_site(site, settings_for)), "preview", "--date",
                        DAY).output.strip())
    html = page.read_text(encoding="utf-8")
    assert "loader: {load: ['ui/safe']}" in html
    assert "[tex]/safe" not in html and "tex-mml-chtml" not in html
    src = re.search(r'<script async src="([^"]+)" onerror="digestMathJaxFromCdn\(\)">', html)
    assert src and not src.group(1).startswith(("http:", "https:", "//"))
    # The relative path reaches the vendored file from where the page is written.
    assert (page.parent / src.group(1)).resolve() == (site / "assets/mathjax/tex-chtml.js")


def test_without_a_vendored_copy_the_preview_uses_the_pinned_cdn_file(site, settings_for):
    from digest_cli.posts.preview import MATHJAX_CDN, MATHJAX_INTEGRITY

    html = Path(run_cli(math_site(site, settings_for), "preview", "--date",
                        DAY).output.strip()).read_text(encoding="utf-8")
    assert "loader: {load: ['ui/safe']}" in html
    assert (f'<script async src="{MATHJAX_CDN}" integrity="{MATHJAX_INTEGRITY}" '
            'crossorigin="anonymous"></script>') in html


def test_the_cdn_fallback_is_the_vendored_version_and_file():
    """The fallback is pinned to the vendored copy: same version, same bytes (SRI)."""
    import base64
    import hashlib

    from digest_cli.posts.preview import MATHJAX_CDN, MATHJAX_INTEGRITY, MATHJAX_VERSION

    readme = (REPO / "assets" / "mathjax" / "README.md").read_text(encoding="utf-8")
    assert f"MathJax {MATHJAX_VERSION}," in readme and f"@{MATHJAX_VERSION}/" in MATHJAX_CDN
    digest = hashlib.sha384((REPO / "assets/mathjax/tex-chtml.js").read_bytes()).digest()
    assert MATHJAX_INTEGRITY == "sha384-" + base64.b64encode(digest).decode()


def test_the_preview_server_serves_the_vendored_mathjax_and_nothing_beside(sample_site,
                                                                           settings_for):
    import urllib.error
    import urllib.request

    from digest_cli.posts.preview import PreviewServer

    with_mathjax(sample_site)
    preview = PreviewServer(settings_for(sample_site), SAMPLE_DAY, port=0, interval=0.05)
    with served(preview) as (server, stop):
        base = server.url.rsplit("/", 1)[0]
        page = urllib.request.urlopen(server.url, timeout=5).read().decode()
        assert '<script async src="/assets/mathjax/tex-chtml.js"' in page
        for name in ("tex-chtml.js", "ui/safe.js"):
            got = urllib.request.urlopen(f"{base}/assets/mathjax/{name}", timeout=5).read()
            assert got == (sample_site / "assets/mathjax" / name).read_bytes()
        for escape in ("/assets/mathjax/../../data/", "/assets/mathjax/%2e%2e/%2e%2e/data/"):
            try:
                listing = urllib.request.urlopen(base + escape, timeout=5).read().decode()
            except urllib.error.HTTPError as exc:
                assert exc.code == 404
            else:
                assert "2601.19786.yaml" not in listing


def test_served_preview_typesets_math_and_href_makes_no_link(browser, site, settings_for):
    """In Chromium: the served page's MathJax (vendored, ui/safe) typesets the math, and
    `\\href{javascript:...}` in a translation becomes no link."""

    from digest_cli.posts.preview import PreviewServer

    with_mathjax(math_site(site, settings_for))
    preview = PreviewServer(settings_for(site), SAMPLE_DAY, port=0, interval=0.05)
    with served(preview) as (server, stop):
        browser.goto(server.url)
        browser.wait_for("window.MathJax && MathJax.startup && MathJax.startup.promise && "
                         "MathJax.startup.promise.then(() => true)")
        assert browser.evaluate("document.querySelectorAll('mjx-container').length") >= 2
        assert browser.evaluate("document.querySelectorAll('[href^=\"javascript\"]').length") == 0
        assert browser.evaluate("!!(MathJax.config.loader.load || []).includes('ui/safe')")
        scripts = browser.evaluate("[...document.scripts].map(s => s.src).filter(Boolean)")
        base = server.url.rsplit("/", 1)[0]
        assert any(s.endswith("/ui/safe.js") for s in scripts), scripts
        assert all(s.startswith(base + "/assets/mathjax/") for s in scripts), scripts


def test_written_preview_opened_as_a_file_typesets_math_offline(browser, site, settings_for):
    """The page in _preview/, opened as a file (`--open`): MathJax from the repository's
    vendored copy by its relative path, ui/safe loaded from beside it, no CDN."""
    page = Path(run_cli(with_mathjax(math_site(site, settings_for)), "preview", "--date",
                        DAY).output.strip())
    browser.goto(page.resolve().as_uri())
    browser.wait_for("window.MathJax && MathJax.startup && MathJax.startup.promise && "
                     "MathJax.startup.promise.then(() => true)")
    assert browser.evaluate("document.querySelectorAll('mjx-container').length") >= 2
    assert browser.evaluate("document.querySelectorAll('[href^=\"javascript\"]').length") == 0
    scripts = browser.evaluate("[...document.scripts].map(s => s.src).filter(Boolean)")
    vendored = (site / "assets" / "mathjax").resolve().as_uri() + "/"
    assert any(s.endswith("/ui/safe.js") for s in scripts), scripts
    assert all(s.startswith(vendored) for s in scripts), scripts
