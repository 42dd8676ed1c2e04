"""`digest glossary suggest`: replacements editors made in several papers become proposals."""

from __future__ import annotations

from digest_cli.records.model import MachineText, text_hash
from digest_cli.records.store import paper_path, write_day
from digest_cli.records.writer import Writer
from digest_cli.translate.glossary import replacements
from tests import gitkit
from tests.clikit import one_error, run_cli
from tests.conftest import make_day, make_paper

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@x", "HOME": "/nonexistent"}


def git(root, *args):
    gitkit.git(root, *args, env={**GIT_ENV, "PATH": "/usr/bin:/bin"})


def test_replacements_are_widened_to_whole_terms():
    assert replacements("我们使用休伯特模型。", "我们使用HuBERT模型。") == [("休伯特", "HuBERT")]
    assert replacements("说话者验证", "说话人验证") == [("者", "人")]


def test_suggest_finds_a_correction_made_in_two_papers(site, settings_for):
    settings = settings_for(site)
    papers = []
    for n in (1, 2, 3):
        paper = make_paper(n)
        text = f"本文第{n}篇使用休伯特特征，提升了说话人验证。"
        paper.translation = MachineText(text, "m", "v1", None, "full_text", text_hash(text))
        papers.append(paper)
    write_day(settings, make_day(papers), Writer())
    git(site, "init", "-q", "-b", "main")
    git(site, "add", "-A")
    git(site, "commit", "-qm", "machine")
    folder = settings.day_path(make_day(papers).manifest.date)
    for paper in papers[:2]:  # editors fix two of the three
        path = paper_path(folder, paper.id)
        path.write_text(path.read_text(encoding="utf-8").replace("休伯特", "HuBERT"),
                        encoding="utf-8")
    git(site, "commit", "-qam", "editors")
    result = run_cli(site, "glossary", "suggest")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].startswith("HuBERT: keep  # editors replaced '休伯特' in 2")
    one = run_cli(site, "glossary", "suggest", "--min-papers", "3")
    assert "no suggestions" in one.output


def test_glossary_suggest_outside_a_git_repository_is_one_line(sample_site):
    line = one_error(run_cli(sample_site, "glossary", "suggest"))
    assert "not a git repository" in line


def test_glossary_suggest_in_a_repository_without_commits_is_one_line(sample_site):
    import git

    git.Repo.init(sample_site)
    line = one_error(run_cli(sample_site, "glossary", "suggest"))
    assert "no commits yet" in line
