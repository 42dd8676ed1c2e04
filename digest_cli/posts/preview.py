"""A standalone HTML page for one day, for editors: `digest preview`.

Built from the records with mistune. mistune follows CommonMark and ignores
`markdown="1"`, so the 详细解读 is rendered here on its own and put into a `<details>`
element. Raw HTML in the text is escaped; `$...$` is left to MathJax.

Where CommonMark and the site's kramdown differ, the page follows kramdown: a `1)` part
line is text, not an (empty) list item; straight quotes become curly ones. The site's
stylesheet (assets/css/site.css) gives the same fonts. For editors, each paper also shows
the English abstract (folded; one button opens them all), its status, reviewed mark and
record path. `--serve` adds a script that reloads the page when a record changes.
MathJax is the site's vendored copy with `ui/safe` (see mathjax_html).
"""

from __future__ import annotations

import functools
import html
import http.server
import logging
import os
import re
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from digest_cli.errors import DigestError
from digest_cli.posts.render import ABSTRACT_ONLY_NOTE, UNTRANSLATED, paper_anchor
from digest_cli.records.links import abs_link, pdf_link
from digest_cli.records.model import Day, Paper
from digest_cli.records.review import (
    changed_since_review,
    edited_by_person,
    glossary_misses,
    record_path,
)
from digest_cli.records.sentences import paragraph_sentences
from digest_cli.records.store import load_day
from digest_cli.records.writer import Writer
from digest_cli.translate.glossary import glossary_for_review

if TYPE_CHECKING:
    import threading
    from zoneinfo import ZoneInfo

    from digest_cli.records.topics import Topics
    from digest_cli.records.writer import Writer
    from digest_cli.settings import Settings

_log = logging.getLogger(__name__)

