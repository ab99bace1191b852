"""A list's current entries: the rows of its newest version, read by key or whole for the index.

An entry row is current from the version that added or changed it until the version that removed
or changed it (`version_to`, exclusive).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.domain.errors import BotError, NotFound
from bot.domain.screening.entries import Entry, entry_from_json
from bot.domain.screening.versions import keyed
from storage.db import session_scope
from storage.tables.screening import ListEntryRow, ListVersion, ScreeningList


def current_entries(session: Session, list_id: str) -> dict[str, Entry]:
    """The entries of the list's newest version, by key."""
    rows = session.exec(
        select(ListEntryRow.body).where(
            ListEntryRow.list_id == list_id, col(ListEntryRow.version_to).is_(None)
        )
    ).all()
    return keyed(tuple(entry_from_json(body) for body in rows))


@dataclass(frozen=True)
class LoadedList:
    """A list's newest version with its entries, for building the index."""

    list: ScreeningList
    version: ListVersion
    entries: tuple[Entry, ...]


def load_current(engine: Engine) -> list[LoadedList]:
    """Every list's newest version and its entries, in list id order."""
    out = []
    with session_scope(engine) as session:
        newest = dict(
            session.exec(
                select(ListVersion.list_id, func.max(ListVersion.id)).group_by(ListVersion.list_id)
            ).all()
        )
        for lst in session.exec(select(ScreeningList).order_by(col(ScreeningList.id))).all():
            version_id = newest.get(lst.id)
            if version_id is None:
                continue
            version = session.get(ListVersion, version_id)
            assert version is not None
            entries = tuple(current_entries(session, lst.id).values())
            out.append(LoadedList(lst, version, entries))
    return out


def find_entry(session: Session, list_id: str | None, entry: str) -> tuple[str, Entry]:
    """A current entry by key or list id (`44973`, `EL:abc…`), optionally within one list."""
    query = select(ListEntryRow.list_id, ListEntryRow.body).where(
        col(ListEntryRow.version_to).is_(None),
        (col(ListEntryRow.key) == entry) | (col(ListEntryRow.entry_id) == entry),
    )
    if list_id:
        query = query.where(ListEntryRow.list_id == list_id)
    rows = session.exec(query).all()
    if not rows:
        raise NotFound(
            f"No current list entry '{entry}'. Use the entry id `clearance screen` shows."
        )
    if len(rows) > 1:
        lists = ", ".join(sorted({r[0] for r in rows}))
        raise BotError(f"Entry '{entry}' is on several lists ({lists}): add --list ID.")
    return rows[0][0], entry_from_json(rows[0][1])
