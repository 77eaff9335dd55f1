"""audit state: the digests of audited rows in each audit record, and a baseline for the rows already there

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 12:00:00.000000

Each tenant with audited rows gets baseline records (``audit.baseline``) that
vouch for those rows as they stand at the upgrade, so an upgraded installation
verifies clean. That trusts the database at this moment: an edit made before
the upgrade is taken as the truth (decisions §34). The baseline uses the
audited columns the code declares when it runs.
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    from yuyue.audit.operations import record_baseline

    op.add_column('audit_records', sa.Column('state', sa.JSON(none_as_null=True), nullable=True))
    record_baseline(op.get_bind())


def downgrade() -> None:
    # The baseline records stay: they chain like any other, and their hashes include the state they lose here.
    with op.batch_alter_table('audit_records', schema=None) as batch_op:
        batch_op.drop_column('state')
