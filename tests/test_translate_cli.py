"""`digest translate` on the command line, including a run killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

from digest_cli.records.store import iter_papers, load_day
from digest_cli.settings import load_settings
from tests.clikit import run_cli
from tests.fakes.llm_server import is_brief_request
from tests.fakes.translate_kit import DAY, by_model, env_for, paper_id, title_of, write_day

NO_KEY = {"DIGEST_LLM_API_KEY": None, "DEEPSEEK_API_KEY": None}


def run(root, *args, env=None):
    return run_cli(root, "translate", *args, env={**NO_KEY, **(env or {})})


def test_no_key_exits_1_naming_the_variable(tmp_path):
    write_day(tmp_path, 1)
    result = run(tmp_path)
    assert result.exit_code == 1
    assert result.stderr == ("Error (translate): no LLM API key: set the environment variable "
                             "DIGEST_LLM_API_KEY (the setting llm_api_key_env names the "
                             "variable to read)\n")
    result = run(tmp_path, env={"DIGEST_LLM_API_KEY_ENV": "DEEPSEEK_API_KEY"})
    assert result.exit_code == 1 and "variable DEEPSEEK_API_KEY" in result.stderr


def test_no_records_exits_1(site):
    result = run(site)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error (translate): no records under ")


def test_a_day_translates_with_plain_progress_lines_and_a_summary(tmp_path, llm_server):
    write_day(tmp_path, 2)
    llm_server.responder = by_model()
    result = run(tmp_path, "--date", DAY.isoformat(), env=env_for(llm_server))
    assert result.exit_code == 0, result.output
    progress = sorted(line for line in result.stderr.splitlines() if line.startswith("["))
    assert progress == [f"[1/2] {paper_id(0)} done", f"[2/2] {paper_id(1)} done"] or \
        progress == [f"[1/2] {paper_id(1)} done", f"[2/2] {paper_id(0)} done"]
    lines = result.stdout.splitlines()
    assert lines[0].startswith("translate 2026-01-28: 2 papers done, 0 failed, 0 skipped")
    assert lines[1].startswith("LLM: 6 requests, ")
    assert llm_server.api_key not in result.output


def test_only_an_unknown_paper_exits_1(tmp_path, llm_server):
    write_day(tmp_path, 1)
    result = run(tmp_path, "--only", "2601.99999", env=env_for(llm_server))
    assert result.exit_code == 1
    assert result.stderr == ("Error (translate): 2601.99999 is not among the papers of "
                             "2026-01-28\n")


def test_help_names_the_options():
    out = run_cli(None, "translate", "--help").output
    for option in ("--date", "--force", "--only", "DIGEST_LLM_API_KEY", "docs/llm.md"):
        assert option in out


def _complete(root) -> int:
    settings = load_settings(root, environ={})
    return sum(1 for _, p in iter_papers(settings) if p.translation and p.analysis)


def test_a_killed_run_resumes_without_asking_twice(tmp_path, llm_server):
    n = 10
    write_day(tmp_path, n)
    llm_server.responder = by_model()
    llm_server.latency = 0.25
    env = {**os.environ, **env_for(llm_server, llm_concurrency=2)}
    proc = subprocess.Popen([sys.executable, "-m", "digest_cli", "--root", str(tmp_path),
                             "translate"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    try:
        while _complete(tmp_path) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    done_at_kill = _complete(tmp_path)
    assert 2 <= done_at_kill < n, "the kill came too late to test a resume"
    first_run = llm_server.calls

    result = run(tmp_path, env=env_for(llm_server))
    assert result.exit_code == 0, result.output
    papers = load_day(load_settings(tmp_path, environ={}), DAY).papers  # every file loads
    assert all(p.translation and p.analysis and not p.failures for p in papers)
    asked = Counter((title_of(r), r["model"], is_brief_request(r))
                    for r in llm_server.chat_requests)
    assert len(asked) == 3 * n  # translation, 详细解读 and brief
    assert max(asked.values()) <= 2  # at most once more than needed: those in flight
    resumed = llm_server.calls - first_run
    assert resumed <= 3 * (n - done_at_kill)  # finished papers cost nothing
