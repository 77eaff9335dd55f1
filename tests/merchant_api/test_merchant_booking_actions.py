"""What the desk added to the merchant API: reschedule by staff, payment at the counter, the cancellation terms read first, refunds by a manager, a slot's waitlist."""

from __future__ import annotations

import pytest
from merchant_setup import at

from yuyue.bookings import operations as booking_operations
from yuyue.bookings import waitlist
from yuyue.forms.registry import form_registry
from yuyue.payments.operations import set_payment_provider
from yuyue.tenancy.models import StaffRole

ADMIN = "/api/v1/t/tenant-a/admin"


@pytest.fixture
def paid(make_type, session, tenant_of, manager):
    """A 50.00 booking of tenant-a paid at the counter through the API."""
    set_payment_provider(session, tenant_of("tenant-a"), "offline")
    make_type("tenant-a", "entry", price_amount=5000)
    held = booking_operations.book(
        session, form_registry(), tenant_of("tenant-a"), booking_type_slug="entry", starts_at=at(9), phone="13800000001", answers={"name": "Li"}
    )
    response = manager.post(f"{ADMIN}/bookings/{held.public_id}/offline-payment")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "confirmed"
    return held


def test_staff_reschedule_a_booking(front_desk, make_type, book):
    make_type("tenant-a", "entry")
    booking = book("tenant-a", at(9), "13800000001")

    response = front_desk.post(f"{ADMIN}/bookings/{booking.public_id}/reschedule", json={"starts_at": at(14).isoformat()})

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["starts_at"] == at(14).isoformat()


def test_a_reschedule_to_no_slot_is_invalid(front_desk, make_type, book, problem):
    make_type("tenant-a", "entry")
    booking = book("tenant-a", at(9), "13800000001")

    problem(front_desk.post(f"{ADMIN}/bookings/{booking.public_id}/reschedule", json={"starts_at": "soon"}), 422)
    problem(front_desk.post(f"{ADMIN}/bookings/{booking.public_id}/reschedule", json={}), 422)


def test_the_cancellation_terms_are_read_without_cancelling(front_desk, paid):
    quote = front_desk.get(f"{ADMIN}/bookings/{paid.public_id}/cancellation").get_json()

    assert quote["paid"] == 5000 and quote["refund"] == 5000 and quote["terms"]["fee_percent"] == 0
    assert front_desk.get(f"{ADMIN}/bookings/{paid.public_id}").get_json()["status"] == "confirmed"


def test_only_a_manager_refunds(front_desk, manager, paid, problem):
    problem(front_desk.post(f"{ADMIN}/bookings/{paid.public_id}/refund", json={"amount": 1000}), 403, "forbidden")

    response = manager.post(f"{ADMIN}/bookings/{paid.public_id}/refund", json={"amount": 1000, "note": "late start"})

    assert response.status_code == 200, response.get_json()
    assert [(r["amount"], r["status"], r["reason"]) for r in response.get_json()["refunds"]] == [(1000, "succeeded", "staff")]
    quote = manager.get(f"{ADMIN}/bookings/{paid.public_id}/cancellation").get_json()
    assert quote["refund"] == 4000


def test_a_refund_beyond_what_was_paid_is_invalid(manager, paid, problem):
    body = problem(manager.post(f"{ADMIN}/bookings/{paid.public_id}/refund", json={"amount": 5001}), 422)

    assert body["errors"][0]["pointer"] == "/amount"


def test_counter_payment_of_a_booking_with_nothing_to_pay_is_refused(front_desk, make_type, book, problem):
    make_type("tenant-a", "entry")
    free = book("tenant-a", at(9), "13800000001")

    problem(front_desk.post(f"{ADMIN}/bookings/{free.public_id}/offline-payment"), 409, "nothing_to_pay")


def test_a_slots_waitlist_in_order(front_desk, make_type, book, session, tenant_of):
    from merchant_setup import windows

    make_type("tenant-a", "entry", rules=windows(("09:00", "10:00"), capacity=1))
    book("tenant-a", at(9), "13800000001")
    for n in (2, 3):
        waitlist.join(
            session, form_registry(), tenant_of("tenant-a"), booking_type_slug="entry", starts_at=at(9), phone=f"1380000000{n}", answers={"name": "W"}
        )

    body = front_desk.get(f"{ADMIN}/booking-types/entry/waitlist", query_string={"start": at(9).isoformat()}).get_json()

    assert [(e["position"], e["customer"]["phone"], e["status"]) for e in body["entries"]] == [(1, "13800000002", "waiting"), (2, "13800000003", "waiting")]


def test_a_waitlist_needs_the_slot_start(front_desk, make_type, problem):
    make_type("tenant-a", "entry")

    problem(front_desk.get(f"{ADMIN}/booking-types/entry/waitlist"), 422)
    problem(front_desk.get(f"{ADMIN}/booking-types/entry/waitlist?start=2026-12-01T09:00:00"), 422)


def test_the_check_in_log_rejects_a_bad_day(front_desk, problem):
    problem(front_desk.get(f"{ADMIN}/check-ins?day=yesterday"), 422)


def test_bookings_filter_by_channel_and_refuse_unknown_parameters(staff_client, make_type, book, problem):
    make_type("tenant-a", "entry")
    booking = book("tenant-a", at(9), "13800000001")
    client = staff_client("tenant-a", StaffRole.staff)

    assert [b["id"] for b in client.get(f"{ADMIN}/bookings?channel=default").get_json()["bookings"]] == [booking.public_id]
    assert client.get(f"{ADMIN}/bookings?channel=group").get_json()["bookings"] == []
    problem(client.get(f"{ADMIN}/bookings?colour=red"), 422)
