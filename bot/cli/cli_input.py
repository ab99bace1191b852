"""Checks and wording for command-line input and output.

The terminal gets plain words where Slack has its own: no Slack mention syntax (`<#C0123>`,
`<@U0123>`) and no Python list reprs; a channel is given by its id; a date by the form Slack's
`changes since` takes. The option types (`revision_number`, `positive_limit`, `worker_count`)
raise the error argparse turns into a usage error.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from bot.domain.errors import BotError

_MENTION = re.compile(r"<[#@!]([A-Za-z0-9_]+)(?:\|([^>]*))?>")
CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]+$")
NO_ROWS = "no rows"


def print_json(data: Any) -> None:
    """Print data as one line of JSON, keeping non-ASCII text as written."""
    print(json.dumps(data, indent=None, ensure_ascii=False, default=str))


def iso(value: datetime | None) -> str | None:
    """Return a time as ISO 8601 text for `--json` (None stays None)."""
    return value.isoformat() if value else None


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


def revision_number(text: str) -> int:
    """Parse a revision number: 1 or more (argparse turns the error into a usage error)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not '{text}'") from None
    if value < 1:
        raise argparse.ArgumentTypeError(
            f"must be 1 or more, not {value}; see `clearance revisions list`"
        )
    return value


def positive_limit(text: str) -> int:
    """Parse a row limit from 1 to 10,000."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not '{text}'") from None
    if not 1 <= value <= 10_000:
        raise argparse.ArgumentTypeError(f"must be from 1 to 10000, not {value}")
    return value


def worker_count(text: str) -> int:
    """Parse a whole number from 1 to 64 (argparse turns the ValueError into a usage error)."""
    value = int(text)
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError(f"must be from 1 to 64, not {value}")
    return value
