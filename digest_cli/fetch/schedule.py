"""arXiv's announcement calendar, and which daily post each announcement belongs to.

Pure functions, no I/O. The model follows arXiv's published schedule
(https://info.arxiv.org/help/availability.html):

* Submission cut-offs are at 14:00 US/Eastern, Monday to Friday.
* Announcements are at 20:00 US/Eastern, Sunday to Thursday evenings. The papers of
  the Monday..Thursday cut-offs are announced that same evening; the papers of the
  Friday cut-off (Thursday 14:00 to Friday 14:00) are announced on Sunday evening, and
  Friday 14:00 to Monday 14:00 goes out on Monday evening.
* An evening listed as a holiday has no announcement: its papers roll to the next
  announcement evening, whose submission window then spans several cut-offs.

A submission at exactly 14:00:00 ET counts as before the cut-off, so that every interval
here is half-open the same way, (start, end].

A post dated D covers the announcements in (D-1 at anchor, D at anchor] in `zone`
(08:50 Asia/Shanghai by default). As 20:00 ET is 08:00 Beijing time under EDT but 09:00
under EST, the same weekday's announcement lands in a different post in summer and winter.

Datetimes returned are timezone-aware, in UTC, except `window_for`, which returns them in
`zone` so that they print naturally.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

__all__ = [
    "ANNOUNCE_TIME",
    "ARXIV_HOLIDAYS_2025",
    "ARXIV_HOLIDAYS_2026",
    "CUTOFF_TIME",
    "DEFAULT_ANCHOR",
    "DEFAULT_HOLIDAYS",
    "DEFAULT_ZONE",
    "ET",
    "announcement_time",
    "announcements_between",
    "has_announcement",
    "latest_closed_window",
    "lookback_start",
    "next_announcement",
    "post_date_for",
    "submission_window",
    "window_for",
]

ET = ZoneInfo("America/New_York")
UTC = timezone.utc

CUTOFF_TIME = time(14, 0)  # ET, Monday..Friday
ANNOUNCE_TIME = time(20, 0)  # ET, Sunday..Thursday
DEFAULT_ANCHOR = time(8, 50)
DEFAULT_ZONE = "Asia/Shanghai"

# Dates on whose evening arXiv makes no announcement (the date is read in ET).
# Source: the "On Deferred Mailings" section of arXiv's availability page
# (arXiv/arxiv-docs, source/help/availability.md), which lists each year's holidays.
# arXiv publishes the list piecemeal and also defers mailings ad hoc (see
# https://status.arxiv.org), so treat these as defaults: callers pass their own
# `holidays`, and the settings layer lets users extend the list.
ARXIV_HOLIDAYS_2025: tuple[date, ...] = (
    date(2025, 1, 1),  # New Year's Day
    date(2025, 1, 20),  # Martin Luther King Jr. Day
    date(2025, 6, 19),  # Juneteenth
    date(2025, 7, 6),  # Sunday after Independence Day, as published
    date(2025, 9, 1),  # Labor Day
    date(2025, 11, 27),  # Thanksgiving
    # arXiv had not published its December dates when this list was written; these are
    # its usual closures (Christmas Eve, Christmas, New Year's Eve).
    date(2025, 12, 24),
    date(2025, 12, 25),
    date(2025, 12, 31),
)
# Not yet published by arXiv: the same observances projected onto 2026. Holidays on a
# Friday or Saturday (Juneteenth 19 Jun, Independence Day 3/4 Jul, Christmas 25 Dec) are
# left out because there is no announcement on those evenings anyway.
ARXIV_HOLIDAYS_2026: tuple[date, ...] = (
    date(2026, 1, 1),  # New Year's Day
    date(2026, 1, 19),  # Martin Luther King Jr. Day
    date(2026, 9, 7),  # Labor Day
    date(2026, 11, 26),  # Thanksgiving
    date(2026, 12, 24),  # Christmas Eve
    date(2026, 12, 31),  # New Year's Eve
)
DEFAULT_HOLIDAYS: tuple[date, ...] = ARXIV_HOLIDAYS_2025 + ARXIV_HOLIDAYS_2026

# date.weekday(): Monday is 0, Sunday is 6.
_FRIDAY = 4
_CUTOFF_WEEKDAYS = frozenset({0, 1, 2, 3, 4})
_ANNOUNCE_WEEKDAYS = frozenset({6, 0, 1, 2, 3})
# Bounds every day-by-day scan, so that an absurd holiday list fails loudly instead of
# looping for ever.
_MAX_SCAN_DAYS = 400
_DAY = timedelta(days=1)


# --- helpers ---------------------------------------------------------------------------


def _require_aware(moment: datetime, name: str) -> datetime:
    """Return `moment` in UTC; a naive datetime is ambiguous here, so it is an error."""
    if not isinstance(moment, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {moment.isoformat()}")
    return moment.astimezone(UTC)


def _holiday_set(holidays: Iterable[date]) -> frozenset[date]:
    """Freeze `holidays` once (it may be a one-shot iterator) for O(1) look-ups."""
    # A datetime is a date too, but never equal to one, so it would silently not match.
    return frozenset(d.date() if isinstance(d, datetime) else d for d in holidays)


def _et(day: date, at: time) -> datetime:
    """`day` at wall time `at` in ET, as UTC. 14:00/20:00 never fall in a DST gap or fold."""
    return datetime.combine(day, at, tzinfo=ET).astimezone(UTC)


def _is_announcement_day(day: date, holidays: frozenset[date]) -> bool:
    return day.weekday() in _ANNOUNCE_WEEKDAYS and day not in holidays


def _first_announcement_day(day: date, holidays: frozenset[date]) -> date:
    """The first announcement evening on or after `day`."""
    for offset in range(_MAX_SCAN_DAYS):
        candidate = day + offset * _DAY
        if _is_announcement_day(candidate, holidays):
            return candidate
    raise ValueError(f"no arXiv announcement within {_MAX_SCAN_DAYS} days of {day}")


def _last_announcement_at_or_before(moment: datetime, holidays: frozenset[date]) -> datetime:
    """The latest announcement moment <= `moment` (UTC in, UTC out)."""
    day = moment.astimezone(ET).date()
    for offset in range(_MAX_SCAN_DAYS):
        candidate = day - offset * _DAY
        if _is_announcement_day(candidate, holidays):
            announced = _et(candidate, ANNOUNCE_TIME)
            if announced <= moment:
                return announced
    raise ValueError(f"no arXiv announcement within {_MAX_SCAN_DAYS} days before {moment}")


def _last_cutoff_for(announced: datetime) -> datetime:
    """The latest cut-off whose papers go out at `announced` (an actual announcement).

    Monday..Thursday evenings take that day's cut-off, Sunday takes Friday's. Holidays need
    no special case: the evening after a holiday still takes its own (latest) cut-off.
    """
    day = announced.astimezone(ET).date()
    while day.weekday() not in _CUTOFF_WEEKDAYS:
        day -= _DAY
    return _et(day, CUTOFF_TIME)


# --- arXiv side: submissions and announcements -----------------------------------------


def announcement_time(submitted: datetime, holidays: Iterable[date] = DEFAULT_HOLIDAYS) -> datetime:
    """The moment (UTC) arXiv announces a paper first submitted at aware `submitted`."""
    moment = _require_aware(submitted, "submitted")
    hols = _holiday_set(holidays)
    # Find the first cut-off at or after the submission (a submission exactly at 14:00
    # makes that day's cut-off).
    day = moment.astimezone(ET).date()
    while day.weekday() not in _CUTOFF_WEEKDAYS or _et(day, CUTOFF_TIME) < moment:
        day += _DAY
    # Friday's batch has no Friday/Saturday evening to go out on: Sunday is its evening.
    evening = day + 2 * _DAY if day.weekday() == _FRIDAY else day
    return _et(_first_announcement_day(evening, hols), ANNOUNCE_TIME)


def next_announcement(after: datetime, holidays: Iterable[date] = DEFAULT_HOLIDAYS) -> datetime:
    """The first announcement moment (UTC) strictly after aware `after`."""
    moment = _require_aware(after, "after")
    hols = _holiday_set(holidays)
    # The evening of the day before `after` (in ET) ended before midnight, so start here.
    day = moment.astimezone(ET).date()
    for offset in range(_MAX_SCAN_DAYS):
        candidate = day + offset * _DAY
        if _is_announcement_day(candidate, hols):
            announced = _et(candidate, ANNOUNCE_TIME)
            if announced > moment:
                return announced
    raise ValueError(f"no arXiv announcement within {_MAX_SCAN_DAYS} days after {after}")


def announcements_between(
    start: datetime, end: datetime, holidays: Iterable[date] = DEFAULT_HOLIDAYS
) -> list[datetime]:
    """The announcement moments (UTC, ascending) in the interval (start, end]."""
    lo = _require_aware(start, "start")
    hi = _require_aware(end, "end")
    hols = _holiday_set(holidays)
    found: list[datetime] = []
    day = lo.astimezone(ET).date()
    last = hi.astimezone(ET).date()
    while day <= last:
        if _is_announcement_day(day, hols):
            announced = _et(day, ANNOUNCE_TIME)
            if lo < announced <= hi:
                found.append(announced)
        day += _DAY
    return found


# --- post side: daily windows in the reader's zone --------------------------------------


def window_for(
    post_date: date, anchor: time = DEFAULT_ANCHOR, zone: str = DEFAULT_ZONE
) -> tuple[datetime, datetime]:
    """The post's window (start, end]: the previous day's anchor to `post_date`'s, in `zone`."""
    tz = ZoneInfo(zone)
    # Built from wall times, not end - 24h, so a zone with DST gets its 23/25-hour days.
    start = datetime.combine(post_date - _DAY, anchor, tzinfo=tz)
    end = datetime.combine(post_date, anchor, tzinfo=tz)
    return start, end


