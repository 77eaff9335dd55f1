"""group bookings: leaders, headcounts and name lists

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 18:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('booking_persons') as batch_op:
        batch_op.add_column(sa.Column('on_name_list', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('booking_persons') as batch_op:
        batch_op.drop_column('on_name_list')
