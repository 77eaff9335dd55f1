"""The merchant API of notification channels: ``/api/v1/t/<tenant>/admin/notifications/channels[/<key>[/test]]``."""

from __future__ import annotations

import pytest
from channel_receivers import SmtpReceiver, free_port
from sqlalchemy import select

from yuyue.audit.models import AuditRecord
from yuyue.db import db, tenant_scope
from yuyue.events.channel_settings import enabled_channels, settings_for
from yuyue.events.channels import sent_messages
from yuyue.events.sms import sandbox_messages
from yuyue.tenancy.models import StaffRole

A = "/api/v1/t/tenant-a/admin/notifications/channels"
B = "/api/v1/t/tenant-b/admin/notifications/channels"
PASSWORD = "smtp-password-of-tenant-a"


@pytest.fixture(autouse=True)
def servers_on_loopback(app):
    """The SMTP servers of these tests listen on 127.0.0.1, which a tenant may name only where the installation allows it."""
    app.config["CHANNEL_PRIVATE_HOSTS"] = True


def smtp_settings(port: int) -> dict:
    return {"host": "127.0.0.1", "port": port, "security": "none", "username": "museum", "password": PASSWORD, "from_address": "bookings@a.example"}


def audit_actions(session, tenant) -> list[tuple[str, str, dict]]:
    session.commit()
    with tenant_scope(tenant.id):
        records = session.scalars(select(AuditRecord).where(AuditRecord.subject_type == "notification_channel").order_by(AuditRecord.seq))
        return [(r.action, r.subject_id, r.data) for r in records]


def test_a_new_tenant_sends_on_the_installations_channels(manager):
    body = manager.get(A).get_json()

    assert body["enabled"] == ["log"]
    by_key = {channel["key"]: channel for channel in body["channels"]}
    assert set(by_key) == {"log", "email", "sms", "wechat"}
    assert by_key["email"] | {"settings_schema": None} == {
        "key": "email",
        "address_kind": "email",
        "enabled": False,
        "source": "installation",
        "settings": {},
        "password_set": False,
        "settings_schema": None,
    }
    assert by_key["email"]["settings_schema"]["properties"]["password"]["writeOnly"] is True
    assert by_key["wechat"]["address_kind"] == "wechat_openid" and by_key["log"]["enabled"] is True


def test_the_installations_channels_come_from_its_setting(app, manager):
    app.config["NOTIFICATION_CHANNELS"] = ["email", "sms", "no-such-channel"]

    assert manager.get(A).get_json()["enabled"] == ["email", "sms"]


def test_a_manager_sets_a_channel_and_the_password_is_never_shown(manager, session, tenants):
    response = manager.put(f"{A}/email", json={"settings": smtp_settings(2525)})

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["enabled"] is True and body["source"] == "tenant" and body["password_set"] is True
    assert PASSWORD not in response.get_data(as_text=True) and PASSWORD not in manager.get(f"{A}/email").get_data(as_text=True)
    assert body["settings"] == {k: v for k, v in smtp_settings(2525).items() if k != "password"}
    assert manager.get(A).get_json()["enabled"] == ["email"]
    [(action, key, data)] = audit_actions(session, tenants["tenant-a"])
    assert (action, key, data["secrets_changed"]) == ("notification_channel.changed", "email", ["password"]) and PASSWORD not in str(data)


def test_settings_saved_without_the_password_keep_it(app, manager, tenants):
    manager.put(f"{A}/email", json={"settings": smtp_settings(2525)})
    changed = {k: v for k, v in smtp_settings(2526).items() if k != "password"}

    assert manager.put(f"{A}/email", json={"settings": changed}).get_json()["password_set"] is True
    with tenant_scope(tenants["tenant-a"].id):
        assert settings_for(db.session, app, "email") | {"port": 0} == smtp_settings(0)


def test_tenant_settings_overlay_the_installations(app, manager, tenants):
    app.config.update(SMTP_URL="smtp://relay.example:25", MAIL_FROM="Yuyue <noreply@yuyue.example>")
    manager.put(f"{A}/email", json={"settings": {"from_address": "bookings@a.example", "from_name": "Museum A"}})

    with tenant_scope(tenants["tenant-a"].id):
        settings = settings_for(db.session, app, "email")
    with tenant_scope(tenants["tenant-b"].id):
        other = settings_for(db.session, app, "email")

    assert settings == {"host": "relay.example", "port": 25, "security": "none", "from_address": "bookings@a.example", "from_name": "Museum A"}
    assert other["from_address"] == "noreply@yuyue.example"


def test_a_disabled_channel_is_not_sent_on(app, manager, tenants):
    manager.put(f"{A}/email", json={"settings": smtp_settings(2525)})
    manager.put(f"{A}/sms", json={"enabled": False, "settings": {"provider": "sandbox"}})

    assert manager.get(A).get_json()["enabled"] == ["email"]
    with tenant_scope(tenants["tenant-a"].id):
        assert enabled_channels(db.session, app) == ["email"]


def test_settings_that_do_not_fit_the_schema_point_at_the_setting_and_never_repeat_a_secret(manager, problem):
    body = problem(
        manager.put(f"{A}/email", json={"settings": {"port": 0, "security": "ssl", "password": 12345678, "colour": "red"}}), 422, "validation_failed"
    )

    assert sorted(e["pointer"] for e in body["errors"]) == ["/settings/colour", "/settings/password", "/settings/port", "/settings/security"]
    assert "12345678" not in str(body)


