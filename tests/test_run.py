"""`digest run`: the stages in order, a clean end when arXiv announced nothing, the failing
stage named."""

from __future__ import annotations

from datetime import date

from tests.clikit import run_cli
from tests.conftest import SAMPLE_DAY


def test_offline_without_llm_runs_on_the_sample_day(sample_site):
    shipped = (sample_site / "_posts/2026-01-28-arxiv.md").read_bytes()
    result = run_cli(sample_site, "run", "--date", str(SAMPLE_DAY), "--offline", "--no-llm")
    assert result.exit_code == 0, result.output
    assert "using the records already in" in result.output
    assert "translate: skipped (--no-llm)" in result.output
    assert (sample_site / "_posts/2026-01-28-arxiv.md").read_bytes() == shipped


def test_a_window_without_announcement_ends_cleanly(site, arxiv_server):
    # The window ending Sunday 2026-11-22 08:50 CST (winter: Friday 19:50 to Saturday 19:50
    # in New York) holds no announcement: arXiv announces nothing on Friday evenings.
    env = {"DIGEST_ARXIV_API_URL": arxiv_server.query_url, "DIGEST_ARXIV_DELAY": "0"}
    result = run_cli(site, "run", "--date", "2026-11-22", "--no-llm", env=env)
    assert result.exit_code == 0, result.output
    assert "arXiv made no announcement in this window" in result.output
    assert list((site / "_posts").iterdir()) == [] and list((site / "data").iterdir()) == []


def test_a_failing_stage_is_named(site, arxiv_server):
    arxiv_server.fail_next(status=400)
    env = {"DIGEST_ARXIV_API_URL": arxiv_server.query_url, "DIGEST_ARXIV_DELAY": "0"}
    result = run_cli(site, "run", "--date", "2026-11-25", env=env)
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1].startswith("Error (fetch): ")
    assert list((site / "data").iterdir()) == []


def test_without_a_key_translate_names_the_missing_setting(site, arxiv_server):
    from datetime import datetime, timezone

    arxiv_server.add_paper(id="2611.20001", title="A speech paper", authors=["A B"],
                           summary="We improve speech.", categories=["cs.SD"],
                           published=datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc))
    env = {"DIGEST_ARXIV_API_URL": arxiv_server.query_url, "DIGEST_ARXIV_DELAY": "0"}
    result = run_cli(site, "run", "--date", "2026-11-26", env=env)
    assert result.exit_code == 1, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("Error (translate): ") and "DIGEST_LLM_API_KEY" in last
    # The fetched records are kept: a re-run with a key finishes the day.
    assert (site / "data/2026-11-26/2611.20001.yaml").is_file()
    assert date(2026, 11, 26)
