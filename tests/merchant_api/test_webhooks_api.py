"""The merchant API for webhook endpoints: ``/api/v1/t/<tenant>/admin/webhooks`` and what hangs under one endpoint.

The installation here allows neither plain http nor private addresses (the defaults), so hostile URLs are refused as
they would be in production; sending is tested in ``tests/notifying/test_webhooks.py``.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from yuyue.audit.models import AuditRecord
from yuyue.db import tenant_scope, write_transaction
from yuyue.events.models import Delivery, DeliveryKind, DeliveryStatus, OutboxEvent, WebhookEndpoint
from yuyue.events.webhooks import MAX_ENDPOINTS, WEBHOOK_TOPICS
from yuyue.tenancy.models import StaffRole

A = "/api/v1/t/tenant-a/admin/webhooks"
CRM = "https://crm.example.com/yuyue/hooks"


@pytest.fixture
def created(manager) -> dict:
    response = manager.post(A, json={"url": CRM, "topics": ["booking.*", "payment.paid"], "description": "our CRM"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def audit_actions(session, tenant) -> list[str]:
    session.commit()
    with tenant_scope(tenant.id):
        return [r.action for r in session.scalars(select(AuditRecord).where(AuditRecord.action.like("webhook.%")).order_by(AuditRecord.seq))]


def planted_delivery(session, tenant, endpoint_id: int, status: DeliveryStatus = DeliveryStatus.dead) -> Delivery:
    """A delivery of an event to the endpoint, as the outbox leaves it."""
    with tenant_scope(tenant.id), write_transaction(session):
        event = OutboxEvent(topic="booking.confirmed", payload={"booking": "x"})
        session.add(event)
        session.flush()
        delivery = Delivery(
            message_id="msg_planted",
            event_id=event.id,
            topic=event.topic,
            subscriber=f"webhook:{endpoint_id}",
            kind=DeliveryKind.webhook,
            target=str(endpoint_id),
            payload={"body": '{"type":"booking.confirmed"}'},
            status=status,
            attempts=10,
            last_error="500: the receiver did not answer 2xx",
        )
        session.add(delivery)
    return delivery


def test_a_created_endpoint_shows_its_secret_once(manager, created, session, tenants):
    assert created["secret"].startswith("whsec_") and len(created["secret"]) > 40
    assert created | {"secret": None, "created_at": None, "updated_at": None} == {
        "id": created["id"],
        "url": CRM,
        "description": "our CRM",
        "topics": ["booking.*", "payment.paid"],
        "enabled": True,
        "disabled_at": None,
        "disabled_reason": None,
        "consecutive_failures": 0,
        "previous_secret_until": None,
        "secret": None,
        "created_at": None,
        "updated_at": None,
    }
    shown = manager.get(f"{A}/{created['id']}").get_json()
    listed = manager.get(A).get_json()["endpoints"]
    assert "secret" not in shown and [e["id"] for e in listed] == [created["id"]] and "secret" not in listed[0]
    assert audit_actions(session, tenants["tenant-a"]) == ["webhook.endpoint_created"]
    with tenant_scope(tenants["tenant-a"].id):
        assert created["secret"] not in str(session.scalars(select(AuditRecord.data)).all())


def test_plain_staff_may_not_see_or_change_webhooks(front_desk, problem):
    problem(front_desk.get(A), 403, "forbidden")
    problem(front_desk.post(A, json={"url": CRM, "topics": ["*"]}), 403, "forbidden")


def test_event_types_are_listed_with_a_line_each(manager):
    listed = manager.get(f"{A}/event-types").get_json()["event_types"]

    assert [t["type"] for t in listed] == list(WEBHOOK_TOPICS)
    assert all(t["description"] for t in listed)
    assert {"type": "booking.confirmed", "description": "a booking was confirmed (placed free, paid, or confirmed by staff)"} in listed


def test_unknown_topics_are_refused_with_a_pointer_each(manager, problem):
    body = problem(manager.post(A, json={"url": CRM, "topics": ["booking.confirmed", "booking.teleported", "crm.*", "booking.*"]}), 422)

    assert [(e["pointer"], e["code"]) for e in body["errors"]] == [("/topics/1", "unknown_topic"), ("/topics/2", "unknown_topic")]


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://crm.example.com/hooks", "url_scheme"),
        ("ftp://crm.example.com/hooks", "url_scheme"),
        ("https://127.0.0.1/hooks", "url_private_address"),
        ("https://10.1.2.3/hooks", "url_private_address"),
        ("https://192.168.0.10:8443/hooks", "url_private_address"),
        ("https://169.254.169.254/latest/meta-data", "url_private_address"),
        ("https://[::1]/hooks", "url_private_address"),
        ("https://[::ffff:127.0.0.1]/hooks", "url_private_address"),
        ("https://[fd00::1]/hooks", "url_private_address"),
        ("https://0.0.0.0/hooks", "url_private_address"),
        ("https://localhost/hooks", "url_private_address"),
        ("https://crm.localhost/hooks", "url_private_address"),
        ("https://intranet/hooks", "url_private_address"),
        ("https://printer.local/hooks", "url_private_address"),
        ("https://0x7f.1/hooks", "url_host"),
        ("https://2130706433/hooks", "url_host"),
        ("https://under_score.example.com/hooks", "url_host"),
        ("https://user:password@crm.example.com/hooks", "url_credentials"),
        ("https:///hooks", "url_host"),
        ("https://[::1/hooks", "invalid_url"),
        ("https://crm.example.com:99999/hooks", "invalid_url"),
        ("https://crm.example.com/hooks\r\nX-Injected: 1", "invalid_url"),
        ("https://crm.example.com/my hooks", "invalid_url"),
    ],
)
def test_hostile_urls_are_refused(manager, problem, url, code):
    body = problem(manager.post(A, json={"url": url, "topics": ["*"]}), 422)

    assert [(e["pointer"], e["code"]) for e in body["errors"]] == [("/url", code)]


def test_the_installation_may_allow_http_and_private_addresses(app, manager):
    app.config.update(WEBHOOKS_ALLOW_HTTP=True, WEBHOOKS_ALLOW_PRIVATE=True)

    assert manager.post(A, json={"url": "http://127.0.0.1:8080/hooks", "topics": ["*"]}).status_code == 201


def test_a_change_keeps_the_fields_left_out_and_is_audited(manager, created, session, tenants, problem):
    changed = manager.patch(f"{A}/{created['id']}", json={"topics": ["*", "*"], "description": "all of it"}).get_json()

    assert (changed["url"], changed["topics"], changed["description"]) == (CRM, ["*"], "all of it")
    problem(manager.patch(f"{A}/{created['id']}", json={"url": "https://10.0.0.1/"}), 422)
    assert audit_actions(session, tenants["tenant-a"]) == ["webhook.endpoint_created", "webhook.endpoint_changed"]


def test_a_deleted_endpoint_is_gone(manager, created, problem):
    assert manager.delete(f"{A}/{created['id']}").status_code == 204

    problem(manager.get(f"{A}/{created['id']}"), 404, "webhook_not_found")
    assert manager.get(A).get_json()["endpoints"] == []


def test_a_rotation_shows_the_new_secret_and_how_long_the_old_one_signs(manager, created):
    rotated = manager.post(f"{A}/{created['id']}/rotate-secret").get_json()

    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]
    assert rotated["previous_secret_until"] is not None
    assert "secret" not in manager.get(f"{A}/{created['id']}").get_json()


def test_a_ping_queues_a_test_event_and_a_disabled_endpoint_cannot_be_pinged(manager, created, session, tenants, problem):
    response = manager.post(f"{A}/{created['id']}/ping")

    assert response.status_code == 202
    with tenant_scope(tenants["tenant-a"].id):
        event = session.get(OutboxEvent, response.get_json()["event_id"])
        assert (event.topic, event.payload) == ("webhook.test", {"endpoint": created["id"]})
        endpoint = session.get(WebhookEndpoint, created["id"])
        with write_transaction(session):
            endpoint.enabled = False
    problem(manager.post(f"{A}/{created['id']}/ping"), 409, "webhook_disabled")
    assert manager.post(f"{A}/{created['id']}/enable").get_json()["enabled"] is True


def test_the_delivery_log_pages_newest_first(manager, created, session, tenants):
    made = [planted_delivery(session, tenants["tenant-a"], created["id"]).id for _ in range(3)]

    first = manager.get(f"{A}/{created['id']}/deliveries?limit=2").get_json()
    second = manager.get(f"{A}/{created['id']}/deliveries?limit=2&before={first['next_before']}").get_json()

    assert [d["id"] for d in first["deliveries"]] == made[:0:-1] and [d["id"] for d in second["deliveries"]] == made[:1]
    assert second["next_before"] is None
    assert first["deliveries"][0] | {"created_at": None, "event_id": None, "id": None} == {
        "id": None,
        "event_id": None,
        "type": "booking.confirmed",
        "webhook_id": "msg_planted",
        "status": "dead",
        "attempt_count": 10,
        "next_attempt_at": None,
        "last_error": "500: the receiver did not answer 2xx",
        "created_at": None,
        "delivered_at": None,
        "body": '{"type":"booking.confirmed"}',
        "attempts": [],
    }
    assert manager.get(f"{A}/{created['id']}/deliveries?status=delivered").get_json()["deliveries"] == []


def test_bad_log_queries_are_refused_with_a_pointer(manager, created, problem):
    assert problem(manager.get(f"{A}/{created['id']}/deliveries?limit=0"), 422)["errors"][0]["pointer"] == "/limit"
    assert problem(manager.get(f"{A}/{created['id']}/deliveries?status=lost"), 422)["errors"][0]["pointer"] == "/status"


def test_a_redelivery_is_due_at_once_with_the_same_webhook_id(manager, created, session, tenants, problem):
    delivery = planted_delivery(session, tenants["tenant-a"], created["id"])

    redelivered = manager.post(f"{A}/{created['id']}/deliveries/{delivery.id}/redeliver")

    assert redelivered.status_code == 202
    assert (redelivered.get_json()["status"], redelivered.get_json()["webhook_id"]) == ("pending", "msg_planted")
    problem(manager.post(f"{A}/{created['id']}/deliveries/{delivery.id + 1000}/redeliver"), 404, "delivery_not_found")
    assert audit_actions(session, tenants["tenant-a"])[-1] == "webhook.redelivery_requested"


def test_a_delivery_being_sent_cannot_be_redelivered(manager, created, session, tenants, problem):
    delivery = planted_delivery(session, tenants["tenant-a"], created["id"], DeliveryStatus.sending)

    problem(manager.post(f"{A}/{created['id']}/deliveries/{delivery.id}/redeliver"), 409, "delivery_in_flight")


def test_another_tenants_endpoint_is_not_found(created, manager_b, staff_client, problem):
    b = "/api/v1/t/tenant-b/admin/webhooks"
    problem(manager_b.get(f"{b}/{created['id']}"), 404, "webhook_not_found")
    problem(manager_b.post(f"{b}/{created['id']}/rotate-secret"), 404, "webhook_not_found")
    assert manager_b.get(b).get_json()["endpoints"] == []
    problem(staff_client("tenant-a", StaffRole.owner).get(f"{b}/{created['id']}"), 403, "forbidden")


def test_a_tenant_has_at_most_so_many_endpoints(manager, problem):
    for n in range(MAX_ENDPOINTS):
        assert manager.post(A, json={"url": f"{CRM}/{n}", "topics": ["*"]}).status_code == 201

    problem(manager.post(A, json={"url": CRM, "topics": ["*"]}), 409, "too_many_webhooks")
