"""ticket types and priced bookings (booking_types.ticket_types, bookings.tickets, bookings.price_lines)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 18:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


# Columns added in place (SQLite's ALTER TABLE ADD COLUMN): no table is rebuilt, so no ON DELETE CASCADE fires (decisions §20).
EMPTY_LIST, EMPTY_OBJECT = sa.text("'[]'"), sa.text("'{}'")


def upgrade() -> None:
    with op.batch_alter_table('booking_types') as batch_op:
        batch_op.add_column(sa.Column('ticket_types', sa.JSON(), server_default=EMPTY_LIST, nullable=False))
    with op.batch_alter_table('bookings') as batch_op:
        batch_op.add_column(sa.Column('tickets', sa.JSON(), server_default=EMPTY_OBJECT, nullable=False))
        batch_op.add_column(sa.Column('price_lines', sa.JSON(), server_default=EMPTY_LIST, nullable=False))
    with op.batch_alter_table('waitlist_entries') as batch_op:
        batch_op.add_column(sa.Column('tickets', sa.JSON(), server_default=EMPTY_OBJECT, nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('waitlist_entries') as batch_op:
        batch_op.drop_column('tickets')
    with op.batch_alter_table('bookings') as batch_op:
        batch_op.drop_column('price_lines')
        batch_op.drop_column('tickets')
    with op.batch_alter_table('booking_types') as batch_op:
        batch_op.drop_column('ticket_types')
