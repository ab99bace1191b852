"""Values behind buttons and menus, stored here so a Slack value is a short id.

Slack cuts a button's value at 2,000 characters; a question in Thai or with accents, written as
JSON, passes that long before the question's own limit. The row holds the whole value.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from storage.db import session_scope
from storage.tables.slack import SlackChoice

PREFIX = "c:"


def store_choice(engine: Engine, payload: dict[str, Any], *, now: datetime) -> str:
    """Store a payload; return the short id a button carries."""
    choice_id = secrets.token_urlsafe(9)  # 12 characters
    with session_scope(engine) as session:
        session.add(SlackChoice(id=choice_id, created_at=now, payload=payload))
        session.commit()
    return choice_id


def load_choice(engine: Engine, choice_id: str) -> dict[str, Any] | None:
    """Return a stored payload, or None when the id is unknown."""
    with session_scope(engine) as session:
        row = session.get(SlackChoice, choice_id[:16])
    return None if row is None else dict(row.payload)
