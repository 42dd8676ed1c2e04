"""Records: YAML files that load back, keep editors' comments, and are written atomically."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest_cli.errors import RecordError
from digest_cli.hygiene import clean_text
from digest_cli.records.model import ArxivId, MachineText, text_hash
from digest_cli.records.store import (
    MANIFEST,
    load_day,
    load_paper,
    paper_path,
    write_day,
    write_paper,
)
from digest_cli.records.writer import Writer, write_atomic
from tests.clikit import one_error, run_cli
from tests.conftest import SAMPLE_DAY, make_day, make_paper

DAY = str(SAMPLE_DAY)
POST = Path(f"_posts/{DAY}-arxiv.md")
FOLDER = Path(f"data/{DAY}")
REMOVED_ID = "2601.19781"  # the sample day's second paper

@pytest.mark.parametrize(
    "text, base, version, stem",
    [
        ("2601.19786v1", "2601.19786", 1, "2601.19786"),
        ("2601.19786", "2601.19786", None, "2601.19786"),
        ("0704.0001v12", "0704.0001", 12, "0704.0001"),
        ("hep-th/9901001v1", "hep-th/9901001", 1, "hep-th_9901001"),
        ("math.GT/0309136", "math.GT/0309136", None, "math.GT_0309136"),
        ("https://arxiv.org/abs/2601.19786v3", "2601.19786", 3, "2601.19786"),
        ("http://arxiv.org/abs/hep-ph/0301050v2", "hep-ph/0301050", 2, "hep-ph_0301050"),
        ("https://arxiv.org/pdf/2601.19786v1", "2601.19786", 1, "2601.19786"),
    ],
)
def test_arxiv_ids_split_into_base_and_version(text, base, version, stem):
    pid = ArxivId.parse(text)
    assert (pid.base, pid.version, pid.file_stem) == (base, version, stem)


@pytest.mark.parametrize("text", ["", "abc", "2601.197", "hep-th/99", "../etc/passwd"])
def test_bad_ids_are_refused(text):
    with pytest.raises(ValueError, match="not an arXiv id"):
        ArxivId.parse(text)


def test_a_day_round_trips_through_yaml(site, settings_for):
    settings = settings_for(site)
    papers = [make_paper(1), make_paper(2, id="hep-th/9901001", translated=False)]
    papers[0].comment = "5 pages, ICASSP 2026"
    papers[0].doi = "10.1000/xyz"
    write_day(settings, make_day(papers), Writer())
    assert (site / "data/2026-01-28/hep-th_9901001.yaml").is_file()
    day = load_day(settings, papers[0].published.date().replace(day=28))
    assert [p.id.versioned for p in day.papers] == ["2601.19001v1", "hep-th/9901001v1"]
    assert day.papers[0] == papers[0]
    assert day.papers[1].translation is None


def test_long_texts_are_block_scalars_and_editor_comments_survive(site, settings_for):
    settings = settings_for(site)
    paper = make_paper(1)
    folder = settings.day_path(make_day([paper]).manifest.date)
    write_paper(folder, paper, Writer())
    path = paper_path(folder, paper.id)
    text = path.read_text(encoding="utf-8")
    assert "translation:\n  text: |" in text and "abstract: |" in text
    # An editor adds a comment and fixes the translation by hand.
    edited = text.replace("title: Paper number 1", "# checked by Li\ntitle: Paper number 1")
    edited = edited.replace("我们研究了问题 1", "本文研究了问题 1")
    path.write_text(edited, encoding="utf-8")
    reloaded = load_paper(path)
    assert reloaded.translation.edited
    reloaded.comment = "accepted"  # a later run changes another field
    write_paper(folder, reloaded, Writer())
    again = path.read_text(encoding="utf-8")
    assert "# checked by Li\ntitle: Paper number 1" in again
    assert "本文研究了问题 1" in again and "comment: accepted" in again


@pytest.mark.parametrize("dirty", ["a\r\nb", "a\u2028b", "a\x07b\x1b[31m", "\ufeffa\x00b",
                                   "a\u2029b", "tab\tkept"])
def test_text_is_cleaned_so_every_file_loads_back(site, settings_for, dirty):
    settings = settings_for(site)
    paper = make_paper(1)
    text = f"第一行 {dirty}\n第二行  \n"
    paper.translation = MachineText(text, source="full_text", hash=text_hash(text))
    paper.title = f"Title {dirty}"
    write_day(settings, make_day([paper]), Writer())
    loaded = load_day(settings, make_day([paper]).manifest.date).papers[0]
    assert loaded.translation.text == clean_text(text)
    assert loaded.title == clean_text(f"Title {dirty}")
    assert "\u2028" not in loaded.translation.text and "\r" not in loaded.translation.text


def test_writer_skips_identical_bytes_and_reports_changes(tmp_path: Path):
    writer = Writer()
    target = tmp_path / "a" / "b.md"
    assert writer.write(target, "x") is True
    mtime = target.stat().st_mtime_ns
    assert writer.write(target, "x") is False
    assert target.stat().st_mtime_ns == mtime
    assert writer.changed == [target] and writer.unchanged == [target]


def test_atomic_write_leaves_the_old_file_when_writing_fails(tmp_path: Path):
    target = tmp_path / "post.md"
    target.write_text("old", encoding="utf-8")

    class Boom:  # bytes-like that fails midway through the write
        def __len__(self):
            return 1

    with pytest.raises(TypeError):
        write_atomic(target, Boom())  # type: ignore[arg-type]
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["post.md"]  # no temp file left


@pytest.mark.parametrize(
    "content, message",
    [
        ("id: [unclosed\n", "malformed YAML"),
        ("- a list\n- not a mapping\n", "expected a mapping of paper fields"),
        ("id: '2601.00001'\nversion: 1\n", "field 'title' is missing"),
        ("id: 'nonsense'\ntitle: t\n", "not an arXiv id"),
    ],
)
def test_bad_records_name_the_file_and_the_problem(site, settings_for, content, message):
    settings = settings_for(site)
    paper = make_paper(1)
    day = make_day([paper])
    write_day(settings, day, Writer())
    path = paper_path(settings.day_path(day.manifest.date), paper.id)
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RecordError) as err:
        load_day(settings, day.manifest.date)
    assert message in str(err.value) and str(path) in str(err.value)


def test_a_mistyped_field_is_named(site, settings_for):
    settings = settings_for(site)
    paper = make_paper(1)
    day = make_day([paper])
    write_day(settings, day, Writer())
    path = paper_path(settings.day_path(day.manifest.date), paper.id)
    path.write_text(path.read_text().replace("reviewed: false", "reviewed: 'soon'"))
    with pytest.raises(RecordError, match=r"field 'reviewed' should be bool, got str 'soon'"):
        load_day(settings, day.manifest.date)


def test_malformed_yaml_reports_its_line(site, settings_for):
    settings = settings_for(site)
    day = make_day([make_paper(1)])
    write_day(settings, day, Writer())
    manifest = settings.day_path(day.manifest.date) / MANIFEST
    lines = manifest.read_text().splitlines()
    lines[3] = "fetched: [1, 2"
    manifest.write_text("\n".join(lines) + "\n")
    with pytest.raises(RecordError) as err:
        load_day(settings, day.manifest.date)
    assert err.value.path == manifest and err.value.line is not None


def test_manifest_counts_must_agree(site, settings_for):
    settings = settings_for(site)
    day = make_day([make_paper(1), make_paper(2)])
    write_day(settings, day, Writer())
    manifest = settings.day_path(day.manifest.date) / MANIFEST
    manifest.write_text(manifest.read_text().replace("shown: 2", "shown: 3"))
    with pytest.raises(RecordError, match="'shown' is 3 but 'papers' lists 2"):
        load_day(settings, day.manifest.date)


def test_the_pure_python_loader_reads_what_the_c_loader_reads(sample_site):
    """Where ruamel.yaml.clib is missing, `loads` falls back to the pure-Python parser."""
    from digest_cli.records.store import loads, pure_loads

    for path in (sample_site / "data" / "2026-01-28").glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        assert pure_loads(text) == loads(text)
    with pytest.raises(Exception) as err:
        pure_loads("a: [1, 2\n")
    assert "flow sequence" in str(err.value) or "expected" in str(err.value)


# -- bad ids, deleted records, editors' fields, times without offset -----------------------


@pytest.mark.parametrize("old, new, message", [
    ("  - '2601.19781'\n", "  - 2601.19781\n", "which YAML reads as a number: quote the id"),
    ("  - '2601.19781'\n", "  - '2601.1978x'\n", "not an arXiv id: '2601.1978x'"),
])
def test_a_bad_id_in_the_manifest_is_one_line(sample_site, old, new, message):
    manifest = sample_site / FOLDER / "manifest.yaml"
    manifest.write_text(manifest.read_text("utf-8").replace(old, new, 1), encoding="utf-8")
    for command in (["render", "--date", DAY], ["check"], ["preview", "--date", DAY]):
        result = run_cli(sample_site, *command)
        text = one_error(result) if command[0] != "check" else result.output
        assert result.exit_code == 1 and message in text and "manifest.yaml" in text


def test_an_unquoted_id_in_a_record_is_refused_not_shortened(sample_site):
    """`id: 2601.10100` reads as the number 2601.101: never a guess at the id."""
    record = sample_site / FOLDER / "2601.19786.yaml"
    record.write_text(record.read_text("utf-8").replace("id: '2601.19786'", "id: 2601.19786"),
                      encoding="utf-8")
    line = one_error(run_cli(sample_site, "render", "--date", DAY))
    assert "field 'id' holds 2601.19786, which YAML reads as a number" in line


def test_a_deleted_record_is_named_with_its_manifest(sample_site):
    (sample_site / FOLDER / f"{REMOVED_ID}.yaml").unlink()
    line = one_error(run_cli(sample_site, "render", "--date", DAY))
    assert f"{REMOVED_ID}.yaml: file not found, but manifest.yaml lists {REMOVED_ID}" in line


def test_an_editors_own_field_survives_a_rewrite(rendered_site):
    record = rendered_site / FOLDER / "2601.19786.yaml"
    record.write_text(record.read_text("utf-8").replace(
        "reviewed: false\n", "reviewed: false\nnote: 术语待复核  # 李雷\n"), encoding="utf-8")
    post = rendered_site / POST
    post.write_text(post.read_text("utf-8").replace("离散语音表征标记", "离散语音标记", 1),
                    encoding="utf-8")
    result = run_cli(rendered_site, "sync", "--date", DAY)
    assert result.exit_code == 0 and "2601.19786: translation" in result.output
    text = record.read_text("utf-8")
    assert "note: 术语待复核  # 李雷\n" in text and "    离散语音标记" in text


@pytest.mark.parametrize("value", ["'2026-01-27T08:50:00'", "2026-01-27 08:50:00"])
def test_a_time_without_utc_offset_is_refused(sample_site, value):
    """Read as the machine's local time, the header would differ from one machine to the
    next."""
    manifest = sample_site / FOLDER / "manifest.yaml"
    manifest.write_text(manifest.read_text("utf-8").replace(
        "'2026-01-27T08:50:00+08:00'", value), encoding="utf-8")
    line = one_error(run_cli(sample_site, "render", "--date", DAY))
    assert "field 'start' has no UTC offset" in line


def test_a_failure_recorded_again_keeps_its_time_and_its_place():
    """`Paper.failed`: the same failure again (its reason compared as a record keeps it:
    one line, no hidden characters) stays as it was, in its place; a new reason is stamped
    anew, in the same place; the list never holds two failures of one field."""
    from digest_cli.records.model import MAX_REASON, Failure

    paper = make_paper(0)
    paper.failures = []
    paper.failed("translation", "answer refused:\r\n  not Chinese\u200b", "T1")
    paper.failed("analysis", "HTTP 500", "T1")
    assert paper.failures == [Failure("translation", "answer refused: not Chinese", "T1"),
                              Failure("analysis", "HTTP 500", "T1")]
    paper.failed("translation", "answer refused: not Chinese", "T2")
    paper.failed("analysis", "HTTP 502", "T2")
    assert paper.failures == [Failure("translation", "answer refused: not Chinese", "T1"),
                              Failure("analysis", "HTTP 502", "T2")]
    paper.failures.append(Failure("analysis", "a stray second entry", "T0"))
    paper.failed("analysis", "HTTP 502", "T3")
    assert [f.field for f in paper.failures] == ["translation", "analysis"]
    paper.failed("summary", "x" * (2 * MAX_REASON), "T3")
    assert len(paper.failures[-1].reason) == MAX_REASON
