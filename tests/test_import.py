"""`digest import`: posts into records; what it refuses, what it keeps, what it warns about."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

from digest_cli.posts.importer import IMPORTED_ERROR, import_post
from digest_cli.records.store import load_day, write_day
from digest_cli.records.writer import Writer
from tests.clikit import one_error, run_cli
from tests.conftest import SAMPLE, SAMPLE_DAY, blocks, take_out

DAY = str(SAMPLE_DAY)
POST = Path(f"_posts/{DAY}-arxiv.md")
FOLDER = Path(f"data/{DAY}")
REMOVED_ID = "2601.19781"  # the sample day's second paper


def write_post(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_two_posts_for_one_day_are_refused_before_writing(rendered_site, tmp_path):
    text = (rendered_site / POST).read_text("utf-8")
    head, parts = text[:text.index("## ")], blocks(text)
    first = write_post(tmp_path, f"{DAY}-a.md", head + "\n".join(parts[:10]))
    second = write_post(tmp_path, f"{DAY}-b.md", head + "\n".join(parts[10:]))
    before = sorted((p.name, p.read_bytes()) for p in (rendered_site / FOLDER).iterdir())
    line = one_error(run_cli(rendered_site, "import", str(first), str(second)))
    assert f"a second post for {DAY}" in line and f"{DAY}-a.md" in line
    assert sorted((p.name, p.read_bytes()) for p in (rendered_site / FOLDER).iterdir()) == before


def test_a_paper_shown_twice_in_a_post_is_refused(site, tmp_path):
    text = (SAMPLE / POST).read_text("utf-8")
    first = blocks(text)[0]
    post = write_post(tmp_path, f"{DAY}-arxiv.md", text + "\n" + first)
    line = one_error(run_cli(site, "import", str(post)))
    assert "paper 2601.19786 is shown twice (also at line" in line
    assert not (site / FOLDER).exists()


def test_reimporting_a_post_without_a_paper_leaves_it_out(sample_site, settings_for):
    settings = settings_for(sample_site)
    post = sample_site / POST
    post.write_text(take_out((SAMPLE / POST).read_text("utf-8"), REMOVED_ID),
                    encoding="utf-8")
    day, _ = import_post(post, settings, load_day(settings, SAMPLE_DAY))
    write_day(settings, day, Writer())
    manifest = load_day(settings, SAMPLE_DAY).manifest
    assert REMOVED_ID not in manifest.papers
    assert [x.id for x in manifest.left_out] == [REMOVED_ID]  # a fetch will not put it back


def test_import_names_papers_that_another_day_holds(sample_site, tmp_path, caplog):
    text = (SAMPLE / POST).read_text("utf-8")
    post = write_post(tmp_path, "2026-01-29-arxiv.md", text)
    with caplog.at_level(logging.WARNING, logger="digest_cli.posts.importer"):
        assert run_cli(sample_site, "import", str(post)).exit_code == 0
    assert "20 papers are also in the records of 2026-01-28" in caplog.text


# -- the old blog's posts --------------------------------------------------------------

OLDBLOG = Path(__file__).parent / "fixtures" / "oldblog"
VARIANTS_POST = OLDBLOG / "variants" / "2025-10-20-arxiv.md"


def test_the_variants_post_is_the_corpus_generators(tmp_path):
    """The committed post (one paper per old-blog variant) is what `write_variants`
    writes: regenerate it with the function after changing the corpus."""
    from tests.fixtures.oldblog.corpus import write_variants

    write_variants(tmp_path)
    assert (tmp_path / VARIANTS_POST.name).read_text("utf-8") == \
        VARIANTS_POST.read_text("utf-8")


def test_the_old_blogs_posts_import_text_for_text(site, settings_for, tmp_path):
    """Each variant's texts reach the records and come back as the post wrote them: a bare
    `2.` part line once swallowed the next line when the record was read back."""
    from digest_cli.posts.importer import parse_post
    from tests.fixtures.oldblog.corpus import write_corpus

    settings = settings_for(site)
    write_corpus(tmp_path)
    posts = [VARIANTS_POST, *sorted(tmp_path.glob("*.md"))]
    assert run_cli(site, "import", *map(str, posts)).exit_code == 0
    compared = 0
    for post in posts:
        manifest, parsed = parse_post(post, settings)
        stored = {p.id.base: p for p in load_day(settings, manifest.date).papers}
        for item in parsed:
            paper = stored[item.paper.id.base]
            assert paper.categories == item.paper.categories  # ACM and MSC classes kept
            for name in ("translation", "analysis"):
                text = getattr(item.paper, name)
                if text is not None:
                    assert getattr(paper, name).text == text.text, (paper.id, name)
                    compared += 1
    assert compared > 500
    day = load_day(settings, date(2025, 10, 20)).papers
    assert "\n\n2.\n- **" in day[1].analysis.text  # the bare numbering, a line of its own
    assert day[4].categories[-3:] == ["I.2.7", "H.5.5", "68T10"]
    api_error = day[9]  # an API's error message as the 详细解读: a failure, not text
    assert api_error.analysis is None and api_error.failures[0].reason.startswith(
        f'{IMPORTED_ERROR}: {{"error": {{"message": "Rate limit reached')