@pytest.mark.parametrize(
    "channel, settings, pointer",
    [
        ("email", {"host": "127.0.0.1"}, "/settings/host"),
        ("email", {"host": "localhost"}, "/settings/host"),
        ("sms", {"provider": "http", "endpoint": "http://10.1.2.3:8080/send"}, "/settings/endpoint"),
        ("sms", {"provider": "http", "endpoint": "http://[fe80::1]/send"}, "/settings/endpoint"),
        ("sms", {"provider": "http", "endpoint": "http://169.254.169.254/latest"}, "/settings/endpoint"),
    ],
)
def test_a_server_inside_the_installations_network_is_refused(app, manager, problem, channel, settings, pointer):
    app.config["CHANNEL_PRIVATE_HOSTS"] = False

    body = problem(manager.put(f"{A}/{channel}", json={"settings": settings}), 422, "validation_failed")

    assert [(e["pointer"], e["code"]) for e in body["errors"]] == [(pointer, "private_address")]
    assert manager.get(f"{A}/{channel}").get_json()["source"] == "installation"


def test_an_unknown_channel_is_not_found(manager, problem):
    problem(manager.get(f"{A}/fax"), 404, "channel_not_found")
    problem(manager.put(f"{A}/fax", json={}), 404, "channel_not_found")
    problem(manager.post(f"{A}/fax/test", json={"to": "13800138000"}), 404, "channel_not_found")


def test_deleting_the_settings_falls_back_to_the_installation(manager, session, tenants):
    manager.put(f"{A}/email", json={"settings": smtp_settings(2525)})

    assert manager.delete(f"{A}/email").status_code == 204
    assert manager.get(f"{A}/email").get_json()["source"] == "installation" and manager.get(A).get_json()["enabled"] == ["log"]
    assert [action for action, _key, _data in audit_actions(session, tenants["tenant-a"])] == ["notification_channel.changed", "notification_channel.deleted"]


def test_saving_the_same_settings_again_records_nothing(manager, session, tenants):
    manager.put(f"{A}/email", json={"settings": smtp_settings(2525)})
    manager.put(f"{A}/email", json={"settings": smtp_settings(2525)})

    assert len(audit_actions(session, tenants["tenant-a"])) == 1


@pytest.mark.parametrize("role", [None, StaffRole.staff])
def test_staff_below_manager_may_not_see_or_change_channels(staff_client, tenants, problem, role):
    client = staff_client("tenant-a", role)

    problem(client.get(A), 403, "forbidden")
    problem(client.put(f"{A}/email", json={"settings": {}}), 403, "forbidden")
    problem(client.post(f"{A}/log/test", json={"to": "13800138000"}), 403, "forbidden")


def test_one_tenants_settings_are_not_another_tenants(manager, manager_b):
    manager.put(f"{A}/email", json={"settings": smtp_settings(2525)})

    other = manager_b.get(f"{B}/email").get_json()
    assert other["source"] == "installation" and other["password_set"] is False and other["settings"] == {}
    assert manager_b.get(B).get_json()["enabled"] == ["log"]


# --- test messages ------------------------------------------------------------------------------------


def test_a_test_email_arrives_and_the_answer_says_so(manager, session, tenants):
    with SmtpReceiver() as smtp:
        manager.put(f"{A}/email", json={"settings": {**smtp_settings(smtp.port), "username": ""}})
        response = manager.post(f"{A}/email/test", json={"to": "owner@a.example"}, headers={"Accept-Language": "en"})

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["sent"] is True and body["to"] == "owner@a.example"
    [mail] = smtp.received
    assert mail.message["Subject"] == "Test message from Tenant-A" and body["message_id"] in mail.message["Message-ID"]
    assert audit_actions(session, tenants["tenant-a"])[-1][:2] == ("notification_channel.tested", "email")


def test_a_test_message_is_written_in_the_merchants_language(manager, app):
    response = manager.post(f"{A}/log/test", json={"to": "138 0013 8000"}, headers={"Accept-Language": "zh-Hant"})

    assert response.status_code == 200 and response.get_json()["to"] == "13800138000"
    assert sent_messages(app)[-1].subject == "來自 Tenant-A 的測試訊息"


def test_a_test_sms_goes_to_the_sandbox(manager, app):
    manager.put(f"{A}/sms", json={"settings": {"provider": "sandbox", "sign_name": "博物馆"}})

    assert manager.post(f"{A}/sms/test", json={"to": "13800138000"}).status_code == 200
    assert sandbox_messages(app)[-1].template_id == "channel.test"


def test_a_refused_test_message_is_a_502_saying_what_the_server_answered(manager, problem, session, tenants):
    with SmtpReceiver() as smtp:
        manager.put(f"{A}/email", json={"settings": {**smtp_settings(smtp.port), "username": ""}})
        body = problem(manager.post(f"{A}/email/test", json={"to": "refused@a.example"}), 502, "notification_failed")

    assert "550" in body["detail"]
    assert audit_actions(session, tenants["tenant-a"])[-1][2]["sent"] is False


def test_an_smtp_server_that_is_not_there_is_a_502(manager, problem):
    manager.put(f"{A}/email", json={"settings": {**smtp_settings(free_port()), "username": ""}})

    assert "could not be reached" in problem(manager.post(f"{A}/email/test", json={"to": "owner@a.example"}), 502, "notification_failed")["detail"]


@pytest.mark.parametrize("channel, to", [("email", "not an address"), ("log", "12345"), ("wechat", "o-openid with spaces")])
def test_a_test_address_of_the_wrong_kind_is_refused(manager, problem, channel, to):
    body = problem(manager.post(f"{A}/{channel}/test", json={"to": to}), 422)

    assert [e["pointer"] for e in body["errors"]] == ["/to"]
