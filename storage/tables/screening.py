"""Restricted-party screening: lists, their versions and entries, hits and admins' decisions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel


class ScreeningList(SQLModel, table=True):
    """A restricted-party list Clearance screens against (fed by a source's polls or by imports)."""

    __tablename__ = "screening_list"
    id: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=32)
    name: str
    source_id: int | None = Field(default=None, foreign_key="policy_source.id")
    created_at: datetime


class ListVersion(SQLModel, table=True):
    """One stored version of a list: what was added, removed and changed against the one before."""

    __tablename__ = "list_version"
    id: int | None = Field(default=None, primary_key=True)
    list_id: str = Field(foreign_key="screening_list.id", index=True, max_length=64)
    created_at: datetime
    origin: str = Field(max_length=16)  # poll | import
    published: str | None = None
    entries: int
    added: int = 0
    removed: int = 0
    changed: int = 0
    changes: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON, nullable=False)


class ListEntryRow(SQLModel, table=True):
    """A list entry as of a range of versions (`version_to` exclusive, NULL while current)."""

    __tablename__ = "list_entry"
    __table_args__ = (Index("ix_list_entry_current", "list_id", "version_to"),)
    row_id: int | None = Field(default=None, primary_key=True)
    list_id: str = Field(foreign_key="screening_list.id", max_length=64)
    key: str = Field(max_length=200)
    entry_id: str = Field(max_length=200)
    name: str
    fingerprint: str = Field(max_length=32)
    version_from: int = Field(foreign_key="list_version.id")
    version_to: int | None = Field(default=None, foreign_key="list_version.id")
    body: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)


class ScreeningDecision(SQLModel, table=True):
    """An admin's confirm or dismiss of a hit for a customer (append-only; the newest counts)."""

    __tablename__ = "screening_decision"
    id: int | None = Field(default=None, primary_key=True)
    customer_id: str = Field(index=True, max_length=200)
    list_id: str = Field(max_length=64)
    entry_key: str = Field(max_length=200)
    fingerprint: str = Field(max_length=32)  # the entry as decided; a change reopens the hit
    decision: str = Field(max_length=16)  # confirm | dismiss
    actor: str
    reason: str
    created_at: datetime


class ScreeningHit(SQLModel, table=True):
    """A hit the last screening of a registered customer (or one of its owners) found."""

    __tablename__ = "screening_hit"
    __table_args__ = (
        Index("ux_screening_hit", "customer_id", "party_id", "list_id", "entry_key", unique=True),
    )
    id: int | None = Field(default=None, primary_key=True)
    customer_id: str = Field(max_length=200)
    party_id: str = Field(max_length=200)
    list_id: str = Field(max_length=64)
    entry_key: str = Field(max_length=200)
    entry_name: str
    matched_name: str
    strength: str = Field(max_length=16)
    score: float
    fingerprint: str = Field(max_length=32)
    first_seen: datetime
    last_seen: datetime
    removed_at: datetime | None = None
