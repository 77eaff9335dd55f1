"""customer login: stored, rotating refresh tokens; each tenant's login-provider settings

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 06:41:01.808651

Refresh tokens issued before this revision were self-contained JWTs that are
no longer accepted: customers log in once more after the upgrade.
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('refresh_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('family', sa.String(length=32), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_reason', sa.String(length=20), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_refresh_tokens_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_refresh_tokens_tenant_id_tenants'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refresh_tokens')),
    sa.UniqueConstraint('tenant_id', 'digest', name=op.f('uq_refresh_tokens_tenant_id_digest'))
    )
    with op.batch_alter_table('refresh_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refresh_tokens_tenant_id_customer_id'), ['tenant_id', 'customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_refresh_tokens_tenant_id_family'), ['tenant_id', 'family'], unique=False)

    op.create_table('login_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=40), nullable=False),
    sa.Column('config', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_login_settings_tenant_id_tenants'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_settings')),
    sa.UniqueConstraint('tenant_id', 'provider', name=op.f('uq_login_settings_tenant_id_provider'))
    )


def downgrade() -> None:
    op.drop_table('login_settings')
    with op.batch_alter_table('refresh_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refresh_tokens_tenant_id_family'))
        batch_op.drop_index(batch_op.f('ix_refresh_tokens_tenant_id_customer_id'))

    op.drop_table('refresh_tokens')
