"""class packages: credit packages and the credit ledger

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 18:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('credit_packages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('name', sa.JSON(), nullable=False),
    sa.Column('credits', sa.Integer(), nullable=False),
    sa.Column('price_amount', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('valid_days', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('booking_type_ids', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_credit_packages_tenant_id_tenants'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_packages')),
    sa.UniqueConstraint('tenant_id', 'code', name=op.f('uq_credit_packages_tenant_id_code'))
    )
    op.create_table('credit_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('package_id', sa.Integer(), nullable=True),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('lot_id', sa.Integer(), nullable=True),
    sa.Column('delta', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Enum('purchase', 'booking', 'cancel_refund', 'late_forfeit', 'no_show', 'adjust', 'expire', name='credit_reason', native_enum=False, length=20), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_credit_entries_booking_id_bookings'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_credit_entries_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lot_id'], ['credit_entries.id'], name=op.f('fk_credit_entries_lot_id_credit_entries')),
    sa.ForeignKeyConstraint(['package_id'], ['credit_packages.id'], name=op.f('fk_credit_entries_package_id_credit_packages'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_credit_entries_tenant_id_tenants'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_entries'))
    )
    with op.batch_alter_table('credit_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_entries_tenant_id_booking_id'), ['tenant_id', 'booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_entries_tenant_id_customer_id'), ['tenant_id', 'customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_entries_tenant_id_lot_id'), ['tenant_id', 'lot_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('credit_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_entries_tenant_id_lot_id'))
        batch_op.drop_index(batch_op.f('ix_credit_entries_tenant_id_customer_id'))
        batch_op.drop_index(batch_op.f('ix_credit_entries_tenant_id_booking_id'))

    op.drop_table('credit_entries')
    op.drop_table('credit_packages')
