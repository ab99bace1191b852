"""Importing a restricted-party list file as a new version, with the same guards as a poll."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine

from bot.domain.errors import BotError
from bot.domain.screening.entries import ParsedList
from bot.domain.screening.parsers.common import ListFormatError
from bot.domain.screening.versions import DEFAULT_MAX_REMOVED_SHARE
from bot.domain.tracking.kinds import kind_named, parse_list
from storage.list_versions import StoredVersion, store_version


def import_list(
    engine: Engine,
    *,
    kind: str,
    body: bytes,
    list_id: str | None = None,
    alt: bytes | None = None,
    add: bytes | None = None,
    now: datetime,
    origin: str = "import",
    source_id: int | None = None,
    name: str | None = None,
    max_removed_share: float = DEFAULT_MAX_REMOVED_SHARE,
) -> StoredVersion:
    """Parse and store a list file with the same guards as a poll; raise `BotError` when refused."""
    try:
        parsed: ParsedList = parse_list(kind, body, alt=alt, add=add)
    except ListFormatError as exc:
        raise BotError(f"Can't import the {kind} file: {exc}") from exc
    lid = list_id or kind
    return store_version(
        engine,
        lid,
        parsed,
        name=name or kind_named(kind).label,
        now=now,
        origin=origin,
        source_id=source_id,
        max_removed_share=max_removed_share,
    )
