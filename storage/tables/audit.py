"""The audit log: answered questions and attempted admin actions.

Both tables are append-only and hash-chained (storage/audit_chain.py); the migrations add triggers
that refuse UPDATE, DELETE and TRUNCATE on them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel


class Decision(SQLModel, table=True):
    """One answered question in the append-only audit log."""

    id: str = Field(primary_key=True, max_length=40)
    created_at: datetime = Field(index=True)
    actor: str = Field(index=True)
    question: str
    customer_id: str | None = Field(default=None, index=True)
    customer_name: str | None = None
    country: str
    model: str | None = None
    access: str
    as_of: str
    verdict: str
    rule_ids: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)
    inputs: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)
    revision: int
    answer: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    team_id: str | None = Field(default=None, index=True, max_length=20)
    enterprise_id: str | None = Field(default=None, max_length=20)
    # The audit hash chain (storage/audit_chain.py): position, previous row's hash, own hash.
    chain_seq: int | None = Field(default=None, unique=True, index=True)
    prev_hash: str | None = Field(default=None, max_length=64)
    row_hash: str | None = Field(default=None, max_length=64)


class AdminAction(SQLModel, table=True):
    """An attempted admin action from Slack, allowed or refused (append-only)."""

    __tablename__ = "admin_action"
    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(index=True)
    user_id: str = Field(index=True)
    action: str
    target: str | None = None
    allowed: bool
    revision: int | None = None
    reason: str | None = None
    team_id: str | None = Field(default=None, index=True, max_length=20)
    enterprise_id: str | None = Field(default=None, max_length=20)
    # The audit hash chain (storage/audit_chain.py): position, previous row's hash, own hash.
    chain_seq: int | None = Field(default=None, unique=True, index=True)
    prev_hash: str | None = Field(default=None, max_length=64)
    row_hash: str | None = Field(default=None, max_length=64)


import storage.audit_chain  # noqa: E402,F401  (chains audit rows as the ORM flushes them)
