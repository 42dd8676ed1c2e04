"""The layout of data/ for the other stages: which days exist, which files of a day are paper
records, and records read from somewhere other than the working tree (a git blob).

Only `records` knows that a day is a folder named by its date holding `manifest.yaml` and one
YAML file per paper named by the paper's id; the other stages ask here.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from digest_cli.hygiene import short
from digest_cli.records.model import ArxivId, Manifest, Paper
from digest_cli.records.reading import MANIFEST, load_record, record_from_text
from digest_cli.records.store import day_dates, manifest_from_dict, paper_from_dict

if TYPE_CHECKING:
    from digest_cli.settings import Settings

log = logging.getLogger(__name__)

__all__ = ["MANIFEST", "day_dates", "has_day", "is_record_name", "latest_day", "left_out_stems",
           "left_out_stems_in", "load_manifest", "manifest_path", "paper_from_text",
           "record_files", "stem_path"]


def latest_day(settings: Settings) -> date | None:
    """The newest day that has records, or None."""
    days = day_dates(settings)
    return days[-1] if days else None


def manifest_path(settings: Settings, day: date) -> Path:
    """The manifest file of `day`."""
    return settings.day_path(day) / MANIFEST


def has_day(settings: Settings, day: date) -> bool:
    """True when `day` has records: a run that finished writing them left its manifest."""
    return manifest_path(settings, day).is_file()


def is_record_name(name: str) -> bool:
    """True for the file name of a paper record (a YAML file that is not the manifest)."""
    return name.endswith(".yaml") and Path(name).name != MANIFEST


def record_files(folder: Path) -> list[Path]:
    """The paper record files of a day's folder, sorted by name."""
    return sorted(p for p in folder.glob("*.yaml") if is_record_name(p.name))


def stem_path(settings: Settings, day: date, stem: str) -> Path:
    """The record file of `day` for a paper's file stem (`ArxivId.file_stem`)."""
    return settings.day_path(day) / f"{stem}.yaml"


def load_manifest(settings: Settings, day: date) -> Manifest:
    """The manifest of `day` alone, without its papers."""
    path = manifest_path(settings, day)
    return manifest_from_dict(load_record(path), path)


def paper_from_text(text: str, where: Path) -> Paper:
    """A paper record from its YAML text (e.g. a git blob); `where` names it in errors."""
    return paper_from_dict(record_from_text(text, where), where)


def left_out_stems(settings: Settings, day: date) -> list[str]:
    """The file stems of the papers the manifest of `day` leaves out (empty without one)."""
    path = manifest_path(settings, day)
    if not path.is_file():
        return []
    return _left_out_stems(load_record(path), path)


def left_out_stems_in(text: str, where: Path) -> list[str]:
    """The same for a manifest's YAML text (e.g. a git blob)."""
    return _left_out_stems(record_from_text(text, where), where)


def _left_out_stems(data: Any, where: Path) -> list[str]:
    stems = []
    for item in ((data or {}).get("left_out") or []) if isinstance(data, dict) else []:
        try:
            stems.append(ArxivId.parse(str(item["id"])).file_stem)
        except (KeyError, TypeError, ValueError):
            log.warning("%s: a left_out item without a valid id: %s", where, short(item))
    return stems
