"""Restricted-party screening: lists, list versions, versioned entries, decisions and hits.

Revision ID: 0007
Revises: 0004
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "screening_list",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("source_id", sa.Integer(), sa.ForeignKey("policy_source.id"), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    )
    op.create_table(
        "list_version",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("list_id", sa.String(64), sa.ForeignKey("screening_list.id"), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("published", sa.String(), nullable=True),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("removed", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
    )
    op.create_index("ix_list_version_list_id", "list_version", ["list_id"])
    op.create_table(
        "list_entry",
        sa.Column("row_id", sa.Integer(), primary_key=True),
        sa.Column("list_id", sa.String(64), sa.ForeignKey("screening_list.id"), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("entry_id", sa.String(200), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("fingerprint", sa.String(32), nullable=False),
        sa.Column("version_from", sa.Integer(), sa.ForeignKey("list_version.id"), nullable=False),
        sa.Column("version_to", sa.Integer(), sa.ForeignKey("list_version.id"), nullable=True),
        sa.Column("body", sa.JSON(), nullable=False),
    )
    op.create_index("ix_list_entry_current", "list_entry", ["list_id", "version_to"])
    op.create_table(
        "screening_decision",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("list_id", sa.String(64), nullable=False),
        sa.Column("entry_key", sa.String(200), nullable=False),
        sa.Column("fingerprint", sa.String(32), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_screening_decision_customer_id", "screening_decision", ["customer_id"])
    from storage.db import append_only_sql

    for statement in append_only_sql(op.get_bind().dialect.name, "screening_decision"):
        op.execute(statement)
    op.create_table(
        "screening_hit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_id", sa.String(200), nullable=False),
        sa.Column("party_id", sa.String(200), nullable=False),
        sa.Column("list_id", sa.String(64), nullable=False),
        sa.Column("entry_key", sa.String(200), nullable=False),
        sa.Column("entry_name", sa.String(), nullable=False),
        sa.Column("matched_name", sa.String(), nullable=False),
        sa.Column("strength", sa.String(16), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("fingerprint", sa.String(32), nullable=False),
        sa.Column("first_seen", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_seen", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("removed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    )
    op.create_index(
        "ux_screening_hit", "screening_hit", ["customer_id", "party_id", "list_id", "entry_key"],
        unique=True,
    )


def downgrade() -> None:
    for table in ("screening_hit", "screening_decision", "list_entry", "list_version", "screening_list"):
        op.drop_table(table)
