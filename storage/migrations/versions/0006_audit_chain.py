"""Tamper-evident audit: a hash chain over the audit logs, and guard triggers on every audit table.

Rows already written are chained in their order (decisions by time, admin actions by id,
revisions by number) before the triggers that forbid changing them are created.

Revision ID: 0006
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_ORDER = {"decision": "created_at, id", "admin_action": "id", "revision": "number"}


def _chain_existing(table: str) -> None:
    from storage.audit_chain import GENESIS, KEYS, _names, _typed_columns, link_hash

    bind = op.get_bind()
    names = _names(table, with_chain=False)
    columns = [c for c in _typed_columns(table) if c.name in names]
    rows = bind.execute(
        sa.text(f"SELECT {', '.join(names)} FROM {table} ORDER BY {_ORDER[table]}").columns(
            *columns
        )
    ).mappings().all()
    prev = GENESIS
    for seq, row in enumerate(rows, start=1):
        digest = link_hash(table, seq, prev, row)
        bind.execute(
            sa.text(
                f"UPDATE {table} SET chain_seq = :seq, prev_hash = :prev, row_hash = :hash "
                f"WHERE {KEYS[table]} = :key"
            ),
            {"seq": seq, "prev": prev, "hash": digest, "key": row[KEYS[table]]},
        )
        prev = digest


def upgrade() -> None:
    from storage.audit_triggers import AUDIT_LOGS, create_sql

    dialect = op.get_bind().dialect.name
    # 0001 made the decision table append-only; its triggers are replaced by the full set.
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS decision_append_only ON decision")
    else:
        op.execute("DROP TRIGGER IF EXISTS decision_no_update")
        op.execute("DROP TRIGGER IF EXISTS decision_no_delete")
    for table in AUDIT_LOGS:
        op.add_column(table, sa.Column("chain_seq", sa.Integer(), nullable=True))
        op.add_column(table, sa.Column("prev_hash", sa.String(length=64), nullable=True))
        op.add_column(table, sa.Column("row_hash", sa.String(length=64), nullable=True))
        op.create_index(f"ix_{table}_chain_seq", table, ["chain_seq"], unique=True)
        _chain_existing(table)
        if dialect == "postgresql":  # SQLite has an INSERT trigger for this (audit_triggers)
            op.execute(
                f"ALTER TABLE {table} ADD CONSTRAINT {table}_chained CHECK (chain_seq IS NOT "
                "NULL AND prev_hash IS NOT NULL AND row_hash IS NOT NULL)"
            )
    for statement in create_sql(dialect):
        op.execute(statement)


def downgrade() -> None:
    from storage.audit_triggers import AUDIT_LOGS, drop_sql
    from storage.db import append_only_sql

    dialect = op.get_bind().dialect.name
    for statement in drop_sql(dialect):
        op.execute(statement)
    for table in AUDIT_LOGS:
        if dialect == "postgresql":
            op.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {table}_chained")
        op.drop_index(f"ix_{table}_chain_seq", table_name=table)
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("row_hash")
            batch_op.drop_column("prev_hash")
            batch_op.drop_column("chain_seq")
    for statement in append_only_sql(dialect, "decision"):
        op.execute(statement)
