"""Hostile cases (issue 11): each class of attack or accident, through the CLI where
possible, with a test that failed before its fix."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.clikit import one_error, run_cli
from tests.conftest import REPO, SAMPLE_DAY
from tests.fakes._base import FakeServer, Response
from tests.fakes.arxiv_server import render_entry, render_feed
from tests.fakes.github_server import FakeGitHub
from tests.fakes.llm_server import FakeLLM
from tests.gitkit import git, make_site_repo

D = SAMPLE_DAY.isoformat()
PID = "2601.19786"


# =========================================================================================
# Links, settings, secrets, one run per repository, bounded I/O, honest status
# (items 4-8 of the issue)
# =========================================================================================

def set_field(site: Path, pid: str, name: str, value: str) -> None:
    """Put `value` into a record's top-level field, as a hostile feed or editor would."""
    path = site / "data" / D / f"{pid}.yaml"
    text = path.read_text(encoding="utf-8")
    text, n = re.subn(rf"^{name}: .*$", f"{name}: {json.dumps(value)}", text, flags=re.M)
    assert n == 1
    path.write_text(text, encoding="utf-8")


HOSTILE_LINKS = ["javascript:alert(1)", "https://arxiv.org/abs/{{ site.title }}",
                 'https://arxiv.org/abs/x"><script>alert(1)</script>',
                 "https://arxiv.org/abs/2601.19786v1)\n\n## Injected heading",
                 "https://evil.example/abs/2601.19786v1"]


@pytest.mark.parametrize("link", HOSTILE_LINKS)
def test_hostile_links_never_reach_the_post_the_preview_or_the_pr_body(rendered_site, link):
    from digest_cli.publish.body import paper_row
    from digest_cli.records.store import load_day
    from digest_cli.settings import load_settings

    set_field(rendered_site, PID, "abs_url", link)
    set_field(rendered_site, PID, "pdf_url", link.replace("abs", "pdf"))
    result = run_cli(rendered_site, "render", "--date", D)
    assert result.exit_code == 0, result.output
    post = (rendered_site / "_posts" / f"{D}-arxiv.md").read_text(encoding="utf-8")
    assert f"- **arXiv**: [https://arxiv.org/abs/{PID}v1](https://arxiv.org/abs/{PID}v1)\n" in post
    assert f"- **PDF**: [https://arxiv.org/pdf/{PID}v1](https://arxiv.org/pdf/{PID}v1)\n" in post
    preview = Path(run_cli(rendered_site, "preview", "--date", D).output.strip())
    pages = [post, preview.read_text(encoding="utf-8")]
    day = load_day(load_settings(rendered_site, environ={}), SAMPLE_DAY)
    paper = next(p for p in day.papers if p.id.base == PID)
    pages.append(paper_row(1, paper))
    for page in pages:
        for bad in ("javascript:", "{{ site", "alert(1)", "Injected heading", "evil.example"):
            assert bad not in page


@pytest.mark.parametrize(("variable", "value"), [
    ("DIGEST_LAYOUT", "post\nsitemap: false"), ("DIGEST_TITLE", "Daily {date}\r\nlayout: x"),
    ("DIGEST_TAGS", "arxiv,evil\u2028tag"), ("DIGEST_ZONE_NAME", "北京时间\x07"),
])
def test_a_setting_with_a_line_break_or_control_character_is_refused(rendered_site, variable,
                                                                      value):
    before = (rendered_site / "_posts" / f"{D}-arxiv.md").read_bytes()
    line = one_error(run_cli(rendered_site, "render", "--date", D, env={variable: value}))
    assert "line break or control character" in line
    assert (rendered_site / "_posts" / f"{D}-arxiv.md").read_bytes() == before


@pytest.mark.parametrize(("variable", "value", "says"), [
    ("DIGEST_TAGS", "arxiv,a]: b", "is not a tag"), ("DIGEST_LAYOUT", "post: x", "layout"),
    ("DIGEST_ZONE_LABEL", "{% include x %}", "Liquid"),
])
def test_front_matter_and_header_settings_cannot_change_the_post(rendered_site, variable,
                                                                 value, says):
    assert says in one_error(run_cli(rendered_site, "render", "--date", D,
                                     env={variable: value}))


def test_post_filename_cannot_leave_the_posts_folder(rendered_site, tmp_path):
    env = {"DIGEST_POST_FILENAME": "../../escaped-{date}.md"}
    assert "must be a file name" in one_error(run_cli(rendered_site, "render", "--date", D,
                                                      "--force", env=env))
    assert not list(tmp_path.parent.glob("escaped-*")) and not list(tmp_path.glob("escaped-*"))


