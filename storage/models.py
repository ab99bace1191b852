"""SQLModel tables.

Rule-table entities are versioned rows: a row holds one entity's file-form `body` and the revisions
it was current for (`rev_from` inclusive, `rev_to` exclusive, NULL while current). A change closes
the old row and inserts a new one, so the table at any revision can be rebuilt and every answer's
revision can be audited. The audit tables are append-only and hash-chained; the migrations add
triggers that refuse UPDATE, DELETE and TRUNCATE on them and any rewrite of a versioned row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Index, text
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
    changes: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON, nullable=False)
    # The audit hash chain (storage/audit_chain.py): position, previous row's hash, own hash.
    chain_seq: int | None = Field(default=None, unique=True, index=True)
    prev_hash: str | None = Field(default=None, max_length=64)
    row_hash: str | None = Field(default=None, max_length=64)


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
    # "|acme gmbh|acme|": the normalized id, name and aliases, so one customer can be found by
    # name in SQL without loading them all (a one-shot `clearance ask`).
    names: str | None = None


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


class SlackEvent(SQLModel, table=True):
    """Slack deliveries already handled, so retried deliveries are answered once."""

    __tablename__ = "slack_event"
    event_id: str = Field(primary_key=True, max_length=100)
    received_at: datetime


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


class AppState(SQLModel, table=True):
    """Small named markers jobs keep (e.g. the last revision whose impact was reported)."""

    __tablename__ = "app_state"
    key: str = Field(primary_key=True, max_length=100)
    value: str


class SlackChoice(SQLModel, table=True):
    """What a button or menu stands for, kept here so its Slack value is a short id."""

    __tablename__ = "slack_choice"
    id: str = Field(primary_key=True, max_length=16)
    created_at: datetime
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, nullable=False)


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


import storage.audit_chain  # noqa: E402,F401  (chains audit rows as the ORM flushes them)
