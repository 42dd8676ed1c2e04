"""`digest site build` / `digest site serve`: options, one-line errors, the base path."""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from digest_cli.cli import cli
from digest_cli.records.topics import default_topics
from digest_cli.site.build import SiteError, normal_base_path
from digest_cli.site.pages import post_url


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.mark.parametrize("given, expected", [
    ("", ""), ("/", ""), ("REPO", "/REPO"), ("/REPO/", "/REPO"), ("/a/b", "/a/b")])
def test_base_path_is_normalised(given, expected):
    assert normal_base_path(given) == expected


@pytest.mark.parametrize("bad", ["/a b", '/x"y', "/../etc", "/x?y", "/{{ x }}"])
def test_a_bad_base_path_is_refused(bad):
    with pytest.raises(SiteError):
        normal_base_path(bad)


def test_build_with_a_bad_base_path_exits_1_with_one_line(tmp_path):
    result = run("--root", str(tmp_path), "site", "build", "--base-path", "/a b")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error (site): --base-path 'a b': expected a URL path such as /REPO"]


def test_serve_without_a_built_site_exits_1(tmp_path):
    result = run("--root", str(tmp_path), "site", "serve")
    assert result.exit_code == 1
    assert "no built site here: run `digest site build` first" in result.output


def test_site_help_names_both_commands():
    out = run("site", "--help").output
    assert "build" in out and "serve" in out
    assert "--base-path" in run("site", "build", "--help").output


@pytest.mark.parametrize("permalink, url", [
    ("date", "/2026/01/28/arxiv.html"), ("pretty", "/2026/01/28/arxiv/"),
    ("none", "/arxiv.html"), ("/:year/:title:output_ext", "/2026/arxiv.html")])
def test_post_urls_follow_the_permalink_style(permalink, url):
    assert post_url(date(2026, 1, 28), "2026-01-28-arxiv", permalink) == url


def test_the_server_serves_only_under_the_base_path(built_site):
    with urllib.request.urlopen(built_site.url + "/", timeout=10) as answer:
        assert answer.status == 200 and b"<html" in answer.read()
    root = built_site.url[: -len(built_site.base_path)]
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(root + "/index.html", timeout=10)
    assert error.value.code == 404
    assert "找不到页面" in error.value.read().decode("utf-8")  # the site's 404.html


def test_topic_pages_link_a_classic_post_without_an_anchor(site, settings_for):
    """A `classic` post has no arXiv-id anchors: its papers link to the day page."""
    from digest_cli.posts.render import render_day
    from digest_cli.records.model import MachineText
    from digest_cli.site.pages import index_papers
    from tests.conftest import SAMPLE_DAY, make_day, make_paper

    paper = make_paper(1)
    paper.topics = MachineText("asr", source="full_text")
    day = make_day([paper])
    url = "/2026/01/28/arxiv.html"
    for post_format, link in (("classic", url), ("digest", url + "#arxiv-2601-19001")):
        post = render_day(day, settings_for(site, post_format=post_format))
        index = index_papers([(SAMPLE_DAY, url, day.papers, post)], default_topics())
        assert [e.url for e in index.topics["asr"]] == [link]


@pytest.mark.parametrize("value, expected", [
    ("", ("", "")), ("https://owner.github.io/repo", ("https://owner.github.io", "/repo")),
    ("https://owner.github.io/repo/", ("https://owner.github.io", "/repo")),
    ("https://digest.example.org", ("https://digest.example.org", ""))])
def test_site_url_gives_the_url_and_the_base_path(value, expected):
    from digest_cli.site.build import site_address

    assert site_address(value) == expected


@pytest.mark.parametrize("bad", ["owner.github.io/repo", "javascript:alert(1)",
                                 "https://x.org/a b", "https://x.org/?q=1", 'https://x.org/"'])
def test_a_bad_site_url_is_refused(bad):
    from digest_cli.site.build import site_address

    with pytest.raises(SiteError):
        site_address(bad)


def test_site_url_reaches_jekyll_as_url_and_base_path(site, settings_for, tmp_path):
    """Without --base-path, the path of `site_url` is the base path; its scheme and host
    go to Jekyll as `url` in a config file beside (not in) the staged site."""
    import dataclasses
    import subprocess

    from digest_cli.site.build import build_site

    seen = []

    def run(args, **kwargs):
        seen.append(args)
        if "build" in args:
            dest = Path(args[args.index("--destination") + 1])
            dest.mkdir(parents=True)
            (dest / "index.html").write_text("<html></html>")
            config = args[args.index("--config") + 1].split(",")[1]
            seen.append(Path(config).read_text())
        else:
            site_dir = Path(args[args.index("--site") + 1])
            (site_dir / "pagefind").mkdir()
            (site_dir / "pagefind" / "pagefind-ui.js").write_text("")
        return subprocess.CompletedProcess(args, 0, "", "")

    (site / "_config.yml").write_text("title: t\n")
    settings = dataclasses.replace(settings_for(site), site_url="https://owner.github.io/repo")
    report = build_site(settings, tmp_path / "out", jekyll="jekyll", run=run)
    jekyll_args = seen[0]
    assert jekyll_args[jekyll_args.index("--baseurl") + 1] == "/repo"
    assert seen[1] == 'url: "https://owner.github.io"\n'
    assert report.base_path == "/repo"