@pytest.mark.parametrize("folder", ["_posts", f"data/{D}"])
def test_a_symlinked_folder_pointing_outside_writes_nothing_there(rendered_site, tmp_path_factory,
                                                                  folder):
    import shutil

    outside = tmp_path_factory.mktemp("outside") / "target"
    shutil.move(rendered_site / folder, outside)
    (rendered_site / folder).symlink_to(outside, target_is_directory=True)
    before = {p: p.read_bytes() for p in outside.iterdir()}
    line = one_error(run_cli(rendered_site, "render", "--date", D, "--force"))
    assert "outside the repository" in line
    assert {p: p.read_bytes() for p in outside.iterdir()} == before


def test_written_files_have_the_usual_permissions(rendered_site):
    mask = os.umask(0o022)
    os.umask(mask)
    usual = 0o666 & ~mask  # 0644 under the default umask
    if usual == 0o600:
        pytest.skip("this process's umask makes the usual mode 0600 itself")
    post = rendered_site / "_posts" / f"{D}-arxiv.md"
    manifest = rendered_site / "data" / D / "manifest.yaml"
    post.chmod(0o600)  # as an earlier version left every file
    set_field(rendered_site, PID, "title", "A new title")
    assert run_cli(rendered_site, "render", "--date", D).exit_code == 0
    assert oct(post.stat().st_mode & 0o777) == oct(usual)
    assert oct(manifest.stat().st_mode & 0o777) == oct(usual)


def test_settings_masks_credentials_in_url_settings(site):
    env = {"DIGEST_LLM_BASE_URL": "https://me:pa55word-x@llm.example/v1?key=qk3y-secret",
           "DIGEST_LLM_API_KEY": "sk-known-secret\n"}
    result = run_cli(site, "settings", env=env)
    assert result.exit_code == 0
    assert "llm_base_url = 'https://***@llm.example/v1?key=***'" in result.output
    for secret in ("pa55word-x", "qk3y-secret", "sk-known-secret"):
        assert secret not in result.output


KEY, TOKEN, PASSWORD, QUERY_KEY = ("sk-KNOWN-llm-secret-1", "ghs-KNOWN-token-2",
                                   "pw-KNOWN-password-3", "qk-KNOWN-query-4")
SECRETS = (KEY, TOKEN, PASSWORD, QUERY_KEY)
FETCH_DAY = "2026-11-26"


def everything_written(*folders: Path) -> bytes:
    """Every file under `folders` and every git object of their repositories."""
    out = []
    for folder in folders:
        out += [p.read_bytes() for p in folder.rglob("*") if p.is_file()]
        out.append(subprocess.run(["git", "cat-file", "--batch-all-objects", "--batch"],
                                  cwd=folder, capture_output=True).stdout)
    return b"\n".join(out)


def test_a_known_secret_never_leaves_on_any_failure_path(tmp_path, arxiv_server, caplog,
                                                         isolated_git):
    caplog.set_level(logging.DEBUG)
    origin, root = tmp_path / "origin.git", tmp_path / "site"
    make_site_repo(origin, root, git)
    arxiv_server.add_paper(id="2611.20001", summary="We improve speech.", categories=["cs.SD"],
                           published=datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc))
    summary = tmp_path / "summary.md"
    outputs = []
    with FakeLLM(api_key=KEY) as llm, FakeGitHub(token=TOKEN, owner="o", repo="site") as gh:
        gh.branch_exists = lambda owner, repo, branch: bool(
            git(origin, "branch", "--list", branch, check=False))
        # A provider that echoes the key in its error message, for every request.
        llm.fail_next(400, message=f"bad request from key {KEY} (invalid_request)", times=99)
        env = {"DIGEST_ARXIV_API_URL": arxiv_server.query_url, "DIGEST_ARXIV_DELAY": "0",
               "DIGEST_LLM_BASE_URL": llm.base_url, "DIGEST_LLM_API_KEY": KEY + "\n",
               "DIGEST_LLM_RETRIES": "0", "DIGEST_LLM_REPAIR_ATTEMPTS": "0",
               "DIGEST_PDF_URL_TEMPLATE": f"http://u:{PASSWORD}@127.0.0.1:9/{{id}}?k={QUERY_KEY}",
               "GITHUB_API_URL": gh.url, "GITHUB_REPOSITORY": "o/site", "GITHUB_TOKEN": TOKEN,
               "DIGEST_GITHUB_RETRY_DELAY": "0", "GITHUB_STEP_SUMMARY": str(summary)}
        run = run_cli(root, "-v", "run", "--date", FETCH_DAY, "--publish", env=env)
        outputs.append(run.output)
        assert run.exit_code == 3, run.output  # published, but nothing could be translated
        assert gh.open_pulls() and "failed" in gh.open_pulls()[0]["body"]
        record = (root / f"data/{FETCH_DAY}/2611.20001.yaml").read_text(encoding="utf-8")
        assert "bad request from key ***" in record
        # Credentials in the LLM URL: a wrong endpoint, then a refused one.
        for base in (f"http://me:{PASSWORD}@127.0.0.1:9/v1?key={QUERY_KEY}",
                     f"http://me:{PASSWORD}@127.0.0.1:{llm.port}/v1"):
            env["DIGEST_LLM_BASE_URL"] = base
            outputs.append(run_cli(root, "-v", "translate", "--date", FETCH_DAY, "--force",
                                   env=env).output)
            outputs.append(run_cli(root, "settings", env=env).output)
        # Credentials in the arXiv URL, and arXiv down: the error names the URL.
        outputs.append(run_cli(root, "-v", "fetch", "--date", FETCH_DAY, env={
            **env, "DIGEST_ARXIV_API_URL": f"http://me:{PASSWORD}@127.0.0.1:9/api/query",
            "DIGEST_ARXIV_RETRIES": "0", "DIGEST_ARXIV_CACHE_TTL": "0"}).output)
        env["GITHUB_TOKEN"] = TOKEN + "-revoked"  # GitHub refuses: its error is shown
        outputs.append(run_cli(root, "-v", "publish", "--date", FETCH_DAY, env=env).output)
        bodies = json.dumps(gh.pulls)
    assert all("Error" in out for out in outputs[1::2]) and "Error" in outputs[-1]
    written = everything_written(root, origin) + summary.read_bytes()
    for secret in SECRETS:
        assert secret.encode() not in written, secret
        assert secret not in caplog.text and secret not in bodies, secret
        assert all(secret not in out for out in outputs), secret


