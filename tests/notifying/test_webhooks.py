"""Webhook deliveries end to end: a booking's events reach a real HTTP receiver on loopback, signed, retried on schedule, and a dead endpoint is disabled.

The outbox is driven by the loop of ``webhook_setup`` with ``now=`` travelling
through the retry schedule; the signature's own timestamp is the real clock's,
as a receiver checks it against its own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import standardwebhooks
from sqlalchemy import select
from tenant_setup import make_booking_type, windows
from webhook_setup import CUT, HANG, fan_out, send_due

from yuyue.bookings import operations as booking_operations
from yuyue.db import all_tenants, tenant_scope, write_transaction
from yuyue.events import webhooks
from yuyue.events.delivery import DeliveryFailed
from yuyue.events.models import Delivery, DeliveryAttempt, DeliveryStatus, OutboxEvent, WebhookEndpoint
from yuyue.forms.registry import form_registry
from yuyue.notifying.webhooks import WEBHOOK_RETRY_DELAYS, _checked_address
from yuyue.tenancy.models import StaffRole
from yuyue.types import utcnow

A = "/api/v1/t/tenant-a/admin"
ZONE = ZoneInfo("Asia/Shanghai")
# Ten days ahead of the real clock, so the booking's hold and terms do not depend on the time of day.
SLOT = datetime.combine(utcnow().astimezone(ZONE).date() + timedelta(days=10), time(9), ZONE)


@pytest.fixture
def manager(tenants, staff_client):
    return staff_client("tenant-a", StaffRole.manager)


@pytest.fixture
def endpoint(manager, receiver, loopback) -> dict:
    """Tenant A's endpoint at the receiver, for every booking event; its answer carries the secret."""
    response = manager.post(f"{A}/webhooks", json={"url": receiver.url, "topics": ["booking.*"], "description": "CRM"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.fixture
def confirmed_booking(session, tenants):
    """A confirmed booking of tenant A: its ``booking.confirmed`` event is in the outbox."""
    tenant = tenants["tenant-a"]
    make_booking_type(session, tenant, "entry", rules=windows(("09:00", "11:00")))
    return booking_operations.book(
        session, form_registry(), tenant, booking_type_slug="entry", starts_at=SLOT, phone="13800000001", name="Ann Ay", answers={"name": "Ann Ay"}
    )


def deliveries_of(session, endpoint_id: int) -> list[Delivery]:
    session.commit()
    with all_tenants():
        return list(
            session.scalars(select(Delivery).where(Delivery.target == str(endpoint_id)).order_by(Delivery.id).execution_options(populate_existing=True))
        )


def stored_endpoint(session, endpoint_id: int) -> WebhookEndpoint:
    session.commit()
    with all_tenants():
        return session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id).execution_options(populate_existing=True))


def test_a_booking_event_arrives_signed_with_the_booking_as_the_merchant_api_shows_it(session, manager, endpoint, confirmed_booking, deliveries, receiver):
    now = utcnow()
    fan_out(session, [deliveries], now=now)
    send_due(session, [deliveries], now=now)

    [request] = receiver.received
    body = standardwebhooks.Webhook(endpoint["secret"]).verify(request.body, request.headers)
    assert body["type"] == "booking.confirmed"
    assert body["data"] == manager.get(f"{A}/bookings/{confirmed_booking.public_id}").get_json()
    assert request.headers["content-type"] == "application/json"
    assert [d.status for d in deliveries_of(session, endpoint["id"])] == [DeliveryStatus.delivered]


def test_the_signature_is_the_specifications_hmac_of_id_timestamp_and_body(session, endpoint, confirmed_booking, deliveries, receiver):
    fan_out(session, [deliveries], now=utcnow())
    send_due(session, [deliveries], now=utcnow())

    [request] = receiver.received
    key = base64.b64decode(endpoint["secret"].removeprefix("whsec_"))
    signed = f"{request.headers['webhook-id']}.{request.headers['webhook-timestamp']}.".encode() + request.body
    assert request.headers["webhook-signature"] == "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def test_a_tampered_body_does_not_verify(session, endpoint, confirmed_booking, deliveries, receiver):
    fan_out(session, [deliveries], now=utcnow())
    send_due(session, [deliveries], now=utcnow())

    [request] = receiver.received
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(endpoint["secret"]).verify(request.body.replace(b"confirmed", b"cancelled"), request.headers)