_STYLE = """
body { max-width: 46rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.8;
  font-family: -apple-system, "PingFang SC", "Hiragino Sans GB", "Noto Sans CJK SC",
  "Source Han Sans SC", "Microsoft YaHei", sans-serif; color: #222; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2.5rem; line-height: 1.4; }
ul.meta { padding-left: 1.2rem; color: #555; font-size: .92rem; }
details { margin: 1rem 0; padding: .5rem 1rem; background: #f6f8fa; border-radius: 6px; }
summary { cursor: pointer; font-weight: 600; }
.pending { color: #b35900; font-weight: 600; } .note { color: #666; font-size: .9rem; }
code { background: #eee; padding: 0 .2em; border-radius: 3px; }
"""
_EDITOR_STYLE = """
.review { font-size: .85rem; color: #59636e; margin: .2rem 0 .8rem; }
.review .status { font-weight: 600; } .review .reviewed { color: #1a7f37; font-weight: 600; }
.review .failed { color: #cf222e; } details.en { background: #fff; border: 1px solid #d8dee4; }
details.en p { font-family: Georgia, "Times New Roman", serif; text-align: left; }
.toolbar { position: sticky; top: 0; background: #fff; padding: .4rem 0; z-index: 1; }
table.pairs { border-collapse: collapse; font-size: .92rem; } table.pairs td { width: 50%;
  vertical-align: top; padding: .25rem .5rem; border-top: 1px solid #d8dee4; }
table.pairs td:first-child { font-family: Georgia, "Times New Roman", serif; }
.review .changed, .review mark { color: #9a6700; font-weight: 600; }
"""
_TOGGLE = """<script>
function toggleEnglish(open) {
  document.querySelectorAll('details.en').forEach(function (d) { d.open = open; });
}
</script>"""
# Polls the server's version; a new one (a record changed, the page was re-rendered)
# reloads the page, keeping the scroll position.
_RELOAD = """<script>
(function () {
  var seen = null;
  function poll() {
    fetch('/__version', {cache: 'no-store'}).then(function (r) { return r.text(); })
      .then(function (v) {
        if (seen !== null && v !== seen) {
          sessionStorage.setItem('digest-scroll', String(window.scrollY));
          location.reload();
        }
        seen = v;
      }).catch(function () {}).finally(function () { setTimeout(poll, 1000); });
  }
  var y = sessionStorage.getItem('digest-scroll');
  if (y !== null) { sessionStorage.removeItem('digest-scroll'); window.scrollTo(0, +y); }
  poll();
})();
</script>"""
# A line that CommonMark reads as an ordered list item `1)` but kramdown as text.
_PART_LINE = re.compile(r"^([ \t]*\d+)\)", re.M)
_TAG_OR_TEXT = re.compile(r"(<[^>]*>)|([^<]+)")
# MathJax as the site loads it (_includes/mathjax.html): the same configuration, with the
# `ui/safe` extension, so `\\href{javascript:...}` or `\\style` in a text makes no live link
# or style. The script is the site's vendored copy (assets/mathjax/): by path from a page
# written in the repository, from the server under --serve; no network needed. A page
# opened away from the repository (the workflows' artifact: one downloaded file) cannot
# reach that copy, so a failed load falls back to the same file of the same version on
# jsDelivr, pinned by its hash (integrity) - the configuration, ui/safe included, applies
# to either. Without a vendored copy the page uses the CDN.
MATHJAX_VERSION = "3.2.2"  # the vendored copy's (assets/mathjax/README.md)
MATHJAX_FILE = Path("assets") / "mathjax" / "tex-chtml.js"
MATHJAX_SERVED = "/assets/mathjax/"  # where --serve serves the vendored folder
MATHJAX_CDN = f"https://cdn.jsdelivr.net/npm/mathjax@{MATHJAX_VERSION}/es5/tex-chtml.js"
# sha384 of the package's es5/tex-chtml.js (= assets/mathjax/tex-chtml.js, unchanged).
MATHJAX_INTEGRITY = "sha384-AHAnt9ZhGeHIrydA1Kp1L7FN+2UosbF7RQg6C+9Is/a7kDpQ1684C2iH2VWil6r4"
_MATHJAX_CONFIG = """<script>
window.MathJax = {
  loader: {load: ['ui/safe']},
  tex: {inlineMath: [['$', '$'], ['\\\\(', '\\\\)']],
        displayMath: [['$$', '$$'], ['\\\\[', '\\\\]']], processEscapes: true},
  options: {skipHtmlTags: ['script', 'noscript', 'style', 'textarea', 'pre', 'code']}
};
function digestMathJaxFromCdn() {
  var s = document.createElement('script');
  s.src = 'CDN'; s.integrity = 'INTEGRITY'; s.crossOrigin = 'anonymous';
  s.async = true; document.head.appendChild(s);
}
</script>""".replace("CDN", MATHJAX_CDN).replace("INTEGRITY", MATHJAX_INTEGRITY)


def mathjax_html(src: str | None) -> str:
    """The MathJax configuration and script: `src` (the vendored copy) with the CDN as
    its fallback, or the CDN alone."""
    if src is None:
        return (f'{_MATHJAX_CONFIG}\n<script async src="{MATHJAX_CDN}" '
                f'integrity="{MATHJAX_INTEGRITY}" crossorigin="anonymous"></script>')
    return (f'{_MATHJAX_CONFIG}\n<script async src="{html.escape(src)}" '
            'onerror="digestMathJaxFromCdn()"></script>')


def mathjax_src(settings: Settings, page: Path, live: bool) -> str | None:
    """Where `page` finds the vendored MathJax: the server's path under --serve, else a
    relative path; None when the repository has no copy."""
    vendored = settings.root / MATHJAX_FILE
    if not vendored.is_file():
        return None
    if live:
        return MATHJAX_SERVED + MATHJAX_FILE.name
    return quote(Path(os.path.relpath(vendored, page.parent)).as_posix())


