"""What Clearance keeps about Slack itself: handled deliveries and the choices behind buttons."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel


class SlackEvent(SQLModel, table=True):
    """Slack deliveries already handled, so retried deliveries are answered once."""

    __tablename__ = "slack_event"
    event_id: str = Field(primary_key=True, max_length=100)
    received_at: datetime


class SlackChoice(SQLModel, table=True):
    """What a button or menu stands for, kept here so its Slack value is a short id."""

    __tablename__ = "slack_choice"
    id: str = Field(primary_key=True, max_length=16)
    created_at: datetime
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)
