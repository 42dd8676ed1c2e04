"""Parsing many records on every core gives what one process gives."""

from __future__ import annotations

import pickle
from datetime import date, timedelta

from digest_cli.errors import RecordError
from digest_cli.posts.write import render_days
from digest_cli.records import pool as pool_module
from digest_cli.records.store import write_day
from digest_cli.records.writer import Writer
from tests.conftest import make_day, make_paper

DAYS = [date(2026, 1, 20) + timedelta(days=n) for n in range(6)]


def build(settings):
    for n, day in enumerate(DAYS):
        papers = [make_paper(10 * n + k, id=f"2601.{20000 + 10 * n + k}") for k in range(3)]
        write_day(settings, make_day(papers, day=day), Writer())


def test_parsing_in_a_pool_renders_the_same_posts(site, settings_for, monkeypatch):
    settings = settings_for(site)
    build(settings)
    render_days(settings, DAYS, Writer())
    serial = {d: settings.post_path(d).read_text() for d in DAYS}
    for post in (site / "_posts").glob("*.md"):
        post.unlink()
    monkeypatch.setattr(pool_module, "POOL_MIN_DAYS", 1)
    render_days(settings, DAYS, Writer())
    assert {d: settings.post_path(d).read_text() for d in DAYS} == serial


def test_a_broken_file_is_reported_by_name_after_a_pool(site, settings_for, monkeypatch):
    settings = settings_for(site)
    build(settings)
    broken = settings.day_path(DAYS[3]) / "2601.20030.yaml"
    broken.write_text("title: [unclosed\n")
    monkeypatch.setattr(pool_module, "POOL_MIN_DAYS", 1)
    try:
        render_days(settings, DAYS, Writer())
    except RecordError as err:
        assert err.path == broken and err.line is not None
    else:
        raise AssertionError("the broken record was not reported")
    assert not settings.post_path(DAYS[3]).exists()


def test_errors_survive_pickling_with_their_details():
    error = RecordError("bad", path="data/x.yaml", line=3, paper_id="2601.1")
    again = pickle.loads(pickle.dumps(error))
    assert (type(again), str(again), again.line, again.stage) == \
        (RecordError, str(error), 3, "records")
