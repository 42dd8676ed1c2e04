"""`digest preview`: a standalone page of a day, and a server that re-renders it."""

from __future__ import annotations

from pathlib import Path

from digest_cli.records.store import write_day
from tests.clikit import one_error, run_cli
from tests.conftest import SAMPLE_DAY

DAY = str(SAMPLE_DAY)
FOLDER = Path(f"data/{DAY}")


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
    import threading
    import urllib.request

    from digest_cli.posts.preview import PreviewServer

    server = PreviewServer(settings_for(sample_site), SAMPLE_DAY, port=0, interval=0.05)
    stop = threading.Event()
    thread = threading.Thread(target=server.serve_forever, args=(stop,), daemon=True)
    thread.start()
    try:
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
    finally:
        stop.set()
        thread.join(5)


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
