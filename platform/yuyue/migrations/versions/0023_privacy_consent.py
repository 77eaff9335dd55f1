"""privacy notices per booking type, in versions, and the consents customers gave to them

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 12:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Added in place (SQLite's ALTER TABLE ADD COLUMN): booking_types is referenced by many tables, and a rebuilt
    # table would fire their ON DELETE CASCADE (decisions §20).
    with op.batch_alter_table('booking_types') as batch_op:
        batch_op.add_column(sa.Column('privacy_notice_version', sa.Integer(), nullable=True))
    op.create_table('privacy_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_type_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('text', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['booking_type_id'], ['booking_types.id'], name=op.f('fk_privacy_notices_booking_type_id_booking_types'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_privacy_notices_tenant_id_tenants'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_privacy_notices')),
    sa.UniqueConstraint('tenant_id', 'booking_type_id', 'version', name=op.f('uq_privacy_notices_tenant_id_booking_type_id_version'))
    )
    op.create_table('consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('booking_type_id', sa.Integer(), nullable=False),
    sa.Column('notice_version', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('waitlist_entry_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.Enum('api', 'site', name='consent_channel', native_enum=False, length=20), nullable=False),
    sa.Column('given_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_consents_booking_id_bookings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['booking_type_id'], ['booking_types.id'], name=op.f('fk_consents_booking_type_id_booking_types'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_consents_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_consents_tenant_id_tenants'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['waitlist_entry_id'], ['waitlist_entries.id'], name=op.f('fk_consents_waitlist_entry_id_waitlist_entries'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consents'))
    )
    with op.batch_alter_table('consents') as batch_op:
        batch_op.create_index(batch_op.f('ix_consents_tenant_id_booking_id'), ['tenant_id', 'booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_consents_tenant_id_booking_type_id_notice_version_id'), ['tenant_id', 'booking_type_id', 'notice_version', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_consents_tenant_id_customer_id_id'), ['tenant_id', 'customer_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_consents_tenant_id_waitlist_entry_id'), ['tenant_id', 'waitlist_entry_id'], unique=False)


def downgrade() -> None:
    op.drop_table('consents')
    op.drop_table('privacy_notices')
    with op.batch_alter_table('booking_types') as batch_op:
        batch_op.drop_column('privacy_notice_version')
