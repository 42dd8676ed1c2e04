"""A standalone HTML page for one day, for editors: `digest preview`.

Built from the records with mistune. mistune follows CommonMark and ignores
`markdown="1"`, so the 详细解读 is rendered here on its own and put into a `<details>`
element. Raw HTML in the text is escaped; `$...$` is left to MathJax.
"""

from __future__ import annotations

import html
import http.server
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from digest_cli.posts.render import ABSTRACT_ONLY_NOTE, UNTRANSLATED
from digest_cli.records.links import abs_link, pdf_link
from digest_cli.records.model import Day, Paper

if TYPE_CHECKING:
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
_MATHJAX = """<script>
window.MathJax = {tex: {inlineMath: [['$', '$'], ['\\\\(', '\\\\)']]}};</script>
<script async src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>"""


def _markdown():
    import mistune  # imported when a preview is made, not for --help

    return mistune.create_markdown(escape=True, plugins=["math", "strikethrough"])


def render_preview(day: Day, settings: Settings) -> str:
    """The HTML page for a day."""
    md = _markdown()
    m = day.manifest
    title = html.escape(settings.title.format(date=m.date.isoformat()))
    window = (f"{m.window_start.astimezone(_zone(settings)):%Y-%m-%d %H:%M} — "
              f"{m.window_end.astimezone(_zone(settings)):%Y-%m-%d %H:%M} {settings.zone_label}")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}</title><style>{_STYLE}</style>{_MATHJAX}</head><body>",
        f"<h1>{title}</h1>",
        f"<p>时间窗口：{html.escape(window)}<br>"
        f"抓取总数：{m.fetched} 篇 | 本页显示：{m.shown} 篇</p>",
    ]
    parts += [_paper_html(paper, md) for paper in day.papers]
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _zone(settings: Settings):
    from zoneinfo import ZoneInfo

    return ZoneInfo(settings.timezone)


def _paper_html(paper: Paper, md) -> str:
    e = html.escape
    out = [
        f'<article id="{e(paper.id.file_stem)}"><h2>{e(paper.title)}</h2><ul class="meta">',
        f"<li><b>Authors</b>: {e(', '.join(paper.authors))}</li>",
        f"<li><b>Categories</b>: {e(', '.join(paper.categories))}</li>",
        f'<li><b>arXiv</b>: <a href="{e(abs_link(paper))}">{e(abs_link(paper))}</a></li>',
        f'<li><b>PDF</b>: <a href="{e(pdf_link(paper))}">{e(pdf_link(paper))}</a></li>',
    ]
    if paper.replacement:
        out.append(f"<li><b>Updated</b>: v{paper.id.version}（新版本，旧版本此前已收录）</li>")
    out[-1] += "</ul>"
    if paper.translation is not None and paper.translation.text.strip():
        out.append(md(paper.translation.text))
    else:
        out.append(f'<p><span class="pending">{UNTRANSLATED}</span> {e(paper.abstract)}</p>')
    if paper.analysis is not None and paper.analysis.text.strip():
        note = ""
        if paper.analysis.source == "abstract":
            note = f'<p class="note">{ABSTRACT_ONLY_NOTE}</p>'
        out.append(f"<details><summary>详细解读</summary>{note}{md(paper.analysis.text)}"
                   "</details>")
    out.append("</article><hr>")
    return "\n".join(out)


def write_preview(settings: Settings, day_date, writer=None) -> Path:
    """Render the day's preview page into settings.preview_dir; returns its path."""
    from digest_cli.records.store import load_day
    from digest_cli.records.writer import Writer

    path = settings.root / settings.preview_dir / f"{day_date.isoformat()}.html"
    (writer or Writer()).write(path, render_preview(load_day(settings, day_date), settings),
                               durable=False)
    return path


def _stamp(folder) -> tuple:
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

    def __init__(self, settings: Settings, day_date, port: int = 0, interval: float = 1.0) -> None:
        import functools

        self.settings, self.day, self.interval = settings, day_date, interval
        self.page = write_preview(settings, day_date)
        handler = functools.partial(_QuietHandler, directory=str(self.page.parent))
        try:
            self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
        except OSError as exc:  # the port is taken, or not ours to use
            from digest_cli.errors import DigestError

            raise DigestError(f"cannot serve on 127.0.0.1:{port}: {exc.strerror} (choose "
                              "another with --port)", stage="preview") from None
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/{self.page.name}"
        self._stamp = _stamp(settings.day_path(day_date))
        self.renders = 1

    def check(self) -> bool:
        """Re-render if a record changed; True if it did."""
        from digest_cli.errors import DigestError

        stamp = _stamp(self.settings.day_path(self.day))
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        try:
            write_preview(self.settings, self.day)
        except DigestError as exc:
            _log.error("preview not updated: %s", exc)
            return False
        self.renders += 1
        return True

    def serve_forever(self, stop=None) -> None:
        import threading

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
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        _log.debug("preview: " + format, *args)
