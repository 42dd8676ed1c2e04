"""The fast read path: YAML 1.2 as the writer means it, and days read on both cores, both
giving what the plain path gives.

`ruamel_loads` (ruamel.yaml's safe loader, what `loads` was before libyaml) is the
reference: every value and error of the fast loader must be the one it gives.
"""

from __future__ import annotations

import math
import os
import re
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digest_cli.errors import RecordError
from digest_cli.posts.check import _ERROR_TEXT, check_days, has_error_text
from digest_cli.posts.write import PostEdited, render_days, stale_posts
from digest_cli.records import pool as pool_module
from digest_cli.records.pool import map_days
from digest_cli.records.store import dump_yaml, paper_from_dict, write_day
from digest_cli.records.writer import Writer
from digest_cli.records.yamlio import _fast_loader, loads, parse_text, ruamel_loads
from digest_cli.translate.validate import ODD_CASE
from tests.conftest import make_day, make_paper

# -- YAML 1.2 ---------------------------------------------------------------------------

# Plain scalars YAML 1.1 reads differently (or that a careless resolver would): each with
# what YAML 1.2's core schema, and so ruamel.yaml (the writer), reads.
MEANT = [
    ("No", "No"), ("on", "on"), ("yes", "yes"), ("Off", "Off"), ("y", "y"),
    ("1:30", "1:30"), ("0o17", 15), ("017", 17), (".inf", math.inf), ("-.inf", -math.inf),
    ("2026-01-28", date(2026, 1, 28)), ("2601.10100", 2601.101), ("true", True),
    ("False", False), ("~", None), ("null", None), ("", None), ("12", 12),
    ("title", "title"), ("nULL", "nULL"), ("TRUE", True), ("0x1F", 31), ("+12", 12),
]


def test_the_fast_loader_is_the_one_in_use():
    assert _fast_loader() is not None, "PyYAML's C extension is a dependency"


@pytest.mark.parametrize(("plain", "meant"), MEANT, ids=[m[0] or "empty" for m in MEANT])
def test_plain_scalars_read_as_yaml_1_2(plain, meant):
    for text, pick in ((f"a: {plain}\n", lambda d: d["a"]), (f"- {plain}\n", lambda d: d[0]),
                       (f"{plain}: x\n" if plain else "x: 1\n", None)):
        fast, ruamel = loads(text), ruamel_loads(text)
        assert repr(fast) == repr(ruamel)  # the same values, of the same types
        if pick is not None:
            assert type(pick(fast)) is type(meant) and pick(fast) == meant


def test_nan_reads_as_a_float():
    assert math.isnan(loads("a: .NaN\n")["a"])


def test_an_unquoted_id_is_refused_as_the_writer_means():
    """2601.10100 unquoted is the float 2601.101: the record names the lost digit."""
    data = loads("id: 2601.10100\ntitle: x\n")
    assert data["id"] == 2601.101
    with pytest.raises(RecordError, match=r"quote the id \(e.g. '2601.10100'\)"):
        paper_from_dict(data, Path("data/x.yaml"))
    assert loads("id: '2601.10100'\n") == {"id": "2601.10100"}


@pytest.mark.parametrize("text", [
    "a: !!str 12\nb: !!float 1\n",  # explicit tags
    "%YAML 1.1\n---\na: yes\n",  # a directive
    "? [a, b]\n: c\n",  # a key that is a sequence
    "a: 'it''s'\nb: \"\\u00e9\\n\"\nc: >\n  folded\n  text\n\n  para\nd: |-\n  kept\n",
    "- a\n- b: c\n  d: [e, {f: g}]\n",
    "a:\n  - 1\n  - -2.5e3\n  - 2026-01-27T08:50:00+08:00\n",
])
def test_unusual_documents_read_as_ruamel_reads_them(text):
    assert repr(loads(text)) == repr(ruamel_loads(text))
    assert repr(loads(text, text.encode("utf-8"))) == repr(ruamel_loads(text))  # bytes read


