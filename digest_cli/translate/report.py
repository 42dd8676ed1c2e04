"""What a `digest translate` run did: the report the CLI prints and `digest run` reads,
and the LLM spending it adds to the day manifest."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from digest_cli import kinds
from digest_cli.records.layout import load_manifest
from digest_cli.records.store import write_manifest
from digest_cli.records.writer import Writer

if TYPE_CHECKING:
    from digest_cli.settings import Settings
    from digest_cli.translate.llm import LLM


@dataclass
class TranslateReport:
    """What a run did: plain data for the CLI's summary and for `digest run`."""

    day: date
    papers: int = 0
    done: list[str] = field(default_factory=list)
    failed: list[tuple[str, str, str]] = field(default_factory=list)  # (id, field, reason)
    skipped: int = 0
    cached: int = 0
    usage: dict[str, Any] = field(default_factory=dict)
    wall_seconds: float = 0.0
    unchanged: list[str] = field(default_factory=list)  # answered, record left as it was

    @property
    def repeated(self) -> set[str]:
        """Failed papers whose record already said so: they failed as on the last run
        (same texts, same reasons), and nothing about them was written."""
        return {pid for pid, _, _ in self.failed} & set(self.unchanged)

    @property
    def changed_any(self) -> bool:
        """Whether the run wrote some paper's record (a paper whose save failed counts:
        the run did not leave it as it was)."""
        answered = set(self.done) | {pid for pid, _, _ in self.failed}
        return bool(answered - set(self.unchanged))

    @property
    def nothing_translated(self) -> bool:
        """Papers needed a translation or 详细解读 and not one got them: the run failed,
        whatever was written. A failed brief alone does not count: the post is whole
        without it. A re-run whose papers all failed as recorded before learned nothing
        new and changed nothing: not a failure of its own."""
        essential = {f for k in kinds.kinds() if k.essential for f in k.field_names}
        text_failed = {pid for pid, name, _ in self.failed if name in essential}
        worked_on = set(self.done) | {pid for pid, _, _ in self.failed}
        return bool(text_failed - self.repeated) and text_failed == worked_on

    def summary_lines(self) -> list[str]:
        """The closing summary a command prints."""
        failed_papers = len({pid for pid, _, _ in self.failed})
        lines = [(f"translate {self.day.isoformat()}: {len(self.done)} papers done, "
                  f"{failed_papers} failed, {self.skipped} skipped (nothing to do); "
                  f"{self.cached} answers from the cache")]
        u = self.usage
        if u.get("calls"):
            lines.append(f"LLM: {u['calls']} requests, {u['input_tokens']:,} tokens in, "
                         f"{u['output_tokens']:,} out, cost ≈ ${u['cost']:.4f}; "
                         f"{u['retries']} retries, {u['rate_limited']} rate limited")
        lines.append(f"wall time {self.wall_seconds:.1f} s")
        lines += [f"failed: {pid} {name}: {reason}" for pid, name, reason in self.failed]
        if self.repeated:
            lines.append(f"{len(self.repeated)} of the failed papers failed as their records "
                         "already say (same reasons): nothing new to write")
        return lines



def usage_summary(llm: LLM, settings: Settings, wall_seconds: float) -> dict[str, Any]:
    """Requests, tokens, cost and time of a run, as stored in the manifest."""
    u = llm.usage
    analysis = u.by_kind.get("analysis", {})
    short = u.by_kind.get(kinds.BRIEF.name, {})
    return {"calls": u.calls, "input_tokens": u.total("input_tokens"),
            "output_tokens": u.total("output_tokens"),
            "analysis_input_tokens": analysis.get("input_tokens", 0),
            "brief_input_tokens": short.get("input_tokens", 0),
            "brief_output_tokens": short.get("output_tokens", 0),
            "cost": round(u.cost(settings), 6), "retries": u.retries,
            "rate_limited": u.rate_limited, "lowest_concurrency": llm.limiter.lowest,
            "wall_seconds": round(wall_seconds, 1)}


_SUMMED = ("calls", "input_tokens", "output_tokens", "analysis_input_tokens",
           "brief_input_tokens", "brief_output_tokens", "cost", "wall_seconds")


def record_usage(settings: Settings, day_date: date, usage: dict[str, Any]) -> None:
    """Add a run's spending to the day manifest's `usage.translate` (totals over runs)."""
    manifest = load_manifest(settings, day_date)
    old = manifest.usage.get("translate") or {}
    manifest.usage["translate"] = {name: _add(old.get(name, 0), usage.get(name, 0))
                                   for name in _SUMMED}
    write_manifest(settings.day_path(day_date), manifest, Writer())


def _add(old: float, new: float) -> float:
    return round(float(old) + new, 6) if isinstance(new, float) else int(old) + new
