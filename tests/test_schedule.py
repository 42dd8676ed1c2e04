"""Tests for digest_cli.fetch.schedule.

Every expected value below was worked out by hand from arXiv's published schedule:
cut-offs 14:00 ET Mon..Fri, announcements 20:00 ET Sun..Thu (Friday's batch on Sunday),
holidays roll to the next announcement evening. Post windows end at 08:50 Asia/Shanghai
(UTC+8, no DST), i.e. 00:50 UTC.

Calendar facts used: 2026-01-01 is a Thursday; US DST 2026 starts Sun 8 Mar and ends
Sun 1 Nov. 20:00 EDT = 00:00 UTC next day = 08:00 CST (same post morning);
20:00 EST = 01:00 UTC next day = 09:00 CST (after 08:50: the following day's post).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from digest_cli.fetch.schedule import (
    ARXIV_HOLIDAYS_2025,
    ARXIV_HOLIDAYS_2026,
    DEFAULT_HOLIDAYS,
    ET,
    announcement_time,
    announcements_between,
    has_announcement,
    latest_closed_window,
    lookback_start,
    next_announcement,
    post_date_for,
    submission_window,
    window_for,
)

CST = ZoneInfo("Asia/Shanghai")
UTC = timezone.utc


def et(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=ET)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=UTC)


def cst(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=CST)


# --- submission -> announcement -> post date ---------------------------------------------

# (submitted, expected announcement, expected post date)
SUMMER_WEEK = [  # July 2026, EDT; Mon 13 .. Mon 20. Post = announcement ET date + 1.
    (et(2026, 7, 13, 10), et(2026, 7, 13, 20), date(2026, 7, 14)),  # Mon before cut-off
    (et(2026, 7, 13, 14), et(2026, 7, 13, 20), date(2026, 7, 14)),  # Mon exactly at cut-off
    (et(2026, 7, 13, 14, 1), et(2026, 7, 14, 20), date(2026, 7, 15)),  # Mon after cut-off
    (et(2026, 7, 14, 9), et(2026, 7, 14, 20), date(2026, 7, 15)),  # Tue before
    (et(2026, 7, 14, 15), et(2026, 7, 15, 20), date(2026, 7, 16)),  # Tue after
    (et(2026, 7, 15, 13, 59), et(2026, 7, 15, 20), date(2026, 7, 16)),  # Wed before
    (et(2026, 7, 15, 14, 30), et(2026, 7, 16, 20), date(2026, 7, 17)),  # Wed after
    (et(2026, 7, 16, 11), et(2026, 7, 16, 20), date(2026, 7, 17)),  # Thu before
    (et(2026, 7, 16, 14), et(2026, 7, 16, 20), date(2026, 7, 17)),  # Thu exactly at cut-off
    (et(2026, 7, 16, 16), et(2026, 7, 19, 20), date(2026, 7, 20)),  # Thu after -> Sunday
    (et(2026, 7, 17, 8), et(2026, 7, 19, 20), date(2026, 7, 20)),  # Fri before -> Sunday
    (et(2026, 7, 17, 14), et(2026, 7, 19, 20), date(2026, 7, 20)),  # Fri exactly -> Sunday
    (et(2026, 7, 17, 14, 0, 1), et(2026, 7, 20, 20), date(2026, 7, 21)),  # Fri after -> Mon
    (et(2026, 7, 18, 12), et(2026, 7, 20, 20), date(2026, 7, 21)),  # Sat -> Monday
    (et(2026, 7, 19, 10), et(2026, 7, 20, 20), date(2026, 7, 21)),  # Sun (no cut-off) -> Mon
    (et(2026, 7, 19, 21), et(2026, 7, 20, 20), date(2026, 7, 21)),  # Sun night -> Monday
    (et(2026, 7, 20, 13), et(2026, 7, 20, 20), date(2026, 7, 21)),  # Mon before
]

WINTER_WEEK = [  # Jan/Feb 2026, EST; Mon 26 Jan .. Mon 2 Feb. Post = announcement + 2 days.
    (et(2026, 1, 26, 10), et(2026, 1, 26, 20), date(2026, 1, 28)),  # Mon before
    (et(2026, 1, 26, 14), et(2026, 1, 26, 20), date(2026, 1, 28)),  # Mon exactly
    (et(2026, 1, 26, 14, 1), et(2026, 1, 27, 20), date(2026, 1, 29)),  # Mon after
    (et(2026, 1, 27, 9), et(2026, 1, 27, 20), date(2026, 1, 29)),  # Tue before
    (et(2026, 1, 28, 13), et(2026, 1, 28, 20), date(2026, 1, 30)),  # Wed before
    (et(2026, 1, 28, 15), et(2026, 1, 29, 20), date(2026, 1, 31)),  # Wed after
    (et(2026, 1, 29, 12), et(2026, 1, 29, 20), date(2026, 1, 31)),  # Thu before
    (et(2026, 1, 29, 14, 30), et(2026, 2, 1, 20), date(2026, 2, 3)),  # Thu after -> Sunday
    (et(2026, 1, 30, 13), et(2026, 2, 1, 20), date(2026, 2, 3)),  # Fri before -> Sunday
    (et(2026, 1, 30, 15), et(2026, 2, 2, 20), date(2026, 2, 4)),  # Fri after -> Monday
    (et(2026, 1, 31, 12), et(2026, 2, 2, 20), date(2026, 2, 4)),  # Sat -> Monday
    (et(2026, 2, 1, 18), et(2026, 2, 2, 20), date(2026, 2, 4)),  # Sun -> Monday
]

DST_CHANGES = [
    # Spring forward, Sun 8 Mar 2026 02:00 EST -> 03:00 EDT.
    (et(2026, 3, 5, 10), et(2026, 3, 5, 20), date(2026, 3, 7)),  # Thu EST: 01:00Z Fri -> Sat
    (et(2026, 3, 5, 16), et(2026, 3, 8, 20), date(2026, 3, 9)),  # Sun EDT: 00:00Z Mon -> Mon
    (utc(2026, 3, 6, 19), et(2026, 3, 8, 20), date(2026, 3, 9)),  # = Fri 14:00 EST exactly
    (utc(2026, 3, 6, 19, 0, 1), et(2026, 3, 9, 20), date(2026, 3, 10)),  # Fri 14:00:01 EST
    (et(2026, 3, 8, 1, 30), et(2026, 3, 9, 20), date(2026, 3, 10)),  # Sun, before the jump
    (utc(2026, 3, 9, 18), et(2026, 3, 9, 20), date(2026, 3, 10)),  # = Mon 14:00 EDT exactly
    (utc(2026, 3, 9, 18, 30), et(2026, 3, 10, 20), date(2026, 3, 11)),  # 14:30 EDT (13:30 EST)
    # Fall back, Sun 1 Nov 2026 02:00 EDT -> 01:00 EST.
    (et(2026, 10, 29, 10), et(2026, 10, 29, 20), date(2026, 10, 30)),  # Thu EDT: 00:00Z Fri
    (et(2026, 10, 30, 13), et(2026, 11, 1, 20), date(2026, 11, 3)),  # Sun EST: 01:00Z Mon
    (utc(2026, 10, 30, 18, 30), et(2026, 11, 2, 20), date(2026, 11, 4)),  # Fri 14:30 EDT
    (datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=ET), et(2026, 11, 2, 20), date(2026, 11, 4)),
    (utc(2026, 11, 2, 18, 30), et(2026, 11, 2, 20), date(2026, 11, 4)),  # Mon 13:30 EST
    (utc(2026, 11, 2, 19, 30), et(2026, 11, 3, 20), date(2026, 11, 5)),  # Mon 14:30 EST
]

HOLIDAYS = [
    # Thanksgiving, Thu 26 Nov 2026 (EST): Thursday's batch rolls to Sunday 29.
    (et(2026, 11, 25, 10), et(2026, 11, 25, 20), date(2026, 11, 27)),  # Wed before
    (et(2026, 11, 25, 15), et(2026, 11, 29, 20), date(2026, 12, 1)),  # Wed after -> Sun
    (et(2026, 11, 26, 10), et(2026, 11, 29, 20), date(2026, 12, 1)),  # on Thanksgiving
    (et(2026, 11, 27, 13), et(2026, 11, 29, 20), date(2026, 12, 1)),  # Fri before
    (et(2026, 11, 27, 15), et(2026, 11, 30, 20), date(2026, 12, 2)),  # Fri after -> Mon
    # Thanksgiving, Thu 27 Nov 2025.
    (et(2025, 11, 26, 15), et(2025, 11, 30, 20), date(2025, 12, 2)),
    # Christmas 2025: Wed 24 and Thu 25 Dec both off -> Sunday 28.
    (et(2025, 12, 23, 15), et(2025, 12, 28, 20), date(2025, 12, 30)),
    (et(2025, 12, 24, 9), et(2025, 12, 28, 20), date(2025, 12, 30)),
    # New Year 2026: Wed 31 Dec and Thu 1 Jan off -> Sunday 4 Jan.
    (et(2025, 12, 30, 15), et(2026, 1, 4, 20), date(2026, 1, 6)),
    # Christmas 2026: Thu 24 Dec off (25th is a Friday) -> Sunday 27.
    (et(2026, 12, 23, 15), et(2026, 12, 27, 20), date(2026, 12, 29)),
    (et(2026, 12, 24, 10), et(2026, 12, 27, 20), date(2026, 12, 29)),
    # New Year's Eve 2026, Thu 31 Dec -> Sunday 3 Jan 2027.
    (et(2026, 12, 30, 15), et(2027, 1, 3, 20), date(2027, 1, 5)),
    # MLK Day, Mon 19 Jan 2026: Friday-after-cut-off to Tuesday all goes out Tuesday.
    (et(2026, 1, 16, 13), et(2026, 1, 18, 20), date(2026, 1, 20)),  # Fri before -> Sun
    (et(2026, 1, 16, 14, 1), et(2026, 1, 20, 20), date(2026, 1, 22)),  # Fri after -> Tue
    (et(2026, 1, 19, 10), et(2026, 1, 20, 20), date(2026, 1, 22)),  # on MLK Day -> Tue
    # A holiday on a Sunday: Sun 6 Jul 2025 (EDT) -> Friday's batch goes out Monday 7.
    (et(2025, 7, 4, 10), et(2025, 7, 7, 20), date(2025, 7, 8)),
]


@pytest.mark.parametrize(
    ("submitted", "announced", "post"), SUMMER_WEEK + WINTER_WEEK + DST_CHANGES + HOLIDAYS
)
def test_submission_to_post(submitted: datetime, announced: datetime, post: date) -> None:
    got = announcement_time(submitted)
    assert got == announced
    assert got.utcoffset() == timedelta(0)
    assert post_date_for(got) == post


@pytest.mark.parametrize(
    ("submitted", "announced"),
    [
        (et(2025, 12, 23, 15), et(2025, 12, 24, 20)),  # no Christmas Eve off
        (et(2026, 11, 25, 15), et(2026, 11, 26, 20)),  # no Thanksgiving off
        (et(2026, 1, 16, 15), et(2026, 1, 19, 20)),  # no MLK Day off
    ],
)
def test_announcement_time_without_holidays(submitted: datetime, announced: datetime) -> None:
    assert announcement_time(submitted, holidays=()) == announced


def test_announcement_time_custom_holidays_iterator() -> None:
    # A one-shot generator must work; Tue 14 Jul 2026 off -> Monday's late papers go Wed.
    hols = (d for d in [date(2026, 7, 14)])
    assert announcement_time(et(2026, 7, 13, 15), hols) == et(2026, 7, 15, 20)


def test_announcement_time_utc_value() -> None:
    # Mon 13 Jul 2026 20:00 EDT is 00:00 UTC on the 14th; Mon 26 Jan 20:00 EST is 01:00 UTC.
    assert announcement_time(et(2026, 7, 13, 10)) == utc(2026, 7, 14, 0)
    assert announcement_time(et(2026, 1, 26, 10)) == utc(2026, 1, 27, 1)
    # Submitted from Beijing: Tue 14 Jul 2026 01:30 CST = Mon 13:30 EDT, before cut-off.
    assert announcement_time(cst(2026, 7, 14, 1, 30)) == utc(2026, 7, 14, 0)


# --- the 08:50 anchor ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("announced", "anchor", "zone", "post"),
    [
        # Tuesday announcement in July: 08:00 CST Wed, inside the window ending 08:50 Wed.
        (et(2026, 7, 14, 20), time(8, 50), "Asia/Shanghai", date(2026, 7, 15)),
        # ... in January: 09:00 CST Wed, after 08:50, so Thursday's post.
        (et(2026, 1, 27, 20), time(8, 50), "Asia/Shanghai", date(2026, 1, 29)),
        # A later anchor takes the January one the same morning; an earlier one pushes
        # the July one to the next day.
        (et(2026, 1, 27, 20), time(9, 30), "Asia/Shanghai", date(2026, 1, 28)),
        (et(2026, 7, 14, 20), time(7, 0), "Asia/Shanghai", date(2026, 7, 16)),
        # Other zones: 00:00Z / 01:00Z against a 00:30 UTC anchor.
        (et(2026, 7, 14, 20), time(0, 30), "UTC", date(2026, 7, 15)),
        (et(2026, 1, 27, 20), time(0, 30), "UTC", date(2026, 1, 29)),
        # Anchor 09:00 in Berlin (CEST, UTC+2 = 07:00Z): 00:00Z Wed 15 Jul -> Wed.
        (et(2026, 7, 14, 20), time(9, 0), "Europe/Berlin", date(2026, 7, 15)),
    ],
)
def test_anchor(announced: datetime, anchor: time, zone: str, post: date) -> None:
    assert post_date_for(announced, anchor=anchor, zone=zone) == post


# --- windows --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("post", "anchor", "zone", "start", "end"),
    [
        (date(2026, 7, 15), time(8, 50), "Asia/Shanghai", utc(2026, 7, 14, 0, 50),
         utc(2026, 7, 15, 0, 50)),
        (date(2026, 1, 1), time(8, 50), "Asia/Shanghai", utc(2025, 12, 31, 0, 50),
         utc(2026, 1, 1, 0, 50)),
        (date(2026, 7, 15), time(0, 0), "UTC", utc(2026, 7, 14), utc(2026, 7, 15)),
        # Across spring-forward in New York the window is 23 hours long.
        (date(2026, 3, 8), time(6, 0), "America/New_York", utc(2026, 3, 7, 11),
         utc(2026, 3, 8, 10)),
    ],
)
def test_window_for(
    post: date, anchor: time, zone: str, start: datetime, end: datetime
) -> None:
    got_start, got_end = window_for(post, anchor=anchor, zone=zone)
    assert (got_start, got_end) == (start, end)
    assert got_end.tzinfo == ZoneInfo(zone)


def test_window_for_default_is_beijing_0850() -> None:
    start, end = window_for(date(2026, 7, 15))
    assert end == cst(2026, 7, 15, 8, 50)
    assert start == cst(2026, 7, 14, 8, 50)
    assert end.utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize(
    ("moment", "post"),
    [
        (cst(2026, 7, 15, 8, 50), date(2026, 7, 15)),  # end is inclusive
        (cst(2026, 7, 15, 8, 50, 1), date(2026, 7, 16)),  # just past the end
        (cst(2026, 7, 14, 8, 50, 1), date(2026, 7, 15)),  # just past the start
        (cst(2026, 7, 14, 23, 59), date(2026, 7, 15)),
        (cst(2026, 7, 15, 0, 0), date(2026, 7, 15)),
        (utc(2026, 7, 14, 18), date(2026, 7, 15)),  # 02:00 CST on the 15th
        (et(2026, 7, 14, 12), date(2026, 7, 15)),  # 00:00 CST on the 15th
    ],
)
def test_post_date_for(moment: datetime, post: date) -> None:
    assert post_date_for(moment) == post


@pytest.mark.parametrize(
    ("now", "post"),
    [
        (cst(2026, 7, 15, 8, 50), date(2026, 7, 15)),  # the window just closed
        (cst(2026, 7, 15, 8, 49), date(2026, 7, 14)),
        (cst(2026, 7, 15, 20, 0), date(2026, 7, 15)),
        (cst(2026, 7, 15, 0, 30), date(2026, 7, 14)),
        (utc(2026, 7, 15, 0, 51), date(2026, 7, 15)),
        (utc(2026, 1, 1, 0, 49), date(2025, 12, 31)),
    ],
)
def test_latest_closed_window(now: datetime, post: date) -> None:
    assert latest_closed_window(now) == post


@pytest.mark.parametrize(
    ("post", "expected"),
    [
        # Summer (EDT): posts Mon..Fri carry Sun..Thu; Sat and Sun are empty.
        (date(2026, 7, 14), True),  # Tue: Monday's announcement
        (date(2026, 7, 17), True),  # Fri: Thursday's
        (date(2026, 7, 18), False),  # Sat: Friday evening, nothing
        (date(2026, 7, 19), False),  # Sun: Saturday evening, nothing
        (date(2026, 7, 20), True),  # Mon: Sunday's
        # Winter (EST): posts Tue..Sat carry Sun..Thu; Sun and Mon are empty.
        (date(2026, 1, 30), True),  # Fri: Wednesday's
        (date(2026, 1, 31), True),  # Sat: Thursday's
        (date(2026, 2, 1), False),  # Sun: Friday evening
        (date(2026, 2, 2), False),  # Mon: Saturday evening
        (date(2026, 2, 3), True),  # Tue: Sunday's
        # Spring forward: Thu (EST) -> Sat post, Sun (EDT) -> Mon post; only Sun 8 empty.
        (date(2026, 3, 7), True),
        (date(2026, 3, 8), False),
        (date(2026, 3, 9), True),
        # Fall back: Thu (EDT) -> Fri post, Sun (EST) -> Tue post; Sat, Sun, Mon empty.
        (date(2026, 10, 30), True),
        (date(2026, 10, 31), False),
        (date(2026, 11, 1), False),
        (date(2026, 11, 2), False),  # the 25-hour ET day: no 20:00 ET falls in it at all
        (date(2026, 11, 3), True),
        # Thanksgiving 2026: Wed -> Fri 27 post; Thu off -> Sat 28 empty.
        (date(2026, 11, 27), True),
        (date(2026, 11, 28), False),
        (date(2026, 11, 29), False),
        (date(2026, 11, 30), False),
        (date(2026, 12, 1), True),
        # MLK Day 2026: Sun 18 -> Tue 20 post; Mon 19 off -> Wed 21 empty; Tue -> Thu 22.
        (date(2026, 1, 20), True),
        (date(2026, 1, 21), False),
        (date(2026, 1, 22), True),
    ],
)
def test_has_announcement(post: date, expected: bool) -> None:
    assert has_announcement(post) is expected


def test_has_announcement_without_holidays() -> None:
    assert has_announcement(date(2026, 11, 28), holidays=()) is True
    assert has_announcement(date(2026, 1, 21), holidays=()) is True


# --- announcement enumeration -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (et(2026, 7, 17, 12), et(2026, 7, 19, 20)),  # Friday -> Sunday
        (et(2026, 7, 13, 20), et(2026, 7, 14, 20)),  # strictly after
        (et(2026, 7, 13, 19, 59), et(2026, 7, 13, 20)),
        (et(2026, 11, 25, 21), et(2026, 11, 29, 20)),  # over Thanksgiving
        (et(2025, 12, 23, 21), et(2025, 12, 28, 20)),  # over Christmas 2025
        (cst(2026, 7, 14, 7, 59), et(2026, 7, 13, 20)),  # = Mon 19:59 EDT
    ],
)
def test_next_announcement(after: datetime, expected: datetime) -> None:
    assert next_announcement(after) == expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (
            et(2026, 7, 13),
            et(2026, 7, 20, 20),
            [et(2026, 7, d, 20) for d in (13, 14, 15, 16, 19, 20)],
        ),
        (et(2026, 7, 13, 20), et(2026, 7, 14, 20), [et(2026, 7, 14, 20)]),  # (start, end]
        (
            et(2026, 11, 23),
            et(2026, 11, 30, 23, 59),
            [et(2026, 11, d, 20) for d in (23, 24, 25, 29, 30)],
        ),
        (et(2026, 7, 14, 20), et(2026, 7, 13, 20), []),  # reversed
        (et(2026, 7, 17), et(2026, 7, 19, 19), []),  # Fri..Sun afternoon
    ],
)
def test_announcements_between(start: datetime, end: datetime, expected: list[datetime]) -> None:
    got = announcements_between(start, end)
    assert got == expected
    assert all(a.utcoffset() == timedelta(0) for a in got)


# --- submission windows and lookback ---------------------------------------------------------


@pytest.mark.parametrize(
    ("post", "start", "end"),
    [
        # Tue 14 Jul 2026 (Mon announcement): after Fri 10 Jul 14:00 EDT to Mon 14:00 EDT.
        (date(2026, 7, 14), utc(2026, 7, 10, 18), utc(2026, 7, 13, 18)),
        (date(2026, 7, 15), utc(2026, 7, 13, 18), utc(2026, 7, 14, 18)),
        # Mon 20 Jul (Sun announcement): Thu 16 14:00 to Fri 17 14:00 EDT.
        (date(2026, 7, 20), utc(2026, 7, 16, 18), utc(2026, 7, 17, 18)),
        # Empty posts: an empty interval at the last announced cut-off (Thu 16 14:00 EDT).
        (date(2026, 7, 18), utc(2026, 7, 16, 18), utc(2026, 7, 16, 18)),
        (date(2026, 7, 19), utc(2026, 7, 16, 18), utc(2026, 7, 16, 18)),
        # Thanksgiving: Tue 1 Dec post covers Wed 25 14:00 EST to Fri 27 14:00 EST.
        (date(2026, 12, 1), utc(2026, 11, 25, 19), utc(2026, 11, 27, 19)),
        # MLK Day: Thu 22 Jan post covers Fri 16 14:00 EST to Tue 20 14:00 EST.
        (date(2026, 1, 22), utc(2026, 1, 16, 19), utc(2026, 1, 20, 19)),
        # Fall back: Tue 3 Nov post = Sun 1 Nov announcement, Thu/Fri cut-offs in EDT.
        (date(2026, 11, 3), utc(2026, 10, 29, 18), utc(2026, 10, 30, 18)),
        # Wed 4 Nov = Mon 2 Nov announcement: Fri 14:00 EDT to Mon 14:00 EST.
        (date(2026, 11, 4), utc(2026, 10, 30, 18), utc(2026, 11, 2, 19)),
    ],
)
def test_submission_window(post: date, start: datetime, end: datetime) -> None:
    assert submission_window(post) == (start, end)


@pytest.mark.parametrize(
    ("post", "min_days", "expected"),
    [
        # MLK weekend: previous announcement Sun 18 Jan, its cut-off Fri 16 14:00 EST
        # (19:00Z), minus a day -> Thu 15 19:00Z; earlier than 5 days before Thu 22 00:50Z.
        (date(2026, 1, 22), 5, utc(2026, 1, 15, 19)),
        (date(2026, 1, 22), 0, utc(2026, 1, 15, 19)),
        # Thanksgiving: cut-off Wed 25 Nov 14:00 EST (19:00Z) minus a day.
        (date(2026, 12, 1), 5, utc(2026, 11, 24, 19)),
        # Ordinary Wed 15 Jul: cut-off Mon 13 18:00Z minus a day = Sun 12 18:00Z, but
        # min_days=5 reaches back to Fri 10 Jul 00:50Z.
        (date(2026, 7, 15), 5, utc(2026, 7, 10, 0, 50)),
        (date(2026, 7, 15), 0, utc(2026, 7, 12, 18)),
        # Labor Day: Wed 9 Sep post (Tue 8 announcement): cut-off of Sun 6 is Fri 4 Sep
        # 14:00 EDT (18:00Z), minus a day.
        (date(2026, 9, 9), 5, utc(2026, 9, 3, 18)),
    ],
)
def test_lookback_start(post: date, min_days: int, expected: datetime) -> None:
    assert lookback_start(post, min_days=min_days) == expected


@pytest.mark.parametrize(
    ("submitted", "post"),
    [
        (et(2026, 1, 16, 14, 1), date(2026, 1, 22)),  # Fri just after cut-off, MLK weekend
        (et(2026, 1, 17, 12), date(2026, 1, 22)),  # Sat
        (et(2026, 1, 19, 13), date(2026, 1, 22)),  # MLK Day itself
        (et(2026, 11, 25, 14, 1), date(2026, 12, 1)),  # Wed before Thanksgiving
        (et(2026, 9, 4, 14, 1), date(2026, 9, 9)),  # Fri before Labor Day
    ],
)
def test_lookback_covers_weekend_plus_holiday(submitted: datetime, post: date) -> None:
    assert post_date_for(announcement_time(submitted)) == post
    start, end = submission_window(post)
    assert start < submitted <= end
    assert lookback_start(post) < submitted
    # The bound reaches back over the whole Friday-to-holiday stretch.
    assert post - lookback_start(post).date() >= timedelta(days=6)


def test_submission_windows_tile_and_agree_with_announcement_time() -> None:
    # Invariant check over nine weeks spanning the fall DST change and Thanksgiving:
    # every submission lies in the submission window of the post it is announced in.
    t = utc(2026, 10, 5)
    while t < utc(2026, 12, 7):
        post = post_date_for(announcement_time(t))
        start, end = submission_window(post)
        assert start < t <= end, (t, post)
        assert lookback_start(post) < t
        t += timedelta(minutes=37)
    # Consecutive windows tile: each starts where the previous ended.
    day = date(2026, 10, 5)
    while day < date(2026, 12, 7):
        assert submission_window(day)[1] == submission_window(day + timedelta(days=1))[0]
        day += timedelta(days=1)


# --- holiday constants and input validation ---------------------------------------------------


def test_holiday_constants() -> None:
    assert date(2026, 11, 26) in ARXIV_HOLIDAYS_2026  # Thanksgiving 2026
    assert date(2025, 11, 27) in ARXIV_HOLIDAYS_2025  # Thanksgiving 2025
    assert date(2026, 12, 24) in ARXIV_HOLIDAYS_2026
    assert set(DEFAULT_HOLIDAYS) == set(ARXIV_HOLIDAYS_2025) | set(ARXIV_HOLIDAYS_2026)
    assert all(type(d) is date for d in DEFAULT_HOLIDAYS)
    assert all(d.year == 2025 for d in ARXIV_HOLIDAYS_2025)
    assert all(d.year == 2026 for d in ARXIV_HOLIDAYS_2026)


NAIVE = datetime(2026, 7, 13, 10)


@pytest.mark.parametrize(
    "call",
    [
        lambda: announcement_time(NAIVE),
        lambda: next_announcement(NAIVE),
        lambda: announcements_between(NAIVE, et(2026, 7, 20)),
        lambda: announcements_between(et(2026, 7, 10), NAIVE),
        lambda: post_date_for(NAIVE),
        lambda: latest_closed_window(NAIVE),
    ],
    ids=["announcement_time", "next_announcement", "between_start", "between_end",
         "post_date_for", "latest_closed_window"],
)
def test_naive_datetime_raises(call) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        call()