@pytest.mark.parametrize(("text", "line"), [
    ("a: &x [1]\nb: *x\n", 1),  # an alias (the fast path meets it)
    ("base: &b {x: 1}\nc:\n  <<: *b\n  y: 2\n", 1),  # a merge key: an alias too
    ("a: !!str &x 12\nb: *x\n", 1),  # a tag sends it to ruamel: refused before it
    ("a: &lonely 1\n", 1),  # an anchor with no alias: refused all the same
])
def test_anchors_and_aliases_are_refused_with_their_line(text, line):
    for utf8 in (None, text.encode("utf-8")):  # the text, or the bytes it was read from
        with pytest.raises(RecordError, match="anchors and aliases") as refused:
            parse_text(text, Path("data/x.yaml"), utf8=utf8)
        assert refused.value.line == line and refused.value.path == Path("data/x.yaml")


def test_nesting_past_the_cap_is_refused_on_either_path():
    from digest_cli.records.yamlio import MAX_DEPTH

    inner = MAX_DEPTH - 1  # below the top mapping
    fine = "a: " + "[" * inner + "]" * inner + "\n"
    assert parse_text(fine, Path("x.yaml"))["a"] is not None
    for deep in ("a: " + "[" * (inner + 1) + "]" * (inner + 1) + "\n",
                 "a: !!seq " + "[" * (inner + 1) + "]" * (inner + 1) + "\n"):
        with pytest.raises(RecordError, match=f"deeper than {MAX_DEPTH}"):
            parse_text(deep, Path("x.yaml"))


@pytest.mark.parametrize(("text", "line"), [
    ("a: 1\na: 2\n", 2),  # a duplicate key
    ("title: [unclosed\n", 2),
    ("a: [1:30]\n", 1),  # libyaml takes a plain ':' in a flow sequence, ruamel does not
    ("a: b\n---\nc: d\n", 2),  # two documents
    ("a: 2026-13-01\n", None),  # not a date
    ("a: =\n", 1),  # ruamel's `value` tag, which its safe loader refuses
])
def test_errors_are_ruamels_with_their_line(text, line):
    for utf8 in (None, text.encode("utf-8")):
        with pytest.raises(RecordError) as fast:
            parse_text(text, Path("data/x.yaml"), utf8=utf8)
        assert fast.value.line == line
    from ruamel.yaml import YAMLError

    with pytest.raises((YAMLError, ValueError)):
        ruamel_loads(text)


_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\ufeff"),
                max_size=40)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.from_regex(r"[a-z_]{1,8}", fullmatch=True),
                       st.one_of(_TEXT, st.lists(_TEXT, max_size=3), st.integers(),
                                 st.booleans(), st.none(),
                                 st.sampled_from([v for v, _ in MEANT])),
                       max_size=6))
def test_what_the_writer_writes_reads_back_the_same(data):
    text = dump_yaml(data)
    assert repr(loads(text)) == repr(ruamel_loads(text))
    assert repr(loads(text, text.encode("utf-8"))) == repr(ruamel_loads(text))


# -- days on both cores -----------------------------------------------------------------

DAYS = [date(2026, 1, 20) + timedelta(days=n) for n in range(5)]


def _build(settings):
    for n, day in enumerate(DAYS):
        papers = [make_paper(10 * n + k, id=f"2601.{20000 + 10 * n + k}") for k in range(2)]
        write_day(settings, make_day(papers, day=day), Writer())


@pytest.fixture
def pooled(monkeypatch, site, settings_for):
    """Five days, and map_days using a pool for as few as one day."""
    settings = settings_for(site)
    _build(settings)
    monkeypatch.setattr(pool_module, "POOL_MIN_DAYS", 1)
    return settings


def _double(day):
    return (day, os.getpid())


def test_map_days_keeps_the_order_and_uses_other_processes(pooled):
    many = [DAYS[0] + timedelta(days=n) for n in range(45)]  # several chunks a worker
    results = list(map_days(_double, many, workers=2))
    assert [day for day, _ in results] == many
    pids = {pid for _, pid in results}
    assert os.getpid() not in pids  # (which worker takes which chunk is up to the pool)


