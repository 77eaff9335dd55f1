"""booking-type builder: unpublished drafts

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 21:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('form_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_type_id', sa.Integer(), nullable=False),
    sa.Column('based_on', sa.Integer(), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('ui', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['booking_type_id'], ['booking_types.id'], name=op.f('fk_form_drafts_booking_type_id_booking_types'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_form_drafts_tenant_id_tenants'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_form_drafts')),
    sa.UniqueConstraint('tenant_id', 'booking_type_id', name=op.f('uq_form_drafts_tenant_id_booking_type_id'))
    )


def downgrade() -> None:
    op.drop_table('form_drafts')
