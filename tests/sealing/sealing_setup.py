"""What the sealing tests share: every kind of secret set through the public surface, the raw rows read with plain SQL,
and ``yuyue`` run as an operator runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from sqlalchemy import create_engine, inspect, text

from yuyue.app import normalize_database_url
from yuyue.db import db, tenant_scope
from yuyue.events.models import WebhookEndpoint
from yuyue.payments.operations import set_payment_provider
from yuyue.provisioning.operations import get_tenant
from yuyue.sealing import SEALED_COLUMNS

WECHAT_LOGIN_SECRET = "wechat-login-appsecret-0f9e8d7c"
WECHAT_CHANNEL_SECRET = "wechat-channel-appsecret-6b5a4"
SMTP_PASSWORD = "smtp-password-Hu8#kq2"
SMS_SECRET = "sms-gateway-secret-Zx81"
PAYMENT_SECRET = "sandbox-payment-secret-Qm27"
SMS_KEY_ID = "LTAI-museum"
# The activity plugin's one free-text setting stands in for the API key another plugin would keep in its settings.
PLUGIN_SETTING = "plugin-setting-api-key-Rt93w"


@dataclass
class Secrets:
    """Every secret the test set, by where it went; the webhook ones are made by the server and shown once."""

    webhook_id: int
    webhook_secret: str
    webhook_previous_secret: str

    @property
    def values(self) -> list[str]:
        fixed = [WECHAT_LOGIN_SECRET, WECHAT_CHANNEL_SECRET, SMTP_PASSWORD, SMS_SECRET, PAYMENT_SECRET, PLUGIN_SETTING]
        # A webhook secret is "whsec_" + base64 of its key: the key alone must not show either.
        webhooks = [self.webhook_secret, self.webhook_previous_secret]
        return fixed + webhooks + [s.removeprefix("whsec_") for s in webhooks]


def sms_settings(url: str) -> dict:
    return {
        "provider": "http",
        "endpoint": f"{url}/sms/send",
        "access_key_id": SMS_KEY_ID,
        "access_key_secret": SMS_SECRET,
        "sign_name": "博物馆",
        "templates": {"login_code": "SMS_200"},
    }


def set_every_secret(operator, manager, session, sms_gateway_url: str) -> Secrets:
    """Set a secret of every kind for tenant-a: a plugin's settings (operator API), login provider, notification channels,
    webhooks (merchant API), payment provider (its operation)."""
    a = "/api/v1/t/tenant-a/admin"
    plugins = {"exhibition": {}, "course": {}, "activity": {"terms": PLUGIN_SETTING}}
    answers = [
        operator.put("/api/v1/operator/tenants/tenant-a/plugins", json={"plugins": plugins}),
        manager.put(f"{a}/login-providers/wechat", json={"appid": "wx0123456789abcdef", "secret": WECHAT_LOGIN_SECRET}),
        manager.put(
            f"{a}/notifications/channels/email",
            json={"settings": {"host": "smtp.example.com", "username": "museum", "password": SMTP_PASSWORD, "from_address": "museum@example.com"}},
        ),
        manager.put(f"{a}/notifications/channels/sms", json={"settings": sms_settings(sms_gateway_url)}),
        manager.put(f"{a}/notifications/channels/wechat", json={"settings": {"appid": "wx0123456789abcdef", "secret": WECHAT_CHANNEL_SECRET}}),
    ]
    for answer in answers:
        assert answer.status_code == 200, answer.get_json()
    created = manager.post(f"{a}/webhooks", json={"url": "https://crm.example.com/hooks", "topics": ["booking.*"]})
    assert created.status_code == 201, created.get_json()
    endpoint = created.get_json()
    rotated = manager.post(f"{a}/webhooks/{endpoint['id']}/rotate-secret")
    assert rotated.status_code == 200, rotated.get_json()
    # There is no API for payment settings: a merchant's provider keys are set through the operation the admin uses.
    set_payment_provider(session, get_tenant(session, "tenant-a"), "sandbox", config={"secret": PAYMENT_SECRET})
    session.commit()
    return Secrets(endpoint["id"], rotated.get_json()["secret"], endpoint["secret"])


def raw_rows(database_url: str) -> dict[str, list[tuple]]:
    """Every row of every table, as the database holds it, read past the application with plain SQL."""
    engine = create_engine(normalize_database_url(database_url))
    try:
        with engine.connect() as connection:
            return {table: [tuple(row) for row in connection.execute(text(f'SELECT * FROM "{table}"'))] for table in inspect(connection).get_table_names()}
    finally:
        engine.dispose()


def sealed_values(database_url: str) -> dict[str, list]:
    """The raw values of the sealed columns, by ``table.column``, in id order."""
    engine = create_engine(normalize_database_url(database_url))
    try:
        with engine.connect() as connection:
            return {
                c.name: connection.execute(text(f"SELECT {c.column} FROM {c.table} WHERE {c.column} IS NOT NULL ORDER BY id")).scalars().all()
                for c in SEALED_COLUMNS
            }
    finally:
        engine.dispose()


def clear_text_found(database_url: str, values: list[str]) -> list[str]:
    """``table: secret`` for every secret found in clear text in any column of any row."""
    found = []
    for table, rows in raw_rows(database_url).items():
        for row in rows:
            shown = " ".join(cell.decode("latin-1") if isinstance(cell, bytes | memoryview) else str(cell) for cell in row)
            found += [f"{table}: {value}" for value in values if value in shown]
    return found


def webhook_signing_secrets(app: Flask, webhook_id: int) -> tuple[str, str | None]:
    with app.app_context():
        tenant = get_tenant(db.session, "tenant-a")
        with tenant_scope(tenant.id):
            endpoint = db.session.get(WebhookEndpoint, webhook_id)
            secrets = endpoint.secret, endpoint.previous_secret
        db.session.remove()
    return secrets


def yuyue_process(*args: str, database_url: str, instance: Path, secrets_key: str | None) -> subprocess.CompletedProcess[str]:
    """``python -m yuyue ARGS…`` as an operator runs it, on the test database."""
    env = {**os.environ, "YUYUE_DATABASE_URL": database_url, "YUYUE_INSTANCE_PATH": str(instance)}
    env.pop("YUYUE_SECRETS_KEY", None)
    if secrets_key is not None:
        env["YUYUE_SECRETS_KEY"] = secrets_key
    return subprocess.run([sys.executable, "-m", "yuyue", *args], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
