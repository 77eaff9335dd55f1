"""Fixtures: a migrated database per test session (SQLite file, or PostgreSQL when
``YUYUE_TEST_DATABASE_URL`` is set), an application per test, emptied afterwards."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import create_engine, text

from yuyue.app import create_app, normalize_database_url
from yuyue.cli import init_database
from yuyue.db import Model, db

# Long enough for HS256 (PyJWT warns, and warnings are errors here, below 32 bytes).
TEST_SECRET_KEY = "test-secret-key-of-at-least-32-bytes"

# Rows that `yuyue init` creates and every test relies on; everything else is emptied after each test.
KEPT_TABLES = {"ab_permission", "ab_view_menu", "ab_permission_view", "ab_role", "ab_permission_view_role", "alembic_version"}


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("YUYUE_TEST_DATABASE_URL")
    if url:
        engine = create_engine(normalize_database_url(url))
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'yuyue.db'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(tmp_path_factory.mktemp("instance")), "SECRET_KEY": "test"})
    with app.app_context():
        init_database()
        db.session.remove()
        db.engine.dispose()
    return url


@pytest.fixture
def make_app(database_url: str, tmp_path) -> Iterator:
    """Build an application on the test database; ``make_app(PLUGINS=[...])`` overrides settings."""
    apps: list[Flask] = []

    def build(**overrides) -> Flask:
        config = {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path),
            "SECRET_KEY": TEST_SECRET_KEY,
            "RATELIMIT_ENABLED": False,
            **overrides,
        }
        app = create_app(config)
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.session.remove()
            _empty_tables()
            db.engine.dispose()


@pytest.fixture
def app(make_app) -> Iterator[Flask]:
    app = make_app()
    with app.app_context():
        yield app


@pytest.fixture
def client(app: Flask):
    return app.test_client()


@pytest.fixture
def session(app: Flask):
    return db.session


def _empty_tables() -> None:
    with db.engine.begin() as connection:
        for table in reversed(Model.metadata.sorted_tables):
            if table.name not in KEPT_TABLES:
                connection.execute(table.delete())


@pytest.fixture
def make_plugin(tmp_path, monkeypatch):
    """Install an out-of-tree plugin the way pip would: a package plus a dist-info with an entry point.

    ``make_plugin("car_wash", source, files={"vertical/vertical.json": {...}})`` returns the entry-point name.
    Nothing in the host changes; discovery is through ``importlib.metadata`` alone.
    """
    import importlib
    import json
    import textwrap

    site = tmp_path / "site-packages"
    monkeypatch.syspath_prepend(str(site))

    def install(name: str, source: str, files: dict[str, object] | None = None, version: str = "1.2.3") -> str:
        package = f"yuyue_test_{name}_{tmp_path.name[-8:].replace('-', '_')}"
        (site / package).mkdir(parents=True)
        (site / package / "__init__.py").write_text(textwrap.dedent(source))
        for relative, content in (files or {}).items():
            path = site / package / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content if isinstance(content, str) else json.dumps(content, ensure_ascii=False))
        dist_info = site / f"{package}-{version}.dist-info"
        dist_info.mkdir()
        (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {package}\nVersion: {version}\n")
        (dist_info / "entry_points.txt").write_text(f"[yuyue.plugins]\n{name} = {package}\n")
        importlib.invalidate_caches()
        return name

    return install
