"""Customer name keys under the new normalization (NFKC, format characters removed).

Questions are normalized that way, so stored keys must be too: a name saved with a zero-width
space or a soft hyphen in it would otherwise never be found. Only keys that change are rewritten.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from bot.domain.rules.entities import Customer
    from storage.rules import name_keys

    bind = op.get_bind()
    customer = sa.table("customer", sa.column("row_id", sa.Integer),
                        sa.column("body", sa.JSON), sa.column("names", sa.String))
    rows = bind.execute(sa.select(customer.c.row_id, customer.c.body, customer.c.names)).all()
    for row_id, body, names in rows:
        keys = name_keys(Customer.from_dict(body))
        if keys != names:
            bind.execute(customer.update().where(customer.c.row_id == row_id).values(names=keys))


def downgrade() -> None:
    # The old keys are a coarser folding of the same names; the new ones still find them.
    pass
