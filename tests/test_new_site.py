"""A new site: the suite passes in a copy of this repository whose content is another
site's (no sample day, another field, another glossary), as docs/setup.md makes one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from digest_cli.records.store import load_day, load_yaml
from digest_cli.settings import load_settings
from tests.clikit import run_cli
from tests.conftest import REPO, SAMPLE_DAY
from tests.fakes.fixtures import GITHUB_TOKEN
from tests.fakes.llm_server import is_brief_request
from tests.fakes.translate_kit import DAY, by_model, env_for, write_day

# A representative part of the suite: the files that once read the repository's data/ and
# _posts/ at import time or through its settings (records, post, check, sync, import).
SUBSET = ["tests/test_check.py", "tests/test_sync.py", "tests/test_import.py",
          "tests/test_render_import.py", "tests/test_sentences.py", "tests/test_validate.py",
          "tests/test_publish_body.py", "tests/test_cli.py"]


def template_copy(dest: Path) -> Path:
    """"Use this template": every file git tracks (and any new one not ignored), as a new
    repository receives them."""
    files = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z", "-co", "--exclude-standard"], capture_output=True,
                           check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        if (REPO / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, dest / name)
    return dest


def make_other_site(dest: Path) -> Path:
    """The owner's steps of docs/setup.md, step 0: the sample day removed, the site's own
    field (cs.CL), topics and glossary."""
    site = template_copy(dest)
    shutil.rmtree(site / "data" / SAMPLE_DAY.isoformat(), ignore_errors=True)
    (site / "_posts" / f"{SAMPLE_DAY}-arxiv.md").unlink(missing_ok=True)
    (site / "data").mkdir(exist_ok=True)
    (site / "_posts").mkdir(exist_ok=True)
    with (site / "pyproject.toml").open("a", encoding="utf-8") as fh:
        fh.write('\n[tool.digest]\ncategories = ["cs.CL"]\ntags = ["arxiv", "cs.CL"]\n'
                 if "[tool.digest]" not in (site / "pyproject.toml").read_text("utf-8")
                 else "")
    text = (site / "pyproject.toml").read_text(encoding="utf-8")
    (site / "pyproject.toml").write_text(text.replace(
        'categories = ["cs.SD", "eess.AS"]', 'categories = ["cs.CL"]\n'
        'topics_file = "topics.yaml"\nfield_name = "自然语言处理领域"'), encoding="utf-8")
    (site / "glossary.yaml").write_text("large language model: 大语言模型\n", encoding="utf-8")
    (site / "topics.yaml").write_text(
        "topics:\n  - {slug: llm, zh: 大语言模型, en: Large language models}\n"
        "  - {slug: other, zh: 其他, en: Other}\n", encoding="utf-8")
    return site


def test_the_suite_passes_in_a_site_with_no_sample_day_and_another_field(tmp_path):
    site = make_other_site(tmp_path / "site")
    assert not (site / "data" / SAMPLE_DAY.isoformat()).exists()
    assert 'categories = ["cs.CL"]' in (site / "pyproject.toml").read_text("utf-8")
    env = {**os.environ, "PYTHONPATH": str(site), "HYPOTHESIS_PROFILE": "ci"}
    env.pop("PYTEST_XDIST_WORKER", None)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
         "-p", "no:xdist", *SUBSET], cwd=site, env=env, capture_output=True, text=True,
        timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "error" not in result.stdout.splitlines()[-1]


def new(tmp_path: Path, *args: str, name: str = "cl"):
    return run_cli(tmp_path, "new", str(tmp_path / name), *args)


def test_digest_new_writes_a_site_of_its_own_field(tmp_path):
    result = new(tmp_path, "--categories", "cs.CL", "--title", "arXiv 每日 · 自然语言处理",
                 "--description", "每日 cs.CL 新论文")
    assert result.exit_code == 0, result.output
    site = tmp_path / "cl"
    settings = load_settings(site, environ={})
    assert settings.categories == ["cs.CL"] and settings.tags == ["arxiv", "cs.CL"]
    assert (settings.field_name, settings.topics_file) == ("自然语言处理领域", "topics.yaml")
    assert "机器翻译" in settings.field_examples and "BLEU" in settings.field_terms
    config = load_yaml(site / "_config.yml")
    assert (config["title"], config["description"]) == ("arXiv 每日 · 自然语言处理",
                                                        "每日 cs.CL 新论文")
    assert "topics.yaml" in config["exclude"] and "glossary.yaml" in config["exclude"]
    topics = load_yaml(site / "topics.yaml")
    assert topics["max_per_paper"] == 3
    assert {"slug": "mt", "zh": "机器翻译", "en": "Machine translation"} in topics["topics"]
    assert topics["topics"][-1]["slug"] == "other"
    assert load_yaml(site / "glossary.yaml")["BLEU"] == "keep"
    # the workflows and the tool they install; not the tool's development, not the sample
    for kept in ("daily.yml", "sync.yml", "review.yml", "pages.yml"):
        assert (site / ".github" / "workflows" / kept).is_file()
    assert (site / "digest_cli" / "cli.py").is_file() and (site / "requirements/main.txt").is_file()
    for gone in ("tests", "benchmarks", "docs", ".ci", ".github/workflows/ci.yml",
                 "requirements/test.txt", f"data/{SAMPLE_DAY}", f"_posts/{SAMPLE_DAY}-arxiv.md"):
        assert not (site / gone).exists(), gone
    assert [p.name for p in (site / "data").iterdir()] == [".gitkeep"]
    # an empty archive that every command accepts
    assert run_cli(site, "check", "--all").exit_code == 0
    assert run_cli(site, "render", "--all", "--check").exit_code == 0


def test_digest_new_says_what_to_set_on_github_and_doctor_checks_it(tmp_path, github_server):
    result = new(tmp_path, "--categories", "cs.CL,cs.LG", "--title", "NLP Daily")
    steps = result.output.splitlines()[1:]
    assert result.output.startswith(f"Wrote a new site in {tmp_path / 'cl'} (")
    assert ["DIGEST_LLM_API_KEY" in s for s in steps].count(True) == 1
    assert any("Allow GitHub Actions to create and approve pull requests" in s for s in steps)
    assert any("Source: GitHub Actions" in s for s in steps)
    assert "digest doctor" in steps[-1]
    assert load_settings(tmp_path / "cl", environ={}).categories == ["cs.CL", "cs.LG"]
    doctor = run_cli(tmp_path / "cl", "doctor", env={
        "GITHUB_API_URL": github_server.url, "GITHUB_REPOSITORY": "octo/digest",
        "GITHUB_TOKEN": GITHUB_TOKEN, "DIGEST_GITHUB_RETRIES": "0"})
    problems = [line for line in doctor.output.splitlines() if line.startswith("PROBLEM")]
    assert doctor.exit_code == 1 and len(problems) == 3, doctor.output
    for problem, phrase in zip(problems, ("create and approve pull requests",
                                          "Source: GitHub Actions", "DIGEST_LLM_API_KEY"), strict=True):
        assert phrase in problem and any(phrase in s for s in steps)


@pytest.mark.parametrize("args, message", [
    (["--categories", "cs CL", "--title", "T"], "'cs CL' is not an arXiv category"),
    (["--categories", "cs.CL", "--title", " "], "the title is empty"),
    (["--categories", "cs.CL", "--title", "a\x1b[31m"], "the title must be one line"),
    (["--categories", "cs.CL", "--title", "T", "--description", "a\nb"],
     "the description must be one line"),
])
def test_digest_new_refuses_a_bad_option_in_one_line_writing_nothing(tmp_path, args, message):
    result = new(tmp_path, *args)
    assert result.exit_code == 1
    assert result.output.splitlines() == [f"Error (new): {message}" + result.output.split(
        message, 1)[1].rstrip("\n")]
    assert list(tmp_path.iterdir()) == []


def test_digest_new_never_writes_into_a_folder_in_use(tmp_path):
    (tmp_path / "cl").mkdir()
    (tmp_path / "cl" / "notes.txt").write_text("mine", encoding="utf-8")
    result = new(tmp_path, "--categories", "cs.CL", "--title", "T")
    assert result.exit_code == 1
    assert result.output == f"Error (new): {tmp_path / 'cl'}: is in the way: give a new folder or an empty one\n"
    assert [p.name for p in tmp_path.iterdir()] == ["cl"]
    assert [p.name for p in (tmp_path / "cl").iterdir()] == ["notes.txt"]


def test_a_field_not_listed_starts_with_one_topic_and_names_itself(tmp_path):
    assert new(tmp_path, "--categories", "astro-ph.GA", "--title", "Galaxies").exit_code == 0
    site = tmp_path / "cl"
    assert load_yaml(site / "topics.yaml")["topics"] == [
        {"slug": "other", "zh": "其他", "en": "Other"}]
    assert load_yaml(site / "glossary.yaml") == {}
    assert load_settings(site, environ={}).field_name == "arXiv astro-ph.GA 领域"


def test_a_new_sites_prompts_name_its_field_and_list_its_topics(tmp_path, llm_server):
    """What `digest new` writes reaches the LLM: the brief's topic table is the site's
    topics.yaml and every prompt names the site's field, not speech and audio."""
    assert new(tmp_path, "--categories", "cs.CL", "--title", "NLP Daily").exit_code == 0
    site = tmp_path / "cl"
    write_day(site, 1)
    llm_server.responder = by_model()
    run_cli(site, "translate", "--date", str(DAY), env=env_for(llm_server))
    prompts = [str(req["messages"]) for req in llm_server.chat_requests]
    assert prompts and all("自然语言处理" in p and "语音与音频" not in p for p in prompts)
    # the site's own words only: a repair request also quotes the model's earlier answer
    briefs = [req["messages"][0]["content"] for req in llm_server.chat_requests
              if is_brief_request(req)]
    assert briefs and all("机器翻译" in p and "语音识别" not in p for p in briefs)


