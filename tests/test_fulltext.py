"""Full text for the 详细解读: PDF download, pypdf extraction, references, token budget."""

from __future__ import annotations

import pytest

from digest_cli.cachefile import read_entry
from digest_cli.records.model import ArxivId
from digest_cli.records.store import load_day
from digest_cli.settings import load_settings
from digest_cli.translate.day import translate_day
from digest_cli.translate.fulltext import (
    OMITTED,
    cache_paths,
    drop_references,
    extract_text,
    full_text,
    pdf_url,
    split_sections,
    trim_to_budget,
)
from digest_cli.translate.llm import approx_tokens
from tests.fakes._base import Response
from tests.fakes.llm_server import FakeLLM
from tests.fakes.pdf_server import FakePDFs, make_pdf, paper_pdf
from tests.fakes.translate_kit import DAY, by_model, paper_id, settings_for
from tests.fakes.translate_kit import write_day as write_kit_day

PID = ArxivId("2601.19786", 2)
SECTIONS = {"Introduction": 30, "Related Work": 40, "Method": 40, "Experiments": 40,
            "Conclusion": 10, "Acknowledgements": 5}


@pytest.fixture
def pdfs():
    with FakePDFs({"2601.19786v2": paper_pdf("Accent tokens (a study)", SECTIONS)}) as server:
        yield server


def settings(root, pdfs, **env):
    environ = {"DIGEST_PDF_URL_TEMPLATE": pdfs.template, "DIGEST_PDF_TIMEOUT": "2"}
    environ.update({f"DIGEST_{k.upper()}": str(v) for k, v in env.items()})
    return load_settings(root, environ=environ)


def test_a_hand_made_pdf_is_read_by_pypdf():
    data = make_pdf([["First page (with parens) and a \\ backslash"] + ["filler line"] * 60,
                     ["Second page"]])
    text = extract_text(data)
    assert "First page (with parens) and a \\ backslash" in text
    assert text.index("First page") < text.index("Second page")


def test_broken_or_empty_pdfs_give_none():
    assert extract_text(b"%PDF-1.4\nnot really a pdf") is None
    assert extract_text(make_pdf([["too short"]])) is None


def test_references_are_dropped_but_a_mention_early_on_is_not_a_cut():
    text = ("References\nto prior art appear here.\n" + "Body sentence.\n" * 100
            + "6. REFERENCES\n[1] A. Author, A paper, 2024.\n")
    kept = drop_references(text)
    assert kept.startswith("References\nto prior art")
    assert "[1] A. Author" not in kept and kept.endswith("Body sentence.")


def test_sections_are_found_in_extracted_text():
    text = drop_references(extract_text(paper_pdf("T", SECTIONS)))
    titles = [s.title for s in split_sections(text)]
    assert titles == ["front", "Abstract", *SECTIONS]


def test_text_within_budget_is_untouched():
    text = "Intro.\n" * 50
    assert trim_to_budget(text, 10_000) == text


def test_over_budget_keeps_introduction_method_and_conclusion_first():
    text = drop_references(extract_text(paper_pdf("T", SECTIONS)))
    trimmed = trim_to_budget(text, 1200)
    assert approx_tokens(trimmed) <= 1200 + 20  # plus the titles of omitted sections
    assert "sentence 29 of the introduction section" in trimmed
    assert "sentence 9 of the conclusion section" in trimmed
    assert "sentence 0 of the method section" in trimmed
    assert "Related Work\n" + OMITTED in trimmed
    assert "of the acknowledgements section" not in trimmed
    order = [trimmed.index(t) for t in ("1 Introduction", "Related Work", "Method", "Conclusion")]
    assert order == sorted(order)


def test_text_without_headings_keeps_its_start_and_end():
    text = "\n".join(f"line {i} of a paper without headings." for i in range(400))
    trimmed = trim_to_budget(text, 300)
    assert trimmed.startswith("line 0 ") and trimmed.endswith("line 399 of a paper without headings.")
    assert OMITTED in trimmed and approx_tokens(trimmed) <= 310


def test_pdf_url_fills_the_template(tmp_path, pdfs):
    assert pdf_url(settings(tmp_path, pdfs), PID) == pdfs.url + "/pdf/2601.19786v2"


def test_full_text_is_downloaded_once_and_cached(tmp_path, pdfs):
    s = settings(tmp_path, pdfs)
    first = full_text(s, PID)
    assert "sentence 3 of the method section" in first
    assert "Some cited paper" not in first  # references dropped
    assert full_text(s, PID) == first
    assert pdfs.hits == {"2601.19786v2": 1}
    pdf, txt = cache_paths(s, PID)
    kept = read_entry(pdf, pdf.name, 1 << 30)  # a verified cache entry (cachefile)
    assert kept is not None and kept.startswith(b"%PDF") and txt.is_file()


def test_full_text_respects_the_budget(tmp_path, pdfs):
    text = full_text(settings(tmp_path, pdfs, fulltext_token_budget=500), PID)
    assert approx_tokens(text) <= 520


@pytest.mark.parametrize("fault", ["missing", "503", "not a pdf"])
def test_unavailable_full_text_gives_none(tmp_path, pdfs, fault):
    pid = PID
    if fault == "missing":
        pid = ArxivId("2601.00001", 1)
    elif fault == "503":
        pdfs.fail_next(503)
    else:
        pdfs.pdfs["2601.19786v2"] = b"<html>captcha</html>"
    assert full_text(settings(tmp_path, pdfs), pid) is None
    assert not cache_paths(settings(tmp_path, pdfs), pid)[1].exists()  # asked again next run


def test_unreachable_server_gives_none(tmp_path):
    s = load_settings(tmp_path, environ={"DIGEST_PDF_URL_TEMPLATE": "http://127.0.0.1:9/{id}",
                                         "DIGEST_PDF_TIMEOUT": "2"})
    assert full_text(s, PID) is None


class CutPDFs(FakePDFs):
    """Sends the headers of a whole PDF, then only its first 500 bytes."""

    def handle(self, req):
        return Response(200, paper_pdf("T", {"Introduction": 40}),
                        {"Content-Type": "application/pdf"}, cut_after=500)


def test_a_pdf_download_cut_short_falls_back_to_the_abstract(tmp_path):
    # http.client.IncompleteRead is no OSError: it escaped as a traceback.
    write_kit_day(tmp_path, 1)
    with FakeLLM(api_key="sk-test", responder=by_model()) as llm, CutPDFs() as pdfs:
        settings = settings_for(tmp_path, llm, pdfs)
        report = translate_day(settings, DAY)
    assert report.done == [paper_id(0)] and report.failed == []
    assert load_day(settings, DAY).papers[0].analysis.source == "abstract"
