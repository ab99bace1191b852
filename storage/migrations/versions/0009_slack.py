"""Slack: stored button values, one open review per decision, review claims and reminders.

Revision ID: 0009
Revises: 0004
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "slack_choice",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("review_request") as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column("claimed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("reminded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    # Multi-workspace installs: each row names the workspace (and Enterprise Grid org) it
    # belongs to, so one workspace never sees another's. Plain ADD COLUMN: the decision table's
    # append-only triggers must survive (a batch rebuild would drop them).
    for table in ("decision", "review_request", "subscription", "admin_action"):
        op.add_column(table, sa.Column("team_id", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
        op.add_column(table, sa.Column("enterprise_id", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
        op.create_index(f"ix_{table}_team_id", table, ["team_id"])
    # slack_sdk's installation and OAuth state stores, on the same database.
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

    metadata = sa.MetaData()
    store = SQLAlchemyInstallationStore
    store.build_installations_table(metadata, store.default_installations_table_name)
    store.build_bots_table(metadata, store.default_bots_table_name)
    states = SQLAlchemyOAuthStateStore
    states.build_oauth_states_table(metadata, states.default_table_name)
    metadata.create_all(op.get_bind())
    # Two clicks on Request review (two workers, two replicas) make one open request.
    op.create_index(
        "ux_review_request_open_decision",
        "review_request",
        ["decision_id"],
        unique=True,
        sqlite_where=sa.text("status = 'open'"),
        postgresql_where=sa.text("status = 'open'"),
    )


def downgrade() -> None:
    for name in ("slack_oauth_states", "slack_bots", "slack_installations"):
        op.drop_table(name)
    for table in ("admin_action", "subscription", "review_request", "decision"):
        op.drop_index(f"ix_{table}_team_id", table_name=table)
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("enterprise_id")
            batch_op.drop_column("team_id")
    op.drop_index("ux_review_request_open_decision", table_name="review_request")
    with op.batch_alter_table("review_request") as batch_op:
        batch_op.drop_column("reminded_at")
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("claimed_by")
    op.drop_table("slack_choice")
