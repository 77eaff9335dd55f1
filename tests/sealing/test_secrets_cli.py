"""``yuyue secrets rotate|new-key``, the keys' start-up checks, and migrations 0025 and 0028 sealing the rows already there."""

from __future__ import annotations

import json
import stat

import pytest
from cryptography.fernet import Fernet
from sealing_setup import clear_text_found, sealed_values, set_every_secret, yuyue_process
from sqlalchemy import text
from test_migrations import empty_database

from yuyue import migrate
from yuyue.app import create_app
from yuyue.db import db
from yuyue.sealing import KEY_FILE, PREFIX, Sealer, new_key
from yuyue.tenancy.models import StaffRole


def test_new_key_prints_a_fernet_key(tmp_path, database_url):
    made = yuyue_process("secrets", "new-key", database_url=database_url, instance=tmp_path, secrets_key=None)

    assert made.returncode == 0, made.stderr
    Fernet(made.stdout.strip().encode())


@pytest.mark.parametrize("setting", ["nonsense", f"{new_key()},too-short"], ids=["nonsense", "second-key-too-short"])
def test_a_malformed_key_is_one_error_line_at_start_up(tmp_path, database_url, setting):
    started = yuyue_process("tenants", "list", database_url=database_url, instance=tmp_path, secrets_key=setting)

    assert started.returncode == 1
    assert started.stderr.splitlines() == [started.stderr.strip()] and started.stderr.startswith("error: YUYUE_SECRETS_KEY: key ")
    assert "is not a Fernet key" in started.stderr and "Traceback" not in started.stderr


def test_without_a_setting_a_key_is_made_once_in_the_instance_folder_readable_by_the_owner_only(tmp_path, database_url):
    first = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "test"})
    key_file = tmp_path / KEY_FILE
    key = key_file.read_text()
    second = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "test"})

    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text() == key
    sealed = first.extensions["yuyue.sealing"].seal("a secret")
    assert second.extensions["yuyue.sealing"].open(sealed) == "a secret"
    for app in (first, second):
        with app.app_context():
            db.engine.dispose()


def test_rotation_with_a_row_no_key_opens_names_it_and_writes_nothing(app, session, tenants, operator, staff_client, database_url, tmp_path):
    secrets = set_every_secret(operator, staff_client("tenant-a", StaffRole.owner), session, "https://sms.example.com")
    session.remove()
    # The webhook's secret, sealed with a key the operator no longer has.
    with db.engine.begin() as connection:
        lost = Sealer([new_key()]).seal("whsec_c2VhbGVkIGJ5IGEgbG9zdCBrZXk=")
        connection.execute(text("UPDATE webhook_endpoints SET secret = :lost WHERE id = :id"), {"lost": lost, "id": secrets.webhook_id})
    before = sealed_values(database_url)

    rotated = yuyue_process(
        "secrets", "rotate", database_url=database_url, instance=tmp_path / "cli", secrets_key=f"{new_key()},{(tmp_path / KEY_FILE).read_text()}"
    )

    assert rotated.returncode == 1
    assert rotated.stderr == (
        f"error: a stored secret (webhook_endpoints.secret of row {secrets.webhook_id}) cannot be decrypted with the keys in YUYUE_SECRETS_KEY;"
        " the operator must add the key it was sealed with\n"
    )
    assert sealed_values(database_url) == before  # the columns sealed before it in the same run were rolled back


def test_rotation_seals_a_secret_left_in_clear_text(app, session, tenants, operator, staff_client, database_url, tmp_path):
    set_every_secret(operator, staff_client("tenant-a", StaffRole.owner), session, "https://sms.example.com")
    session.remove()
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE payment_settings SET config = :clear"), {"clear": json.dumps({"secret": "left-in-clear-text"})})

    rotated = yuyue_process("secrets", "rotate", database_url=database_url, instance=tmp_path / "cli", secrets_key=(tmp_path / KEY_FILE).read_text())

    assert rotated.returncode == 0, rotated.stderr
    assert "payment_settings.config\t1 sealed (1 were in clear text)" in rotated.stdout.splitlines()
    assert clear_text_found(database_url, ["left-in-clear-text"]) == []


