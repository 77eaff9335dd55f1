"""Alembic owns the schema: an empty database upgrades to head, and the models match the migrations."""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine, make_url

from yuyue import migrate
from yuyue.app import normalize_database_url
from yuyue.db import Model, db


@contextmanager
def empty_database(tmp_path) -> Iterator[Engine]:
    """A brand-new database of the kind the suite runs on (a new PostgreSQL database, or a SQLite file)."""
    server_url = os.environ.get("YUYUE_TEST_DATABASE_URL")
    if not server_url:
        engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
        yield engine
        engine.dispose()
        return
    server = create_engine(normalize_database_url(server_url), isolation_level="AUTOCOMMIT")
    name = f"yuyue_migration_{uuid.uuid4().hex[:10]}"
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(make_url(normalize_database_url(server_url)).set(database=name))
    try:
        yield engine
    finally:
        engine.dispose()
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}"'))
        server.dispose()


def test_empty_database_upgrades_to_head_with_every_model_table(tmp_path):
    with empty_database(tmp_path) as engine:
        migrate.upgrade(engine)
        tables = set(inspect(engine).get_table_names())
    assert set(Model.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_models_match_the_migrations(app):
    assert migrate.pending_model_changes(db.engine) == []


def test_downgrade_to_base_then_upgrade_again(tmp_path):
    with empty_database(tmp_path) as engine:
        migrate.upgrade(engine)
        migrate.downgrade(engine, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        migrate.upgrade(engine)
        assert migrate.pending_model_changes(engine) == []


def test_upgrade_is_idempotent(tmp_path):
    with empty_database(tmp_path) as engine:
        migrate.upgrade(engine)
        migrate.upgrade(engine)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1


@pytest.mark.parametrize("pragma, expected", [("journal_mode", "wal"), ("foreign_keys", 1), ("busy_timeout", 30000)])
def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_a_busy_timeout(app, pragma, expected):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql(f"PRAGMA {pragma}").scalar() == expected


def test_upgrading_to_0006_vouches_for_the_rows_already_there(tmp_path):
    """An installation upgraded to state digests verifies clean: its old records as they were, its rows through a baseline."""
    from datetime import UTC, datetime

    from sqlalchemy.orm import Session

    from yuyue.audit.operations import GENESIS_HASH, StateFinding, check_chains, record_hash

    at = datetime(2026, 1, 1, tzinfo=UTC)
    old = {"actor": "system", "action": "customer.created", "subject_type": "customer", "subject_id": "1", "data": {}}
    old_hash = record_hash(GENESIS_HASH, seq=1, at=at, **old)
    with empty_database(tmp_path) as engine:
        migrate.upgrade(engine, "0005")
        with engine.begin() as connection:
            stamp = {"now": "2026-01-01 00:00:00.000000+00:00"}
            connection.execute(
                text("INSERT INTO tenants (id, slug, name, time_zone, locales, status, created_at) VALUES (1, 'old', 'Old', 'UTC', '[]', 'active', :now)"),
                stamp,
            )
            connection.execute(text("INSERT INTO customers (id, tenant_id, phone, created_at) VALUES (1, 1, '13800000001', :now)"), stamp)
            connection.execute(
                text(
                    "INSERT INTO audit_records (tenant_id, seq, at, actor, action, subject_type, subject_id, data, prev_hash, hash) "
                    "VALUES (1, 1, :now, 'system', 'customer.created', 'customer', '1', '{}', :genesis, :hash)"
                ),
                {**stamp, "genesis": GENESIS_HASH, "hash": old_hash},
            )
            connection.execute(text("INSERT INTO audit_heads (tenant_id, seq, hash) VALUES (1, 1, :hash)"), {"hash": old_hash})
        migrate.upgrade(engine)
        with Session(engine) as session:
            report = check_chains(session)
        assert (report.ok, report.records, report.rows_checked) == (True, 2, 1)
        with engine.begin() as connection:
            connection.execute(text("UPDATE customers SET phone = '13900000009' WHERE id = 1"))
        with Session(engine) as session:
            assert check_chains(session).rows == [StateFinding("old", "customers", 1, "row_changed")]


def test_upgrading_to_0020_keeps_the_rows_that_refer_to_customers(tmp_path):
    """Tags and a note are added to customers in place: a rebuilt table would fire ON DELETE CASCADE on its companions and points (decisions §20)."""
    import json

    from yuyue.db import configure_sqlite

    with empty_database(tmp_path) as engine:
        if engine.dialect.name == "sqlite":
            configure_sqlite(engine)  # foreign keys on, as the application runs
        migrate.upgrade(engine, "0019")
        with engine.begin() as connection:
            stamp = {"now": "2026-01-01 00:00:00.000000+00:00"}
            connection.execute(
                text("INSERT INTO tenants (id, slug, name, time_zone, locales, status, created_at) VALUES (1, 'old', 'Old', 'UTC', '[]', 'active', :now)"),
                stamp,
            )
            connection.execute(text("INSERT INTO customers (id, tenant_id, phone, created_at) VALUES (1, 1, '13800000001', :now)"), stamp)
            connection.execute(text("INSERT INTO companions (id, tenant_id, customer_id, name, created_at) VALUES (1, 1, 1, 'Li', :now)"), stamp)
            connection.execute(
                text("INSERT INTO points_entries (id, tenant_id, customer_id, delta, reason, created_at) VALUES (1, 1, 1, -5, 'late', :now)"), stamp
            )
        migrate.upgrade(engine)
        with engine.connect() as connection:
            counts = [connection.execute(text(f"SELECT count(*) FROM {table}")).scalar() for table in ("customers", "companions", "points_entries")]
            tags, note = connection.execute(text("SELECT tags, note FROM customers")).one()
    assert counts == [1, 1, 1]
    assert (json.loads(tags) if isinstance(tags, str) else tags, note) == ([], None)


def _placeholder_row(connection, table: str, values: dict) -> None:
    """Insert ``values`` into ``table``, with a placeholder for every other column that needs one (by its declared type)."""
    for _, name, declared, not_null, default, primary_key in connection.exec_driver_sql(f"PRAGMA table_info({table})").fetchall():
        if name in values or primary_key or not not_null or default is not None:
            continue
        kind = declared.upper()
        values[name] = 1 if "INT" in kind else 0 if "BOOL" in kind else "2026-01-01 00:00:00.000000" if "DATETIME" in kind else "{}" if "JSON" in kind else "x"
    connection.execute(text(f"INSERT INTO {table} ({', '.join(values)}) VALUES ({', '.join(':' + k for k in values)})"), values)


def test_a_sqlite_database_with_rows_upgrades_from_0009_and_keeps_every_row(tmp_path):
    """Later migrations rebuild tables others point at (tenants, booking types, bookings): with the app's foreign keys on,
    the rebuild's DROP TABLE would refuse or cascade; upgrading keeps every row and every reference whole (decisions §20)."""
    if os.environ.get("YUYUE_TEST_DATABASE_URL"):
        pytest.skip("SQLite only: PostgreSQL alters tables in place")
    from yuyue.db import configure_sqlite

    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    configure_sqlite(engine)  # as the application's engine: foreign keys on
    migrate.upgrade(engine, "0009")
    pointing_at_booking_types = ["form_versions", "slot_inventory", "day_inventory", "payment_settings"]
    with engine.begin() as connection:
        _placeholder_row(connection, "tenants", {"id": 1, "slug": "old", "status": "active", "locales": "[]"})
        _placeholder_row(connection, "booking_types", {"id": 1, "tenant_id": 1, "slug": "visit", "status": "active"})
        for table in pointing_at_booking_types:
            _placeholder_row(connection, table, {"tenant_id": 1, "booking_type_id": 1})
    tables = ["tenants", "booking_types", *pointing_at_booking_types]

    def counts() -> dict[str, int]:
        with engine.connect() as connection:
            return {table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar() for table in tables}

    assert counts() == dict.fromkeys(tables, 1)
    migrate.upgrade(engine)
    assert counts() == dict.fromkeys(tables, 1)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # set back for the pool's next user
    engine.dispose()
