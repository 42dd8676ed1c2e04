"""A setting's value: turned from text into its type, and checked against its bounds
(`settings.py` layers the sources; this is what it does with each value)."""

from __future__ import annotations

import dataclasses
import math
from datetime import date, time
from pathlib import Path
from typing import Any

from digest_cli.errors import SettingsError
from digest_cli.hygiene import short

# Upper bounds: past them a value is a typo, and some would overflow deep in a stage
# (`DIGEST_LOOKBACK_DAYS=100000000`: an OverflowError in date arithmetic).
_DAY = 86_400.0
AT_MOST: dict[str, float] = {
    "max_papers": 10_000, "lookback_days": 3_660, "arxiv_page_size": 2_000,
    "arxiv_delay": 3_600, "arxiv_timeout": _DAY, "arxiv_retries": 100,
    "arxiv_cache_ttl": 366 * _DAY, "llm_temperature": 2, "llm_concurrency": 256,
    "llm_timeout": _DAY, "llm_retries": 100, "llm_repair_attempts": 20,
    "llm_backoff": 3_600, "price_input_per_mtok": 10_000, "price_output_per_mtok": 10_000,
    "fulltext_token_budget": 10_000_000, "pdf_timeout": _DAY, "pdf_concurrency": 64,
    "github_timeout": _DAY, "github_retries": 100, "github_retry_delay": 3_600,
}


def bound_text(f: dataclasses.Field[Any]) -> str:
    """A number setting's bounds in words ("at least 1, at most 3,660"), or "" if none."""
    low = ""
    if f.metadata.get("above") is not None:
        low = f"more than {f.metadata['above']:g}"
    elif f.metadata.get("at_least") is not None:
        low = f"at least {f.metadata['at_least']:g}"
    high = f"at most {AT_MOST[f.name]:,g}" if f.name in AT_MOST else ""
    return ", ".join(part for part in (low, high) if part)


def check_bound(f: dataclasses.Field[Any], value: Any) -> None:
    """A number is finite and not below its bound: a timeout of -1 s, or of `nan`, would
    make every request fail (and be retried), a concurrency of 0 would hang."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    if not math.isfinite(value):
        raise SettingsError(f"setting {f.name!r}: {value!r} is not a finite number")
    above, at_least = f.metadata.get("above"), f.metadata.get("at_least")
    at_most = AT_MOST.get(f.name)
    if (above is not None and value <= above) or (at_least is not None and value < at_least) \
            or (at_most is not None and value > at_most):
        raise SettingsError(f"setting {f.name!r}: {short(value)} is out of range (it must "
                            f"be {bound_text(f)})")



def _whole_number(value: Any) -> int:
    """An int from TOML, the environment or a flag; anything else is a one-line error."""
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValueError(f"expected a whole number, got {short(value)}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"expected a whole number, got {short(value)}")
        return int(value)
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, str) and not (text.lstrip("+-").isdigit() and len(text) <= 4000):
        raise ValueError(f"expected a whole number, got {short(value)}")
    try:
        return int(text)
    except (TypeError, ValueError):
        raise ValueError(f"expected a whole number, got {short(value)}") from None


def convert(value: Any, default: Any, name: str) -> Any:
    """`value` (TOML, an environment variable or a flag) as the type of `default`;
    ValueError or TypeError says what is wrong."""
    if isinstance(default, Path):
        return Path(value)
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"expected true or false, got {value!r}")
    if isinstance(default, int):
        return _whole_number(value)
    if isinstance(default, float):
        if isinstance(value, bool):
            raise ValueError(f"expected a number, got {short(value)}")
        try:
            return float(value.strip() if isinstance(value, str) else value)
        except (TypeError, ValueError):
            raise ValueError(f"expected a number, got {short(value)}") from None
    if isinstance(default, time):
        if isinstance(value, time):
            return value
        return time.fromisoformat(str(value).strip())
    if isinstance(default, list):
        items = value if isinstance(value, (list, tuple)) else str(value).split(",")
        items = [item.strip() if isinstance(item, str) else item for item in items]
        items = [item for item in items if item != ""]
        if name == "holidays":
            return [item if isinstance(item, date) else date.fromisoformat(item)
                    for item in items]
        return [str(item) for item in items]
    if isinstance(default, str):
        if not isinstance(value, str):
            raise ValueError(f"expected text, got {value!r}")
        return value
    return value
