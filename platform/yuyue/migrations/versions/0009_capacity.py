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
    op.create_table('day_inventory',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_type_id', sa.Integer(), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('scope', sa.String(length=40), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('taken', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('taken >= 0', name=op.f('ck_day_inventory_taken_not_negative')),
    sa.ForeignKeyConstraint(['booking_type_id'], ['booking_types.id'], name=op.f('fk_day_inventory_booking_type_id_booking_types'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_day_inventory_tenant_id_tenants'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_day_inventory')),
    sa.UniqueConstraint('tenant_id', 'booking_type_id', 'local_date', 'scope', name=op.f('uq_day_inventory_tenant_id_booking_type_id_local_date_scope'))
    )


def downgrade() -> None:
    op.drop_table('day_inventory')
    with op.batch_alter_table('slot_inventory') as batch_op:
        batch_op.drop_column('closed_reason')
