"""SQLModel tables.

Rule-table entities are versioned rows: a row holds one entity's file-form `body` and the revisions
it was current for (`rev_from` inclusive, `rev_to` exclusive, NULL while current). A change closes
the old row and inserts a new one, so the table at any revision can be rebuilt and every answer's
revision can be audited. The decision log is append-only; the migration adds triggers that refuse
UPDATE and DELETE on it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel


class Place(SQLModel, table=True):
    """A country or subdivision with its names (built in, from ISO 3166)."""

    code: str = Field(primary_key=True, max_length=8)
    name: str
    kind: str = Field(max_length=16)
    parent: str | None = Field(default=None, max_length=2)
    aliases: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)


class Revision(SQLModel, table=True):
    """A numbered rule-table revision: who changed what, when and why."""

    number: int = Field(primary_key=True)
    author: str
    created_at: datetime
    summary: str
    source: str | None = None
    changes: list[dict[str, Any]] = Field(default_factory=list,
                                          sa_type=JSON, nullable=False)


class _Versioned(SQLModel):
    """Columns every versioned entity row has."""

    row_id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200)
    rev_from: int = Field(foreign_key="revision.number")
    rev_to: int | None = Field(default=None, foreign_key="revision.number")
    body: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)

    kind: ClassVar[str]


class VendorRow(_Versioned, table=True):
    """A vendor, as of a range of revisions."""

    __tablename__ = "vendor"
    __table_args__ = (Index("ix_vendor_key_current", "key", "rev_to"),)
    kind: ClassVar[str] = "vendors"


class GroupRow(_Versioned, table=True):
    """A place group, as of a range of revisions."""

    __tablename__ = "place_group"
    __table_args__ = (Index("ix_place_group_key_current", "key", "rev_to"),)
    kind: ClassVar[str] = "groups"


class ModelRow(_Versioned, table=True):
    """A model, as of a range of revisions."""

    __tablename__ = "model"
    __table_args__ = (Index("ix_model_key_current", "key", "rev_to"),)
    kind: ClassVar[str] = "models"


class CustomerRow(_Versioned, table=True):
    """A customer, as of a range of revisions."""

    __tablename__ = "customer"
    __table_args__ = (Index("ix_customer_key_current", "key", "rev_to"),)
    kind: ClassVar[str] = "customers"


class RuleRow(_Versioned, table=True):
    """A rule, as of a range of revisions."""

    __tablename__ = "rule"
    __table_args__ = (Index("ix_rule_key_current", "key", "rev_to"),)
    kind: ClassVar[str] = "rules"


class LicenseRow(_Versioned, table=True):
    """A license, as of a range of revisions."""

    __tablename__ = "license"
    __table_args__ = (Index("ix_license_key_current", "key", "rev_to"),)
    kind: ClassVar[str] = "licenses"


ROW_TYPES: dict[str, type[_Versioned]] = {
    row.kind: row for row in (VendorRow, GroupRow, ModelRow, CustomerRow, RuleRow, LicenseRow)
}


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


class ReviewRequest(SQLModel, table=True):
    """A request for compliance to review an answer."""

    __tablename__ = "review_request"
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


class SlackEvent(SQLModel, table=True):
    """Slack deliveries already handled, so retried deliveries are answered once."""

    __tablename__ = "slack_event"
    event_id: str = Field(primary_key=True, max_length=100)
    received_at: datetime
