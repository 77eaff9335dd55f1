"""what a merchant notes about a customer: tags and a free-text note (customers.tags, customers.note)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


# Columns added in place (SQLite's ALTER TABLE ADD COLUMN): customers is referenced by many tables, and a rebuilt
# table would fire their ON DELETE CASCADE (decisions §20). Alembic rebuilds a SQLite table for a column whose
# server default is an SQL expression (sa.text), so the default is given as a plain string, which it adds in place.
EMPTY_LIST = '[]'


def upgrade() -> None:
    with op.batch_alter_table('customers') as batch_op:
        batch_op.add_column(sa.Column('tags', sa.JSON(), server_default=EMPTY_LIST, nullable=False))
        batch_op.add_column(sa.Column('note', sa.String(length=2000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('customers') as batch_op:
        batch_op.drop_column('note')
        batch_op.drop_column('tags')
