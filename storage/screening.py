"""Restricted-party lists in the database: versions with versioned entries, decisions and hits.

An entry row is current from the version that added or changed it until the version that removed
or changed it (`version_to`, exclusive). Storing a version is one transaction: the guards run on
the diff against the current entries first, so a broken download never replaces good data.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.domain.errors import BotError, NotFound
from bot.domain.screening.entries import Entry, ParsedList, entry_from_json
from bot.domain.screening.versions import (
    DEFAULT_MAX_REMOVED_SHARE,
    VersionDiff,
    check_new_version,
    diff_versions,
    keyed,
    parts_held,
)
from storage.db import read_rows, session_scope
from storage.models import (
    ListEntryRow,
    ListVersion,
    ScreeningDecision,
    ScreeningHit,
    ScreeningList,
)
from storage.snapshots import RevisionStamp, SnapshotStore

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


def current_entries(session: Session, list_id: str) -> dict[str, Entry]:
    """The entries of the list's newest version, by key."""
    rows = session.exec(
        select(ListEntryRow.body).where(
            ListEntryRow.list_id == list_id, col(ListEntryRow.version_to).is_(None)
        )
    ).all()
    return keyed(tuple(entry_from_json(body) for body in rows))


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
        gone = [c.key for c in (*diff.removed, *diff.changed)]
        for start in range(0, len(gone), 500):
            session.execute(
                update(ListEntryRow)
                .where(
                    col(ListEntryRow.list_id) == list_id,
                    col(ListEntryRow.version_to).is_(None),
                    col(ListEntryRow.key).in_(gone[start : start + 500]),
                )
                .values(version_to=version.id)
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
                    version_from=version.id,
                    body=e.to_json(),
                )
            )
        session.commit()
        return StoredVersion(list_id, version, diff)


_NEWEST_VERSIONS = f"SELECT list_id, MAX(id) FROM {ListVersion.__tablename__} GROUP BY list_id"


def newest_versions(engine: Engine) -> dict[str, int]:
    """The newest version id of every list (the in-process index is cached on this)."""
    # Asked on every answer: straight to the driver, as the revision check is (storage.db).
    rows = read_rows(engine, _NEWEST_VERSIONS)
    return {str(list_id): int(version) for list_id, version in rows if version is not None}


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


def record_decision(
    engine: Engine,
    *,
    customer_id: str,
    list_id: str,
    entry: Entry,
    decision: str,
    actor: str,
    reason: str,
    now: datetime,
) -> ScreeningDecision:
    """Append a confirm or dismiss decision (audited: who, why, when, and the entry as decided)."""
    if decision not in ("confirm", "dismiss"):
        raise BotError("A decision is 'confirm' or 'dismiss'.")
    if not reason.strip():
        raise BotError("Say why: --why TEXT is required.")
    row = ScreeningDecision(
        customer_id=customer_id,
        list_id=list_id,
        entry_key=entry.key,
        fingerprint=entry.fingerprint,
        decision=decision,
        actor=actor,
        reason=reason.strip(),
        created_at=now,
    )
    with session_scope(engine) as session:
        session.add(row)
        session.commit()
    return row


DecisionKey = tuple[str, str, str]


class DecisionRow(NamedTuple):
    """A screening decision as an answer reads it."""

    customer_id: str
    list_id: str
    entry_key: str
    fingerprint: str
    decision: str
    actor: str
    reason: str


_DECISION_COLUMNS = ", ".join(DecisionRow._fields)


def decisions_of(engine: Engine, customer_ids: Iterable[str]) -> dict[DecisionKey, DecisionRow]:
    """The newest decision per (customer, list, entry key) for these customers (or parties)."""
    wanted = sorted(set(customer_ids))
    if not wanted:
        return {}
    # Read on every answer with a hit: straight to the driver, as the revision check is.
    mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"SELECT {_DECISION_COLUMNS} FROM {ScreeningDecision.__tablename__} "
        f"WHERE customer_id IN ({', '.join([mark] * len(wanted))}) ORDER BY id"
    )
    rows = [DecisionRow(*r) for r in read_rows(engine, sql, wanted)]
    return {(r.customer_id, r.list_id, r.entry_key): r for r in rows}


