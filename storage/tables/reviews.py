"""Requests for compliance to review an answer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel


class ReviewRequest(SQLModel, table=True):
    """A request for compliance to review an answer."""

    __tablename__ = "review_request"
    __table_args__ = (
        Index(
            "ux_review_request_open_decision",
            "decision_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    decision_id: str = Field(foreign_key="decision.id", index=True)
    requested_by: str
    requested_at: datetime
    channel: str | None = None
    ts: str | None = None
    status: str = "open"  # open | resolved
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    outcome: str | None = None
    note: str | None = None
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    reminded_at: datetime | None = None
    team_id: str | None = Field(default=None, index=True, max_length=20)
    enterprise_id: str | None = Field(default=None, max_length=20)
