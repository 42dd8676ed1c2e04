"""The reader's site for tests: built once per session by `digest site build` (real Jekyll,
real Pagefind) with a base path, served on 127.0.0.1, and a headless Chromium driven over
the DevTools protocol (websocket-client), started and stopped by the fixtures.

Registered in tests/conftest.py (`pytest_plugins`). Skips, with the reason, only when
`jekyll` or `chromium` is not installed (.ci/run installs both).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from digest_cli.records.model import MachineText, Paper, text_hash
from digest_cli.records.store import write_day
from digest_cli.records.writer import Writer
from digest_cli.settings import load_settings
from tests.conftest import REPO, SAMPLE, SAMPLE_DAY, make_day, make_paper

BASE_PATH = "/digest-site"
MATH_DAY = date(2026, 1, 29)  # after the sample day: prev/next links both ways
SITE_FILES = ["_config.yml", "_layouts", "_includes", "index.html", "assets", "archive",
              "search", "404.html", "pyproject.toml"]
JEKYLL = shutil.which("jekyll")
CHROMIUM = next((p for p in (os.environ.get("DIGEST_CHROMIUM"), "/usr/bin/chromium",
                             shutil.which("chromium"), shutil.which("chromium-browser"))
                 if p and os.path.exists(p)), None)
# Words that occur in exactly one paper of the math day: what the search tests look for.
ZH_WORD = "斑胸草雀"
EN_WORD = "Zebrafinch"
INLINE_TEX = r"$\mathcal{L} = \sum_{i=1}^{N} \alpha_i x_i^2$"
DISPLAY_TEX = r"$$\hat{y} = \arg\max_{k} p(k \mid x)$$"
HREF_TEX = r"$\href{javascript:alert(1)}{x} + \style{position:fixed;top:0}{y}$"  # ui/safe drops both
SITE_URL = "https://example.github.io/digest-site"  # the `site_url` setting of the built site
# A Chinese term and a paper that has its characters but not the term (search as a term).
ZH_TERM = "声码器"
CODE_URL = "https://github.com/example/audio_tokens"  # a bare URL in a translation
ANALYSIS_TEX = r"$\mathbf{W} x + b$"  # paper 4: math only inside its closed 详细解读


def math_papers() -> list[Paper]:
    """A day with what the reader's site adds: Chinese titles, summaries, topics, comments,
    inline and display math."""
    papers = []
    for n in range(1, 5):
        paper = make_paper(n, id=f"2601.2{n:04d}", title=f"Paper {n} on audio tokens")
        paper.title_zh = MachineText(f"第 {n} 篇：音频离散化", source="full_text")
        paper.summary = MachineText(f"本文提出第 {n} 种方法，显著降低了错误率。",
                                    source="full_text")
        paper.topics = MachineText("codec, asr" if n % 2 else "music", source="full_text")
        paper.comment = "5 pages, accepted to ICASSP 2026; code: https://example.org/code"
        papers.append(paper)
    bird = papers[1]
    bird.title = f"{EN_WORD}: Learning Birdsong Syntax with Audio Tokens"
    text = f"我们研究{ZH_WORD}的鸣唱句法，损失为 {INLINE_TEX}，预测为\n\n{DISPLAY_TEX}\n\n效果显著。"
    bird.translation = MachineText(text, "m", "translate-v1", None, "full_text", text_hash(text))
    hostile = f"公式里的链接 {HREF_TEX} 不应可点。"
    papers[2].translation = MachineText(hostile, "m", "translate-v1", None, "full_text",
                                        text_hash(hostile))
    first = (f"我们提出一种神经{ZH_TERM}，代码见 {CODE_URL}。该方法 \\textbf{{显著}} 优于基线 "
             "\\cite{smith2020,lee2021}。")
    papers[0].translation = MachineText(first, "m", "translate-v1", None, "full_text",
                                        text_hash(first))
    other = "我们改进了声学模型与滤波器，降低了延迟。"  # 声 and 器, not 声码器
    papers[3].translation = MachineText(other, "m", "translate-v1", None, "full_text",
                                        text_hash(other))
    analysis = f"1)  \n- **方法**：以 {ANALYSIS_TEX} 为核心。\n\n2)  \n- **结果**：好。"
    papers[3].analysis = MachineText(analysis, "m", "analysis-v1", None, "full_text",
                                     text_hash(analysis))
    return papers


def write_site(root: Path) -> None:
    """A site repository: the site files, the sample day and the math day, rendered."""
    from digest_cli.posts.write import render_days

    for name in SITE_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, root / name)
        else:
            shutil.copy(source, root / name)
    settings = load_settings(root, environ={})
    shutil.copytree(SAMPLE / "data" / SAMPLE_DAY.isoformat(), settings.day_path(SAMPLE_DAY))
    write_day(settings, make_day(math_papers(), MATH_DAY), Writer())
    render_days(settings, [SAMPLE_DAY, MATH_DAY], Writer(), force=True)


@dataclass
class BuiltSite:
    root: Path
    site: Path
    base_path: str
    url: str  # where it is served: http://127.0.0.1:PORT/digest-site

    def post_path(self, day: date) -> str:
        return f"{self.base_path}/{day:%Y/%m/%d}/arxiv.html"

    def paper_path(self, pid: str) -> str:
        return f"{self.base_path}/papers/{pid}/"


@pytest.fixture(scope="session")
def built_site():
    """The site built once with a base path and served on 127.0.0.1 for the session."""
    if JEKYLL is None:
        pytest.skip("`jekyll` is not on PATH (apt-get install jekyll ruby-jekyll-feed)")
    from digest_cli.site.build import build_site
    from digest_cli.site.serve import make_server

    with tempfile.TemporaryDirectory(prefix="digest-built-") as tmp:
        root = Path(tmp)
        write_site(root)
        settings = dataclasses.replace(load_settings(root, environ={}), site_url=SITE_URL)
        report = build_site(settings, root / "_site", BASE_PATH)
        server = make_server(report.out, BASE_PATH)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield BuiltSite(root, report.out, BASE_PATH,
                            f"http://127.0.0.1:{server.server_address[1]}{BASE_PATH}")
        finally:
            server.shutdown()
            server.server_close()


# -- Chromium over the DevTools protocol ----------------------------------------------

class Browser:
    """One page of a headless Chromium: navigate, evaluate, resize."""

    def __init__(self, ws_url: str) -> None:
        import websocket

        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.next_id = 0

    def send(self, method: str, **params) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression: str):
        """The value of a JavaScript expression (promises awaited)."""
        result = self.send("Runtime.evaluate", expression=expression, awaitPromise=True,
                           returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def goto(self, url: str) -> None:
        """Open `url` and wait until its document and deferred scripts have loaded."""
        self.send("Page.navigate", url=url)
        self.wait_for(f"location.href === new URL({json.dumps(url)}).href && "
                      "document.readyState === 'complete'")

    def wait_for(self, expression: str, timeout: float = 20.0):
        """Poll in real time (Pagefind and MathJax work in workers and timers)."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"still false after {timeout:.0f} s: {expression}")
            time.sleep(0.1)

    def width(self, pixels: int) -> None:
        self.send("Emulation.setDeviceMetricsOverride", width=pixels, height=844,
                  deviceScaleFactor=1, mobile=True)

    def close(self) -> None:
        self.ws.close()


