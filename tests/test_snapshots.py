"""Whole outputs pinned with pytest-snapshot: the post, the preview page and the record
files of a day that has every kind of paper. Refresh with `pytest --snapshot-update`
after an intended change, and read the diff in review."""

from __future__ import annotations

from pathlib import Path

from digest_cli.posts.preview import render_preview
from digest_cli.posts.write import render_days
from digest_cli.records.model import ArxivId, Failure, LeftOut, MachineText, text_hash
from digest_cli.records.store import load_day, write_day
from digest_cli.records.writer import Writer
from tests.conftest import SAMPLE_DAY, make_day, make_paper


def every_kind_of_paper():
    full = make_paper(1, title="Speech *tokens* for <everyone> | a {{ test }}")
    abstract_only = make_paper(2, authors=["Smith, J.", "Ng, A."])
    abstract_only.analysis.source = "abstract"
    pending = make_paper(3, translated=False)
    failed = make_paper(4, id="hep-th/9901001")
    failed.analysis = None
    failed.failures = [Failure("analysis", "still invalid after 2 repairs: no part 3)",
                               "2026-01-28T01:00:00+00:00")]
    edited = make_paper(5, replacement=True, abs_url="https://arxiv.org/abs/2601.19005v2",
                        pdf_url="https://arxiv.org/pdf/2601.19005v2")
    edited.id = ArxivId(edited.id.base, 2)
    edited.translation = MachineText("编辑改过的译文。", "m", "translate-v1", None, "full_text",
                                     text_hash("机器译文。"))
    day = make_day([full, abstract_only, pending, failed, edited], fetched=7)
    day.manifest.left_out = [LeftOut("2601.19998", "max_papers (5) reached", "Left out A"),
                             LeftOut("2601.19999", "already in 2026-01-27", "Left out B")]
    return day


def test_a_day_of_every_kind(site, settings_for, snapshot):
    settings = settings_for(site)
    write_day(settings, every_kind_of_paper(), Writer())
    render_days(settings, [SAMPLE_DAY], Writer())
    day = load_day(settings, SAMPLE_DAY)
    out = {p.name: p.read_text(encoding="utf-8")
           for p in settings.day_path(SAMPLE_DAY).glob("*.yaml")}
    out["post.md"] = settings.post_path(SAMPLE_DAY).read_text(encoding="utf-8")
    out["preview.html"] = render_preview(day, settings)
    snapshot.snapshot_dir = Path(__file__).parent / "snapshots"
    snapshot.assert_match_dir(out, "a_day_of_every_kind")


def test_the_post_of_every_kind_imports_back_to_the_same_records(site, settings_for, tmp_path):
    from digest_cli.posts.importer import parse_post

    settings = settings_for(site)
    day = every_kind_of_paper()
    write_day(settings, day, Writer())
    render_days(settings, [SAMPLE_DAY], Writer())
    _, imported = parse_post(settings.post_path(SAMPLE_DAY), settings)
    back = {item.paper.id.base: item.paper for item in imported}
    for paper in day.papers:
        got = back[paper.id.base]
        assert (got.title, got.authors, got.id, got.replacement) == \
            (paper.title, paper.authors, paper.id, paper.replacement)
        assert (got.translation.text if got.translation else None) == \
            (paper.translation.text if paper.translation else None)