def _markdown() -> Callable[[str], str]:
    import mistune  # imported when a preview is made, not for --help

    md = mistune.create_markdown(escape=True, plugins=["math", "strikethrough"])
    return lambda text: str(md(text))  # the HTML renderer's output is text


def kramdown_like(text: str, md: Callable[[str], str]) -> str:
    """Markdown -> HTML as the site's kramdown shows it: `1)` lines stay text, quotes
    are curly (outside code and TeX)."""
    return smart_quotes(md(_PART_LINE.sub(r"\1\\)", text)))


def smart_quotes(page: str) -> str:
    """kramdown's smart quotes, on the text between tags (not in code or pre)."""
    out, skip = [], 0
    for tag, text in _TAG_OR_TEXT.findall(page):
        if tag:
            name = tag[1:].split(">")[0].split()[0].lower() if len(tag) > 2 else ""
            if name in ("code", "pre", "script", "style"):
                skip += 1
            elif name in ("/code", "/pre", "/script", "/style"):
                skip = max(0, skip - 1)
            out.append(tag)
        else:
            out.append(text if skip else _curl(text))
    return "".join(out)


_TEX = re.compile(r"\$\$.+?\$\$|\$[^$]+?\$|\\\(.+?\\\)", re.S)


def _curl(text: str) -> str:
    pieces, last = [], 0
    for match in _TEX.finditer(text):
        pieces += [_curl_plain(text[last:match.start()]), match.group(0)]
        last = match.end()
    return "".join(pieces + [_curl_plain(text[last:])])


def _curl_plain(text: str) -> str:
    text = text.replace("&quot;", '"').replace("&#x27;", "'").replace("&#39;", "'")
    text = re.sub(r'(^|(?<=[\s(\[{—–-]))"', "“", text)
    text = re.sub(r"(^|(?<=[\s(\[{—–-]))'", "‘", text)
    return text.replace('"', "”").replace("'", "’")


def render_preview(day: Day, settings: Settings, live: bool = False,
                   mathjax: str | None = None) -> str:
    """The HTML page for a day; `live`: with the script that reloads it on a change;
    `mathjax`: the URL of the vendored MathJax (see mathjax_src; None: the CDN)."""
    md = _markdown()
    m = day.manifest
    title = html.escape(settings.title.format(date=m.date.isoformat()))
    window = (f"{m.window_start.astimezone(_zone(settings)):%Y-%m-%d %H:%M} — "
              f"{m.window_end.astimezone(_zone(settings)):%Y-%m-%d %H:%M} {settings.zone_label}")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}</title><style>{_site_style(settings)}{_EDITOR_STYLE}</style>"
        f"{mathjax_html(mathjax)}{_TOGGLE}{_RELOAD if live else ''}</head><body>",
        '<main class="page-content"><div class="post-content">',
        f'<h1 class="post-title">{title}</h1>',
        f"<p>时间窗口：{html.escape(window)}<br>"
        f"抓取总数：{m.fetched} 篇 | 本页显示：{m.shown} 篇 | "
        f"已审校：{sum(p.reviewed for p in day.papers)} 篇</p>",
        '<p class="toolbar"><button type="button" onclick="toggleEnglish(true)">显示英文摘要'
        '</button> <button type="button" onclick="toggleEnglish(false)">隐藏英文摘要</button></p>',
    ]
    folder = settings.day_path(m.date)
    glossary = glossary_for_review(settings)
    parts += [_paper_html(paper, md, _record_path(settings, folder, paper), settings.topics,
                          glossary)
              for paper in day.papers]
    parts.append("</div></main></body></html>\n")
    return "\n".join(parts)


def _site_style(settings: Settings) -> str:
    """The site's stylesheet, so the page has the site's fonts; ours where there is none."""
    try:
        css = (settings.root / "assets" / "css" / "site.css").read_text(encoding="utf-8")
    except OSError:
        return _STYLE
    return css.replace("</", "<\\/")  # no `</style>` can end the element early


def _record_path(settings: Settings, folder: Path, paper: Paper) -> str:
    return record_path(settings, folder, paper)


