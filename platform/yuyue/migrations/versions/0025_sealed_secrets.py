"""merchants' secrets sealed at rest: login, payment and channel settings, webhook secrets (Fernet, yuyue.sealing)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 15:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


# The columns become text holding "sealed:v1:" + a Fernet token. The rows are sealed with the keys the application
# has (YUYUE_SECRETS_KEY, else <instance>/secrets_key): yuyue.sealing is imported for that one thing, since
# migrations otherwise use plain SQLAlchemy only; the key is looked up only when a row needs it.

JSON_COLUMNS = (('login_settings', 'config'), ('payment_settings', 'config'), ('channel_settings', 'config'))
STRING_COLUMNS = (('webhook_endpoints', 'secret', 100, False), ('webhook_endpoints', 'previous_secret', 100, True))


def _sealer():
    from yuyue.sealing import current_sealer

    return current_sealer()


def _rewrite(table: str, column: str, change) -> None:
    """Replace every non-null value of ``table.column`` by ``change(value, row_id)``."""
    connection = op.get_bind()
    rows = connection.execute(sa.text(f'SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL ORDER BY id')).fetchall()
    statement = sa.text(f'UPDATE {table} SET {column} = :value WHERE id = :id')
    for row_id, value in rows:
        connection.execute(statement, {'id': row_id, 'value': change(value, row_id)})


def upgrade() -> None:
    for table, column in JSON_COLUMNS:
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(column, existing_type=sa.JSON(), type_=sa.Text(), existing_nullable=False, postgresql_using=f'{column}::text')
    for table, column, length, nullable in STRING_COLUMNS:
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(column, existing_type=sa.String(length), type_=sa.Text(), existing_nullable=nullable)
    sealer = None
    for table, column in [*JSON_COLUMNS, *((t, c) for t, c, _, _ in STRING_COLUMNS)]:
        def seal(value, row_id, table=table, column=column):
            nonlocal sealer
            sealer = sealer or _sealer()
            return sealer.reseal(value, f'{table}.{column}', row_id)

        _rewrite(table, column, seal)


def downgrade() -> None:
    sealer = None
    for table, column in [*JSON_COLUMNS, *((t, c) for t, c, _, _ in STRING_COLUMNS)]:
        def unseal(value, row_id, table=table, column=column):
            nonlocal sealer
            sealer = sealer or _sealer()
            return sealer.open(value, f'{table}.{column}', row_id)

        _rewrite(table, column, unseal)
    for table, column, length, nullable in STRING_COLUMNS:
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(column, existing_type=sa.Text(), type_=sa.String(length), existing_nullable=nullable)
    for table, column in JSON_COLUMNS:
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(column, existing_type=sa.Text(), type_=sa.JSON(), existing_nullable=False, postgresql_using=f'{column}::json')
