"""Fixtures: databases of the test's own (SQLite files, or PostgreSQL databases beside the test database when
``YUYUE_TEST_DATABASE_URL`` is set), and the ``yuyue`` command run against one of them."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from backup_setup import SECRET_KEY, Result, close
from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import create_engine, make_url, text

from yuyue import cli as cli_module
from yuyue.app import create_app, normalize_database_url
from yuyue.cli import main

_numbers = itertools.count(1)
SECRETS_KEY = Fernet.generate_key().decode()


@pytest.fixture
def new_database(tmp_path: Path) -> Iterator[Callable[[], str]]:
    """``new_database()``: the URL of an empty database of this test's own; PostgreSQL ones are dropped afterwards."""
    server_url = os.environ.get("YUYUE_TEST_DATABASE_URL")
    made: list[str] = []
    server = create_engine(normalize_database_url(server_url), isolation_level="AUTOCOMMIT") if server_url else None

    def make() -> str:
        number = next(_numbers)
        if server is None:
            return f"sqlite:///{tmp_path / f'db{number}.sqlite3'}"
        name = f"{make_url(server_url).database}_{os.getpid()}_{number}"
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return make_url(server_url).set(database=name).render_as_string(hide_password=False)

    yield make
    if server is not None:
        with server.connect() as connection:
            for name in made:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@pytest.fixture
def yuyue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """``yuyue(url, "backup", …)``: the command line, in this process, configured by environment as an operator would."""
    monkeypatch.setenv("YUYUE_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("YUYUE_SECRET_KEY", SECRET_KEY)
    # One sealing key for the command and the applications the test builds in other instance folders, as an installation
    # has (every tenant's plugin settings are sealed); a test moving a tenant between keys sets its own.
    monkeypatch.setenv("YUYUE_SECRETS_KEY", SECRETS_KEY)
    monkeypatch.delenv("YUYUE_PLUGINS", raising=False)
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "false")

    apps: list[Flask] = []

    def create_app_kept() -> Flask:
        apps.append(create_app())
        return apps[-1]

    # The command's application is closed after it, as the process that would have run it ends.
    monkeypatch.setattr(cli_module, "_create_app", create_app_kept)

    def run(url: str, *args: str) -> Result:
        monkeypatch.setenv("YUYUE_DATABASE_URL", url)
        capsys.readouterr()
        try:
            code = main(list(args))
        finally:
            while apps:
                close(apps.pop())
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run
