"""Merchants' secrets at rest: sealed in every row, readable by the features that use them, across a key rotation."""

from __future__ import annotations

import pytest
from channel_receivers import HttpReceiver, ReceivedRequest
from sealing_setup import (
    PAYMENT_SECRET,
    PLUGIN_SETTING,
    SMS_SECRET,
    SMTP_PASSWORD,
    WECHAT_CHANNEL_SECRET,
    WECHAT_LOGIN_SECRET,
    clear_text_found,
    sealed_values,
    set_every_secret,
    webhook_signing_secrets,
    yuyue_process,
)
from sqlalchemy import select

from yuyue.customers.login_settings import effective_login_settings
from yuyue.db import all_tenants, db, tenant_scope
from yuyue.events.channel_settings import settings_for
from yuyue.events.delivery import fan_out, send_due
from yuyue.events.models import Delivery, DeliveryStatus
from yuyue.notifying.webhooks import WebhookDeliveries
from yuyue.payments.operations import tenant_provider_settings
from yuyue.payments.providers import payment_providers
from yuyue.provisioning.operations import enabled_plugins, get_tenant
from yuyue.sealing import KEY_FILE, PREFIX, new_key
from yuyue.tenancy.models import StaffRole
from yuyue.types import utcnow

SMS_ANSWER = (200, {"code": "OK", "biz_id": "biz-1"})


def sms_gateway(request: ReceivedRequest) -> tuple[int, dict]:
    return SMS_ANSWER


def signed_with(request: ReceivedRequest, secret: str) -> bool:
    """The gateway's own check of a request's HMAC-SHA256 signature (as tests/events/test_channel_sms.py writes it)."""
    import base64
    import hashlib
    import hmac

    headers = request.headers
    signed = "\n".join(["POST", request.path, headers["x-sms-timestamp"], headers["x-sms-nonce"], hashlib.sha256(request.body).hexdigest()])
    return headers["x-sms-signature"] == base64.b64encode(hmac.new(secret.encode(), signed.encode(), hashlib.sha256).digest()).decode()


def secrets_the_features_use(app) -> dict[str, str]:
    """Each secret as the feature owning it reads it for tenant-a."""
    with app.app_context():
        session = db.session
        tenant = get_tenant(session, "tenant-a")
        with tenant_scope(tenant.id):
            found = {
                "login": effective_login_settings(session, app.extensions["yuyue.login_providers"], "wechat")["secret"],
                "email": settings_for(session, app, "email")["password"],
                "sms": settings_for(session, app, "sms")["access_key_secret"],
                "wechat": settings_for(session, app, "wechat")["secret"],
                "payment": tenant_provider_settings(session, payment_providers(), "sandbox")["secret"],
                "plugin": enabled_plugins(session, tenant)["activity"]["terms"],
            }
        session.remove()
    return found


EXPECTED = {
    "login": WECHAT_LOGIN_SECRET,
    "email": SMTP_PASSWORD,
    "sms": SMS_SECRET,
    "wechat": WECHAT_CHANNEL_SECRET,
    "payment": PAYMENT_SECRET,
    "plugin": PLUGIN_SETTING,
}


@pytest.fixture
def gateway():
    with HttpReceiver(sms_gateway) as receiver:
        yield receiver


@pytest.fixture
def every_secret(app, session, tenants, operator, staff_client, gateway):
    app.config.update(CHANNEL_PRIVATE_HOSTS=True)
    secrets = set_every_secret(operator, staff_client("tenant-a", StaffRole.owner), session, gateway.url)
    session.remove()
    return secrets


def test_no_secret_set_through_the_api_is_in_clear_text_in_any_row_of_any_table(app, every_secret, database_url):
    assert clear_text_found(database_url, every_secret.values) == []
    stored = sealed_values(database_url)
    assert {column: len(values) for column, values in stored.items()} == {
        "login_settings.config": 1,
        "payment_settings.config": 1,
        "channel_settings.config": 3,
        "tenant_plugins.config": 5,  # tenant-a's three plugins and tenant-b's two
        "webhook_endpoints.secret": 1,
        "webhook_endpoints.previous_secret": 1,
    }
    assert all(value.startswith(PREFIX) for values in stored.values() for value in values)


def test_the_features_read_every_secret_back(app, every_secret):
    assert secrets_the_features_use(app) == EXPECTED
    assert webhook_signing_secrets(app, every_secret.webhook_id) == (every_secret.webhook_secret, every_secret.webhook_previous_secret)


