"""What the data download adds for completeness: the customer's consents to privacy notices, the notifications sent to them
(theirs only: not staff notices, not another customer's) and the audit log's records about them, as the log keeps them."""

from __future__ import annotations

import json
from datetime import date

import pytest
from customer_api_setup import id_number, phone

from yuyue.db import tenant_scope, write_transaction
from yuyue.events.models import Delivery, DeliveryKind, DeliveryStatus, OutboxEvent
from yuyue.tenancy.models import StaffRole

A = "/api/v1/t/tenant-a"


@pytest.fixture
def manager(staff_client, tenants):
    return staff_client("tenant-a", StaffRole.manager)


def download(client) -> dict:
    response = client.get(f"{A}/me/data")
    assert response.status_code == 200, response.get_data(as_text=True)
    return json.loads(response.get_data(as_text=True))


def notify(session, tenant, subscriber: str, *, target: str = "sms", recipient: str = "138****0001", status=DeliveryStatus.delivered) -> None:
    """A notification planned by the outbox for ``subscriber`` (``notification:<channel>:<customer id>`` or a staff one)."""
    with tenant_scope(tenant.id), write_transaction(session):
        event = OutboxEvent(topic="booking.confirmed", payload={"booking": "b"})
        session.add(event)
        session.flush()
        session.add(
            Delivery(
                message_id=f"msg-{subscriber}",
                event_id=event.id,
                topic=event.topic,
                subscriber=subscriber,
                kind=DeliveryKind.notification,
                target=target,
                recipient=recipient,
                payload={"text": "your booking"},
                status=status,
            )
        )


def test_the_download_lists_each_consent_with_its_booking(alice, entry, manager, book):
    manager.put(f"{A}/admin/booking-types/entry/privacy-notice", json={"text": "Terms"})
    booking = book(alice, privacy_consent={"version": 1})

    (consent,) = download(alice)["privacy_consents"]

    assert (consent["booking_type"], consent["version"], consent["booking"], consent["channel"]) == ("entry", 1, booking["id"], "api")


def test_the_download_lists_the_customers_notifications_and_no_one_elses(session, tenants, alice, bob):
    tenant, mine, theirs = tenants["tenant-a"], alice.customer.id, bob.customer.id
    notify(session, tenant, f"notification:sms:{mine}")
    notify(session, tenant, f"notification:email:{mine}", target="email", recipient="a@example.com", status=DeliveryStatus.dead)
    notify(session, tenant, f"notification:sms:staff:{mine}", recipient="staff-phone")  # a staff member whose user id is Alice's customer id
    notify(session, tenant, f"notification:sms:{theirs}", recipient="bobs-phone")
    notify(session, tenant, f"notification:sms:{mine}1", recipient="id-ending-like-alices")

    listed = download(alice)["notifications"]

    assert [(n["channel"], n["topic"], n["status"], n["recipient"]) for n in listed] == [
        ("sms", "booking.confirmed", "delivered", "138****0001"),
        ("email", "booking.confirmed", "dead", "a@example.com"),
    ]
    assert all(n["created_at"] for n in listed)


def test_the_download_holds_the_audit_records_about_the_customer_masked_as_the_log_keeps_them(alice, bob, entry, book):
    saved = id_number(date(2012, 3, 4), 7)
    alice.put(f"{A}/me/profile", json={"name": "Alice Profile"})
    companion = alice.post(f"{A}/me/companions", json={"name": "Kid", "id_number": saved}).get_json()
    alice.delete(f"{A}/me/companions/{companion['id']}")
    booking = book(alice)
    others = book(bob, hour=10)

    audit = download(alice)["audit"]

    about = [(r["action"], r["subject_type"], r["actor"]) for r in audit]
    assert ("customer.renamed", "customer", "customer") in about
    assert ("customer.companion_added", "companion", "customer") in about
    assert ("customer.companion_removed", "companion", "customer") in about
    assert any(r["subject_id"] == booking["id"] for r in audit)
    assert [r["seq"] for r in audit] == sorted(r["seq"] for r in audit)
    text = json.dumps(audit, ensure_ascii=False)
    assert others["id"] not in text and saved not in text and phone(1) not in text
    assert saved[-4:] in text  # the companion's ID number as the log keeps it: masked


def test_the_audit_in_the_download_covers_the_customers_waitlist_entries_and_not_anothers(alice, bob, book, make_type):
    make_type(capacity=1)
    taken = book(alice)
    waiting = bob.post(f"{A}/waitlist", json={"booking_type": "entry", "starts_at": taken["starts_at"], "answers": {"name": "Bob"}}).get_json()

    bobs = {(r["subject_type"], r["subject_id"], r["action"]) for r in download(bob)["audit"]}
    alices = {(r["subject_type"], r["subject_id"]) for r in download(alice)["audit"]}

    assert ("waitlist_entry", str(waiting["id"]), "waitlist.joined") in bobs
    assert ("waitlist_entry", str(waiting["id"])) not in alices
    assert ("booking", taken["id"]) in alices
