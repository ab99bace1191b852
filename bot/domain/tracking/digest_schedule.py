"""Digest schedules: "daily 09:00 Europe/Berlin" or "weekly MON 09:00 America/New_York".

A schedule names local wall-clock times in a time zone, so a daily 09:00 digest stays at 09:00
across daylight-saving changes. `last_due(now)` gives the newest scheduled instant at or before
`now`; a digest is due when that instant is newer than the channel's last digest.

Daylight-saving rules: a slot inside a spring-forward gap (02:30 on the night clocks jump from
02:00 to 03:00) is taken with the offset before the change, so it falls at 03:30 new local time and
still happens exactly once that day; a slot in the repeated hour of a fall-back night is taken at
its first occurrence only. Naive datetimes passed to `last_due` are read as UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.domain.errors import BotError

DAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
DAY_NAMES = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
_FORM = re.compile(
    r"^(?P<kind>daily|weekly)\s+(?:(?P<day>[a-z]+)\s+)?(?P<h>\d{1,2}):(?P<m>\d{2})"
    r"(?:\s+(?P<tz>\S+))?$",
    re.I,
)
DEFAULT = "daily 09:00 UTC"


class BadSchedule(BotError):
    """A schedule that can't be read; the message shows the accepted forms."""

    code = "bad_schedule"


@dataclass(frozen=True)
class Schedule:
    """When a channel's digest is posted."""

    kind: str  # "daily" | "weekly"
    at: time
    tz: str = "UTC"
    weekday: int | None = None  # 0 = Monday, weekly only

    def zone(self) -> ZoneInfo:
        """Return the time zone."""
        return ZoneInfo(self.tz)

    def describe(self) -> str:
        """Return the canonical text form, e.g. "weekly MON 09:00 Europe/Berlin"."""
        day = f" {DAYS[self.weekday]}" if self.weekday is not None else ""
        return f"{self.kind}{day} {self.at:%H:%M} {self.tz}"

    def _local(self, day: datetime) -> datetime:
        # A time inside a spring-forward gap resolves with the pre-change offset (fold=0), so the
        # digest still goes out once that day.
        return datetime.combine(day.date(), self.at, tzinfo=self.zone())

    def last_due(self, now: datetime) -> datetime:
        """Return the newest scheduled instant at or before `now`, in UTC."""
        now = _utc(now)
        local_now = now.astimezone(self.zone())
        for back in range(0, 8):
            candidate = self._local(local_now - timedelta(days=back))
            if self.weekday is not None and candidate.weekday() != self.weekday:
                continue
            if candidate.astimezone(UTC) <= now.astimezone(UTC):
                return candidate.astimezone(UTC)
        raise AssertionError("a daily or weekly slot always exists within 8 days")


def _utc(value: datetime) -> datetime:
    """Return `value` in UTC; a naive value is taken to be UTC already (as the database stores)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _zone_name(tz: str) -> str | None:
    """Return the IANA name for `tz` (case-insensitive: "europe/berlin" is Europe/Berlin)."""
    try:
        ZoneInfo(tz)
        return tz
    except (ZoneInfoNotFoundError, ValueError, OSError):
        pass
    folded = {name.lower(): name for name in available_timezones()}
    return folded.get(tz.lower())


def _weekday(word: str | None) -> int | None:
    """Return 0-6 for "MON" or "Monday" (any case); None for anything else ("Monkey")."""
    word = (word or "").upper()
    for i, (short, full) in enumerate(zip(DAYS, DAY_NAMES, strict=True)):
        if word in (short, full):
            return i
    return None


def parse_schedule(text: str | None) -> Schedule:
    """Parse a schedule, or raise `BadSchedule` saying what is accepted.

    Accepted: "daily HH:MM [TZ]" and "weekly DAY HH:MM [TZ]", any case, with DAY as MON..SUN or the
    full English name; TZ is an IANA zone (matched case-insensitively, stored canonically) and
    defaults to UTC. Empty text means the default, "daily 09:00 UTC".
    """
    text = " ".join((text or DEFAULT).split())
    m = _FORM.match(text)
    hint = " Use 'daily HH:MM TZ' or 'weekly DAY HH:MM TZ', e.g. 'weekly MON 09:00 Europe/Berlin'."
    if not m:
        raise BadSchedule(f"Can't read the schedule '{text}'.{hint}")
    hour, minute = int(m["h"]), int(m["m"])
    if hour > 23 or minute > 59:
        raise BadSchedule(f"'{m['h']}:{m['m']}' is not a time of day.{hint}")
    tz = _zone_name(m["tz"] or "UTC")
    if tz is None:
        raise BadSchedule(
            f"Unknown time zone '{m['tz']}'. Use an IANA name such as "
            "Europe/Berlin or America/New_York."
        )
    weekday = None
    if m["kind"].lower() == "weekly":
        if not m["day"]:
            raise BadSchedule(f"Say which day for a weekly digest.{hint}")
        weekday = _weekday(m["day"])
        if weekday is None:
            raise BadSchedule(f"'{m['day']}' is not a day of the week (use MON to SUN).{hint}")
    elif m["day"]:
        raise BadSchedule(f"A daily digest takes no day.{hint}")
    return Schedule(m["kind"].lower(), time(hour, minute), tz, weekday)
