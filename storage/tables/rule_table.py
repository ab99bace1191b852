"""The rule table's rows: places, numbered revisions and the versioned entity rows.

Rule-table entities are versioned rows: a row holds one entity's file-form `body` and the revisions
it was current for (`rev_from` inclusive, `rev_to` exclusive, NULL while current). A change closes
the old row and inserts a new one, so the table at any revision can be rebuilt and every answer's
revision can be audited. Revisions are an append-only, hash-chained audit log (storage/audit_chain.py);
the migrations add triggers that refuse UPDATE, DELETE and TRUNCATE on them and any rewrite of a
versioned row.
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


import storage.audit_chain  # noqa: E402,F401  (chains audit rows as the ORM flushes them)
