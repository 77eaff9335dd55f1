"""login codes; customers may have no phone (WeChat logins)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 03:50:00.000000

On SQLite, ``customers.phone`` loses NOT NULL by editing the table's stored
definition (the procedure SQLite documents for removing a NOT NULL constraint,
https://www.sqlite.org/lang_altertable.html#otheralter), not by a batch
rebuild: the rebuild drops the old table, and with foreign keys on that drop
deletes every customer's companions and points through ON DELETE CASCADE.
"""

import re

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

PHONE_NULL = re.compile(r"(\bphone\s+VARCHAR\(20\))(\s+NOT\s+NULL)?", re.IGNORECASE)


def _set_sqlite_phone_nullable(nullable: bool) -> None:
    connection = op.get_bind()
    sql = connection.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'customers'").scalar()
    changed, count = PHONE_NULL.subn(lambda m: m.group(1) + ("" if nullable else " NOT NULL"), sql, count=1)
    if count != 1:
        raise RuntimeError(f"cannot find the phone column in the definition of customers: {sql}")
    version = connection.exec_driver_sql("PRAGMA schema_version").scalar()
    connection.exec_driver_sql("PRAGMA writable_schema = ON")
    connection.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'customers'", (changed,))
    connection.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    connection.exec_driver_sql("PRAGMA writable_schema = OFF")
    problems = connection.exec_driver_sql("PRAGMA integrity_check").scalars().all()
    if problems != ["ok"]:
        raise RuntimeError(f"integrity check failed after changing customers.phone: {problems}")


def upgrade() -> None:
    op.create_table('login_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_login_codes_tenant_id_tenants'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_codes')),
    sa.UniqueConstraint('tenant_id', 'phone', name=op.f('uq_login_codes_tenant_id_phone'))
    )
    if op.get_bind().dialect.name == 'sqlite':
        _set_sqlite_phone_nullable(True)
    else:
        op.alter_column('customers', 'phone', existing_type=sa.String(length=20), nullable=True)


def downgrade() -> None:
    without_phone = op.get_bind().execute(sa.text("SELECT count(*) FROM customers WHERE phone IS NULL")).scalar()
    if without_phone:
        raise RuntimeError(f"{without_phone} customers have no phone (WeChat logins); give them one or delete them before downgrading")
    if op.get_bind().dialect.name == 'sqlite':
        _set_sqlite_phone_nullable(False)
    else:
        op.alter_column('customers', 'phone', existing_type=sa.String(length=20), nullable=False)
    op.drop_table('login_codes')
