"""Checks and wording for command-line input and output that Slack handles in its own way.

The terminal gets plain words: no Slack mention syntax (`<#C0123>`, `<@U0123>`) and no Python
list reprs; a channel is given by its id; a date by the form Slack's `changes since` takes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

from bot.domain.errors import BotError

_MENTION = re.compile(r"<[#@!]([A-Za-z0-9_]+)(?:\|([^>]*))?>")
CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]+$")
NO_ROWS = "no rows"


def unslack(text: str) -> str:
    """Replace Slack mentions with the plain id or label they show."""
    return _MENTION.sub(lambda m: m.group(2) or m.group(1), text)


def listed(values: Iterable[object], empty: str = "-") -> str:
    """Return values as "a, b, c" (or `empty` when there are none)."""
    items = [str(v) for v in values]
    return ", ".join(items) if items else empty


def channel_id(value: str) -> str:
    """Return a Slack channel id as given; refuse a channel name or anything else."""
    text = value.strip()
    if CHANNEL_ID.match(text):
        return text
    raise BotError(
        f"--channel '{text[:40]}' is not a Slack channel id. Use the id from the channel's "
        "details in Slack (it starts with C or G, e.g. C0123ABCD), not its name."
    )


def since_date(value: str | None) -> datetime | None:
    """Read --since as `/clearance changes since` does: a date, YYYY-MM-DD (UTC midnight)."""
    if value is None:
        return None
    text = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            return datetime.fromisoformat(text).replace(tzinfo=UTC)
        except ValueError:
            pass
    raise BotError(
        f"--since '{text[:40]}' is not a date. Write it as YYYY-MM-DD, e.g. --since 2026-11-01, "
        "the form `/clearance changes since` takes in Slack."
    )
