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
