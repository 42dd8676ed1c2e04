"""A big day split into shards: the partition, the shard processes against the fake LLM,
and the merge, which takes each shard folder as an untrusted artifact."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from digest_cli.errors import TranslateError
from digest_cli.records.model import machine_text_hash
from digest_cli.records.store import load_day, load_paper, paper_path, write_paper
from digest_cli.records.writer import Writer
from digest_cli.settings import load_settings
from digest_cli.translate.shard import Shard, owners, partition
from tests.clikit import run_cli
from tests.fakes.llm_server import FakeLLM
from tests.fakes.translate_kit import DAY, by_model, env_for, paper_id, write_day

REPO = Path(__file__).resolve().parents[1]
PAPERS, SHARDS = 12, 3
OWNER = owners([paper_id(i) for i in range(PAPERS)], SHARDS)


# -- the partition -----------------------------------------------------------------------

def test_every_paper_is_in_exactly_one_shard_and_the_same_one_every_time():
    ids = [paper_id(i) for i in range(800)]
    shards = partition(ids, 4)
    assert sorted(pid for members in shards.values() for pid in members) == sorted(ids)
    assert partition(ids, 4) == shards  # a re-run of a job picks the same papers
    assert [len(v) for v in shards.values()] == [200, 200, 200, 200]
    assert [len(v) for v in partition([paper_id(i) for i in range(803)], 8).values()] == [101, 101, 101] + [100] * 5
    owner = owners(ids, 4)
    assert all(owner[pid] == k for k, members in shards.items() for pid in members)


def test_a_paper_s_shard_is_its_place_in_the_manifest():
    ids = ["2601.19786v2", "hep-th/9901001", "2601.00001"]
    assert owners(ids, 2) == {"2601.19786": 1, "hep-th/9901001": 2, "2601.00001": 1}
    assert partition(ids, 5) == {1: ["2601.19786"], 2: ["hep-th/9901001"], 3: ["2601.00001"],
                                 4: [], 5: []}
    assert owners(ids, 1) == dict.fromkeys(owners(ids, 1), 1)


@pytest.mark.parametrize("text", ["0/4", "5/4", "2", "a/b", "1/65", "-1/2", "1/0"])
def test_a_bad_shard_is_a_one_line_error(text):
    with pytest.raises(TranslateError, match=r"--shard"):
        Shard.parse(text)


def test_shard_parse_reads_k_of_n():
    assert Shard.parse(" 2/4 ") == Shard(2, 4) and str(Shard(2, 4)) == "2/4"


# -- shards against the fake LLM ---------------------------------------------------------

@pytest.fixture(scope="module")
def packed(tmp_path_factory):
    """A 12-paper day translated by 3 shard processes, each in its own copy of the site
    (as each Actions job has its own checkout); returns (site, packs, LLM requests)."""
    base = tmp_path_factory.mktemp("shards")
    site = base / "site"
    write_day(site, PAPERS)
    with FakeLLM(api_key="sk-shard", responder=by_model()) as llm:
        env = {**os.environ, **env_for(llm), "PYTHONPATH": str(REPO)}
        jobs = []
        for k in range(1, SHARDS + 1):
            shutil.copytree(site, base / f"job{k}")
            jobs.append(subprocess.Popen(
                [sys.executable, "-m", "digest_cli", "--root", str(base / f"job{k}"),
                 "translate", "--date", DAY.isoformat(), "--shard", f"{k}/{SHARDS}",
                 "--out", str(base / f"pack{k}")],
                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        for job in jobs:
            out, err = job.communicate(timeout=120)
            assert job.returncode == 0, out + err
            assert llm.api_key not in out + err
        calls = llm.calls
    return site, [base / f"pack{k}" for k in range(1, SHARDS + 1)], calls


@pytest.fixture
def day(packed, tmp_path):
    """A fresh copy of the untranslated site and of the shard folders."""
    site, packs, _ = packed
    shutil.copytree(site, tmp_path / "site")
    for pack in packs:
        shutil.copytree(pack, tmp_path / pack.name)
    return tmp_path / "site", [tmp_path / p.name for p in packs]


def merge(site, packs, *extra):
    return run_cli(site, "shards", "merge", "--date", DAY.isoformat(), "--shards",
                   str(SHARDS), *map(str, packs), *extra)


def papers_of(site):
    return {p.id.base: p for p in load_day(load_settings(site, environ={}), DAY).papers}


def test_each_shard_packs_only_its_own_papers(packed):
    _, packs, _ = packed
    held = []
    for k, pack in enumerate(packs, 1):
        summary = json.loads((pack / "shard.json").read_text(encoding="utf-8"))
        assert summary["shard"] == f"{k}/{SHARDS}" and summary["failed"] == []
        records = sorted(p.stem for p in (pack / "records").glob("*.yaml"))
        assert records == sorted(summary["papers"])
        assert all(OWNER[pid] == k for pid in records)
        held += records
        # translation, 详细解读 and brief: one cached answer each
        assert len(list((pack / "cache").rglob("*.json"))) == 3 * len(records)
    assert sorted(held) == [paper_id(i) for i in range(PAPERS)]


def test_the_merge_fills_the_day_as_one_job_would(packed, day):
    site, packs = day
    _, _, calls = packed
    result = merge(site, packs)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (f"merge {DAY}: 3 of 3 shards merged, {PAPERS} "
                                             f"records updated, {3 * PAPERS} cached answers")
    papers = papers_of(site)
    assert all(p.translation and p.analysis and p.title_zh and p.summary and p.topics
               and not p.failures for p in papers.values())
    settings = load_settings(site, environ={})
    usage = load_day(settings, DAY).manifest.usage["translate"]
    assert usage["calls"] == calls == 3 * PAPERS  # every request counted once, in the day
    assert len(list((settings.cache_path / "llm").rglob("*.json"))) == 3 * PAPERS
    assert run_cli(site, "render", "--date", DAY.isoformat()).exit_code == 0
    # merged twice (a re-run that learned nothing new): nothing changes, the manifest's
    # usage included, so publishing commits nothing
    before = {p: p.read_bytes() for p in (site / "data").rglob("*") if p.is_file()}
    again = merge(site, packs)
    assert "0 records updated" in again.stdout.splitlines()[0]
    assert {p: p.read_bytes() for p in (site / "data").rglob("*") if p.is_file()} == before


def test_a_shard_that_never_arrived_leaves_its_papers_failed_and_the_rest_merged(day):
    site, packs = day
    result = merge(site, packs[:2])
    assert result.exit_code == 0, result.output
    assert (f"missing: shard 3/{SHARDS}: no results taken, none arrived (its job failed or was "
            "cancelled); its papers are left as they were") in result.stdout
    lost = [pid for pid, k in OWNER.items() if k == 3]
    papers = papers_of(site)
    for pid, paper in papers.items():
        if pid in lost:
            assert paper.translation is None and paper.status == "failed"
            assert {f.field for f in paper.failures} == {"translation", "analysis", "title_zh",
                                                         "summary", "topics"}
            assert f"failed: {pid} translation, analysis: shard 3/3 did not finish (its" \
                in result.stdout
        else:
            assert paper.translation is not None and not paper.failures
    assert run_cli(site, "render", "--date", DAY.isoformat()).exit_code == 0
    # the same shard missing again, a second later: its papers' failures keep their time
    before = {p: p.read_bytes() for p in (site / "data").rglob("*") if p.is_file()}
    time.sleep(1.02 - time.time() % 1)
    assert merge(site, packs[:2]).exit_code == 0
    assert {p: p.read_bytes() for p in (site / "data").rglob("*") if p.is_file()} == before


def test_no_shard_at_all_exits_3_naming_it(day):
    site, _ = day
    result = merge(site, [])
    assert result.exit_code == 3
    assert result.stderr == "Error (merge): none of the 3 shards could be merged\n"


def _refused(site, packs, shard, why):
    result = merge(site, packs)
    assert result.exit_code == 0, result.output
    refused = [line for line in result.stdout.splitlines() if line.startswith("refused:")]
    assert len(refused) == 1 and why in refused[0], result.stdout
    papers = papers_of(site)
    for pid in map(paper_id, range(PAPERS)):  # nothing of the refused shard is taken
        taken = papers[pid].translation is not None
        assert taken != (OWNER[pid] == shard), pid
    return refused[0]


def test_a_symlink_in_a_shard_refuses_the_shard(day, tmp_path):
    site, packs = day
    secret = tmp_path / "secret.txt"
    secret.write_text("token", encoding="utf-8")
    victim = next((packs[0] / "records").glob("*.yaml"))
    victim.unlink()
    victim.symlink_to(secret)
    _refused(site, packs, 1, f"records/{victim.name}: a symlink")


def test_a_symlinked_folder_in_a_shard_refuses_the_shard(day, tmp_path):
    site, packs = day
    (packs[1] / "cache" / "llm" / "translation" / "elsewhere").symlink_to(site)
    _refused(site, packs, 2, "cache/llm/translation/elsewhere: a symlink")


@pytest.mark.parametrize("rel", ["data/2026-01-28/2601.19000.yaml", "records/manifest.yaml",
                                 "cache/publish/base.json", "records/x/2601.19000.yaml",
                                 "cache/llm/repair/2601.19000v1/0123456789abcdef0123.json",
                                 ".git/config"])
def test_a_file_outside_the_shard_s_places_refuses_the_shard(day, rel):
    site, packs = day
    target = packs[2] / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text('{"text": "x"}', encoding="utf-8")
    _refused(site, packs, 3, rel.split("/")[0])


def test_another_shard_s_paper_refuses_the_shard(day):
    site, packs = day
    theirs = next((packs[1] / "records").glob("*.yaml"))
    shutil.copyfile(theirs, packs[0] / "records" / theirs.name)
    line = _refused(site, packs, 1, f"records/{theirs.name}: {theirs.stem} belongs to shard 2/3")
    assert "not 1/3" in line


def test_another_shard_s_cached_answer_refuses_the_shard(day):
    site, packs = day
    theirs = next((packs[1] / "cache").rglob("*.json"))
    target = packs[0] / theirs.relative_to(packs[1])
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(theirs, target)
    _refused(site, packs, 1, "belongs to shard 2/3")


def test_a_record_holding_another_paper_refuses_the_shard(day):
    site, packs = day
    first, second = sorted((packs[0] / "records").glob("*.yaml"))[:2]
    shutil.copyfile(second, first)
    _refused(site, packs, 1, f"records/{first.name}: unreadable record (records/{first.name}: "
             f"the record's id is {second.stem}, but its file name says {first.stem}")


def test_a_shard_claiming_another_number_or_day_is_refused(day):
    site, packs = day
    summary = json.loads((packs[0] / "shard.json").read_text(encoding="utf-8"))
    (packs[0] / "shard.json").write_text(json.dumps({**summary, "shard": "2/3"}),
                                         encoding="utf-8")
    line = _refused(site, packs, 1, "records/")  # its records are not shard 2's
    assert "belongs to shard 1/3, not 2/3" in line
    (packs[0] / "shard.json").write_text(json.dumps({**summary, "day": "2026-01-29"}),
                                         encoding="utf-8")
    _refused(site, packs, 1, "shard.json: not a shard of 2026-01-28")


def test_usage_that_is_not_a_count_refuses_the_shard(day):
    site, packs = day
    summary = json.loads((packs[1] / "shard.json").read_text(encoding="utf-8"))
    summary["usage"]["cost"] = -5
    (packs[1] / "shard.json").write_text(json.dumps(summary), encoding="utf-8")
    _refused(site, packs, 2, "usage cost is not a count")


def test_an_editor_s_text_and_a_reviewed_paper_win_over_a_shard(day):
    site, packs = day
    settings = load_settings(site, environ={})
    folder = settings.day_path(DAY)
    papers = papers_of(site)
    edited, reviewed = paper_id(0), paper_id(1)
    papers[edited].translation = _editor_text("编辑写的译文，保留 27.84% 与 $\\mathcal{L}_{ctc}$。")
    papers[reviewed].reviewed = True
    write_paper(folder, papers[edited], Writer())
    write_paper(folder, papers[reviewed], Writer())
    assert merge(site, packs).exit_code == 0
    after = papers_of(site)
    assert after[edited].translation.text.startswith("编辑写的译文")
    assert after[edited].analysis is not None  # the machine's other texts still taken
    assert after[reviewed].translation is None and after[reviewed].reviewed


def test_a_machine_text_that_breaks_the_rules_is_not_taken(day):
    site, packs = day
    record = next((packs[0] / "records").glob("*.yaml"))
    paper = load_paper(record)
    paper.translation.text = "Not Chinese at all."
    paper.translation.hash = machine_text_hash(paper.translation.text)
    write_paper(record.parent, paper, Writer())
    assert merge(site, packs).exit_code == 0
    after = papers_of(site)[paper.id.base]
    assert after.translation is None and after.analysis is not None


def _editor_text(text):
    from digest_cli.records.model import MachineText

    return MachineText(text=text, source="editor")


def test_out_must_be_a_folder_of_its_own(tmp_path):
    write_day(tmp_path, 1)
    for out in (tmp_path, tmp_path / "data"):
        result = run_cli(tmp_path, "translate", "--shard", "1/2", "--out", str(out),
                         env={"DIGEST_LLM_API_KEY": "sk-x"})
        assert result.exit_code == 1 and "--out" in result.stderr, result.output
    assert paper_path(load_settings(tmp_path, environ={}).day_path(DAY), paper_id(0)).is_file()


def test_shard_and_out_go_together(tmp_path):
    write_day(tmp_path, 1)
    result = run_cli(tmp_path, "translate", "--shard", "1/2")
    assert result.exit_code == 2 and "--shard and --out go together" in result.output


# -- .github/workflows/daily-sharded.yml -----------------------------------------------

def sharded():
    from ruamel.yaml import YAML

    return YAML(typ="safe").load((REPO / ".github/workflows/daily-sharded.yml")
                                 .read_text(encoding="utf-8"))


def test_the_sharded_workflow_runs_only_when_digest_shards_is_set():
    jobs = sharded()["jobs"]
    assert jobs["prepare"]["if"] == "vars.DIGEST_SHARDS != ''"
    assert jobs["translate"]["needs"] == "prepare"
    assert jobs["translate"]["strategy"]["fail-fast"] is False
    assert jobs["translate"]["strategy"]["matrix"]["shard"] == \
        "${{ fromJSON(needs.prepare.outputs.shards) }}"
    # The publish job runs after failed shards too, not after a cancelled run.
    assert jobs["publish"]["if"] == "${{ !cancelled() && needs.prepare.outputs.day != '' }}"


def test_only_the_publish_job_can_write_and_only_it_sees_a_pushing_token():
    wf = sharded()
    assert wf["permissions"] == {}
    jobs = wf["jobs"]
    assert jobs["prepare"]["permissions"] == jobs["translate"]["permissions"] == \
        {"contents": "read"}
    assert jobs["publish"]["permissions"] == {"contents": "write", "pull-requests": "write",
                                              "issues": "write"}
    for job in jobs.values():
        for s in job["steps"]:
            if s.get("uses", "").startswith("actions/checkout@"):
                assert s["with"] == {"persist-credentials": False}
    secrets = {name: [s.get("name") or s.get("id") for s in job["steps"]
                      if "secrets." in str(s)] for name, job in jobs.items()}
    assert secrets == {"prepare": [], "translate": ["Translate the shard"],
                       "publish": ["app-token", "Merge the shards, render and publish"]}


def test_the_sharded_workflow_uses_daily_yml_s_actions():
    import re

    def pins(name):
        text = (REPO / ".github/workflows" / name).read_text(encoding="utf-8")
        return dict(re.findall(r"uses: ([\w.-]+/[\w.-]+)@([0-9a-f]{40})", text))

    daily, ours = pins("daily.yml"), pins("daily-sharded.yml")
    assert {a: sha for a, sha in ours.items() if a in daily} == \
        {a: sha for a, sha in daily.items() if a in ours}
    assert set(ours) == set(daily)


def _publish_script(tmp_path, merge_status):
    """The publish step, run with a stand-in `digest` that logs its arguments."""
    wf = sharded()
    script = next(s for s in wf["jobs"]["publish"]["steps"]
                  if s.get("name") == "Merge the shards, render and publish")["run"]
    fake = tmp_path / "bin" / "digest"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\necho "$*" >> "{tmp_path}/calls"\n'
                    f'case "$1" in shards) exit {merge_status};; esac\n', encoding="utf-8")
    fake.chmod(0o755)
    (tmp_path / "shards" / "shard-1").mkdir(parents=True)
    (tmp_path / "shards" / "shard-3").mkdir()
    env = {**os.environ, "PATH": f"{fake.parent}{os.pathsep}{os.environ['PATH']}",
           "RUNNER_TEMP": str(tmp_path), "DAY": "2026-01-28", "COUNT": "3",
           "GITHUB_TOKEN": "ghs_secret", "GITHUB_SERVER_URL": "https://github.com",
           "GITHUB_OUTPUT": str(tmp_path / "output")}
    result = subprocess.run(["bash", "-e", "-c", script], env=env, capture_output=True,
                            text=True)
    calls = (tmp_path / "calls").read_text(encoding="utf-8").splitlines()
    return result, calls


def _outputs(tmp_path):
    out = tmp_path / "output"
    return dict(line.split("=", 1) for line in out.read_text().splitlines()) \
        if out.exists() else {}


def test_the_day_is_published_with_the_shards_that_arrived(tmp_path):
    result, calls = _publish_script(tmp_path, 0)
    assert result.returncode == 0, result.stderr
    assert calls == [f"shards merge --date 2026-01-28 --shards 3 {tmp_path}/shards/shard-1 "
                     f"{tmp_path}/shards/shard-3",
                     "render --date 2026-01-28", "publish --date 2026-01-28"]
    assert "ghs_secret" not in result.stdout + result.stderr


def test_no_shard_merged_still_publishes_and_previews_the_day_then_fails_the_job(tmp_path):
    result, calls = _publish_script(tmp_path, 3)
    assert result.returncode == 0 and calls[1:] == ["render --date 2026-01-28",
                                                    "publish --date 2026-01-28"]
    assert _outputs(tmp_path)["status"] == "3"
    steps = sharded()["jobs"]["publish"]["steps"]
    names = [s.get("name") or s.get("id") for s in steps]
    assert names.index("Merge the shards, render and publish") < names.index(
        "Preview the day") < names.index("Upload the preview")
    last = steps[-1]  # after the preview, and only after a status-3 merge
    assert last["name"] == "Fail when no shard could be merged"
    assert last["if"] == "steps.merge.outputs.status == '3'"
    failed = subprocess.run(["bash", "-e", "-c", last["run"]], capture_output=True, text=True,
                            env={**os.environ, "DAY": "2026-01-28"})
    assert failed.returncode == 3 and failed.stdout.startswith("::error::No shard")
    assert not any("status" in str(s.get("if", "")) for s in steps[:-1])  # none skipped


def test_a_merge_error_publishes_nothing(tmp_path):
    result, calls = _publish_script(tmp_path, 1)
    assert result.returncode == 1 and len(calls) == 1


# -- digest shards prepare ---------------------------------------------------------------

def test_prepare_brings_back_the_day_s_branch_before_fetching(tmp_path, arxiv_server):
    from datetime import datetime, timezone

    from tests.gitkit import IDENTITY, git, make_site_repo

    origin, root = tmp_path / "origin.git", tmp_path / "site"
    make_site_repo(origin, root, git)
    for i, pid in enumerate(["2611.20001", "2611.20002"]):
        arxiv_server.add_paper(id=pid, title=f"Speech paper {i}", authors=["A B"],
                               summary="We improve speech.", categories=["cs.SD"],
                               published=datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc))
    env = {"DIGEST_ARXIV_API_URL": arxiv_server.query_url, "DIGEST_ARXIV_DELAY": "0"}
    first = run_cli(root, "shards", "prepare", "--date", "2026-11-26", env=env)
    assert first.exit_code == 0, first.output
    assert first.output.splitlines()[0] == "digest shards prepare 2026-11-26"
    record = root / "data/2026-11-26/2611.20001.yaml"
    # An editor's translation, on the day's branch only (as after a published run).
    paper = load_paper(record)
    paper.translation = _editor_text("编辑写的译文。")
    write_paper(record.parent, paper, Writer())
    git(root, "checkout", "-q", "-b", "digest/2026-11-26")
    git(root, "add", "data")
    git(root, *IDENTITY, "commit", "-q", "-m", "The day, edited")
    git(root, "push", "-q", "origin", "digest/2026-11-26")
    git(root, "checkout", "-q", "main")
    assert not record.exists()
    again = run_cli(root, "shards", "prepare", "--date", "2026-11-26", env=env)
    assert again.exit_code == 0, again.output
    assert "restore: 3 files of the day taken from its branch" in again.output
    assert load_paper(record).translation.text == "编辑写的译文。"
    assert (root / "data/2026-11-26/2611.20002.yaml").is_file()


def test_a_shard_s_failures_reach_the_records_and_the_summary(day):
    from digest_cli.records.model import Failure

    site, packs = day
    record = sorted((packs[1] / "records").glob("*.yaml"))[0]
    paper = load_paper(record)
    paper.translation = None
    paper.failures = [Failure("translation", "invalid answer after 2 repair prompts:\n没有中文",
                              "2026-01-28T03:00:00+00:00")]
    write_paper(record.parent, paper, Writer())
    summary = json.loads((packs[1] / "shard.json").read_text(encoding="utf-8"))
    summary["failed"] = [[paper.id.base, "translation", "invalid answer after 2 repair "
                          "prompts:\n没有中文"]]
    (packs[1] / "shard.json").write_text(json.dumps(summary), encoding="utf-8")
    result = merge(site, packs)
    assert result.exit_code == 0, result.output
    assert (f"failed: {paper.id.base} translation: invalid answer after 2 repair prompts: "
            "没有中文") in result.stdout.splitlines()
    after = papers_of(site)[paper.id.base]
    assert after.translation is None and after.analysis is not None and after.status == "failed"
    assert after.failures == [Failure("translation", "invalid answer after 2 repair prompts: "
                                      "没有中文", "2026-01-28T03:00:00+00:00")]


def _prepare_script(tmp_path, writes_day):
    script = next(s for s in sharded()["jobs"]["prepare"]["steps"]
                  if s.get("name") == "Restore the day's branch and fetch the day")["run"]
    fake = tmp_path / "bin" / "digest"
    fake.parent.mkdir()
    made = "mkdir -p data/2026-01-28 && touch data/2026-01-28/manifest.yaml\n" if writes_day \
        else "echo '2026-01-28: arXiv made no announcement in this window'\n"
    fake.write_text(f'#!/bin/sh\necho "$*" > "{tmp_path}/args"\n'
                    f'echo "$GIT_CONFIG_KEY_0 $GIT_CONFIG_VALUE_0" > "{tmp_path}/git"\n'
                    f'echo "digest shards prepare 2026-01-28"\n{made}', encoding="utf-8")
    fake.chmod(0o755)
    out = tmp_path / "output"
    env = {**os.environ, "PATH": f"{fake.parent}{os.pathsep}{os.environ['PATH']}",
           "RUNNER_TEMP": str(tmp_path), "GITHUB_OUTPUT": str(out), "INPUT_DATE": "",
           "GITHUB_TOKEN": "ghs_readonly", "GITHUB_SERVER_URL": "https://github.com"}
    work = tmp_path / "work"
    work.mkdir()
    result = subprocess.run(["bash", "-e", "-c", script], env=env, capture_output=True,
                            text=True, cwd=work)
    assert result.returncode == 0, result.stderr
    return result, out.read_text(encoding="utf-8") if out.exists() else ""


def test_prepare_names_the_day_and_gives_git_the_token_for_this_step_only(tmp_path):
    import base64

    result, output = _prepare_script(tmp_path, writes_day=True)
    assert output == "day=2026-01-28\n"
    assert (tmp_path / "args").read_text(encoding="utf-8") == "shards prepare\n"
    auth = base64.b64encode(b"x-access-token:ghs_readonly").decode()
    assert (tmp_path / "git").read_text(encoding="utf-8") == \
        f"http.https://github.com/.extraheader AUTHORIZATION: basic {auth}\n"
    assert f"::add-mask::{auth}" in result.stdout and "ghs_readonly" not in result.stdout


def test_prepare_without_an_announcement_starts_no_shard(tmp_path):
    result, output = _prepare_script(tmp_path, writes_day=False)
    assert output == "" and "::notice title=No post::" in result.stdout


def test_a_shard_run_again_packs_its_papers_again_without_asking_twice(tmp_path, llm_server):
    write_day(tmp_path / "site", 4)
    llm_server.responder = by_model()
    args = ["translate", "--date", DAY.isoformat(), "--shard", "1/2", "--out",
            str(tmp_path / "pack")]
    first = run_cli(tmp_path / "site", *args, env=env_for(llm_server))
    assert first.exit_code == 0, first.output
    calls = llm_server.calls
    (tmp_path / "pack" / "stale.txt").write_text("from an older attempt", encoding="utf-8")
    again = run_cli(tmp_path / "site", *args, env=env_for(llm_server))
    assert again.exit_code == 0, again.output
    assert llm_server.calls == calls == 6  # 2 papers x 3 answers, asked once
    assert sorted(p.name for p in (tmp_path / "pack").iterdir()) == ["cache", "records",
                                                                     "shard.json"]
    packed = [load_paper(p) for p in sorted((tmp_path / "pack" / "records").glob("*.yaml"))]
    assert [str(p.id.base) for p in packed] == [paper_id(0), paper_id(2)]
    assert all(p.translation and p.analysis and p.title_zh for p in packed)
    assert len(list((tmp_path / "pack" / "cache").rglob("*.json"))) == 6


def test_a_second_folder_for_the_same_shard_is_refused(day, tmp_path):
    site, packs = day
    shutil.copytree(packs[0], tmp_path / "again")
    result = merge(site, [*packs, tmp_path / "again"])
    assert result.exit_code == 0, result.output
    assert f"refused: {tmp_path / 'again'}: a second folder for shard 1/3" in result.stdout
    assert "3 of 3 shards merged" in result.stdout
