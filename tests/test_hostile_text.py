"""Hostile text: links, tags and characters from arXiv, an LLM or a record never reach the
post, the feed, the pull request or a terminal as markup, a link or a control.

Each test failed before its fix (issues 11 and 20)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from digest_cli.hygiene import scrub
from tests.clikit import one_error, run_cli
from tests.conftest import SAMPLE_DAY
from tests.hostile_kit import (
    DAY,
    FETCH_DAY,
    FIRST,
    FOLDER,
    PID,
    POST,
    SECOND,
    D,
    edit,
    hostile_property,
    set_field,
    snapshot,
)

# -- links (issue 11) ----------------------------------------------------------------------



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


def test_a_tag_starting_with_a_hash_is_refused(rendered_site):
    before = snapshot(rendered_site)
    line = one_error(run_cli(rendered_site, "render", "--date", D, "--force",
                             env={"DIGEST_TAGS": "arxiv,#x"}))
    assert "'#x' is not a tag" in line
    assert snapshot(rendered_site) == before


_YAML_LOOKALIKES = ["1.0", "2026", "2026-01-28", "0x1F", "1e3", "1_000", "true", "False",
                    "yes", "No", "on", "OFF", "y", "null", "NULL", "c#", "c++", "a-b", "语音"]


def test_every_accepted_tag_list_reads_back_from_the_front_matter_as_written(tmp_path):
    """Jekyll reads front matter as YAML 1.1 (PyYAML does too); also read as YAML 1.2."""
    import yaml
    from hypothesis import example, given
    from hypothesis import strategies as st
    from ruamel.yaml import YAML

    from digest_cli.errors import SettingsError
    from digest_cli.posts.render import front_matter
    from digest_cli.settings import load_settings

    tag = st.one_of(st.sampled_from(_YAML_LOOKALIKES),
                    st.from_regex(r"[\w.+#:,\[\]{}'\" -]{1,12}", fullmatch=True))

    @hostile_property
    @example([" "])
    @given(st.lists(tag, min_size=1, max_size=5))
    def check(tags):
        try:
            settings = load_settings(tmp_path, environ={}, overrides={"tags": tags})
        except SettingsError:
            return  # refused in one line: nothing is rendered
        # A list setting is read as its items stripped, blank ones dropped (`[' ']` is [])
        assert settings.tags == [tag.strip() for tag in tags if tag.strip()]
        text = front_matter(SAMPLE_DAY, settings).split("---\n")[1]
        assert yaml.safe_load(text)["tags"] == settings.tags, text
        assert YAML(typ="safe", pure=True).load(text)["tags"] == settings.tags, text

    check()
    accepted = load_settings(tmp_path, environ={}, overrides={"tags": _YAML_LOOKALIKES})
    assert accepted.tags == _YAML_LOOKALIKES  # the look-alikes are kept, quoted


def test_topic_feeds_link_papers_from_their_arxiv_id(tmp_path):
    from digest_cli.records.model import MachineText
    from digest_cli.records.topics import default_topics
    from digest_cli.site.pages import generated_files, index_papers
    from tests.conftest import make_paper

    paper = make_paper(1, abs_url='javascript:alert(1)"><script>x</script>',
                       topics=MachineText("asr", "m", "brief-v1", "t", "abstract", "h"))
    files = generated_files(index_papers([(SAMPLE_DAY, "/2026/01/28/arxiv.html", [paper],
                                           "")], default_topics()), "+08:00")
    feed = files["topics/asr/feed.xml"]
    assert f"<id>https://arxiv.org/abs/{paper.id.versioned}</id>" in feed
    assert "javascript" not in feed and "script" not in feed


# -- characters that never publish (issue 20.4) ---------------------------------------------

HIDDEN = ("Speech \u202eledom\u202c (RLO), \u2066isolate\u2069, \u200bzero\u200cwidth\u2060, "
          "\u200emarks\u200f\u061c, C1\u0085\u009b and \ufeffBOM")
VISIBLE = "Speech ledom (RLO), isolate, zerowidth, marks, C1 and BOM"
EMOJI = "coder \U0001F469\u200d\U0001F4BB kept"  # a joiner inside an emoji sequence


def test_hidden_characters_from_arxiv_are_removed_at_intake(site, arxiv_server):
    published = datetime(2026, 11, 24, 15, 0, tzinfo=timezone.utc)
    arxiv_server.add_paper(id="2611.20001", published=published, title=f"{HIDDEN} {EMOJI}",
                           summary=f"An abstract.\u202e Reversed.\u200b {EMOJI}")
    env = {"DIGEST_ARXIV_API_URL": arxiv_server.query_url, "DIGEST_ARXIV_DELAY": "0"}
    assert run_cli(site, "fetch", "--date", FETCH_DAY, env=env).exit_code == 0
    record = (site / f"data/{FETCH_DAY}/2611.20001.yaml").read_text(encoding="utf-8")
    assert f"title: {VISIBLE} {EMOJI}" in record
    assert scrub(record) == record and EMOJI in record


@pytest.mark.parametrize("normalise", ["normalise_translation", "normalise_analysis"])
def test_hidden_characters_from_the_llm_are_removed_at_intake(normalise):
    from digest_cli.translate import validate

    answer = f"1) 背景\n- **问题**：{HIDDEN}\x1b[31m红\x1b[0m {EMOJI}"
    cleaned = getattr(validate, normalise)(answer)
    assert VISIBLE in cleaned and "红" in cleaned and EMOJI in cleaned
    assert scrub(cleaned) == cleaned and "\x1b" not in cleaned


def test_an_editors_hidden_characters_are_refused_by_check_and_never_published(rendered_site):
    """Written into a record by an editor (raw, and as a YAML escape): check names each
    position; the post, the PR body and the review table never hold them."""
    path = rendered_site / FOLDER / f"{FIRST}.yaml"
    edit(path, "title: ", "title: \u202eSpoofed\u202c ")
    # YAML escapes in a double-quoted scalar spell them without the raw characters
    edit(rendered_site / FOLDER / f"{SECOND}.yaml", "\ntitle: ",
         '\ntitle: "Escaped \\u2066x\\u2069 \\e[2J" # ')
    out = run_cli(rendered_site, "check", "--date", DAY, "--no-annotations").output
    first = [line for line in out.splitlines() if f"{FIRST}.yaml" in line and "U+" in line]
    assert first and all(":" in line for line in first)
    assert any("U+202E RIGHT-TO-LEFT OVERRIDE" in line and "column" in line for line in first)
    second = [line for line in out.splitlines() if f"{SECOND}.yaml" in line and "U+" in line]
    assert any("U+2066" in line and "field title" in line for line in second)
    assert run_cli(rendered_site, "render", "--date", DAY, "--force").exit_code == 0
    post = (rendered_site / POST).read_text(encoding="utf-8")
    assert "Spoofed" in post and "Escaped x" in post and scrub(post) == post
    review = run_cli(rendered_site, "review", "--date", DAY).output
    assert "\x1b" not in review and scrub(review) == review


def test_error_lines_carry_no_terminal_escapes(rendered_site):
    path = rendered_site / FOLDER / f"{FIRST}.yaml"
    edit(path, "\nauthors:", '\nauthors: "\\e[2J\\e]0;owned\\a"\nx_authors:')
    result = run_cli(rendered_site, "render", "--date", DAY, "--force")
    assert "\x1b" not in result.output and "\x07" not in result.output


def test_a_joiner_is_kept_only_between_emoji():
    from digest_cli.hygiene import faults

    assert scrub("x\u200dy \U0001F468\u200d\U0001F469\u200d\U0001F467 \u2764\ufe0f\u200d"
                 "\U0001F525 \U0001F44B\U0001F3FD\u200d") == (
        "xy \U0001F468\u200d\U0001F469\u200d\U0001F467 \u2764\ufe0f\u200d\U0001F525 "
        "\U0001F44B\U0001F3FD")  # the last joiner ends the text: no emoji after it
    assert faults("ok\n  a\u200db") == [(2, 4, "U+200D ZERO WIDTH JOINER")]


def test_terminal_text_and_error_values_are_bounded_and_inert():
    from digest_cli.hygiene import for_terminal, short

    assert for_terminal("a\x1b[31mred\x1b[0m\x1b]0;title\x07\rb\x9b") == "aredb"
    bomb: list = ["lol"] * 10
    for _ in range(8):
        bomb = [bomb] * 10  # 10^9 strings if written out
    deep: list = []
    for _ in range(20_000):
        deep = [deep]
    for value in (bomb, deep, "x" * 10**6, {"\x1b[2J": "\u202e" * 100}):
        shown = short(value)
        assert len(shown) < 200 and "\x1b" not in shown and "\u202e" not in shown
