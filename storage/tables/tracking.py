"""Policy tracking: sources, their snapshots and changes, subscriptions and the delivery outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel


class PolicySource(SQLModel, table=True):
    """A tracked policy source and its polling health."""

    __tablename__ = "policy_source"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=200)
    kind: str = Field(max_length=32)
    url: str = ""
    selector: str | None = None
    ignore: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)
    interval_s: int = 6 * 3600
    tags: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)
    severity: str = "normal"
    country_list_group: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    last_hash: str | None = None
    last_polled_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    failures: int = 0
    failure_alerted: bool = False
    next_poll_at: datetime = Field(index=True)
    created_at: datetime


class PolicySnapshot(SQLModel, table=True):
    """What a source said at one successful fetch (append-only history)."""

    __tablename__ = "policy_snapshot"
    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="policy_source.id", index=True)
    fetched_at: datetime
    hash: str = Field(max_length=64)
    content: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)


class PolicyChange(SQLModel, table=True):
    """A detected change: a source diff, a rule-table revision, or rules changing on a date."""

    __tablename__ = "policy_change"
    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(unique=True, max_length=200)
    source_id: int | None = Field(default=None, foreign_key="policy_source.id", index=True)
    detected_at: datetime = Field(index=True)
    summary: str
    diff: str = ""
    link: str | None = None
    severity: str = "normal"
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    revision: int | None = None


class Subscription(SQLModel, table=True):
    """A channel's subscription to sources (by id or tag) on a digest schedule."""

    __tablename__ = "subscription"
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(unique=True, max_length=40)
    source_ids: list[int] = Field(default_factory=list, sa_type=JSON, nullable=False)
    tags: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)
    schedule: str = "daily 09:00 UTC"
    created_by: str
    created_at: datetime
    paused: bool = False
    paused_reason: str | None = None
    last_period: datetime | None = None
    last_digest_at: datetime | None = None
    team_id: str | None = Field(default=None, index=True, max_length=20)
    enterprise_id: str | None = Field(default=None, max_length=20)


class Delivery(SQLModel, table=True):
    """The outbox: one Slack message to post exactly once (a digest part or an alert)."""

    __tablename__ = "delivery"
    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(unique=True, max_length=200)
    channel: str = Field(max_length=40)
    subscription_id: int | None = Field(default=None, foreign_key="subscription.id")
    kind: str = Field(max_length=16)
    parent_id: int | None = Field(default=None, foreign_key="delivery.id")
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    change_ids: list[int] = Field(default_factory=list, sa_type=JSON, nullable=False)
    status: str = Field(default="pending", index=True, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime
    claimed_by: str | None = None
    claimed_until: datetime | None = None
    ts: str | None = None
    sent_at: datetime | None = None
    last_error: str | None = None
    created_at: datetime
