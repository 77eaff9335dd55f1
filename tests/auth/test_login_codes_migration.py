"""Migration 0003 lets customers have no phone without touching the rows that point at customers."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect, text

from yuyue import migrate
from yuyue.db import configure_sqlite

NOW = "2026-03-02 09:00:00.000000"


@pytest.fixture
def sqlite_at_0002(tmp_path):
    """A SQLite database at revision 0002 with foreign keys on, as ``yuyue init`` runs it, holding a customer and a companion."""
    engine = create_engine(f"sqlite:///{tmp_path / 'migration.db'}")
    configure_sqlite(engine)
    migrate.upgrade(engine, "0002")
    with engine.begin() as connection:
        connection.execute(
            text(f"INSERT INTO tenants (id, slug, name, time_zone, locales, status, created_at) VALUES (1, 'a', 'A', 'Asia/Shanghai', '[]', 'active', '{NOW}')")
        )
        connection.execute(text(f"INSERT INTO customers (id, tenant_id, phone, created_at) VALUES (1, 1, '13800138000', '{NOW}')"))
        connection.execute(text(f"INSERT INTO companions (id, tenant_id, customer_id, name, created_at) VALUES (1, 1, 1, 'Li', '{NOW}')"))
    yield engine
    engine.dispose()


def foreign_keys_are_on(engine) -> bool:
    with engine.connect() as connection:
        return connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_upgrade_makes_the_phone_optional_and_keeps_companions(sqlite_at_0002):
    assert foreign_keys_are_on(sqlite_at_0002)

    migrate.upgrade(sqlite_at_0002, "0003")

    phone = next(c for c in inspect(sqlite_at_0002).get_columns("customers") if c["name"] == "phone")
    with sqlite_at_0002.begin() as connection:
        assert connection.execute(text("SELECT count(*) FROM companions")).scalar() == 1
        connection.execute(text(f"INSERT INTO customers (id, tenant_id, wechat_openid, created_at) VALUES (2, 1, 'o-1', '{NOW}')"))
        with pytest.raises(Exception, match="UNIQUE"):
            connection.execute(text(f"INSERT INTO customers (id, tenant_id, phone, created_at) VALUES (3, 1, '13800138000', '{NOW}')"))
    assert phone["nullable"] is True


def test_downgrade_is_refused_while_customers_have_no_phone(sqlite_at_0002):
    migrate.upgrade(sqlite_at_0002, "0003")
    with sqlite_at_0002.begin() as connection:
        connection.execute(text(f"INSERT INTO customers (id, tenant_id, wechat_openid, created_at) VALUES (2, 1, 'o-1', '{NOW}')"))

    with pytest.raises(RuntimeError, match="1 customers have no phone"):
        migrate.downgrade(sqlite_at_0002, "0002")


def test_downgrade_restores_the_required_phone_and_keeps_companions(sqlite_at_0002):
    migrate.upgrade(sqlite_at_0002, "0003")

    migrate.downgrade(sqlite_at_0002, "0002")

    phone = next(c for c in inspect(sqlite_at_0002).get_columns("customers") if c["name"] == "phone")
    assert phone["nullable"] is False
    assert "login_codes" not in inspect(sqlite_at_0002).get_table_names()
    with sqlite_at_0002.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM companions")).scalar() == 1
