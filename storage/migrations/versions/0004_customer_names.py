"""Customer name keys, so a one-shot `clearance ask` finds a customer without loading all.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("customer", sa.Column("names", sa.String(), nullable=True))
    # Fill the keys of the rows already there, from their stored bodies.
    from bot.domain.rules.entities import Customer
    from storage.rules import name_keys

    bind = op.get_bind()
    customer = sa.table("customer", sa.column("row_id", sa.Integer),
                        sa.column("body", sa.JSON), sa.column("names", sa.String))
    rows = bind.execute(sa.select(customer.c.row_id, customer.c.body)).all()
    for row_id, body in rows:
        bind.execute(customer.update().where(customer.c.row_id == row_id)
                     .values(names=name_keys(Customer.from_dict(body))))


def downgrade() -> None:
    with op.batch_alter_table("customer") as batch_op:
        batch_op.drop_column("names")
