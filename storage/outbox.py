"""The delivery outbox: rows claimed with a lease, marked sent with the Slack message ts."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from storage.db import session_scope
from storage.tables.tracking import Delivery


def due_deliveries(*, session: Session, now: datetime, limit: int = 100) -> list[int]:
    """Return pending deliveries whose time has come and whose claim (if any) has lapsed."""
    query = (
        select(Delivery.id)
        .where(
            Delivery.status == "pending",
            col(Delivery.next_attempt_at) <= now,
            or_(col(Delivery.claimed_until).is_(None), col(Delivery.claimed_until) < now),
        )
        .order_by(col(Delivery.id))
        .limit(limit)
    )
    return [i for i in session.exec(query) if i is not None]


def claim_delivery(
    engine: Engine, delivery_id: int, *, now: datetime, worker: str, lease_s: float
) -> Delivery | None:
    """Claim a delivery and count the attempt before posting; None if someone else holds it.

    Counting the attempt first is what makes recovery safe: a delivery seen again with
    attempts > 0 may already be in Slack, so it is looked up there before posting again.
    """
    with session_scope(engine) as session:
        result = session.execute(
            update(Delivery)
            .where(
                col(Delivery.id) == delivery_id,
                col(Delivery.status) == "pending",
                or_(col(Delivery.claimed_until).is_(None), col(Delivery.claimed_until) < now),
            )
            .values(
                claimed_by=worker,
                claimed_until=now + timedelta(seconds=lease_s),
                attempts=Delivery.attempts + 1,
            )
        )
        session.commit()
        if not getattr(result, "rowcount", 0):
            return None
        return session.get(Delivery, delivery_id)


def finish(
    engine: Engine,
    delivery_id: int,
    *,
    status: str,
    now: datetime,
    ts: str | None = None,
    error: str | None = None,
    retry_at: datetime | None = None,
    undo_attempt: bool = False,
) -> None:
    """Record the outcome of an attempt: sent, paused, failed, or pending again (retry)."""
    with session_scope(engine) as session:
        row = session.get(Delivery, delivery_id)
        if row is None:
            return
        row.status, row.claimed_by, row.claimed_until = status, None, None
        if ts is not None:
            row.ts, row.sent_at = ts, now
        if error is not None:
            row.last_error = error[:500]
        if retry_at is not None:
            row.next_attempt_at = retry_at
        if undo_attempt:
            row.attempts -= 1  # released without touching Slack (e.g. waiting for its parent)
        session.add(row)
        session.commit()