def test_the_shipped_sample_day_shows_every_feature_and_runs_offline_without_a_key(tmp_path):
    """When the repository ships the sample day (a site may delete it), every paper has its
    English abstract, Chinese title, summary and topics, and the README's command needs no
    LLM key: nothing is left for the LLM to do."""
    day = REPO / "data" / SAMPLE_DAY.isoformat()
    if not day.is_dir():
        pytest.skip("this site does not ship the sample day")
    site = tmp_path / "site"
    shutil.copytree(day, site / "data" / SAMPLE_DAY.isoformat())
    shutil.copytree(REPO / "_posts", site / "_posts")
    shutil.copy(REPO / "glossary.yaml", site / "glossary.yaml")
    settings = load_settings(site, environ={})
    papers = load_day(settings, SAMPLE_DAY).papers
    assert len(papers) == 20
    for paper in papers:
        assert paper.abstract.count(".") >= 2, paper.id
        assert paper.title_zh and paper.summary and paper.topic_slugs(settings.topics), paper.id
        assert paper.translation and paper.analysis, paper.id
    result = run_cli(site, "run", "--date", str(SAMPLE_DAY), "--offline",
                     env={"DIGEST_LLM_API_KEY": ""})
    assert result.exit_code == 0, result.output
    assert "20 skipped (nothing to do)" in result.output
    assert run_cli(site, "check", "--all").output.strip() == "no problems"
    assert run_cli(site, "render", "--all", "--check").exit_code == 0


