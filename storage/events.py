"""Slack deliveries already handled (so a retried delivery is processed once, on any replica)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from storage.db import session_scope
from storage.tables.slack import SlackEvent


def claim_event(engine: Engine, event_id: str, *, now: datetime) -> bool:
    """Record an event id; return False when it was already recorded (a retry)."""
    with session_scope(engine) as session:
        session.add(SlackEvent(event_id=event_id, received_at=now))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            return False
    return True