def test_rotation_moves_every_secret_to_the_new_key_and_the_old_key_can_go(app, make_app, every_secret, database_url, tmp_path, gateway):
    old_key, fresh_key = (tmp_path / KEY_FILE).read_text().strip(), new_key()
    before = sealed_values(database_url)

    rotated = yuyue_process("secrets", "rotate", database_url=database_url, instance=tmp_path / "cli", secrets_key=f"{fresh_key},{old_key}")

    assert rotated.returncode == 0, rotated.stderr
    assert rotated.stdout.splitlines() == [
        "login_settings.config\t1 sealed",
        "payment_settings.config\t1 sealed",
        "channel_settings.config\t3 sealed",
        "tenant_plugins.config\t5 sealed",
        "webhook_endpoints.secret\t1 sealed",
        "webhook_endpoints.previous_secret\t1 sealed",
        "12 secrets sealed with the first of 2 keys",
    ]
    after = sealed_values(database_url)
    assert all(new != old and new.startswith(PREFIX) for column in before for old, new in zip(before[column], after[column], strict=True))
    assert clear_text_found(database_url, every_secret.values) == []

    only_the_new_key = make_app(SECRETS_KEY=fresh_key, CHANNEL_PRIVATE_HOSTS=True, NOTIFICATION_CHANNEL="sms")
    assert secrets_the_features_use(only_the_new_key) == EXPECTED
    assert webhook_signing_secrets(only_the_new_key, every_secret.webhook_id) == (every_secret.webhook_secret, every_secret.webhook_previous_secret)
    # The SMS channel signs a login code with the secret it opened: the gateway accepts it.
    asked = only_the_new_key.test_client().post("/api/v1/t/tenant-a/auth/code", json={"phone": "13800138000"})
    assert asked.status_code == 202, asked.get_json()
    [request] = gateway.requests
    assert signed_with(request, SMS_SECRET)


def test_a_request_needing_a_secret_no_key_opens_gets_a_problem_and_the_rest_of_the_api_still_answers(
    app, make_app, every_secret, staff_client, database_url, tmp_path, problem
):
    fresh_key = new_key()
    assert (
        yuyue_process(
            "secrets", "rotate", database_url=database_url, instance=tmp_path / "cli", secrets_key=f"{fresh_key},{(tmp_path / KEY_FILE).read_text()}"
        ).returncode
        == 0
    )
    manager = staff_client("tenant-a", StaffRole.owner)  # of the application that still has only the old key

    email = manager.get("/api/v1/t/tenant-a/admin/notifications/channels/email")
    rotated = manager.post(f"/api/v1/t/tenant-a/admin/webhooks/{every_secret.webhook_id}/rotate-secret")

    for answer, where in ((email, "channel_settings.config"), (rotated, "webhook_endpoints.secret")):
        body = problem(answer, 503, "secret_unreadable")
        assert where in body["detail"] and "YUYUE_SECRETS_KEY" in body["detail"] and body["secret"] == where
    # What does not need the secrets still answers: the endpoints' list, the rest of the API.
    assert [e["id"] for e in manager.get("/api/v1/t/tenant-a/admin/webhooks").get_json()["endpoints"]] == [every_secret.webhook_id]
    assert manager.get("/api/v1/t/tenant-a/admin/booking-types").status_code == 200
    assert app.test_client().get("/api/v1/health").status_code == 200


def test_a_webhook_whose_secret_no_key_opens_is_still_fanned_out_to_and_its_delivery_fails_saying_why(
    app, every_secret, staff_client, database_url, tmp_path, session
):
    fresh_key = new_key()
    assert (
        yuyue_process(
            "secrets", "rotate", database_url=database_url, instance=tmp_path / "cli", secrets_key=f"{fresh_key},{(tmp_path / KEY_FILE).read_text()}"
        ).returncode
        == 0
    )
    manager = staff_client("tenant-a", StaffRole.owner)  # of the application that still has only the old key
    assert manager.post(f"/api/v1/t/tenant-a/admin/webhooks/{every_secret.webhook_id}/ping").status_code == 202
    deliveries = WebhookDeliveries(app)

    fan_out(session, [deliveries], now=utcnow())
    send_due(session, [deliveries], now=utcnow())

    session.commit()
    with all_tenants():
        [delivery] = session.scalars(select(Delivery).where(Delivery.target == str(every_secret.webhook_id))).all()
    assert delivery.status == DeliveryStatus.pending and delivery.attempts == 1
    assert delivery.last_error.startswith("SecretUnreadable: a stored secret (webhook_endpoints.secret) cannot be decrypted")
