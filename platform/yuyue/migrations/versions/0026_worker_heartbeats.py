"""worker heartbeats: a row per running worker, rewritten every minute, with its job failures (readiness, /metrics)

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 15:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'worker_heartbeats',
        sa.Column('worker_id', sa.String(length=200), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('job_failures', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('worker_id', name=op.f('pk_worker_heartbeats')),
    )
    with op.batch_alter_table('worker_heartbeats', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_worker_heartbeats_seen_at'), ['seen_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('worker_heartbeats', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_worker_heartbeats_seen_at'))
    op.drop_table('worker_heartbeats')
