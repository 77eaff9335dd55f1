"""route stops (vehicle pick-up and drop-off points) and activity sessions

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 18:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('route_stops',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_type_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('name', sa.JSON(), nullable=False),
    sa.Column('kind', sa.Enum('pickup', 'dropoff', 'both', name='route_stop_kind', native_enum=False, length=20), nullable=False),
    sa.Column('minutes_after_departure', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['booking_type_id'], ['booking_types.id'], name=op.f('fk_route_stops_booking_type_id_booking_types'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_route_stops_tenant_id_tenants'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_route_stops')),
    sa.UniqueConstraint('tenant_id', 'booking_type_id', 'code', name=op.f('uq_route_stops_tenant_id_booking_type_id_code'))
    )
    with op.batch_alter_table('route_stops', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_route_stops_tenant_id_booking_type_id_position'), ['tenant_id', 'booking_type_id', 'position'], unique=False)

    op.create_table('session_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_type_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.Enum('confirmed', 'cancelled', name='session_outcome', native_enum=False, length=20), nullable=False),
    sa.Column('participants', sa.Integer(), nullable=False),
    sa.Column('minimum', sa.Integer(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['booking_type_id'], ['booking_types.id'], name=op.f('fk_session_decisions_booking_type_id_booking_types'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_session_decisions_tenant_id_tenants'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_session_decisions')),
    sa.UniqueConstraint('tenant_id', 'booking_type_id', 'starts_at', name=op.f('uq_session_decisions_tenant_id_booking_type_id_starts_at'))
    )
    with op.batch_alter_table('session_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_session_decisions_tenant_id_finished_at'), ['tenant_id', 'finished_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('session_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_session_decisions_tenant_id_finished_at'))

    op.drop_table('session_decisions')
    with op.batch_alter_table('route_stops', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_route_stops_tenant_id_booking_type_id_position'))

    op.drop_table('route_stops')
