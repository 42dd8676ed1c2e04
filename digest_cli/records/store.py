"""YAML records under data/: one file per paper, grouped by day, plus a day manifest.

    data/2026-01-28/manifest.yaml
    data/2026-01-28/2601.19786.yaml
    data/2026-01-28/hep-th_9901001.yaml

Reads go through `reading` (bounded, hidden characters out) and `yamlio` (YAML 1.2 as
ruamel.yaml reads it, with libyaml's C parser where it is sure to agree); nothing parsed
is cached between runs (docs/performance.md). Writes go through
ruamel.yaml's round-trip mode so an editor's comments and layout survive, and through
`Writer`, so they are atomic and skipped when nothing changed.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from digest_cli import kinds
from digest_cli.errors import RecordError
from digest_cli.hygiene import clean_text, short
from digest_cli.records.fields import Fields
from digest_cli.records.model import (
    EDITABLE_FIELDS,
    ArxivId,
    Day,
    Failure,
    LeftOut,
    MachineText,
    Manifest,
    Paper,
    machine_text_hash,
    text_hash,
)
from digest_cli.records.reading import MANIFEST, load_record
from digest_cli.records.sentences import join_lines, split_lines
from digest_cli.records.writer import Writer
from digest_cli.records.yamlio import MissingRecord, load_yaml, loads, pure_loads
from digest_cli.records.yamlio import yaml_object as _yaml

__all__ = ["MANIFEST", "load_yaml", "loads", "pure_loads"]  # read via here

if TYPE_CHECKING:
    from digest_cli.settings import Settings

_TEXT_FIELDS = ("text", "model", "prompt_version", "generated_at", "source", "hash")


def day_dates(settings: Settings) -> list[date]:
    """Every day that has a manifest under data/, oldest first."""
    days = []
    if settings.data_path.is_dir():
        for child in settings.data_path.iterdir():
            if (child / MANIFEST).is_file():
                try:
                    days.append(date.fromisoformat(child.name))
                except ValueError:
                    continue
    return sorted(days)


def load_day(settings: Settings, day: date) -> Day:
    """The manifest of `day` and its papers in post order."""
    folder = settings.day_path(day)
    path = folder / MANIFEST
    if not path.is_file():
        raise RecordError(f"no records for {day.isoformat()} (run `digest fetch --date "
                          f"{day.isoformat()}` or `digest import`)", path=folder)
    manifest = manifest_from_dict(load_record(path), path)
    if manifest.date != day:  # writing it back would rewrite another day's manifest and post
        raise RecordError(f"the manifest's date is {manifest.date}, but it is in the folder "
                          f"of {day} ({settings.day_path(manifest.date)} is that day's): fix "
                          "the date or move the folder", path=path)
    papers = [_listed_paper(folder, pid) for pid in manifest.papers]
    return Day(manifest, papers)


def _listed_paper(folder: Path, paper_id: str) -> Paper:
    path = paper_path(folder, paper_id)
    try:
        return paper_from_dict(load_record(path), path)
    except MissingRecord:  # an editor deleted the record, or a copy missed it
        raise RecordError(f"file not found, but {MANIFEST} lists {paper_id} (restore the "
                          f"record, or take the id out of {MANIFEST})", path=path) from None


def load_paper(path: Path) -> Paper:
    return paper_from_dict(load_record(path), path)


def iter_papers(settings: Settings) -> Iterator[tuple[date, Paper]]:
    """Every paper record under data/ (shown or not), with its day."""
    for day in day_dates(settings):
        for path in sorted(settings.day_path(day).glob("*.yaml")):
            if path.name != MANIFEST:
                yield day, load_paper(path)


def paper_path(folder: Path, paper_id: str | ArxivId) -> Path:
    pid = paper_id if isinstance(paper_id, ArxivId) else ArxivId.parse(str(paper_id))
    return folder / f"{pid.file_stem}.yaml"


def paper_from_dict(data: Any, path: Path) -> Paper:
    f = Fields(data, path, "paper")
    pid = f.arxiv_id("id", f.get("id", (str, int, float), required=True))
    version = f.get("version", int)
    paper = Paper(
        id=ArxivId(pid.base, version or pid.version),
        title=f.required_text("title"),
        authors=f.strings("authors", required=True),
        categories=f.strings("categories", required=True),
        abs_url=f.required_text("abs_url"),
        pdf_url=f.required_text("pdf_url"),
        abstract=join_lines(f.text("abstract") or ""),
        published=f.moment("published"),
        updated=f.moment("updated"),
        comment=f.text("comment"),
        journal_ref=f.text("journal_ref"),
        doi=f.text("doi"),
        failures=[_failure(item, path) for item in f.get("failures", list, default=[])],
        replacement=f.get("replacement", bool, default=False),
        reviewed=f.get("reviewed", bool, default=False),
        arxiv_hashes=_arxiv_hashes(f),
        arxiv_original=_arxiv_original(f),
    )
    for key in REVIEWED:  # who reviewed, when, and what (records/review.py)
        setattr(paper, key, f.text(key))
    for _, text in kinds.fields():
        kinds.set_text(paper, text.name, _machine_text(f, text.name, layout=text.layout))
    if path.suffix == ".yaml" and path.stem != pid.file_stem:
        # Written back, the record would land in (and overwrite) the other paper's file.
        raise RecordError(f"the record's id is {pid.base}, but its file name says "
                          f"{path.stem} ({path.with_name(pid.file_stem + '.yaml')} is "
                          f"{pid.base}'s file): fix the id or rename the file", path=path)
    return paper


def _arxiv_hashes(f: Fields) -> dict[str, str]:
    sub = Fields(f.get("arxiv_hashes", dict, default={}), f.path, "arxiv_hashes")
    return {name: value for name in EDITABLE_FIELDS if (value := sub.text(name)) is not None}


def _arxiv_original(f: Fields) -> dict[str, str | list[str]]:
    sub = Fields(f.get("arxiv_original", dict, default={}), f.path, "arxiv_original")
    found: dict[str, str | list[str]] = {}
    for name in EDITABLE_FIELDS:
        value = sub.strings(name) if name == "authors" else sub.text(name)
        if value and name == "abstract":
            value = join_lines(str(value))  # written a sentence a line, like `abstract`
        if value:
            found[name] = value
    return found


def _machine_text(f: Fields, name: str, layout: bool = False) -> MachineText | None:
    value = f.get(name, (dict, str))
    if value is None:
        return None
    if isinstance(value, str):  # an editor may write the text directly
        return MachineText(text=join_lines(value) if layout else value, source="human")
    sub = Fields(value, f.path, name)
    text = sub.text("text")
    if text is None:
        f.fail(name, "has no 'text'")
    result = MachineText(text=text, **{k: sub.text(k) for k in _TEXT_FIELDS[1:]},
                         aligned=sub.get("aligned", bool, default=True))
    if layout:
        result.text = join_lines(text)
        if result.hash is not None and result.hash == text_hash(text) != machine_text_hash(text):
            result.hash = machine_text_hash(text)  # hashed before line breaks were layout
    return result


def _failure(item: Any, path: Path) -> Failure:
    f = Fields(item, path, "failure")
    return Failure(field=f.required_text("field"), reason=f.required_text("reason"),
                   at=f.text("at"))


def manifest_from_dict(data: Any, path: Path) -> Manifest:
    f = Fields(data, path, "manifest")
    day = f.get("date", (str, date), required=True)
    try:
        day = day if isinstance(day, date) else date.fromisoformat(day)
    except ValueError:
        f.fail("date", f"is not a date (YYYY-MM-DD): {short(day)}")
    window = Fields(f.get("window", dict, required=True), path, "window")
    papers = list(f.get("papers", list, default=[]))
    seen: dict[str, Any] = {}
    for item in papers:  # a bad id is named here, not met as a crash when loading papers
        base = f.arxiv_id("papers", item).base
        if base in seen:  # shown twice, one block would be lost to `digest sync`
            f.fail("papers", f"lists {base} twice ({short(seen[base])} and {short(item)}): "
                             "keep one")
        seen[base] = item
    shown = f.get("shown", int)
    if shown is not None and shown != len(papers):
        f.fail("shown", f"is {shown} but 'papers' lists {len(papers)}")
    left_out = []
    for item in f.get("left_out", list, default=[]):
        lf = Fields(item, path, "left_out")
        left_out.append(LeftOut(id=lf.required_text("id"),
                                reason=lf.required_text("reason"),
                                title=lf.text("title") or ""))
    return Manifest(
        date=day,
        window_start=window.required_moment("start"),
        window_end=window.required_moment("end"),
        fetched=f.get("fetched", int, required=True),
        papers=papers,
        left_out=left_out,
        usage=copy.deepcopy(f.get("usage", dict, default={})),
        rendered=copy.deepcopy(f.get("rendered", dict, default={})),
    )


# -- writing ---------------------------------------------------------------------------

def _block(text: str, layout: bool = False) -> Any:  # a ruamel str, carrying its style
    """Long text as a `|` block scalar, cleaned first so the file always loads back;
    `layout`: a sentence a line."""
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString

    text = clean_text(text)
    text = split_lines(text) if layout else text
    if text.startswith("\t"):  # ruamel writes no indentation indicator: it would not load
        return DoubleQuotedScalarString(text)
    return LiteralScalarString(text)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def paper_to_dict(paper: Paper) -> dict[str, Any]:
    """The record's fields in file order."""
    data: dict[str, Any] = {
        "id": paper.id.base,
        "version": paper.id.version,
        "title": clean_text(paper.title),
        "authors": [clean_text(a) for a in paper.authors],
        "categories": list(paper.categories),
        "abs_url": paper.abs_url,
        "pdf_url": paper.pdf_url,
        "published": _iso(paper.published),
        "updated": _iso(paper.updated),
        "comment": clean_text(paper.comment) if paper.comment else None,
        "journal_ref": clean_text(paper.journal_ref) if paper.journal_ref else None,
        "doi": paper.doi,
        "replacement": paper.replacement,
        "reviewed": paper.reviewed,
        "abstract": _block(paper.abstract, layout=True),
        **{text.name: _text_to_dict(kinds.get_text(paper, text.name), text.layout)
           for kind, text in kinds.fields() if kind.always_stored},
        "failures": [{"field": x.field, "reason": clean_text(x.reason), "at": x.at}
                     for x in paper.failures],
    }
    # The other texts (the brief's, a registered kind's) appear once there is one, so
    # older records stay as they are.
    for kind, text in kinds.fields():
        value = kinds.get_text(paper, text.name)
        if value is not None and not kind.always_stored:
            data[text.name] = _text_to_dict(value, text.layout)
    data["failures"] = data.pop("failures")  # after every text
    if paper.arxiv_hashes:
        data["arxiv_hashes"] = {k: paper.arxiv_hashes[k] for k in EDITABLE_FIELDS
                                if k in paper.arxiv_hashes}
    # Bookkeeping last: arXiv's fingerprints and values, who reviewed and when.
    original = _original_to_dict(paper)
    if original:
        data["arxiv_original"] = original
    return _placed(data | {k: clean_text(v) for k in REVIEWED if (v := getattr(paper, k))})


