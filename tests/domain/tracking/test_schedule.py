"""Digest schedules (issue #4): parsing, and due times across the 2026 daylight-saving changes.

Europe/Berlin: spring forward 2026-03-29 (02:00 CET -> 03:00 CEST), fall back 2026-10-25.
America/New_York: spring forward 2026-03-08 (02:00 EST -> 03:00 EDT), fall back 2026-11-01.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.tracking.digest_schedule import BadSchedule, Schedule, _utc, parse_schedule


def next_due(schedule: Schedule, now: datetime) -> datetime:
    """Return the first scheduled instant after `now`, in UTC (the oracle for `last_due`)."""
    now = _utc(now)
    local_now = now.astimezone(schedule.zone())
    for ahead in range(0, 9):
        candidate = schedule._local(local_now + timedelta(days=ahead))
        if schedule.weekday is not None and candidate.weekday() != schedule.weekday:
            continue
        if candidate.astimezone(UTC) > now:
            return candidate.astimezone(UTC)
    raise AssertionError("a daily or weekly slot always exists within 9 days")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# ------------------------------------------------------------------ parsing


@pytest.mark.parametrize(
    ("text", "canonical", "weekday"),
    [
        ("daily 09:00 Europe/Berlin", "daily 09:00 Europe/Berlin", None),
        ("daily 18:30", "daily 18:30 UTC", None),
        ("  DAILY   7:05   Asia/Tokyo ", "daily 07:05 Asia/Tokyo", None),
        ("weekly MON 09:00 America/New_York", "weekly MON 09:00 America/New_York", 0),
        ("Weekly sun 23:59 america/new_york", "weekly SUN 23:59 America/New_York", 6),
        ("weekly Friday 00:00 europe/berlin", "weekly FRI 00:00 Europe/Berlin", 4),
        ("weekly wed 12:00", "weekly WED 12:00 UTC", 2),
        (None, "daily 09:00 UTC", None),
        ("", "daily 09:00 UTC", None),
    ],
)
def test_accepted_schedules(text: str | None, canonical: str, weekday: int | None) -> None:
    schedule = parse_schedule(text)
    assert schedule.describe() == canonical
    assert schedule.weekday == weekday
    assert parse_schedule(canonical) == schedule, "the canonical form reads back the same"


FORMS = "Use 'daily HH:MM TZ' or 'weekly DAY HH:MM TZ'"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hourly 09:00", "Can't read the schedule 'hourly 09:00'. " + FORMS),
        ("daily 9am", "Can't read the schedule 'daily 9am'. " + FORMS),
        ("daily 09:00 UTC extra", "Can't read the schedule"),
        ("daily 24:00 UTC", "'24:00' is not a time of day. " + FORMS),
        ("daily 09:60", "'09:60' is not a time of day."),
        ("daily 09:00 Mars/Olympus", "Unknown time zone 'Mars/Olympus'. Use an IANA name"),
        ("daily 09:00 ../etc/passwd", "Unknown time zone '../etc/passwd'."),
        ("daily 09:00 /etc/localtime", "Unknown time zone '/etc/localtime'."),
        ("daily 09:00 Europe", "Unknown time zone 'Europe'."),
        ("weekly 09:00 UTC", "Say which day for a weekly digest. " + FORMS),
        ("weekly Monkey 09:00 UTC", "'Monkey' is not a day of the week (use MON to SUN). " + FORMS),
        ("weekly MO 09:00 UTC", "'MO' is not a day of the week"),
        ("daily MON 09:00 UTC", "A daily digest takes no day. " + FORMS),
    ],
)
def test_rejected_schedules_say_what_is_accepted(text: str, message: str) -> None:
    with pytest.raises(BadSchedule) as info:
        parse_schedule(text)
    assert message in info.value.message
    assert info.value.code == "bad_schedule"


# ------------------------------------------------------------------ due times


@pytest.mark.parametrize(
    ("schedule", "now", "last", "next_"),
    [
        # Berlin, daily 09:00: 08:00 UTC in winter (CET), 07:00 UTC in summer (CEST)
        (
            "daily 09:00 Europe/Berlin",
            utc(2026, 1, 15, 12),
            utc(2026, 1, 15, 8),
            utc(2026, 1, 16, 8),
        ),
        (
            "daily 09:00 Europe/Berlin",
            utc(2026, 1, 15, 8),
            utc(2026, 1, 15, 8),
            utc(2026, 1, 16, 8),
        ),
        (
            "daily 09:00 Europe/Berlin",
            utc(2026, 7, 1, 6, 59),
            utc(2026, 6, 30, 7),
            utc(2026, 7, 1, 7),
        ),
        # spring forward on Sunday 2026-03-29
        (
            "daily 09:00 Europe/Berlin",
            utc(2026, 3, 28, 12),
            utc(2026, 3, 28, 8),
            utc(2026, 3, 29, 7),
        ),
        (
            "daily 09:00 Europe/Berlin",
            utc(2026, 3, 29, 6, 59),
            utc(2026, 3, 28, 8),
            utc(2026, 3, 29, 7),
        ),
        (
            "daily 09:00 Europe/Berlin",
            utc(2026, 3, 29, 7, 30),
            utc(2026, 3, 29, 7),
            utc(2026, 3, 30, 7),
        ),
        # fall back on Sunday 2026-10-25
        (
            "daily 09:00 Europe/Berlin",
            utc(2026, 10, 25, 7, 30),
            utc(2026, 10, 24, 7),
            utc(2026, 10, 25, 8),
        ),
        (
            "daily 09:00 Europe/Berlin",
            utc(2026, 10, 25, 8),
            utc(2026, 10, 25, 8),
            utc(2026, 10, 26, 8),
        ),
        # New York, daily 09:00: 14:00 UTC (EST), 13:00 UTC (EDT)
        (
            "daily 09:00 America/New_York",
            utc(2026, 3, 8, 12),
            utc(2026, 3, 7, 14),
            utc(2026, 3, 8, 13),
        ),
        (
            "daily 09:00 America/New_York",
            utc(2026, 3, 8, 13, 1),
            utc(2026, 3, 8, 13),
            utc(2026, 3, 9, 13),
        ),
        (
            "daily 09:00 America/New_York",
            utc(2026, 11, 1, 13, 30),
            utc(2026, 10, 31, 13),
            utc(2026, 11, 1, 14),
        ),
        # late evening local is the next day in UTC
        (
            "daily 23:30 America/New_York",
            utc(2026, 1, 10, 3),
            utc(2026, 1, 9, 4, 30),
            utc(2026, 1, 10, 4, 30),
        ),
        # weekly MON 09:00 across a change: 167 or 169 hours between the two Mondays
        (
            "weekly MON 09:00 Europe/Berlin",
            utc(2026, 3, 25, 12),
            utc(2026, 3, 23, 8),
            utc(2026, 3, 30, 7),
        ),
        (
            "weekly MON 09:00 Europe/Berlin",
            utc(2026, 3, 30, 6),
            utc(2026, 3, 23, 8),
            utc(2026, 3, 30, 7),
        ),
        (
            "weekly MON 09:00 Europe/Berlin",
            utc(2026, 10, 28),
            utc(2026, 10, 26, 8),
            utc(2026, 11, 2, 8),
        ),
        (
            "weekly MON 09:00 Europe/Berlin",
            utc(2026, 10, 24),
            utc(2026, 10, 19, 7),
            utc(2026, 10, 26, 8),
        ),
        (
            "weekly MON 09:00 America/New_York",
            utc(2026, 10, 30),
            utc(2026, 10, 26, 13),
            utc(2026, 11, 2, 14),
        ),
        (
            "weekly MON 09:00 America/New_York",
            utc(2026, 3, 5),
            utc(2026, 3, 2, 14),
            utc(2026, 3, 9, 13),
        ),
        ("weekly SUN 09:00 UTC", utc(2026, 3, 29, 9), utc(2026, 3, 29, 9), utc(2026, 4, 5, 9)),
    ],
)
def test_last_and_next_due(schedule: str, now: datetime, last: datetime, next_: datetime) -> None:
    s = parse_schedule(schedule)
    assert s.last_due(now) == last
    assert next_due(s, now) == next_
    assert s.last_due(now).tzinfo == UTC and next_due(s, now).tzinfo == UTC


def test_now_in_another_zone_or_naive_means_the_same_instant() -> None:
    s = parse_schedule("daily 09:00 Europe/Berlin")
    instant = utc(2026, 3, 29, 7, 30)
    assert s.last_due(instant.astimezone(ZoneInfo("Asia/Tokyo"))) == utc(2026, 3, 29, 7)
    assert s.last_due(instant.replace(tzinfo=None)) == utc(2026, 3, 29, 7), "naive = UTC"


def _slots(s: Schedule, start: datetime, end: datetime) -> list[datetime]:
    out, t = [], next_due(s, start)
    while t < end:
        out.append(t)
        t = next_due(s, t)
    return out


@pytest.mark.parametrize(
    ("schedule", "start", "expected"),
    [
        # 02:30 does not exist on 2026-03-29 in Berlin: it still happens once, at 03:30 CEST
        (
            "daily 02:30 Europe/Berlin",
            utc(2026, 3, 27, 12),
            [utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1, 30), utc(2026, 3, 30, 0, 30)],
        ),
        (
            "daily 02:30 America/New_York",
            utc(2026, 3, 6, 12),
            [utc(2026, 3, 7, 7, 30), utc(2026, 3, 8, 7, 30), utc(2026, 3, 9, 6, 30)],
        ),
        # 02:30 happens twice on 2026-10-25 in Berlin, 01:30 twice on 2026-11-01 in New York:
        # the digest goes out at the first one only
        (
            "daily 02:30 Europe/Berlin",
            utc(2026, 10, 23, 12),
            [utc(2026, 10, 24, 0, 30), utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)],
        ),
        (
            "daily 01:30 America/New_York",
            utc(2026, 10, 30, 12),
            [utc(2026, 10, 31, 5, 30), utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)],
        ),
    ],
)
def test_dst_edge_slots_happen_exactly_once_a_day(
    schedule: str, start: datetime, expected: list[datetime]
) -> None:
    s = parse_schedule(schedule)
    assert _slots(s, start, start + timedelta(days=3)) == expected
    for slot in expected:
        assert s.last_due(slot) == slot
        assert s.last_due(slot - timedelta(microseconds=1)) < slot


# ------------------------------------------------------------------ properties

SCHEDULES = st.builds(
    lambda kind, day, h, m, tz: parse_schedule(
        f"{kind}{' ' + day if kind == 'weekly' else ''} {h:02d}:{m:02d} {tz}"
    ),
    st.sampled_from(["daily", "weekly"]),
    st.sampled_from(["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]),
    st.sampled_from([0, 1, 2, 3, 9, 12, 23]) | st.integers(0, 23),
    st.sampled_from([0, 30, 59]),
    st.sampled_from(
        [
            "UTC",
            "Europe/Berlin",
            "America/New_York",
            "Australia/Lord_Howe",
            "Asia/Kolkata",
            "America/Sao_Paulo",
        ]
    ),
)
NOWS = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 1, 1), timezones=st.just(UTC)
)


@settings(max_examples=400, deadline=None)
@given(SCHEDULES, NOWS)
def test_due_times_bracket_now_and_skip_no_slot(s: Schedule, now: datetime) -> None:
    last, nxt = s.last_due(now), next_due(s, now)
    assert last <= now < nxt
    assert next_due(s, last) == nxt, "the slot after the last one is the next one: none skipped"
    assert s.last_due(nxt) == nxt
    assert s.last_due(nxt - timedelta(microseconds=1)) == last
    local = nxt.astimezone(s.zone())
    if s.weekday is not None:
        assert local.weekday() == s.weekday
    gap = nxt - last
    if s.weekday is None:
        assert timedelta(hours=23) <= gap <= timedelta(hours=25)
    else:
        assert timedelta(hours=167) <= gap <= timedelta(hours=169)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["Europe/Berlin", "America/New_York", "UTC", "Europe/London"]),
    st.integers(0, 23),
    st.sampled_from([0, 15, 30, 45]),
    NOWS,
)
def test_consecutive_daily_slots_are_23_24_or_25_hours_apart(
    tz: str, h: int, m: int, now: datetime
) -> None:
    s = parse_schedule(f"daily {h:02d}:{m:02d} {tz}")
    first = next_due(s, now)
    second = next_due(s, first)
    assert second - first in {timedelta(hours=23), timedelta(hours=24), timedelta(hours=25)}
    assert second.astimezone(s.zone()).date() - first.astimezone(s.zone()).date() == timedelta(
        days=1
    ), "one slot per local day"
