"""bookings desk: the door's redemption log

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 21:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('check_in_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('outcome', sa.Enum('accepted', 'refused', name='check_in_outcome', native_enum=False, length=20), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=True),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('masked_code', sa.String(length=20), nullable=True),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('staff_user_id', sa.Integer(), nullable=True),
    sa.Column('place', sa.String(length=100), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_check_in_attempts_booking_id_bookings'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['staff_user_id'], ['ab_user.id'], name=op.f('fk_check_in_attempts_staff_user_id_ab_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_check_in_attempts_tenant_id_tenants'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_in_attempts'))
    )
    with op.batch_alter_table('check_in_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_check_in_attempts_tenant_id_local_date_id'), ['tenant_id', 'local_date', 'id'], unique=False)
    with op.batch_alter_table('audit_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_records_tenant_id_subject_type_subject_id_seq'), ['tenant_id', 'subject_type', 'subject_id', 'seq'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_records_tenant_id_subject_type_subject_id_seq'))

    with op.batch_alter_table('check_in_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_check_in_attempts_tenant_id_local_date_id'))

    op.drop_table('check_in_attempts')
