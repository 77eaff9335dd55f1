"""plugins' per-tenant settings sealed at rest like the other settings documents (Fernet, yuyue.sealing)

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 19:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


# As in 0025: the column becomes text holding "sealed:v1:" + a Fernet token, sealed with the keys the application has,
# looked up only when a row needs them (an empty database makes no key file).
TABLE, COLUMN = 'tenant_plugins', 'config'
WHERE = f'{TABLE}.{COLUMN}'


def _rewrite(change_name: str) -> None:
    """Replace every value of the column by the sealer's ``change_name`` (``reseal`` or ``open``) of it."""
    from yuyue.sealing import current_sealer

    connection = op.get_bind()
    rows = connection.execute(sa.text(f'SELECT id, {COLUMN} FROM {TABLE} WHERE {COLUMN} IS NOT NULL ORDER BY id')).fetchall()
    if not rows:
        return
    change = getattr(current_sealer(), change_name)
    statement = sa.text(f'UPDATE {TABLE} SET {COLUMN} = :value WHERE id = :id')
    for row_id, value in rows:
        connection.execute(statement, {'id': row_id, 'value': change(value, WHERE, row_id)})


def upgrade() -> None:
    with op.batch_alter_table(TABLE) as batch_op:
        batch_op.alter_column(COLUMN, existing_type=sa.JSON(), type_=sa.Text(), existing_nullable=False, postgresql_using=f'{COLUMN}::text')
    _rewrite('reseal')


def downgrade() -> None:
    _rewrite('open')
    with op.batch_alter_table(TABLE) as batch_op:
        batch_op.alter_column(COLUMN, existing_type=sa.Text(), type_=sa.JSON(), existing_nullable=False, postgresql_using=f'{COLUMN}::json')