def test_a_pooled_render_writes_what_a_serial_one_writes(pooled, monkeypatch, settings_for,
                                                         tmp_path_factory):
    render_days(pooled, DAYS, Writer())
    serial = settings_for(tmp_path_factory.mktemp("serial"))
    _build(serial)
    monkeypatch.setattr(pool_module, "POOL_MIN_DAYS", 10**6)
    render_days(serial, DAYS, Writer())
    for d in DAYS:
        assert pooled.post_path(d).read_text() == serial.post_path(d).read_text()
        assert (pooled.day_path(d) / "manifest.yaml").read_text() == \
            (serial.day_path(d) / "manifest.yaml").read_text()
    assert "rendered:\n  post: " in (pooled.day_path(DAYS[0]) / "manifest.yaml").read_text()
    monkeypatch.setattr(pool_module, "POOL_MIN_DAYS", 1)
    assert stale_posts(pooled, DAYS) == []


def test_a_pooled_render_reports_failures_in_day_order(pooled):
    render_days(pooled, DAYS, Writer())
    (pooled.day_path(DAYS[1]) / "2601.20010.yaml").write_text("title: [unclosed\n")
    edited = pooled.post_path(DAYS[3])
    edited.write_text(edited.read_text() + "an editor's line\n")
    (pooled.day_path(DAYS[0]) / "2601.20000.yaml").write_text(
        (pooled.day_path(DAYS[0]) / "2601.20000.yaml").read_text().replace(
            "Paper number 0", "Paper zero"))
    result = render_days(pooled, DAYS, Writer(), keep_going=True)
    assert [d for d, _ in result.rendered] == [DAYS[0], DAYS[2], DAYS[4]]
    assert result.rendered[0][1] is True and "Paper zero" in pooled.post_path(DAYS[0]).read_text()
    assert [type(e) for e in result.failed] == [RecordError, PostEdited]
    assert result.failed[0].path.name == "2601.20010.yaml" and result.failed[0].line is not None
    assert "an editor's line" in edited.read_text()  # the edit is kept
    with pytest.raises(RecordError):
        render_days(pooled, DAYS, Writer())
    with pytest.raises(RecordError):
        stale_posts(pooled, DAYS)


def test_a_pooled_check_finds_what_a_serial_one_finds(pooled, monkeypatch):
    render_days(pooled, DAYS, Writer())
    (pooled.day_path(DAYS[2]) / "2601.20020.yaml").write_text("title: [unclosed\n")
    post = pooled.post_path(DAYS[4])
    post.write_text(post.read_text() + "x\n")
    pooled_problems = [str(p) for p in check_days(pooled)]
    monkeypatch.setattr(pool_module, "POOL_MIN_DAYS", 10**6)
    assert [str(p) for p in check_days(pooled)] == pooled_problems
    assert len(pooled_problems) == 2


# -- check's shortcut for error text ----------------------------------------------------

def test_the_odd_case_letters_are_all_there_are():
    """Case-blind, only these non-ASCII letters match ASCII ones (Python's re)."""
    ascii_letter = re.compile("[a-z]", re.IGNORECASE)
    odd = {chr(cp) for cp in range(128, sys.maxunicode + 1)
           if ascii_letter.match(chr(cp))}
    assert odd == set(ODD_CASE)


@pytest.mark.parametrize("text", [
    "详细解读失败", "翻译失败了", "待补充", "Traceback (most recent call last)",
    "tracebacK (Most Recent", "Error code: 429", "error CODE: 42", "a TODO here", "todos",
    "TBD.", "placeholder", "Lorem ipsum", "lorem \u0131psum", "lorem ip\u017fum",
    "the method of solving", "正常的中文文本，没有问题。",
])
def test_the_error_text_shortcut_agrees_with_the_pattern(text):
    assert has_error_text(text) == bool(_ERROR_TEXT.search(text))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["TODO", "tbd", "Lorem", " ", "ipsum", "error code: ",
                                 "4", "失败", "解读", "翻译", "待补充", "Traceback",
                                 " (most recent", "\u0131", "\u017f", "\u212a", "\u0130",
                                 "x", "_", "中文", "\n"]), max_size=12).map("".join))
def test_the_error_text_shortcut_agrees_on_random_text(text):
    assert has_error_text(text) == bool(_ERROR_TEXT.search(text))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["1", "23", ".", "%", "％", " ", "\n", "５", "x", "中"]),
                max_size=16).map("".join))
def test_the_kept_numbers_pattern_finds_what_the_plain_one_found(text):
    from digest_cli.translate.validate import _KEPT_NUMBER

    assert _KEPT_NUMBER.findall(text) == re.findall(r"\d+\.\d+|\d+(?=\s*[%％])", text)