HOLD = """
import sys, time
from pathlib import Path
from digest_cli.lock import repo_lock
with repo_lock(Path(sys.argv[1]), "digest translate --date 2026-01-28"):
    print("locked", flush=True)
    time.sleep(60)
"""


def test_a_second_run_exits_naming_the_first_and_a_dead_holder_is_taken_over(rendered_site,
                                                                              caplog):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(rendered_site)],
                              stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert holder.stdout.readline().strip() == "locked"
        for args in (["render", "--date", D], ["sync"], ["translate"], ["fetch", "--offline"]):
            line = one_error(run_cli(rendered_site, *args))
            assert f"pid {holder.pid}: digest translate --date 2026-01-28" in line, line
    finally:
        holder.kill()  # dies holding the lock: the kernel drops it, the file still names it
        holder.wait()
    caplog.set_level(logging.INFO)
    assert run_cli(rendered_site, "render", "--date", D).exit_code == 0
    assert f"took over the lock left by pid {holder.pid}" in caplog.text


def test_no_run_removes_a_temp_file_that_a_live_process_owns(rendered_site):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    posts = rendered_site / "_posts"
    live_tmp = posts / f".{D}-arxiv.md.p{os.getppid()}.abcd1234.tmp"  # our parent: alive
    dead_tmp = posts / f".{D}-arxiv.md.p{dead.pid}.efgh5678.tmp"
    for tmp in (live_tmp, dead_tmp):
        tmp.write_text("half-written", encoding="utf-8")
    set_field(rendered_site, PID, "title", "Changed, so the post is written")
    assert run_cli(rendered_site, "render", "--date", D).exit_code == 0
    assert live_tmp.is_file() and not dead_tmp.exists()


class Trickler(FakeServer):
    """Answers everything, a byte at a time: a per-read timeout never fires."""

    def __init__(self, body: bytes) -> None:
        super().__init__()
        self.body = body

    def handle(self, req):
        return Response(body=self.body, trickle=0.02)


def test_fetch_from_a_server_sending_a_byte_at_a_time_ends_at_the_deadline(site):
    feed = render_feed([], search_query="x", id_list="", start=0, max_results=200, total=0,
                       now=datetime(2026, 11, 26, tzinfo=timezone.utc)).encode() * 3
    with Trickler(feed) as slow:  # about 100 s to send in full
        env = {"DIGEST_ARXIV_API_URL": slow.url + "/api/query", "DIGEST_ARXIV_DELAY": "0",
               "DIGEST_ARXIV_TIMEOUT": "0.5", "DIGEST_ARXIV_RETRIES": "1"}
        line = one_error(run_cli(site, "fetch", "--date", FETCH_DAY, env=env))
    assert "no answer within 0.5 s after 1 retries" in line


def llm_env(llm: FakeLLM, **extra: str) -> dict[str, str]:
    return {"DIGEST_LLM_BASE_URL": llm.base_url, "DIGEST_LLM_API_KEY": "sk-test",
            "DIGEST_LLM_RETRIES": "0", "DIGEST_LLM_REPAIR_ATTEMPTS": "0",
            "DIGEST_PDF_URL_TEMPLATE": "http://127.0.0.1:9/{id}", **extra}