def post_date_for(
    moment: datetime, anchor: time = DEFAULT_ANCHOR, zone: str = DEFAULT_ZONE
) -> date:
    """The post date D whose window (start, end] contains aware `moment`."""
    instant = _require_aware(moment, "moment")
    day = instant.astimezone(ZoneInfo(zone)).date()
    # Compare in UTC: aware datetimes sharing a tzinfo compare by wall time, which is
    # wrong across a DST fold.
    while instant <= window_for(day, anchor, zone)[0].astimezone(UTC):
        day -= _DAY
    while instant > window_for(day, anchor, zone)[1].astimezone(UTC):
        day += _DAY
    return day


def latest_closed_window(
    now: datetime, anchor: time = DEFAULT_ANCHOR, zone: str = DEFAULT_ZONE
) -> date:
    """The post date of the latest window whose end is <= aware `now`."""
    instant = _require_aware(now, "now")
    day = post_date_for(instant, anchor, zone)
    end = window_for(day, anchor, zone)[1].astimezone(UTC)
    # `now` lies in (start, end] of `day`; only at its very end is that window closed.
    return day if end <= instant else day - _DAY


def has_announcement(
    post_date: date,
    anchor: time = DEFAULT_ANCHOR,
    zone: str = DEFAULT_ZONE,
    holidays: Iterable[date] = DEFAULT_HOLIDAYS,
) -> bool:
    """Whether an arXiv announcement falls inside the window of `post_date`."""
    start, end = window_for(post_date, anchor, zone)
    return bool(announcements_between(start, end, holidays))


