"""Customer events reach the webhook endpoints subscribed to them: a merge, a customer's new name, their companions;
bodies name ids and masked ID numbers, never a name, phone or ID number in clear."""

from __future__ import annotations

import json
from datetime import date

import pytest
import standardwebhooks
from sqlalchemy import select
from tenant_setup import id_number, phone
from webhook_setup import fan_out, send_due

from yuyue.customers.models import Customer
from yuyue.db import tenant_scope
from yuyue.events.models import OutboxEvent
from yuyue.events.webhooks import WEBHOOK_TOPICS
from yuyue.tenancy.models import StaffRole
from yuyue.types import utcnow

A = "/api/v1/t/tenant-a"
CHILD_ID = id_number(date(2015, 3, 1))
CUSTOMER_TOPICS = {
    "customer.points_adjusted",
    "customer.banned",
    "customer.ban_lifted",
    "customer.annotated",
    "customer.merged",
    "customer.renamed",
    "customer.companion_added",
    "customer.companion_updated",
    "customer.companion_removed",
}


@pytest.fixture
def manager(tenants, staff_client):
    return staff_client("tenant-a", StaffRole.manager)


def subscribe(manager, receiver, topics: list[str]) -> dict:
    response = manager.post(f"{A}/admin/webhooks", json={"url": receiver.url, "topics": topics})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def delivered(session, deliveries, receiver, endpoint) -> list[dict]:
    now = utcnow()
    fan_out(session, [deliveries], now=now)
    send_due(session, [deliveries], now=now)
    return [standardwebhooks.Webhook(endpoint["secret"]).verify(request.body, request.headers) for request in receiver.received]


def test_every_customer_event_the_code_emits_is_a_topic_an_endpoint_can_subscribe_to(manager):
    listed = {line["type"]: line["description"] for line in manager.get(f"{A}/admin/webhooks/event-types").get_json()["event_types"]}

    assert CUSTOMER_TOPICS <= WEBHOOK_TOPICS.keys() and CUSTOMER_TOPICS <= listed.keys()
    assert all(listed[topic] for topic in CUSTOMER_TOPICS)


def test_the_topics_are_described_in_the_readers_language(tenants, staff_client):
    client = staff_client("tenant-a", StaffRole.manager)

    answer = client.get(f"{A}/admin/webhooks/event-types", headers={"Accept-Language": "zh-Hant"}).get_json()

    described = {line["type"]: line["description"] for line in answer["event_types"]}
    assert described["customer.merged"] == "員工將同一顧客的兩筆紀錄合併為一筆"


def test_an_endpoint_subscribed_to_merges_receives_one_and_nothing_else(session, manager, receiver, deliveries, signed_in_customer):
    mine, theirs = signed_in_customer(1), signed_in_customer(2)
    endpoint = subscribe(manager, receiver, ["customer.merged"])
    manager.post(f"{A}/admin/customers/{theirs.customer.id}/points", json={"delta": 5, "reason": "welcome"})

    merged = manager.post(f"{A}/admin/customers/{mine.customer.id}/merge", json={"from": theirs.customer.id, "reason": "two phones"})
    assert merged.status_code == 200, merged.get_json()

    [body] = delivered(session, deliveries, receiver, endpoint)
    assert body["type"] == "customer.merged"
    assert (body["data"]["customer"], body["data"]["merged"], body["data"]["moved"]["points_entries"]) == (mine.customer.id, theirs.customer.id, 1)
    assert phone(2) not in json.dumps(body)


def test_a_customers_own_changes_reach_an_endpoint_subscribed_to_every_customer_event(session, manager, receiver, deliveries, signed_in_customer):
    ann = signed_in_customer(1)
    endpoint = subscribe(manager, receiver, ["customer.*"])

    assert ann.put(f"{A}/me/profile", json={"name": "Ann <i>Ay</i>"}).status_code == 200
    companion = ann.post(f"{A}/me/companions", json={"name": "Ann Junior", "id_number": CHILD_ID}).get_json()
    assert ann.put(f"{A}/me/companions/{companion['id']}", json={"name": "Ann Jr", "id_number": CHILD_ID, "relation": "daughter"}).status_code == 200
    assert ann.delete(f"{A}/me/companions/{companion['id']}").status_code == 204

    bodies = delivered(session, deliveries, receiver, endpoint)
    assert [body["type"] for body in bodies] == [
        "customer.renamed",
        "customer.companion_added",
        "customer.companion_updated",
        "customer.companion_removed",
    ]
    masked = CHILD_ID[:6] + "********" + CHILD_ID[-4:]
    assert bodies[0]["data"] == {"customer": ann.customer.id}
    assert bodies[1]["data"] == {"customer": ann.customer.id, "companion": companion["id"], "id_number": masked}
    assert bodies[2]["data"]["changed"] == ["name", "relation"]
    text = json.dumps(bodies, ensure_ascii=False)
    assert CHILD_ID not in text and "Ann" not in text and phone(1) not in text


def test_a_name_the_customer_sends_again_unchanged_announces_nothing(session, signed_in_customer, tenants):
    ann = signed_in_customer(1)
    ann.put(f"{A}/me/profile", json={"name": "Ann"})

    ann.put(f"{A}/me/profile", json={"name": "Ann"})

    with tenant_scope(tenants["tenant-a"].id):
        assert session.scalars(select(OutboxEvent.topic).where(OutboxEvent.topic == "customer.renamed")).all() == ["customer.renamed"]
        assert session.get(Customer, ann.customer.id).name == "Ann"
