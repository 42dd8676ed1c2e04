"""Damaged caches (issue 20.5): every cache entry is verified on load, with bounded
lengths, so a damaged entry is a miss (fetched or asked again), never a crash or other
text."""

from __future__ import annotations

import os
import random
from datetime import datetime, timezone

import pytest

from digest_cli.cachefile import read_entry, seal, unseal, write_entry
from digest_cli.records.model import ArxivId

PAYLOAD = "Matthew Wiesner, 语音翻译 — a cached answer\n".encode() * 20


def mutations(data: bytes, count: int, seed: int = 20):
    """`count` damaged copies: a byte changed, bytes cut, a byte added or dropped."""
    rng = random.Random(seed)
    for _ in range(count):
        at = rng.randrange(len(data))
        kind = rng.randrange(4)
        if kind == 0:
            yield data[:at] + bytes([(data[at] + rng.randrange(1, 256)) % 256]) + data[at + 1:]
        elif kind == 1:
            yield data[:at]
        elif kind == 2:
            yield data[:at] + bytes([rng.randrange(256)]) + data[at:]
        else:
            yield data[:at] + data[at + 1:]


def test_an_entry_reads_back_only_for_its_key():
    data = seal("key", PAYLOAD)
    assert unseal("key", data, len(PAYLOAD)) == PAYLOAD
    assert unseal("other key", data, len(PAYLOAD)) is None
    assert unseal("key", data, len(PAYLOAD) - 1) is None  # over the caller's bound


def test_no_damaged_entry_gives_other_bytes():
    """The issue's test of the parse cache (400 random mutations, 8 gave other text),
    on the entry format every cache uses now: each is a miss."""
    data = seal("key", PAYLOAD)
    for damaged in mutations(data, 400):
        assert unseal("key", damaged, 1 << 20) in (None, PAYLOAD)
        if damaged != data:
            assert unseal("key", damaged, 1 << 20) is None


@pytest.mark.parametrize("data", [b"", b"\n", b"digest-cache 1 ", b"digest-cache 1 268435456 x\n",
                                  b"digest-cache 1 -1 00\nx", b"digest-cache 1 5 zz\nhello",
                                  b"\x00" * 100, b"<feed>an old, unsealed entry</feed>"])
def test_malformed_entries_are_misses(data):
    assert unseal("key", data, 1 << 20) is None


def test_a_giant_a_link_or_a_fifo_is_a_miss_read_within_its_bound(tmp_path):
    path = tmp_path / "entry"
    write_entry(path, "key", PAYLOAD)
    assert read_entry(path, "key", len(PAYLOAD)) == PAYLOAD
    assert read_entry(path, "key", len(PAYLOAD) - 1) is None  # not read past the bound
    link = tmp_path / "link"
    link.symlink_to(path)
    assert read_entry(link, "key", 1 << 20) is None
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert read_entry(fifo, "key", 1 << 20) is None  # not waited on
    assert read_entry(tmp_path / "absent", "key", 1 << 20) is None


# -- each cache that stays --------------------------------------------------------------

def test_a_damaged_arxiv_answer_is_a_miss(tmp_path):
    from digest_cli.fetch.client import ResponseCache

    now = datetime(2026, 1, 28, tzinfo=timezone.utc)
    cache = ResponseCache(tmp_path, ttl=3600, now=now)
    url = "http://127.0.0.1:9/api/query?search_query=cat:eess.AS"
    cache.put(url, b"<feed>the page</feed>")
    assert cache.get(url) == b"<feed>the page</feed>"
    path = cache.path(url)
    stat = path.stat()
    path.write_bytes(path.read_bytes().replace(b"page", b"pagf"))
    os.utime(path, (stat.st_atime, stat.st_mtime))  # as fresh as before
    assert cache.get(url) is None


def test_a_damaged_llm_answer_is_a_miss(tmp_path):
    from digest_cli.translate.day import AnswerCache
    from digest_cli.translate.prompts import load_prompt

    cache = AnswerCache(tmp_path)
    prompt = load_prompt("translation")
    path = cache.path(ArxivId.parse("2601.19786v1"), "translation", "m", prompt,
                      [{"role": "user", "content": "q"}])
    cache.put(path, "马修的译文", "m", prompt)
    assert cache.get(path) == "马修的译文"
    raw = path.read_bytes()
    for damaged in mutations(raw, 50, seed=3):
        path.write_bytes(damaged)
        assert cache.get(path) in (None, "马修的译文")
        if damaged != raw:
            assert cache.get(path) is None
    other = path.with_name("0" * 20 + ".json")  # an entry copied under another question
    other.write_bytes(raw)
    assert cache.get(other) is None


def test_a_damaged_pdf_text_is_extracted_again(tmp_path, monkeypatch):
    from digest_cli.settings import load_settings
    from digest_cli.translate import fulltext

    settings = load_settings(tmp_path, environ={}, overrides={})
    pid = ArxivId.parse("2601.19786v1")
    pdf, txt = fulltext.cache_paths(settings, pid)
    write_entry(txt, txt.name, b"the extracted text")
    assert fulltext._cached_text(settings, pid) == "the extracted text"
    txt.write_bytes(txt.read_bytes().replace(b"extracted", b"extracteD"))
    downloads: list[ArxivId] = []
    monkeypatch.setattr(fulltext, "_download", lambda s, p: downloads.append(p) or None)
    assert fulltext._cached_text(settings, pid) is None  # no PDF to be had: no text
    assert downloads == [pid]  # the damaged text was not used; a download was tried


def test_no_parse_cache_is_written(rendered_site):
    """The parse cache is gone (issue 18.4): nothing under .digest-cache/records."""
    from tests.clikit import run_cli

    assert run_cli(rendered_site, "check", "--all", "--no-annotations").exit_code == 0
    assert not (rendered_site / ".digest-cache" / "records").exists()


def test_answers_are_cached_without_an_fsync_each_while_records_stay_durable(tmp_path,
                                                                              monkeypatch):
    # 800 papers wrote 2,400 answers with an fsync each: 16.6 s of a one-job day. A torn
    # answer is a verified miss (asked again); a record is the source of truth.
    from digest_cli.translate.day import translate_day
    from tests.fakes.llm_server import FakeLLM
    from tests.fakes.translate_kit import DAY, by_model, settings_for, write_day

    write_day(tmp_path, 3)
    synced: list[str] = []

    def fsync(fd: int) -> None:  # which file: the temp file beside its target
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", fsync)
    with FakeLLM(api_key="sk-test", responder=by_model()) as llm:
        report = translate_day(settings_for(tmp_path, llm), DAY)
    assert len(report.done) == 3
    answers = list((tmp_path / ".digest-cache").rglob("*.json"))
    assert len(answers) == 9  # translation, 详细解读 and brief of each paper
    assert not [p for p in synced if ".digest-cache" in p]
    assert len([p for p in synced if "/data/" in p and ".yaml." in p]) >= 3  # each record
