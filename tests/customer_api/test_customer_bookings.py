"""Booking through the customer API: as guest or customer, idempotent retries, who may see and change a booking."""

from __future__ import annotations

from customer_api_setup import SLOT_DAY, iso, phone
from flask import current_app
from sqlalchemy import select

from yuyue.bookings.checkin import voucher_qr
from yuyue.bookings.models import Booking
from yuyue.customers.operations import points_balance
from yuyue.db import tenant_scope
from yuyue.scheduling.models import SlotInventory

A = "/api/v1/t/tenant-a"
# A problem document and nothing else: no field of the booking.
PROBLEM_FIELDS = {"type", "title", "status", "detail", "code", "errors", "request_id"}


def taken(session, tenant) -> list[int]:
    session.expire_all()
    with tenant_scope(tenant.id):
        return list(session.scalars(select(SlotInventory.taken).order_by(SlotInventory.starts_at)))


def test_a_customer_books_a_free_slot_and_gets_a_voucher(alice, entry, book, tenants, session):
    booking = book(alice, party_size=2)

    assert booking["status"] == "confirmed"
    assert (booking["starts_at"], booking["ends_at"]) == (iso(9), iso(10))
    assert (booking["party_size"], booking["price_amount"], booking["currency"]) == (2, 0, "CNY")
    assert booking["hold_expires_at"] is None
    assert "booking_token" not in booking
    with tenant_scope(tenants["tenant-a"].id):
        stored = session.scalar(select(Booking).where(Booking.public_id == booking["id"]))
    assert booking["voucher"] == {"code": stored.voucher_code, "qr": voucher_qr(current_app.config["SECRET_KEY"], tenants["tenant-a"], stored), "proofs": []}
    assert stored.customer_id == alice.customer.id


def test_a_paid_booking_is_held_until_paid_without_a_voucher(alice, make_type, book):
    make_type(price_amount=3000, hold_minutes=15)

    booking = book(alice, party_size=2)

    assert (booking["status"], booking["price_amount"], booking["voucher"]) == ("held", 6000, None)
    assert booking["hold_expires_at"].endswith("+08:00")


def test_a_guest_books_with_a_phone_and_gets_a_token_for_that_booking(client, entry, book):
    booking = book(client, phone="138 0013 8000")

    assert booking["booking_token"]
    shown = client.get(f"{A}/bookings/{booking['id']}", headers={"X-Booking-Token": booking["booking_token"]})
    assert shown.status_code == 200
    assert shown.get_json()["id"] == booking["id"]


def test_a_guest_must_give_a_phone(client, entry, booking_request, problem):
    body = problem(client.post(f"{A}/bookings", json=booking_request()), 422, "validation_failed")

    assert [e["pointer"] for e in body["errors"]] == ["/phone"]


def test_a_logged_in_customer_books_as_themself_whatever_phone_the_body_names(alice, entry, book, session, tenants):
    booking = book(alice, phone=phone(77))

    with tenant_scope(tenants["tenant-a"].id):
        assert session.scalar(select(Booking.customer_id).where(Booking.public_id == booking["id"])) == alice.customer.id


def test_the_answer_points_at_the_booking(alice, entry, booking_request):
    response = alice.post(f"{A}/bookings", json=booking_request())

    assert response.headers["Location"].endswith(f"{A}/bookings/{response.get_json()['id']}")


def test_a_retry_with_the_same_idempotency_key_returns_the_same_booking_and_takes_one_place(alice, entry, booking_request, session, tenants):
    headers = {"Idempotency-Key": "7f1c7a52-rush-1"}

    first = alice.post(f"{A}/bookings", json=booking_request(), headers=headers)
    again = alice.post(f"{A}/bookings", json=booking_request(), headers=headers)

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json() == again.get_json()
    assert taken(session, tenants["tenant-a"]) == [1]


def test_a_guests_retry_with_the_booking_token_gets_the_booking_and_the_same_token(client, entry, booking_request, session, tenants):
    headers = {"Idempotency-Key": "guest-retry"}
    first = client.post(f"{A}/bookings", json=booking_request(phone=phone(5)), headers=headers).get_json()

    again = client.post(f"{A}/bookings", json=booking_request(phone=phone(5)), headers=headers | {"X-Booking-Token": first["booking_token"]})

    assert again.status_code == 200
    assert again.get_json() == first
    assert taken(session, tenants["tenant-a"]) == [1]


def test_a_guests_retry_without_the_token_is_refused_without_the_booking_and_books_nothing(client, entry, booking_request, problem, session, tenants):
    headers = {"Idempotency-Key": "guest-retry"}
    client.post(f"{A}/bookings", json=booking_request(phone=phone(5)), headers=headers)

    body = problem(client.post(f"{A}/bookings", json=booking_request(phone=phone(5)), headers=headers), 409, "idempotency_key_reused")

    assert body.keys() == PROBLEM_FIELDS
    assert taken(session, tenants["tenant-a"]) == [1]


