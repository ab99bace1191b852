"""Digests: the changes since a channel's last digest, grouped by source, each listed once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@dataclass(frozen=True)
class ChangeView:
    """A change as digests and alerts show it."""

    id: int
    source: str
    detected_at: datetime
    summary: str
    severity: str = "normal"
    link: str | None = None
    diff: str = ""
    reasons: tuple[str, ...] = ()
    items: tuple[dict[str, Any], ...] = ()
    flips: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    group: str | None = None  # the linked group of a country-list source
    excluded: tuple[str, ...] = ()  # places a country list newly excludes
    readmitted: tuple[str, ...] = ()  # exclusions a country list lifted


@dataclass
class Section:
    """The changes of one source."""

    source: str
    changes: list[ChangeView] = field(default_factory=list)


@dataclass
class Digest:
    """What a digest message says."""

    since: datetime | None
    until: datetime
    sections: list[Section]
    tz: str = "UTC"  # the channel's time zone (from its schedule), for the dates shown

    @property
    def count(self) -> int:
        """Return the number of changes."""
        return sum(len(s.changes) for s in self.sections)


def readable_date(text: str, tz: str = "UTC") -> str:
    """Return a date as people read it, in the channel's time zone.

    "2026-01-15" -> "15 Jan 2026"; "Tue, 29 Sep 2026 00:00:00 -0000" (RSS) and ISO times ->
    "29 Sep 2026", with the local time when it is not midnight ("29 Sep 2026 14:30 CEST").
    Text that is no date is returned as it is.
    """
    value = text.strip()
    if not value:
        return ""
    when: datetime | None = None
    try:
        if len(value) == 10:
            return date.fromisoformat(value).strftime("%-d %b %Y")
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return value
    if when is None:
        return value
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if when.time() == time(0) and when.utcoffset() == timedelta(0):
        return when.strftime("%-d %b %Y")  # a date given as midnight UTC is a date
    try:
        local = when.astimezone(ZoneInfo(tz))
    except (ZoneInfoNotFoundError, ValueError):
        local = when.astimezone(UTC)
    return local.strftime("%-d %b %Y %H:%M %Z")


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def build_digest(
    changes: list[ChangeView], *, since: datetime | None, now: datetime, tz: str = "UTC"
) -> Digest:
    """Group changes by source (sources with high-severity changes first, then by name,
    case-insensitively), oldest change first within a source; a change id given twice is listed
    once. Naive times are read as UTC, so stored (naive) and fresh (aware) times sort together.
    """
    unique = {c.id: c for c in changes}
    by_source: dict[str, Section] = {}
    for c in sorted(unique.values(), key=lambda c: (_utc(c.detected_at), c.id)):
        by_source.setdefault(c.source, Section(c.source)).changes.append(c)
    sections = sorted(
        by_source.values(),
        key=lambda s: (not any(c.severity == "high" for c in s.changes), s.source.lower()),
    )
    return Digest(since, now, sections, tz)
