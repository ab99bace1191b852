"""Restricted-party list versions: storing a download as a new version, and the versions held.

Storing a version is one transaction: the guards run on the diff against the current entries
first, so a broken download never replaces good data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.domain.errors import BotError, NotFound
from bot.domain.screening.entries import Entry, ParsedList
from bot.domain.screening.versions import (
    DEFAULT_MAX_REMOVED_SHARE,
    VersionDiff,
    check_new_version,
    diff_versions,
    keyed,
    parts_held,
)
from storage.db import read_rows, session_scope
from storage.list_entries import current_entries
from storage.tables.screening import ListEntryRow, ListVersion, ScreeningList

MAX_CHANGES_KEPT = 500  # per version, in its `changes` column; the entry rows keep everything


class ListGuardError(BotError):
    """A download the sanity guards refuse: the stored version stays."""

    code = "list_guard"


@dataclass(frozen=True)
class StoredVersion:
    """The outcome of storing a download: the new version (None when nothing changed) and the diff."""

    list_id: str
    version: ListVersion | None
    diff: VersionDiff


def ensure_list(
    session: Session,
    list_id: str,
    *,
    kind: str,
    name: str,
    now: datetime,
    source_id: int | None = None,
) -> ScreeningList:
    """Return the list with this id, creating it; refuse to reuse an id for another kind."""
    row = session.get(ScreeningList, list_id)
    if row is None:
        row = ScreeningList(id=list_id, kind=kind, name=name, source_id=source_id, created_at=now)
        session.add(row)
        session.flush()
    elif row.kind != kind:
        raise BotError(
            f"The list '{list_id}' holds {row.kind} data, not {kind}. Use another --list id."
        )
    return row


def _change_json(change: Any) -> dict[str, Any]:
    e: Entry = change.entry
    return {
        "change": change.change,
        "key": change.key,
        "entry_id": e.entry_id,
        "name": e.name,
        "source": e.source,
        "programs": list(e.programs),
        "citation": e.citation,
        "start_date": e.start_date,
        "url": e.url,
    }


def _write_entries(session: Session, list_id: str, version_id: int, diff: VersionDiff) -> None:
    """Close the rows of removed and changed entries at this version; add the new rows."""
    gone = [c.key for c in (*diff.removed, *diff.changed)]
    for start in range(0, len(gone), 500):
        session.execute(
            update(ListEntryRow)
            .where(
                col(ListEntryRow.list_id) == list_id,
                col(ListEntryRow.version_to).is_(None),
                col(ListEntryRow.key).in_(gone[start : start + 500]),
            )
            .values(version_to=version_id)
        )
    for change in (*diff.added, *diff.changed):
        e = change.entry
        session.add(
            ListEntryRow(
                list_id=list_id,
                key=e.key,
                entry_id=e.entry_id,
                name=e.name,
                fingerprint=e.fingerprint,
                version_from=version_id,
                body=e.to_json(),
            )
        )


def store_version(
    engine: Engine,
    list_id: str,
    parsed: ParsedList,
    *,
    name: str,
    now: datetime,
    origin: str,
    source_id: int | None = None,
    max_removed_share: float = DEFAULT_MAX_REMOVED_SHARE,
) -> StoredVersion:
    """Store a parsed download as the list's new version; raise `ListGuardError` when guarded."""
    with session_scope(engine) as session:
        ensure_list(session, list_id, kind=parsed.kind, name=name, now=now, source_id=source_id)
        before = current_entries(session, list_id)
        after = keyed(parsed.entries)
        diff = diff_versions(before, after)
        reason = check_new_version(
            len(before) or None,
            after,
            removed=len(diff.removed),
            max_removed_share=max_removed_share,
            previous_parts=parts_held(before.values()),
        )
        if reason is not None:
            raise ListGuardError(f"{name}: {reason}")
        has_version = session.exec(
            select(ListVersion.id).where(ListVersion.list_id == list_id).limit(1)
        ).first()
        if diff.empty and has_version is not None:
            return StoredVersion(list_id, None, diff)
        version = ListVersion(
            list_id=list_id,
            created_at=now,
            origin=origin,
            published=parsed.published,
            entries=len(after),
            added=len(diff.added),
            removed=len(diff.removed),
            changed=len(diff.changed),
            changes=[_change_json(c) for c in diff.all()[:MAX_CHANGES_KEPT]],
        )
        session.add(version)
        session.flush()
        assert version.id is not None
        _write_entries(session, list_id, version.id, diff)
        session.commit()
        return StoredVersion(list_id, version, diff)


_NEWEST_VERSIONS = f"SELECT list_id, MAX(id) FROM {ListVersion.__tablename__} GROUP BY list_id"


def newest_versions(engine: Engine) -> dict[str, int]:
    """The newest version id of every list (the in-process index is cached on this)."""
    # Asked on every answer: straight to the driver, as the revision check is (storage.db).
    rows = read_rows(engine, _NEWEST_VERSIONS)
    return {str(list_id): int(version) for list_id, version in rows if version is not None}


def get_list(session: Session, list_id: str) -> ScreeningList:
    """A list by id, or NotFound naming the lists there are."""
    row = session.get(ScreeningList, list_id)
    if row is None:
        known = ", ".join(session.exec(select(ScreeningList.id)).all()) or "none yet"
        raise NotFound(f"No list '{list_id}'. Lists: {known}.")
    return row


def list_summaries(engine: Engine) -> list[tuple[ScreeningList, ListVersion | None]]:
    """Every list with its newest version."""
    with session_scope(engine) as session:
        lists = session.exec(select(ScreeningList).order_by(col(ScreeningList.id))).all()
        out = []
        for lst in lists:
            version = session.exec(
                select(ListVersion)
                .where(ListVersion.list_id == lst.id)
                .order_by(col(ListVersion.id).desc())
                .limit(1)
            ).first()
            out.append((lst, version))
        return out


def history(engine: Engine, list_id: str) -> list[ListVersion]:
    """A list's versions, newest first."""
    with session_scope(engine) as session:
        get_list(session, list_id)
        return list(
            session.exec(
                select(ListVersion)
                .where(ListVersion.list_id == list_id)
                .order_by(col(ListVersion.id).desc())
            ).all()
        )