def test_migration_0025_seals_the_secrets_already_stored_and_its_downgrade_opens_them(tmp_path, monkeypatch):
    key = new_key()
    monkeypatch.setenv("YUYUE_SECRETS_KEY", key)
    stamp = {"now": "2026-01-01 00:00:00.000000+00:00"}
    with empty_database(tmp_path) as engine:
        migrate.upgrade(engine, "0024")
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO tenants (id, slug, name, time_zone, locales, status, created_at) VALUES (1, 'old', 'Old', 'UTC', '[]', 'active', :now)"),
                stamp,
            )
            connection.execute(
                text("INSERT INTO login_settings (id, tenant_id, provider, config, updated_at) VALUES (1, 1, 'wechat', :config, :now)"),
                {**stamp, "config": json.dumps({"appid": "wx0123456789abcdef", "secret": "an-old-appsecret"})},
            )
            connection.execute(
                text(
                    "INSERT INTO webhook_endpoints (id, tenant_id, url, description, topics, secret, enabled, consecutive_failures, created_at, updated_at)"
                    " VALUES (1, 1, 'https://crm.example.com', '', '[]', 'whsec_b2xkLXNlY3JldA==', true, 0, :now, :now)"
                ),
                stamp,
            )

        migrate.upgrade(engine)
        with engine.connect() as connection:
            config, secret = connection.execute(text("SELECT l.config, w.secret FROM login_settings l, webhook_endpoints w")).one()
        migrate.downgrade(engine, "0024")
        with engine.connect() as connection:
            config_after, secret_after = connection.execute(text("SELECT l.config, w.secret FROM login_settings l, webhook_endpoints w")).one()

    assert config.startswith(PREFIX) and "an-old-appsecret" not in config and secret.startswith(PREFIX)
    assert json.loads(Sealer([key]).open(config)) == {"appid": "wx0123456789abcdef", "secret": "an-old-appsecret"}
    assert Sealer([key]).open(secret) == "whsec_b2xkLXNlY3JldA=="
    assert (config_after if isinstance(config_after, dict) else json.loads(config_after))["secret"] == "an-old-appsecret"
    assert secret_after == "whsec_b2xkLXNlY3JldA=="


def test_migration_0028_seals_the_plugin_settings_already_stored_and_its_downgrade_opens_them(tmp_path, monkeypatch):
    key = new_key()
    monkeypatch.setenv("YUYUE_SECRETS_KEY", key)
    settings = {"terms": "a plugin's API key kept in its settings"}
    with empty_database(tmp_path) as engine:
        migrate.upgrade(engine, "0026")
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO tenants (id, slug, name, time_zone, locales, status, created_at) VALUES (1, 'old', 'Old', 'UTC', '[]', 'active', :now)"),
                {"now": "2026-01-01 00:00:00.000000+00:00"},
            )
            connection.execute(
                text("INSERT INTO tenant_plugins (id, tenant_id, plugin, config, enabled_at) VALUES (1, 1, 'activity', :config, :now)"),
                {"config": json.dumps(settings), "now": "2026-01-01 00:00:00.000000+00:00"},
            )

        migrate.upgrade(engine)
        with engine.connect() as connection:
            sealed = connection.execute(text("SELECT config FROM tenant_plugins")).scalar_one()
        migrate.downgrade(engine, "0026")
        with engine.connect() as connection:
            opened = connection.execute(text("SELECT config FROM tenant_plugins")).scalar_one()

    assert sealed.startswith(PREFIX) and "API key" not in sealed
    assert json.loads(Sealer([key]).open(sealed)) == settings
    assert (opened if isinstance(opened, dict) else json.loads(opened)) == settings