def next_due(session, endpoint_id: int):
    """When the endpoint's (one) delivery is due again, as the outbox planned it."""
    [delivery] = deliveries_of(session, endpoint_id)
    return delivery.next_attempt_at


def test_a_receiver_failing_twice_then_succeeding_gets_one_success_with_the_same_webhook_id_each_try(
    session, endpoint, confirmed_booking, deliveries, receiver
):
    receiver.script = [500, 503, 200]
    now = utcnow()
    fan_out(session, [deliveries], now=now)

    send_due(session, [deliveries], now=now)
    due = next_due(session, endpoint["id"])
    assert WEBHOOK_RETRY_DELAYS[0] <= due - now <= WEBHOOK_RETRY_DELAYS[0] * 1.1
    assert send_due(session, [deliveries], now=now + WEBHOOK_RETRY_DELAYS[0] - timedelta(seconds=1)) == 0  # not before it is due
    send_due(session, [deliveries], now=due)
    send_due(session, [deliveries], now=next_due(session, endpoint["id"]))
    assert send_due(session, [deliveries], now=now + timedelta(days=4)) == 0

    [delivery] = deliveries_of(session, endpoint["id"])
    assert len(receiver.received) == 3
    assert receiver.webhook_ids == [delivery.message_id] * 3
    assert [r.body for r in receiver.received] == [receiver.received[0].body] * 3  # the body fixed at fan-out
    for request in receiver.received:
        standardwebhooks.Webhook(endpoint["secret"]).verify(request.body, request.headers)
    with tenant_scope(delivery.tenant_id):
        attempts = session.scalars(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery.id).order_by(DeliveryAttempt.id)).all()
    assert [(a.succeeded, a.response_status) for a in attempts] == [(False, 500), (False, 503), (True, 200)]
    assert delivery.status is DeliveryStatus.delivered
    assert "whsec_" not in json.dumps([a.request for a in attempts])  # the log keeps the headers, never the secret


def test_a_receiver_that_answered_200_and_then_dropped_the_connection_has_it_once(session, endpoint, confirmed_booking, deliveries, receiver):
    # The status line is the acknowledgement: what goes wrong after it (here the body cut short) must not send the webhook again.
    receiver.script = [CUT]
    now = utcnow()
    fan_out(session, [deliveries], now=now)
    send_due(session, [deliveries], now=now)
    assert send_due(session, [deliveries], now=now + timedelta(days=4)) == 0

    [delivery] = deliveries_of(session, endpoint["id"])
    assert delivery.status is DeliveryStatus.delivered
    assert len(receiver.received) == 1
    with tenant_scope(delivery.tenant_id):
        [attempt] = session.scalars(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery.id)).all()
    assert attempt.succeeded and attempt.response_status == 200 and attempt.response_excerpt.startswith("accepted, then: ")


def test_a_receiver_that_never_answers_is_retried_on_schedule_for_three_days_and_then_disabled(session, endpoint, confirmed_booking, deliveries, receiver):
    receiver.default = HANG
    now = utcnow()
    fan_out(session, [deliveries], now=now)

    sent_at = [now]
    assert send_due(session, [deliveries], now=now) == 1
    for delay in WEBHOOK_RETRY_DELAYS:
        due = next_due(session, endpoint["id"])
        assert delay <= due - sent_at[-1] <= delay * 1.1, "not on the schedule (up to 10 % of jitter)"
        assert send_due(session, [deliveries], now=sent_at[-1] + delay - timedelta(seconds=1)) == 0, "sent before it was due"
        assert send_due(session, [deliveries], now=due) == 1
        sent_at.append(due)

    [delivery] = deliveries_of(session, endpoint["id"])
    assert delivery.status is DeliveryStatus.dead and delivery.attempts == len(WEBHOOK_RETRY_DELAYS) + 1
    assert "TimeoutError" in delivery.last_error or "timed out" in delivery.last_error
    assert timedelta(hours=71) < sent_at[-1] - sent_at[0] <= timedelta(days=3) * 1.1  # retried for about three days
    assert len(set(receiver.webhook_ids)) == 1 and len(receiver.received) == 10
    disabled = stored_endpoint(session, endpoint["id"])
    assert (disabled.enabled, disabled.disabled_reason, disabled.consecutive_failures) == (False, "failing", 1)
    with all_tenants():
        [announced] = session.scalars(select(OutboxEvent).where(OutboxEvent.topic == "webhook.endpoint_disabled")).all()
    assert announced.payload == {
        "endpoint": endpoint["id"],
        "url": endpoint["url"],
        "reason": "failing",
        "last_error": delivery.last_error,
        "consecutive_failures": 1,
    }