def test_digest_new_fills_an_empty_folder_and_needs_the_template(tmp_path):
    from digest_cli.newsite import NewSiteError, SiteSpec, new_site

    (tmp_path / "cl").mkdir()
    assert new(tmp_path, "--categories", "cs.CL", "--title", "T").exit_code == 0
    assert (tmp_path / "cl" / ".github" / "workflows" / "daily.yml").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["cl"]  # no temporary folder left
    # installed without its checkout (pip install .): no template to copy, one clear line
    with pytest.raises(NewSiteError, match=r"no site template beside the installed package: "
                       r"install digest from a checkout \(pip install -e \.\)"):
        new_site(tmp_path / "other", SiteSpec("T", ["cs.CL"]), template=tmp_path / "cl" / "data")
    assert not (tmp_path / "other").exists()


def test_no_test_reads_the_sites_own_days():
    """Only the showcase test above (which skips without the day) may read the site's own
    data/ or _posts/: any other would fail a site that deleted the sample day (a model
    test did, until a run of the whole suite in such a site showed it)."""
    import re

    reads = re.compile(r"""REPO\s*/\s*["'](data|_posts)["']""")
    found = [f"{path.name}:{n}" for path in sorted((REPO / "tests").rglob("*.py"))
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if reads.search(line) and path.name != "test_new_site.py"]
    assert found == []


def test_a_template_that_is_no_checkout_gives_only_the_sites_own_files(tmp_path):
    """A copy of the repository without .git (git cannot list it) gives the site's own
    entries only: a `.env`, a `venv/`, a credentials file or a symbolic link to a key
    never reaches the new site."""
    from digest_cli.newsite import template_files

    template = tmp_path / "template"
    shutil.copytree(REPO, template, ignore=shutil.ignore_patterns(
        ".git", ".venv", "_site", ".digest-cache", "__pycache__", "tests", "benchmarks"))
    secret = tmp_path / "id_rsa"
    secret.write_text("PRIVATE KEY", encoding="utf-8")
    (template / ".env").write_text("DIGEST_LLM_API_KEY=sk-secret", encoding="utf-8")
    (template / ".git-credentials").write_text("https://u:t@github.com", encoding="utf-8")
    (template / "venv").mkdir()
    (template / "venv" / "pyvenv.cfg").write_text("home = /usr", encoding="utf-8")
    (template / "assets" / "key.txt").symlink_to(secret)
    (template / "_layouts" / "linked").symlink_to(tmp_path, target_is_directory=True)
    names = template_files(template)
    assert "_config.yml" in names and "digest_cli/cli.py" in names
    assert ".github/workflows/daily.yml" in names
    leaked = [n for n in names if n.startswith((".env", ".git-credentials", "venv/"))
              or n in ("assets/key.txt",) or n.startswith("_layouts/linked/")]
    assert leaked == []
