"""The file form of rule-table entities: the small conversions every `to_dict`/`from_dict` shares."""

from __future__ import annotations

from datetime import date
from typing import Any


def opt_date(value: Any) -> date | None:
    """Read an optional date from a file value (a date or ISO text)."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def str_tuple(value: Any) -> tuple[str, ...]:
    """Read an optional list of values as a tuple of strings."""
    return tuple(str(v) for v in value or ())


def drop_empty(data: dict[str, Any]) -> dict[str, Any]:
    """Drop keys whose value says nothing, so exports stay as short as the files people write."""
    return {k: v for k, v in data.items() if v not in (None, (), [], {}, False) or k in _KEEP}


_KEEP = {"open_weights", "multimodal"}


def iso(value: date | None) -> str | None:
    """Write an optional date as ISO text."""
    return value.isoformat() if value else None


def num(value: float) -> float | int:
    """Write a whole number without its decimal point (50, not 50.0)."""
    return int(value) if float(value).is_integer() else value
