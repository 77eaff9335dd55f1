"""outbox request ids: the X-Request-ID of the request that wrote each outbox event, for the worker's log lines about delivering it

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 19:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A nullable column added in place (no table rebuild on SQLite): the events already written keep none.
    op.add_column('outbox_events', sa.Column('request_id', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.drop_column('request_id')