def _review_line(paper: Paper, path: str, glossary: dict[str, str] | None = None) -> str:
    e = html.escape
    status = e(paper.status)
    bits = [f'<span class="status{" failed" if paper.status == "failed" else ""}">{status}'
            "</span>"]
    if paper.replacement:
        bits.append("replaced")
    if edited_by_person(paper):
        bits.append("edited")
    who = f" by {e(paper.reviewed_by)}" if paper.reviewed_by else ""
    if changed_since_review(paper):
        bits.append(f'<span class="changed">changed since reviewed{who}</span>')
    else:
        bits.append(f'<span class="reviewed">✓ reviewed{who}</span>' if paper.reviewed
                    else "not reviewed")
    bits.append(f"<code>{e(path)}</code>")
    # A glossary term of the English whose agreed Chinese the translation lacks.
    bits += [f"glossary: <mark>{e(term)}</mark> → <mark>{e(want)}</mark> missing"
             for term, want in glossary_misses(paper, glossary or {})]
    return f'<p class="review">{" · ".join(bits)}</p>'


def _english(paper: Paper, md: Callable[[str], str]) -> str:
    """The English abstract beside the translation, sentence by sentence when both have
    as many sentences; else as a paragraph, said to be not aligned."""
    def sentences(text: str) -> list[str]:  # as the record lays them out, a line each
        return [x for paragraph in paragraph_sentences(text) for x in paragraph]

    en = sentences(paper.abstract)
    zh = sentences(paper.translation.text) if paper.translation else []
    if len(en) != len(zh) or not en:
        return (f'<p class="note">not aligned: {len(en)} English sentences, {len(zh)} '
                f"Chinese</p>{kramdown_like(paper.abstract, md)}")
    rows = "".join(f"<tr><td>{html.escape(a)}</td><td>{html.escape(b)}</td></tr>"
                   for a, b in zip(en, zh, strict=True))
    return f'<table class="pairs">{rows}</table>'


def _zone(settings: Settings) -> ZoneInfo:
    return ZoneInfo(settings.timezone)


def _paper_html(paper: Paper, md: Callable[[str], str], path: str, topics: Topics,
                glossary: dict[str, str] | None = None) -> str:
    e = html.escape
    out = [
        f'<article id="{paper_anchor(paper.id)}"><h2>{e(paper.title)}</h2><ul class="meta">',
        f"<li><b>Authors</b>: {e(', '.join(paper.authors))}</li>",
        f"<li><b>Categories</b>: {e(', '.join(paper.categories))}</li>",
        f'<li><b>arXiv</b>: <a href="{e(abs_link(paper))}">{e(abs_link(paper))}</a></li>',
        f'<li><b>PDF</b>: <a href="{e(pdf_link(paper))}">{e(pdf_link(paper))}</a></li>',
    ]
    out += _brief_items(paper, topics)
    if paper.replacement:
        out.append(f"<li><b>Updated</b>: v{paper.id.version}（新版本，旧版本此前已收录）</li>")
    out[-1] += "</ul>"
    out.append(_review_line(paper, path, glossary))
    if paper.translation is not None and paper.translation.text.strip():
        out.append(kramdown_like(paper.translation.text, md))
        if paper.abstract.strip():
            out.append('<details class="en"><summary>English abstract</summary>'
                       f"{_english(paper, md)}</details>")
    else:
        out.append(f'<p><span class="pending">{UNTRANSLATED}</span> {e(paper.abstract)}</p>')
    if paper.analysis is not None and paper.analysis.text.strip():
        note = ""
        if paper.analysis.source == "abstract":
            note = f'<p class="note">{ABSTRACT_ONLY_NOTE}</p>'
        out.append(f"<details><summary>详细解读</summary>{note}"
                   f"{kramdown_like(paper.analysis.text, md)}</details>")
    out.append("</article><hr>")
    return "\n".join(out)