# A text written beside the key it goes with rather than among the texts: the Chinese
# title under the title, where a reviewer reads them together.
_PLACES = {"title_zh": "title"}


def _placed(data: dict[str, Any]) -> dict[str, Any]:
    """`data` with each key of `_PLACES` moved after its key."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if _PLACES.get(key) not in data:
            out[key] = value
        out.update({k: data[k] for k, after in _PLACES.items() if after == key and k in data})
    return out


def _original_to_dict(paper: Paper) -> dict[str, Any]:
    """arXiv's values that differ from the record's (an editor's correction stands)."""
    out: dict[str, Any] = {}
    for name in EDITABLE_FIELDS:
        value = paper.arxiv_original.get(name)
        if value and value != getattr(paper, name):
            if isinstance(value, list):
                out[name] = [clean_text(a) for a in value]
            else:
                out[name] = _block(value, layout=True) if name == "abstract" else clean_text(value)
    return out


# Keys that come and go with their content: absent from a new version, they leave the file
# (other unknown top-level keys are an editor's and stay).
_OPTIONAL_KEYS = ("arxiv_hashes", "arxiv_original", *(REVIEWED := Paper.REVIEW_KEYS))


def _text_to_dict(value: MachineText | None,
                  layout: bool = False) -> dict[str, Any] | None:
    if value is None:
        return None
    out: dict[str, Any] = {"text": _block(value.text, layout)}
    for name in _TEXT_FIELDS[1:]:
        out[name] = getattr(value, name)
    if not value.aligned:  # written only when not: older records stay as they are
        out["aligned"] = False
    return out


def manifest_to_dict(manifest: Manifest) -> dict[str, Any]:
    return {
        "date": manifest.date.isoformat(),
        "window": {"start": _iso(manifest.window_start), "end": _iso(manifest.window_end)},
        "fetched": manifest.fetched,
        "shown": manifest.shown,
        "papers": list(manifest.papers),
        "left_out": [{"id": x.id, "reason": x.reason, "title": clean_text(x.title)}
                     for x in manifest.left_out],
        "usage": manifest.usage,
        "rendered": manifest.rendered,
    }


def dump_yaml(data: Any, path: Path | None = None) -> str:
    """Merge `data` into the file at `path` (keeping comments and layout) and return the text."""
    yaml = _yaml("rt")
    doc = data
    if path is not None and path.is_file():
        old = load_yaml(path, typ="rt")
        if isinstance(old, dict):
            doc = _merge(old, data)
    stream = io.StringIO()
    yaml.dump(doc, stream)
    return stream.getvalue()


def _merge(old: Any, new: Any, top: bool = True) -> Any:
    """Update `old` in place with `new`, keeping nodes (and their comments) that are equal.

    A top-level key the schema does not know (an editor's `note:`) is kept: it is the
    editor's. Below the top, keys follow `new` (`usage`, `rendered` and the like are
    replaced whole).
    """
    if isinstance(old, dict) and isinstance(new, dict):
        for key in [k for k in old if k not in new and (not top or k in _OPTIONAL_KEYS)]:
            del old[key]
        for n, (key, value) in enumerate(new.items()):
            if key in old:
                old[key] = _merge(old[key], value, top=False)
            elif top and n and hasattr(old, "insert"):  # a new key (a text written later)
                old.insert(_position(old, list(new)[:n]), key, value)  # goes where `new` has it
            else:
                old[key] = value
        return old
    if _plain(old) == _plain(new):
        return old
    return new


def _position(old: Any, before: list[str]) -> int:
    """Where a new key goes in `old`: after the last of the keys `before` it that `old` has
    (the existing keys keep their order)."""
    keys = list(old)
    present = [keys.index(k) for k in before if k in old]
    if not present:
        return len(keys)
    # The comment lines under a key are its own in ruamel: a key put after one that has
    # them would take them over, so it goes at the end instead (nothing an editor wrote moves).
    token = old.ca.items.get(keys[max(present)], [None] * 3)[2] if hasattr(old, "ca") else None
    below = getattr(token, "value", "").partition("\n")[2]
    return len(keys) if "#" in below else max(present) + 1


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def write_paper(folder: Path, paper: Paper, writer: Writer) -> bool:
    path = paper_path(folder, paper.id)
    return writer.write(path, dump_yaml(paper_to_dict(paper), path))


def write_manifest(folder: Path, manifest: Manifest, writer: Writer) -> bool:
    path = folder / MANIFEST
    return writer.write(path, dump_yaml(manifest_to_dict(manifest), path))


def write_day(settings: Settings, day: Day, writer: Writer) -> None:
    """Write every paper, then the manifest (last: a day is complete once it names them)."""
    folder = settings.day_path(day.manifest.date)
    for paper in day.papers:
        write_paper(folder, paper, writer)
    write_manifest(folder, day.manifest, writer)
