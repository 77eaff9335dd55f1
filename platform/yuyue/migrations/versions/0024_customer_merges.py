"""a customer record merged into another keeps its row, emptied, pointing at the survivor (customers.merged_into_id)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 12:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


# Added in place (SQLite's ALTER TABLE ADD COLUMN, no foreign key): customers is referenced by many tables, and a
# rebuilt table would fire their ON DELETE CASCADE (decisions §20, migration 0020).


def upgrade() -> None:
    with op.batch_alter_table('customers') as batch_op:
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('customers') as batch_op:
        batch_op.drop_column('merged_into_id')