def _brief_items(paper: Paper, topics: Topics) -> list[str]:
    """The Chinese title, one-sentence summary and topics, as list items (escaped)."""
    names = "、".join(topics.by_slug[slug].zh for slug in paper.topic_slugs(topics))
    items = [("中文标题", paper.title_zh.text if paper.title_zh else ""),
             ("一句话总结", paper.summary.text if paper.summary else ""), ("主题", names)]
    return [f"<li><b>{label}</b>：{html.escape(text.strip())}</li>"
            for label, text in items if text.strip()]


def write_preview(settings: Settings, day_date: date, writer: Writer | None = None,
                  live: bool = False) -> Path:
    """Render the day's preview page into settings.preview_dir; returns its path."""
    path = settings.root / settings.preview_dir / f"{day_date.isoformat()}.html"
    page = render_preview(load_day(settings, day_date), settings, live=live,
                          mathjax=mathjax_src(settings, path, live))
    (writer or Writer()).write(path, page, durable=False)
    return path


def _stamp(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """What changes when any record of the day changes."""
    stamps = []
    for path in folder.glob("*.yaml"):
        try:
            stat = path.stat()
        except FileNotFoundError:  # an editor's save renamed it away just now
            continue
        stamps.append((path.name, stat.st_mtime_ns, stat.st_size))
    return tuple(sorted(stamps))


class PreviewServer:
    """Serves the preview folder on localhost and re-renders the page when a record of the
    day changes (checked every `interval` seconds). An invalid record keeps the last good
    page and logs the error, so an editor mid-edit is not thrown out."""

    def __init__(self, settings: Settings, day_date: date, port: int = 0,
                 interval: float = 1.0) -> None:
        self.settings, self.day, self.interval = settings, day_date, interval
        self.page = write_preview(settings, day_date, live=True)
        self.renders = 1
        handler = functools.partial(_QuietHandler, directory=str(self.page.parent),
                                    version=lambda: str(self.renders),
                                    mathjax=settings.root / MATHJAX_FILE.parent)
        try:
            self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
        except OSError as exc:  # the port is taken, or not ours to use

            raise DigestError(f"cannot serve on 127.0.0.1:{port}: {exc.strerror} (choose "
                              "another with --port)", stage="preview") from None
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/{self.page.name}"
        self._stamp = _stamp(settings.day_path(day_date))

    def check(self) -> bool:
        """Re-render if a record changed; True if it did."""
        stamp = _stamp(self.settings.day_path(self.day))
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        try:
            write_preview(self.settings, self.day, live=True)
        except DigestError as exc:
            _log.error("preview not updated: %s", exc)
            return False
        self.renders += 1
        return True

    def serve_forever(self, stop: threading.Event | None = None) -> None:
        stop = stop or threading.Event()
        thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        thread.start()
        try:
            while not stop.wait(self.interval):
                self.check()
        finally:
            self.httpd.shutdown()
            self.httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the preview folder, the site's vendored MathJax under /assets/mathjax/, and
    `/__version`: the page's render count, which the page polls to reload itself."""

    def __init__(self, *args: Any, version: Callable[[], str] = lambda: "0",
                 mathjax: Path | None = None, **kwargs: Any) -> None:
        self.version, self.mathjax = version, mathjax
        super().__init__(*args, **kwargs)

    def translate_path(self, path: str) -> str:
        """/assets/mathjax/... from the vendored folder (the stdlib's checks apply)."""
        if self.mathjax is None or not path.startswith(MATHJAX_SERVED):
            return super().translate_path(path)
        folder, self.directory = self.directory, str(self.mathjax)
        try:
            return super().translate_path(path[len(MATHJAX_SERVED) - 1:])
        finally:
            self.directory = folder

    def do_GET(self) -> None:
        if self.path.split("?")[0] != "/__version":
            return super().do_GET()
        data = self.version().encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's
        _log.debug("preview: " + format, *args)
