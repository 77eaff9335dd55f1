"""privacy: data requests (data_requests), erased customers (customers.erased_at), retention (tenants.retention_days)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 12:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


# Columns added in place (SQLite's ALTER TABLE ADD COLUMN): customers and tenants are referenced by many tables, and a
# rebuilt table would fire their ON DELETE CASCADE (decisions §20).
def upgrade() -> None:
    op.create_table(
        'data_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('reference', sa.String(length=32), nullable=False),
        sa.Column('customer_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.Enum('download', 'erasure', name='data_request_kind', native_enum=False, length=20), nullable=False),
        sa.Column('requested_by', sa.Enum('customer', 'staff', 'retention', name='data_requester', native_enum=False, length=20), nullable=False),
        sa.Column('actor', sa.String(length=100), nullable=False),
        sa.Column('reason', sa.String(length=200), nullable=True),
        sa.Column('status', sa.Enum('completed', 'refused', name='data_request_status', native_enum=False, length=20), nullable=False),
        sa.Column('refusal', sa.String(length=40), nullable=True),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('tenant_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_data_requests_customer_id_customers'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_data_requests_tenant_id_tenants'), ondelete='RESTRICT'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_data_requests')),
        sa.UniqueConstraint('tenant_id', 'reference', name=op.f('uq_data_requests_tenant_id_reference')),
    )
    with op.batch_alter_table('data_requests') as batch_op:
        batch_op.create_index(batch_op.f('ix_data_requests_tenant_id_customer_id'), ['tenant_id', 'customer_id'], unique=False)
    with op.batch_alter_table('customers') as batch_op:
        batch_op.add_column(sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('tenants') as batch_op:
        batch_op.add_column(sa.Column('retention_days', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('tenants') as batch_op:
        batch_op.drop_column('retention_days')
    with op.batch_alter_table('customers') as batch_op:
        batch_op.drop_column('erased_at')
    op.drop_table('data_requests')