def test_events_after_the_endpoint_was_disabled_are_not_planned_for_it_until_it_is_enabled(session, manager, endpoint, confirmed_booking, deliveries, tenants):
    with tenant_scope(tenants["tenant-a"].id), write_transaction(session):
        webhooks.disable_endpoint(session, session.get(WebhookEndpoint, endpoint["id"]), "failing")
    fan_out(session, [deliveries], now=utcnow())
    assert deliveries_of(session, endpoint["id"]) == []

    assert manager.post(f"{A}/webhooks/{endpoint['id']}/enable").get_json()["enabled"] is True
    booking_operations.cancel(session, tenants["tenant-a"], confirmed_booking.public_id, reason="plans changed", by_staff=True)
    fan_out(session, [deliveries], now=utcnow())
    assert [d.topic for d in deliveries_of(session, endpoint["id"])] == ["booking.cancelled"]


def test_a_410_gone_disables_the_endpoint_at_once(session, endpoint, confirmed_booking, deliveries, receiver):
    receiver.script = [410]
    fan_out(session, [deliveries], now=utcnow())
    send_due(session, [deliveries], now=utcnow())

    [delivery] = deliveries_of(session, endpoint["id"])
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.dead, 1)
    assert stored_endpoint(session, endpoint["id"]).disabled_reason == "gone"


def test_a_delivery_whose_endpoint_was_deleted_meanwhile_is_skipped(session, manager, endpoint, confirmed_booking, deliveries, receiver):
    fan_out(session, [deliveries], now=utcnow())
    assert manager.delete(f"{A}/webhooks/{endpoint['id']}").status_code == 204

    send_due(session, [deliveries], now=utcnow())

    assert receiver.received == []
    assert [d.status for d in deliveries_of(session, endpoint["id"])] == [DeliveryStatus.skipped]


def test_a_success_between_failures_keeps_the_endpoint_enabled(session, tenants, endpoint, confirmed_booking, deliveries, receiver):
    receiver.default = 500
    now = utcnow()
    fan_out(session, [deliveries], now=now)
    send_due(session, [deliveries], now=now)
    booking_operations.cancel(session, tenants["tenant-a"], confirmed_booking.public_id, reason="plans changed", by_staff=True)
    fan_out(session, [deliveries], now=now)
    receiver.script = [500, 200]  # the first's retry fails, the second event arrives
    send_due(session, [deliveries], now=now + WEBHOOK_RETRY_DELAYS[0] * 1.1 + timedelta(seconds=1))

    later = now + timedelta(days=4)
    for _ in WEBHOOK_RETRY_DELAYS:
        send_due(session, [deliveries], now=later)
        later += timedelta(days=1)

    first, second = deliveries_of(session, endpoint["id"])
    assert (first.status, second.status) == (DeliveryStatus.dead, DeliveryStatus.delivered)
    kept = stored_endpoint(session, endpoint["id"])
    assert (kept.enabled, kept.consecutive_failures) == (True, 1)


def test_redelivery_sends_the_same_webhook_id_and_body_again(session, manager, endpoint, confirmed_booking, deliveries, receiver):
    fan_out(session, [deliveries], now=utcnow())
    send_due(session, [deliveries], now=utcnow())
    [delivery] = deliveries_of(session, endpoint["id"])

    response = manager.post(f"{A}/webhooks/{endpoint['id']}/deliveries/{delivery.id}/redeliver")
    assert response.status_code == 202 and response.get_json()["status"] == "pending"
    send_due(session, [deliveries], now=utcnow())

    assert receiver.webhook_ids == [delivery.message_id] * 2
    assert receiver.received[0].body == receiver.received[1].body
    log = manager.get(f"{A}/webhooks/{endpoint['id']}/deliveries").get_json()["deliveries"]
    assert [(d["status"], len(d["attempts"])) for d in log] == [("delivered", 2)]


