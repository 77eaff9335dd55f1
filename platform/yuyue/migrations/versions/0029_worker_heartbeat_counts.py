"""worker heartbeats carry the worker's counts (waitlist offers and bookings it made), which /metrics shows beside the app's

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 23:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


# Added in place, empty: a worker of the previous release, still beating during a rolling upgrade, counts nothing here.
EMPTY_OBJECT = sa.text("'{}'")


def upgrade() -> None:
    with op.batch_alter_table('worker_heartbeats') as batch_op:
        batch_op.add_column(sa.Column('counts', sa.JSON(), server_default=EMPTY_OBJECT, nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('worker_heartbeats') as batch_op:
        batch_op.drop_column('counts')