def submission_window(
    post_date: date,
    anchor: time = DEFAULT_ANCHOR,
    zone: str = DEFAULT_ZONE,
    holidays: Iterable[date] = DEFAULT_HOLIDAYS,
) -> tuple[datetime, datetime]:
    """The submission interval (start, end], UTC, of the papers announced in this post.

    When the window holds no announcement the interval is empty (start == end), placed at
    the last cut-off already announced, so consecutive posts tile the submission timeline.
    """
    hols = _holiday_set(holidays)
    win_start, win_end = window_for(post_date, anchor, zone)
    # Everything announced up to the window start is in earlier posts; the papers in this
    # one were submitted after that announcement's last cut-off.
    previous = _last_announcement_at_or_before(win_start.astimezone(UTC), hols)
    start = _last_cutoff_for(previous)
    announced = announcements_between(win_start, win_end, hols)
    if not announced:
        return start, start
    return start, _last_cutoff_for(announced[-1])


def lookback_start(
    post_date: date,
    anchor: time = DEFAULT_ANCHOR,
    zone: str = DEFAULT_ZONE,
    holidays: Iterable[date] = DEFAULT_HOLIDAYS,
    min_days: int = 5,
    margin: timedelta = timedelta(days=1),
) -> datetime:
    """A `submittedDate` lower bound (UTC) for querying the papers of this post.

    It is the cut-off preceding the last announcement before the window, minus `margin`,
    and at least `min_days` before the window end. The margin absorbs papers that arXiv
    holds back (moderation, a late mailing), and `min_days` keeps a weekend plus a holiday
    covered even if the holiday list is incomplete.
    """
    start, _ = submission_window(post_date, anchor, zone, holidays)
    end = window_for(post_date, anchor, zone)[1].astimezone(UTC)
    return min(start - margin, end - timedelta(days=min_days))