def test_a_guest_who_lost_the_answer_sees_the_booking_by_logging_in_with_the_phone(client, entry, booking_request, signed_in_customer):
    headers = {"Idempotency-Key": "guest-retry"}
    first = client.post(f"{A}/bookings", json=booking_request(phone=phone(5)), headers=headers).get_json()
    del first["booking_token"]

    logged_in = signed_in_customer(5)  # a one-time code sent to the phone proves what the key cannot
    again = logged_in.post(f"{A}/bookings", json=booking_request(), headers=headers)

    assert again.status_code == 200
    assert again.get_json() == first
    assert "booking_token" not in again.get_json()


def test_a_stranger_with_a_guests_phone_and_key_gets_no_booking_voucher_or_token(client, app, entry, booking_request, problem):
    headers = {"Idempotency-Key": "guest-retry"}
    guests = client.post(f"{A}/bookings", json=booking_request(phone=phone(5)), headers=headers).get_json()
    stranger = app.test_client()

    response = stranger.post(f"{A}/bookings", json=booking_request(phone=phone(5)), headers=headers)

    body = problem(response, 409, "idempotency_key_reused")
    assert body.keys() == PROBLEM_FIELDS
    for secret in (guests["id"], guests["voucher"]["code"], guests["voucher"]["qr"], guests["booking_token"]):
        assert secret not in response.get_data(as_text=True)


def test_a_stranger_with_a_customers_phone_and_key_gets_nothing(alice, app, entry, booking_request, problem):
    headers = {"Idempotency-Key": "alice-key"}
    alice.post(f"{A}/bookings", json=booking_request(), headers=headers)

    body = problem(app.test_client().post(f"{A}/bookings", json=booking_request(phone=phone(1)), headers=headers), 409, "idempotency_key_reused")

    assert body.keys() == PROBLEM_FIELDS


def test_the_token_of_another_booking_does_not_open_a_replay(client, entry, booking_request, problem):
    headers = {"Idempotency-Key": "guest-retry"}
    client.post(f"{A}/bookings", json=booking_request(phone=phone(5)), headers=headers)
    own = client.post(f"{A}/bookings", json=booking_request(phone=phone(6))).get_json()

    response = client.post(f"{A}/bookings", json=booking_request(phone=phone(5)), headers=headers | {"X-Booking-Token": own["booking_token"]})

    problem(response, 409, "idempotency_key_reused")


def test_an_idempotency_key_used_by_someone_else_reveals_nothing(alice, bob, entry, booking_request, problem):
    headers = {"Idempotency-Key": "shared-key"}
    alice.post(f"{A}/bookings", json=booking_request(), headers=headers)

    body = problem(bob.post(f"{A}/bookings", json=booking_request(), headers=headers), 409, "idempotency_key_reused")

    assert "id" not in body


def test_an_idempotency_key_reused_for_another_slot_is_refused(alice, entry, booking_request, problem):
    headers = {"Idempotency-Key": "one-request"}
    alice.post(f"{A}/bookings", json=booking_request(hour=9), headers=headers)

    problem(alice.post(f"{A}/bookings", json=booking_request(hour=10), headers=headers), 409, "idempotency_key_reused")


def test_a_full_slot_answers_409_slot_full(alice, bob, make_type, book, booking_request, problem):
    make_type(capacity=1)
    book(alice)

    problem(bob.post(f"{A}/bookings", json=booking_request()), 409, "slot_full")


def test_a_customer_reads_their_booking(alice, entry, book):
    booking = book(alice)

    shown = alice.get(f"{A}/bookings/{booking['id']}")

    assert shown.status_code == 200
    assert shown.get_json() == booking


def test_another_customers_booking_is_not_found(alice, bob, entry, book, problem):
    booking = book(alice)

    problem(bob.get(f"{A}/bookings/{booking['id']}"), 404, "booking_not_found")
    problem(bob.post(f"{A}/bookings/{booking['id']}/cancel"), 404, "booking_not_found")
    problem(bob.post(f"{A}/bookings/{booking['id']}/reschedule", json={"starts_at": iso(10)}), 404, "booking_not_found")


def test_someone_elses_booking_looks_exactly_like_a_missing_one(alice, bob, entry, book):
    booking = book(alice)

    theirs, missing = bob.get(f"{A}/bookings/{booking['id']}"), bob.get(f"{A}/bookings/{'0' * 32}")

    assert (theirs.status_code, theirs.get_json()["code"]) == (missing.status_code, missing.get_json()["code"])


def test_a_booking_without_credentials_is_not_found(client, alice, entry, book, problem):
    booking = book(alice)

    problem(client.get(f"{A}/bookings/{booking['id']}"), 404, "booking_not_found")