def untranslated_site(sample_site: Path) -> Path:
    """The sample day with one paper left, untranslated."""
    from dataclasses import replace

    from digest_cli.records.store import load_day, write_day
    from digest_cli.records.writer import Writer
    from digest_cli.settings import load_settings

    settings = load_settings(sample_site, environ={})
    day = load_day(settings, SAMPLE_DAY)
    paper = replace(day.papers[0], abstract="We study speech and improve it by 12.5%.",
                    translation=None, analysis=None, title_zh=None, summary=None,
                    topics=None)
    write_day(settings, type(day)(replace(day.manifest, papers=[paper.id.base]), [paper]),
              Writer())
    return sample_site


def test_a_trickling_llm_answer_ends_at_the_deadline(sample_site):
    site = untranslated_site(sample_site)
    with FakeLLM() as llm:  # each answer would take about a minute, a byte at a time
        llm.trickle_next(pause=0.05, times=20)
        line = one_error(run_cli(site, "translate", "--date", D,
                                 env=llm_env(llm, DIGEST_LLM_TIMEOUT="1")))
    assert "timed out after 1 s; no request has succeeded" in line


def test_a_30_mb_llm_answer_is_refused(sample_site):
    site = untranslated_site(sample_site)
    with FakeLLM(responder=lambda _req: "中" * (10 << 20)) as llm:  # 30 MB of UTF-8
        result = run_cli(site, "translate", "--date", D, env=llm_env(llm))
    assert result.exit_code == 3, result.output  # nothing translated: documented status 3
    assert "answer refused: more than 4 MB" in result.output
    assert "none of the 1 papers that needed texts could be translated" in result.stderr


def test_a_malformed_feed_entry_is_skipped_with_a_warning_naming_it(site, arxiv_server, caplog):
    published = datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)
    good = arxiv_server.add_paper(id="2611.20001", published=published)
    bad = render_entry({**good, "id": "2611.20002"}).replace(
        "<published>2026-11-24T15:00:00Z", "<published>2026-02-30T15:00:00Z")
    assert "2026-02-30" in bad
    arxiv_server.serve_body(render_feed(
        [bad, render_entry(good)], search_query="x", id_list="", start=0, max_results=200,
        total=2, now=published))
    env = {"DIGEST_ARXIV_API_URL": arxiv_server.query_url, "DIGEST_ARXIV_DELAY": "0"}
    result = run_cli(site, "fetch", "--date", FETCH_DAY, env=env)
    assert result.exit_code == 0, result.output
    assert (site / f"data/{FETCH_DAY}/2611.20001.yaml").is_file()
    assert "skipping the malformed API entry http://arxiv.org/abs/2611.20002v1" in caplog.text


@pytest.mark.parametrize("args", [["fetch", "--date", "0001-01-01"],
                                  ["run", "--offline", "--date", "0001-01-01"],
                                  ["preview", "--date", D, "--serve", "--port", "99999"]])
def test_out_of_range_dates_and_ports_are_usage_errors(sample_site, args):
    result = run_cli(sample_site, *args)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "out of range" in result.output or "not in the range" in result.output


def test_a_post_whose_window_names_no_real_date_is_refused_in_one_line(sample_site, tmp_path):
    post = (sample_site / "_posts" / f"{D}-arxiv.md").read_text(encoding="utf-8")
    bad = tmp_path / f"{D}-arxiv.md"
    bad.write_text(re.sub(r"(时间窗口[^：]*：)\d{4}-\d\d-\d\d", r"\g<1>2026-02-30", post, count=1),
                   encoding="utf-8")
    assert "2026-02-30" in bad.read_text(encoding="utf-8")
    assert "names no real time" in one_error(run_cli(sample_site, "import", str(bad)))


def test_check_outside_a_site_says_so(tmp_path):
    line = one_error(run_cli(tmp_path, "check"))
    assert "is not a digest site" in line


def test_a_trickling_pdf_download_ends_at_the_deadline(tmp_path, caplog):
    from digest_cli.records.model import ArxivId
    from digest_cli.settings import load_settings
    from digest_cli.translate.fulltext import full_text

    with Trickler(b"%PDF-1.4\n" + b"x" * 5000) as slow:  # about 100 s in full
        settings = load_settings(tmp_path, environ={}, overrides={
            "pdf_url_template": slow.url + "/pdf/{id}v{version}", "pdf_timeout": 0.5})
        assert full_text(settings, ArxivId("2601.19786", 1)) is None
    assert "PDF download failed" in caplog.text and "within 0.5 s" in caplog.text


def test_a_trickling_github_api_ends_at_the_deadline():
    from digest_cli.publish.github import GitHub, GitHubError

    with Trickler(b"[]") as slow, GitHub(slow.url, "o/site", "t0ken", timeout=0.5,
                                         retries=0) as client:
        with pytest.raises(GitHubError, match="within 0.5 s"):
            client.find_pull("digest/2026-01-28")