def _devtools_port(profile: Path, proc: subprocess.Popen) -> int:
    active = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if active.is_file() and active.read_text().strip():
            return int(active.read_text().split()[0])
        if proc.poll() is not None:
            raise RuntimeError(f"chromium exited with {proc.returncode}")
        time.sleep(0.1)
    raise RuntimeError("chromium did not open its DevTools port in 30 s")


@contextlib.contextmanager
def chromium(binary: str):
    """A headless Chromium with a fresh profile and no network but loopback: its page."""
    # Chromium may still be writing its profile as it exits: cleanup errors are not ours
    with tempfile.TemporaryDirectory(prefix="digest-chromium-", ignore_cleanup_errors=True) as profile:
        proc = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update",
             "--no-first-run", "--disable-sync", "--disable-dev-shm-usage",
             f"--user-data-dir={profile}", "--remote-debugging-port=0",
             "--remote-allow-origins=*", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            port = _devtools_port(Path(profile), proc)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
                pages = [t for t in json.load(r) if t.get("type") == "page"]
            page = Browser(pages[0]["webSocketDebuggerUrl"])
            try:
                yield page
            finally:
                page.close()
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="session")
def browser():
    """A headless Chromium with a fresh profile and no network but loopback."""
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    pytest.importorskip("websocket", reason="websocket-client is not installed ([test] extra)")
    with chromium(CHROMIUM) as page:
        yield page
