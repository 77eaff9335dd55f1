"""capacity: daily caps (day_inventory) and closed sessions (slot_inventory.closed_reason)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 18:00:00.000000
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('slot_inventory') as batch_op:
        batch_op.add_column(sa.Column('closed_reason', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('slot_inventory') as batch_op:
        batch_op.drop_column('closed_reason')