def test_a_guest_token_opens_only_its_own_booking(client, entry, book, problem):
    first = book(client, phone=phone(11))
    second = book(client, phone=phone(12))

    problem(client.get(f"{A}/bookings/{second['id']}", headers={"X-Booking-Token": first["booking_token"]}), 404, "booking_not_found")
    problem(client.get(f"{A}/bookings/{first['id']}", headers={"X-Booking-Token": "not-a-token"}), 404, "booking_not_found")


def test_a_bad_access_token_is_a_401(client, entry, problem):
    problem(client.get(f"{A}/bookings/{'0' * 32}", headers={"Authorization": "Bearer nonsense"}), 401, "invalid_token")


def test_a_guest_cancels_with_their_token(client, entry, book):
    booking = book(client, phone=phone(13))

    cancelled = client.post(f"{A}/bookings/{booking['id']}/cancel", headers={"X-Booking-Token": booking["booking_token"]})

    assert cancelled.status_code == 200
    assert cancelled.get_json()["status"] == "cancelled"


def test_cancelling_on_time_shows_no_penalty_and_frees_the_place(alice, make_type, book, session, tenants):
    make_type(policies={"cancellation": {"deadline_hours": 1}})
    booking = book(alice)

    cancelled = alice.post(f"{A}/bookings/{booking['id']}/cancel", json={"reason": "plans changed"})

    assert cancelled.status_code == 200
    assert cancelled.get_json()["status"] == "cancelled"
    assert cancelled.get_json()["voucher"] is None
    assert cancelled.get_json()["cancellation"] == {"terms": "on_time", "late": False, "points_deducted": 0, "fee_percent": 0, "counts_as_no_show": False}
    assert taken(session, tenants["tenant-a"]) == [0]


def test_cancelling_late_shows_the_points_deducted(alice, make_type, book, session, tenants):
    # The slot is a week away; a deadline of 30 days makes any cancellation now late.
    make_type(policies={"cancellation": {"deadline_hours": 720, "late": {"action": "deduct_points", "points": 5}}})
    booking = book(alice)

    cancelled = alice.post(f"{A}/bookings/{booking['id']}/cancel").get_json()

    assert cancelled["cancellation"] == {"terms": "late_deduct_points", "late": True, "points_deducted": 5, "fee_percent": 0, "counts_as_no_show": False}
    with tenant_scope(tenants["tenant-a"].id):
        assert points_balance(session, alice.customer) == -5


def test_cancelling_late_shows_the_fee_percent(alice, make_type, book):
    make_type(price_amount=1000, hold_minutes=0, policies={"cancellation": {"deadline_hours": 720, "late": {"action": "fee", "fee_percent": 20}}})
    booking = book(alice)

    cancelled = alice.post(f"{A}/bookings/{booking['id']}/cancel").get_json()

    assert (cancelled["cancellation"]["late"], cancelled["cancellation"]["fee_percent"]) == (True, 20)


def test_a_refused_late_cancellation_is_a_409(alice, make_type, book, problem):
    make_type(policies={"cancellation": {"deadline_hours": 720}})
    booking = book(alice)

    problem(alice.post(f"{A}/bookings/{booking['id']}/cancel"), 409, "cancellation_closed")


def test_cancelling_twice_is_a_409(alice, entry, book, problem):
    booking = book(alice)
    alice.post(f"{A}/bookings/{booking['id']}/cancel")

    problem(alice.post(f"{A}/bookings/{booking['id']}/cancel"), 409, "illegal_transition")


def test_rescheduling_moves_the_booking_and_its_place(alice, entry, book, session, tenants):
    booking = book(alice, hour=9)

    moved = alice.post(f"{A}/bookings/{booking['id']}/reschedule", json={"starts_at": iso(10)})

    assert moved.status_code == 200
    assert (moved.get_json()["starts_at"], moved.get_json()["ends_at"], moved.get_json()["reschedule_count"]) == (iso(10), iso(11), 1)
    assert moved.get_json()["id"] == booking["id"]
    assert taken(session, tenants["tenant-a"]) == [0, 1]


def test_rescheduling_into_a_full_slot_is_a_409(alice, bob, make_type, book, problem):
    make_type(capacity=1)
    mine = book(alice, hour=9)
    book(bob, hour=10)

    problem(alice.post(f"{A}/bookings/{mine['id']}/reschedule", json={"starts_at": iso(10)}), 409, "slot_full")


def test_rescheduling_to_a_time_that_is_not_a_slot_is_a_422(alice, entry, book, problem):
    booking = book(alice)

    body = problem(alice.post(f"{A}/bookings/{booking['id']}/reschedule", json={"starts_at": iso(9, 30)}), 422)

    assert [e["pointer"] for e in body["errors"]] == ["/starts_at"]


def test_the_booking_date_is_the_local_one(alice, entry, book):
    assert book(alice)["local_date"] == SLOT_DAY.isoformat()