def test_after_a_rotation_both_secrets_sign_until_the_old_one_lapses(session, manager, endpoint, confirmed_booking, deliveries, receiver, tenants):
    rotated = manager.post(f"{A}/webhooks/{endpoint['id']}/rotate-secret").get_json()
    assert rotated["secret"] != endpoint["secret"] and rotated["secret"].startswith("whsec_")
    fan_out(session, [deliveries], now=utcnow())
    send_due(session, [deliveries], now=utcnow())

    [request] = receiver.received
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    standardwebhooks.Webhook(rotated["secret"]).verify(request.body, request.headers)
    standardwebhooks.Webhook(endpoint["secret"]).verify(request.body, request.headers)

    # Rotated again 25 hours ago: the secret before it no longer signs.
    with tenant_scope(tenants["tenant-a"].id):
        newest = webhooks.rotate_secret(session, endpoint["id"], actor="test", now=utcnow() - timedelta(hours=25))
    [delivery] = deliveries_of(session, endpoint["id"])
    manager.post(f"{A}/webhooks/{endpoint['id']}/deliveries/{delivery.id}/redeliver")
    send_due(session, [deliveries], now=utcnow())
    latest = receiver.received[-1]
    assert len(latest.headers["webhook-signature"].split(" ")) == 1
    standardwebhooks.Webhook(newest.secret).verify(latest.body, latest.headers)
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(rotated["secret"]).verify(latest.body, latest.headers)


def test_topic_filters_pick_exact_topics_areas_and_everything(session, manager, receiver, confirmed_booking, deliveries, loopback):
    made = {
        name: manager.post(f"{A}/webhooks", json={"url": receiver.url, "topics": topics}).get_json()["id"]
        for name, topics in {"exact": ["booking.confirmed"], "area": ["booking.*"], "all": ["*"], "other": ["payment.*", "booking.cancelled"]}.items()
    }
    fan_out(session, [deliveries], now=utcnow())

    planned = {name: [d.topic for d in deliveries_of(session, endpoint_id)] for name, endpoint_id in made.items()}
    assert planned == {"exact": ["booking.confirmed"], "area": ["booking.confirmed"], "all": ["booking.confirmed"], "other": []}


def test_a_ping_reaches_the_endpoint_pinged_and_no_other(session, manager, receiver, deliveries, loopback, tenants):
    pinged = manager.post(f"{A}/webhooks", json={"url": receiver.url, "topics": ["payment.paid"]}).get_json()
    other = manager.post(f"{A}/webhooks", json={"url": receiver.url, "topics": ["*"]}).get_json()

    assert manager.post(f"{A}/webhooks/{pinged['id']}/ping").status_code == 202
    fan_out(session, [deliveries], now=utcnow())
    send_due(session, [deliveries], now=utcnow())

    [request] = receiver.received
    body = standardwebhooks.Webhook(pinged["secret"]).verify(request.body, request.headers)
    assert body["type"] == "webhook.test" and body["data"] == {"endpoint": pinged["id"]}
    assert deliveries_of(session, other["id"]) == []


def test_a_name_that_resolves_to_loopback_is_refused_when_sending_for_good():
    with pytest.raises(DeliveryFailed) as refused:
        _checked_address("localhost", 80, allow_private=False)
    assert refused.value.retryable is False and "refused" in refused.value.error


def test_an_endpoint_saved_while_private_addresses_were_allowed_is_refused_once_they_are_not(
    session, endpoint, confirmed_booking, deliveries, receiver, loopback
):
    loopback.config["WEBHOOKS_ALLOW_PRIVATE"] = False
    fan_out(session, [deliveries], now=utcnow())
    send_due(session, [deliveries], now=utcnow())

    assert receiver.received == []
    [delivery] = deliveries_of(session, endpoint["id"])
    assert delivery.status is DeliveryStatus.dead and "url_private_address" in delivery.last_error


def test_a_redirect_is_not_followed_but_retried_as_a_failure(session, endpoint, confirmed_booking, deliveries, receiver):
    receiver.script = [302]
    fan_out(session, [deliveries], now=utcnow())
    send_due(session, [deliveries], now=utcnow())

    [delivery] = deliveries_of(session, endpoint["id"])
    assert len(receiver.received) == 1
    assert (delivery.status, delivery.last_error) == (DeliveryStatus.pending, "302: redirects are not followed")
