"""The admin's webhooks, message templates and notification channels pages: a manager does there what the merchant API does."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from yuyue.audit.models import AuditRecord
from yuyue.db import tenant_scope, write_transaction
from yuyue.events.models import ChannelSettings, Delivery, DeliveryStatus, NotificationTemplate, OutboxEvent, WebhookEndpoint
from yuyue.provisioning.operations import get_tenant
from yuyue.types import utcnow

WEBHOOKS = "/admin/t/tenant-a/webhooks/"
TEMPLATES = "/admin/t/tenant-a/notifications/templates/"
CHANNELS = "/admin/t/tenant-a/notifications/channels/"
CONFIRMED_LOG = TEMPLATES + "booking.confirmed/log/en"
SECRET = re.compile(r'id="new-secret">(whsec_[^<]+)<')


@pytest.fixture
def manager(admin_login):
    return admin_login("manager-a", language="en")


def endpoints(session, slug: str = "tenant-a") -> list[WebhookEndpoint]:
    session.commit()
    with tenant_scope(get_tenant(session, slug).id):
        return list(session.scalars(select(WebhookEndpoint).execution_options(populate_existing=True)))


def audited(session, action: str) -> list[AuditRecord]:
    session.commit()
    with tenant_scope(get_tenant(session, "tenant-a").id):
        return list(session.scalars(select(AuditRecord).where(AuditRecord.action == action)))


def add_endpoint(manager, url: str = "https://crm.example.com/hooks", topics: tuple[str, ...] = ("booking.confirmed",)):
    return manager.post(WEBHOOKS, {"url": url, "description": "CRM", "topics": list(topics)})


# --- webhooks ---------------------------------------------------------------------------------


def test_an_added_endpoint_shows_its_secret_once(manager, session):
    response = add_endpoint(manager, topics=("booking.confirmed", "booking.cancelled"))

    page = response.get_data(as_text=True)
    [endpoint] = endpoints(session)
    assert response.status_code == 200 and SECRET.search(page).group(1) == endpoint.secret
    assert response.headers["Cache-Control"] == "no-store"
    assert endpoint.topics == ["booking.confirmed", "booking.cancelled"] and endpoint.description == "CRM"
    assert endpoint.secret not in manager.get(WEBHOOKS).get_data(as_text=True)
    assert endpoint.secret not in manager.get(f"{WEBHOOKS}{endpoint.id}").get_data(as_text=True)
    assert audited(session, "webhook.endpoint_created")


def test_a_refused_url_is_said_next_to_the_field_and_the_form_keeps_what_was_typed(manager, session):
    response = add_endpoint(manager, url="ftp://crm.example.com/<b>", topics=("booking.held",))

    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="error-url"' in page
    assert 'value="ftp://crm.example.com/&lt;b&gt;"' in page and 'value="booking.held" checked' in page
    assert endpoints(session) == []


def test_an_endpoint_without_topics_is_refused(manager, session):
    response = add_endpoint(manager, topics=())

    assert response.status_code == 422 and 'id="error-topics"' in response.get_data(as_text=True)
    assert endpoints(session) == []


def test_a_manager_changes_the_topics_and_description(manager, session):
    add_endpoint(manager)
    [endpoint] = endpoints(session)

    response = manager.post(f"{WEBHOOKS}{endpoint.id}", {"url": endpoint.url, "description": "New CRM", "topics": ["*"]})

    assert response.status_code == 302 and "done=saved" in response.headers["Location"]
    [changed] = endpoints(session)
    assert (changed.topics, changed.description) == (["*"], "New CRM")
    assert "The endpoint is saved." in manager.get(response.headers["Location"]).get_data(as_text=True)


def test_rotating_the_secret_shows_the_new_one_once(manager, session):
    add_endpoint(manager)
    [endpoint] = endpoints(session)
    old = endpoint.secret

    response = manager.post(f"{WEBHOOKS}{endpoint.id}/rotate-secret")
    page = response.get_data(as_text=True)

    [rotated] = endpoints(session)
    assert rotated.secret != old and SECRET.search(page).group(1) == rotated.secret
    assert response.headers["Cache-Control"] == "no-store"


def test_a_ping_is_queued_and_a_disabled_endpoint_is_enabled_again(manager, session):
    add_endpoint(manager)
    [endpoint] = endpoints(session)
    assert "done=pinged" in manager.post(f"{WEBHOOKS}{endpoint.id}/ping").headers["Location"]
    with tenant_scope(endpoint.tenant_id), write_transaction(session):
        session.get(WebhookEndpoint, endpoint.id).enabled = False
        session.get(WebhookEndpoint, endpoint.id).disabled_reason = "failing"

    page = manager.get(f"{WEBHOOKS}{endpoint.id}").get_data(as_text=True)
    assert "deliveries kept failing" in page
    assert "done=disabled" in manager.post(f"{WEBHOOKS}{endpoint.id}/ping").headers["Location"]
    assert "done=enabled" in manager.post(f"{WEBHOOKS}{endpoint.id}/enable").headers["Location"]
    assert endpoints(session)[0].enabled


def test_the_delivery_log_shows_attempts_and_redelivers(manager, session):
    add_endpoint(manager)
    [endpoint] = endpoints(session)
    manager.post(f"{WEBHOOKS}{endpoint.id}/ping")
    now = utcnow()
    with tenant_scope(endpoint.tenant_id), write_transaction(session):
        [ping] = session.scalars(select(OutboxEvent).where(OutboxEvent.topic == "webhook.test"))
        delivery = Delivery(
            message_id="msg_test",
            event_id=ping.id,
            topic="webhook.test",
            subscriber=f"webhook:{endpoint.id}",
            kind="webhook",
            target=str(endpoint.id),
            recipient=endpoint.url,
            payload={"body": "{}"},
            status=DeliveryStatus.dead,
            attempts=1,
            last_error="HTTP 500",
            next_attempt_at=now,
            created_at=now,
        )
        session.add(delivery)
    delivery_id = delivery.id

    page = manager.get(f"{WEBHOOKS}{endpoint.id}").get_data(as_text=True)
    assert f'id="delivery-{delivery_id}"' in page and "HTTP 500" in page and "dead" in page

    response = manager.post(f"{WEBHOOKS}{endpoint.id}/deliveries/{delivery_id}/redeliver")
    assert response.status_code == 302 and "done=redelivering" in response.headers["Location"]
    session.commit()
    with tenant_scope(endpoint.tenant_id):
        assert session.get(Delivery, delivery_id, populate_existing=True).status is DeliveryStatus.pending


def test_deleting_an_endpoint(manager, session):
    add_endpoint(manager)
    [endpoint] = endpoints(session)

    assert "done=deleted" in manager.post(f"{WEBHOOKS}{endpoint.id}/delete").headers["Location"]
    assert endpoints(session) == []


def test_a_write_without_the_csrf_token_is_refused(manager, session):
    response = manager.client.post(WEBHOOKS, data={"url": "https://crm.example.com/hooks", "topics": ["*"]})

    assert response.status_code == 400 and endpoints(session) == []


# --- templates --------------------------------------------------------------------------------


def test_the_grid_links_every_event_channel_and_language(manager):
    page = manager.get(TEMPLATES).get_data(as_text=True)

    for locale in ("zh-Hans", "zh-Hant", "en"):
        assert f'href="{TEMPLATES}booking.confirmed/log/{locale}"' in page
    assert "waitlist.offered" in page and "Default" in page


def test_preview_renders_the_draft_with_sample_data_and_saves_nothing(manager, session):
    response = manager.post(CONFIRMED_LOG, {"subject": "Hi", "body": "Booked: {{ 1 + 2 }} <b>", "action": "preview"})

    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Booked: 3 &lt;b&gt;" in page
    session.commit()
    with tenant_scope(get_tenant(session, "tenant-a").id):
        assert session.scalars(select(NotificationTemplate)).all() == []


def test_a_broken_template_is_refused_with_its_line_and_nothing_typed_is_lost(manager, session):
    body = "Line one\n{% if %}\nline three"
    response = manager.post(CONFIRMED_LOG, {"subject": "Hi", "body": body, "action": "save"})

    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="error-body"' in page and "line 2" in page
    assert "Line one\n{% if %}\nline three</textarea>" in page


def test_save_then_reset_to_the_default(manager, session):
    response = manager.post(CONFIRMED_LOG, {"subject": "Hi", "body": "Your booking is confirmed!", "action": "save"})
    assert response.status_code == 302
    page = manager.get(response.headers["Location"]).get_data(as_text=True)
    assert "The template is saved." in page and "Your booking is confirmed!</textarea>" in page
    assert 'class="overridden"' in manager.get(TEMPLATES).get_data(as_text=True)

    response = manager.post(CONFIRMED_LOG + "/reset")
    assert "done=reset" in response.headers["Location"]
    session.commit()
    with tenant_scope(get_tenant(session, "tenant-a").id):
        assert session.scalars(select(NotificationTemplate)).all() == []


def test_a_template_that_does_not_exist_is_not_found(manager):
    assert manager.get(TEMPLATES + "booking.nonsense/log/en").status_code == 404
    assert manager.get(TEMPLATES + "booking.confirmed/log/fr").status_code == 404


# --- channels ---------------------------------------------------------------------------------


def test_the_channels_page_lists_each_channel_with_a_test_form(manager):
    page = manager.get(CHANNELS).get_data(as_text=True)

    assert 'id="channel-log"' in page and 'name="to"' in page and 'name="enabled"' in page


def test_a_test_message_on_the_log_channel_shows_the_outcome(manager, session):
    response = manager.post(CHANNELS + "log/test", {"to": "13800138000"})

    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Sent to 13800138000" in page
    assert audited(session, "notification_channel.tested")


def test_a_test_address_of_the_wrong_kind_is_said_next_to_the_field(manager):
    response = manager.post(CHANNELS + "log/test", {"to": "not a phone"})

    assert response.status_code == 422 and 'id="error-to-log"' in response.get_data(as_text=True)


def test_turning_a_channel_off_is_saved_and_audited(manager, session):
    response = manager.post(CHANNELS + "log", {})

    assert response.status_code == 302 and "done=saved" in response.headers["Location"]
    session.commit()
    with tenant_scope(get_tenant(session, "tenant-a").id):
        [row] = session.scalars(select(ChannelSettings))
    assert (row.channel, row.enabled) == ("log", False)
    assert audited(session, "notification_channel.changed")


def test_staff_below_manager_get_none_of_these_pages(admin_login):
    staff = admin_login("staff-a", language="en")

    for page in (WEBHOOKS, TEMPLATES, CHANNELS, CONFIRMED_LOG):
        assert staff.get(page).status_code == 403


def test_a_channel_secret_is_write_only_and_a_blank_field_keeps_it(app, manager, session):
    app.config["CHANNEL_PRIVATE_HOSTS"] = True
    form = {"enabled": "on", "email.host": "smtp.example.com", "email.port": "587", "email.security": "starttls", "email.password": "hunter2-secret"}

    assert manager.post(CHANNELS + "email", form).status_code == 302
    page = manager.get(CHANNELS).get_data(as_text=True)
    assert "hunter2-secret" not in page and 'type="password" autocomplete="new-password" id="sf-email.password"' in page
    assert manager.post(CHANNELS + "email", {**form, "email.password": "", "email.port": "465"}).status_code == 302

    session.commit()
    with tenant_scope(get_tenant(session, "tenant-a").id):
        row = session.scalar(select(ChannelSettings).where(ChannelSettings.channel == "email").execution_options(populate_existing=True))
    assert row.config["password"] == "hunter2-secret" and row.config["port"] == 465


def test_a_channel_setting_out_of_range_is_said_next_to_its_field(manager):
    response = manager.post(CHANNELS + "email", {"enabled": "on", "email.host": "smtp.example.com", "email.port": "70000"})

    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="sf-email.port-error"' in page and 'value="70000"' in page


def test_the_menu_offers_the_pages_to_managers_only(admin_login):
    manager_page = admin_login("manager-a", language="en").get(WEBHOOKS).get_data(as_text=True)
    staff_page = admin_login("staff-a", language="en").get("/admin/t/tenant-a/").get_data(as_text=True)

    for link in (WEBHOOKS, TEMPLATES, CHANNELS):
        assert f'href="{link}"' in manager_page and f'href="{link}"' not in staff_page
