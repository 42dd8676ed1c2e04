"""Typed access to a loaded record mapping: every problem names the file and the field."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any, NoReturn

from digest_cli.errors import RecordError
from digest_cli.hygiene import short
from digest_cli.records.model import ArxivId


class Fields:
    """Typed access to a loaded mapping; every problem names the file and the field."""

    def __init__(self, data: Any, path: Path, what: str) -> None:
        if not isinstance(data, dict):
            raise RecordError(f"expected a mapping of {what} fields, got "
                              f"{type(data).__name__}", path=path)
        self.data, self.path = data, path

    def fail(self, name: str, problem: str) -> NoReturn:
        raise RecordError(f"field {short(name)} {problem}", path=self.path)

    def get(self, name: str, kind: type | tuple[type, ...], required: bool = False,
            default: Any = None) -> Any:
        value = self.data.get(name)
        if value is None:
            if required:
                self.fail(name, "is missing")
            return default
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(
                k.__name__ for k in kind)
            self.fail(name, f"should be {names}, got {type(value).__name__} {short(value)}")
        return value

    def text(self, name: str, required: bool = False) -> str | None:
        value = self.data.get(name)
        if type(value) is str:  # nearly every field: spare the checks (a bulk read's hot path)
            return value
        value = self.get(name, (str, int, float), required)
        return None if value is None else str(value)

    def required_text(self, name: str) -> str:
        return str(self.get(name, (str, int, float), required=True))

    def arxiv_id(self, name: str, value: Any) -> ArxivId:
        """An id as written: a YAML number (`2601.10100` reads as 2601.101) loses digits."""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            self.fail(name, f"holds {short(value)}, which YAML reads as a number: quote the id "
                            "(e.g. '2601.10100') so no digit is lost")
        if not isinstance(value, str):
            self.fail(name, f"should hold arXiv ids, got {type(value).__name__} {short(value)}")
        try:
            return ArxivId.parse(value)
        except ValueError as exc:
            self.fail(name, str(exc))

    def strings(self, name: str, required: bool = False) -> list[str]:
        value = self.get(name, list, required, default=[])
        if required and not value:
            self.fail(name, "is empty")
        if not all(isinstance(item, str) for item in value):
            self.fail(name, "should be a list of strings")
        return list(value)

    def moment(self, name: str, required: bool = False) -> datetime | None:
        value = self.get(name, (str, datetime, date), required)
        if value is None:
            return None
        moment = value if isinstance(value, datetime) else None
        try:
            moment = moment or datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            self.fail(name, f"is not a date and time (YYYY-MM-DDTHH:MM:SS+00:00): {short(value)}")
        if moment.tzinfo is None:  # read as the machine's local time: wrong on another one
            self.fail(name, f"has no UTC offset: {short(str(value))} (write e.g. "
                            "2026-01-27T08:50:00+08:00)")
        return moment

    def required_moment(self, name: str) -> datetime:
        moment = self.moment(name, required=True)
        assert moment is not None  # `moment` fails on a missing required field
        return moment
