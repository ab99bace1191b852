"""The hits the last re-screen of registered customers found, kept to report what changed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from storage.db import session_scope
from storage.tables.screening import ScreeningHit


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