def latest_decisions(engine: Engine) -> dict[tuple[str, str, str], ScreeningDecision]:
    """The newest decision per (customer, list, entry key)."""
    with session_scope(engine) as session:
        rows = session.exec(select(ScreeningDecision).order_by(col(ScreeningDecision.id))).all()
    return {(r.customer_id, r.list_id, r.entry_key): r for r in rows}


def open_hits(engine: Engine) -> list[ScreeningHit]:
    """Hits found by the last screening of registered customers and not since removed."""
    with session_scope(engine) as session:
        return list(
            session.exec(
                select(ScreeningHit)
                .where(col(ScreeningHit.removed_at).is_(None))
                .order_by(col(ScreeningHit.customer_id), col(ScreeningHit.score).desc())
            ).all()
        )


HitKey = tuple[str, str, str, str]


def replace_hits(
    engine: Engine, found: dict[HitKey, dict[str, Any]], *, now: datetime
) -> tuple[list[ScreeningHit], list[ScreeningHit], list[ScreeningHit]]:
    """Store a full re-screen's hits; return (new, removed, changed strength) against the last one."""
    new: list[ScreeningHit] = []
    removed: list[ScreeningHit] = []
    changed: list[ScreeningHit] = []
    seen: list[int | None] = []
    with session_scope(engine) as session:
        existing = {
            (h.customer_id, h.party_id, h.list_id, h.entry_key): h
            for h in session.exec(select(ScreeningHit)).all()
        }
        for key, data in found.items():
            row = existing.get(key)
            if row is None:
                row = ScreeningHit(
                    customer_id=key[0],
                    party_id=key[1],
                    list_id=key[2],
                    entry_key=key[3],
                    first_seen=now,
                    last_seen=now,
                    **data,
                )
                session.add(row)
                new.append(row)
                continue
            reopened = row.removed_at is not None
            if reopened:
                new.append(row)
            elif row.strength != data["strength"] or row.fingerprint != data["fingerprint"]:
                changed.append(row)
            elif all(getattr(row, k) == v for k, v in data.items()):
                seen.append(row.id)  # unchanged: only its last_seen moves, in bulk below
                continue
            for field_name, value in data.items():
                setattr(row, field_name, value)
            row.last_seen = now
            row.removed_at = None
            session.add(row)
        for key, row in existing.items():
            if key not in found and row.removed_at is None:
                row.removed_at = now
                session.add(row)
                removed.append(row)
        for start in range(0, len(seen), 500):
            session.execute(
                update(ScreeningHit)
                .where(col(ScreeningHit.id).in_(seen[start : start + 500]))
                .values(last_seen=now)
            )
        session.commit()
    return new, removed, changed


@dataclass(frozen=True)
class ScreeningSnapshots(SnapshotStore):
    """The screening index of one database's newest list versions, saved for the next `ask`."""

    @property
    def path(self) -> Path:
        """The snapshot file of this database's screening index."""
        return self.directory / f"screening-{self.database[:32]}.pickle"


def screening_stamp(engine: Engine, versions: dict[str, int], thresholds: object) -> RevisionStamp:
    """What a saved index must match: the list versions (ids, times, counts), thresholds and the
    screening code; a database rebuilt with other lists under the same ids never matches."""
    import bot.domain.screening as package

    with session_scope(engine) as session:
        rows = session.exec(
            select(ListVersion).where(col(ListVersion.id).in_(sorted(versions.values())))
        ).all()
    identity = sorted(
        (v.list_id, v.id or 0, v.created_at.isoformat(), v.entries, v.added, v.removed, v.changed)
        for v in rows
    )
    digest = hashlib.sha256(json.dumps(identity).encode() + repr(thresholds).encode())
    for path in sorted(Path(package.__file__).parent.rglob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return RevisionStamp(len(versions), digest.hexdigest())
