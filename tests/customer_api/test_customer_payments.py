"""Paying for a held booking: ``POST …/bookings/<id>/pay`` opens its payment once; reading a booking never writes.

A GET shows the open payment's instructions, or, while none is open, where to
open one; it issues only SELECTs (counted on the engine, by statement kind).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from customer_api_setup import phone
from sqlalchemy import event, select, text

from yuyue.bookings.models import Booking
from yuyue.db import db, tenant_scope
from yuyue.payments.models import Payment

A = "/api/v1/t/tenant-a"
# What a read may send: its queries, and the transaction around them (SQLite's BEGIN DEFERRED comes through the engine).
READ_KINDS = {"SELECT", "BEGIN", "COMMIT", "ROLLBACK"}


@pytest.fixture
def priced(make_type):
    """Booking type ``entry`` at 30.00 a person, held 15 minutes until paid."""
    return make_type(price_amount=3000, hold_minutes=15)


def payments_of(session, tenant, public_id: str) -> list[Payment]:
    session.expire_all()
    with tenant_scope(tenant.id):
        return list(session.scalars(select(Payment).join(Booking, Booking.id == Payment.booking_id).where(Booking.public_id == public_id)))


@contextmanager
def statements() -> Iterator[list[str]]:
    """Every statement the application's engine sends while the block runs."""
    sent: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        sent.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def assert_reads_only(sent: list[str]) -> None:
    assert any(statement.upper().startswith("SELECT") for statement in sent)
    assert {statement.split(None, 1)[0].upper() for statement in sent} <= READ_KINDS, sent
    assert not [s for s in sent if "IMMEDIATE" in s.upper() or "FOR UPDATE" in s.upper()], "a read took a write lock"


def test_paying_a_held_booking_opens_its_payment_and_says_what_to_do(alice, priced, book, session, tenants):
    booking = book(alice, party_size=2)

    response = alice.post(f"{A}/bookings/{booking['id']}/pay")

    assert response.status_code == 200
    instructions = response.get_json()
    assert (instructions["provider"], instructions["status"], instructions["amount"], instructions["currency"]) == ("sandbox", "pending", 6000, "CNY")
    assert instructions["reference"] and instructions["kind"]
    assert [p.reference for p in payments_of(session, tenants["tenant-a"], booking["id"])] == [instructions["reference"]]


def test_paying_again_answers_the_same_payment_and_opens_no_second(alice, priced, book, session, tenants):
    booking = book(alice)

    first = alice.post(f"{A}/bookings/{booking['id']}/pay").get_json()
    second = alice.post(f"{A}/bookings/{booking['id']}/pay").get_json()

    assert first == second
    assert len(payments_of(session, tenants["tenant-a"], booking["id"])) == 1


def test_a_held_booking_shows_the_payment_opened_for_it(alice, priced, book):
    booking = book(alice)
    instructions = alice.post(f"{A}/bookings/{booking['id']}/pay").get_json()

    shown = alice.get(f"{A}/bookings/{booking['id']}").get_json()

    assert (shown["payment"], shown["open_payment"]) == (instructions, None)
    assert alice.get(f"{A}/me/bookings").get_json()["bookings"][0]["payment"] == instructions


@pytest.mark.tampers  # removes the payment placement may have opened, as if its provider had failed then
def test_a_held_booking_without_a_payment_shows_none_and_where_to_open_one_and_opens_nothing(alice, priced, book, session, tenants):
    booking = book(alice)
    with tenant_scope(tenants["tenant-a"].id):
        session.execute(text("DELETE FROM payments WHERE booking_id = (SELECT id FROM bookings WHERE public_id = :id)"), {"id": booking["id"]})
        session.commit()

    shown = alice.get(f"{A}/bookings/{booking['id']}").get_json()

    assert shown["payment"] is None
    assert shown["open_payment"] == {"method": "POST", "url": f"{A}/bookings/{booking['id']}/pay"}
    assert payments_of(session, tenants["tenant-a"], booking["id"]) == []
    assert alice.post(shown["open_payment"]["url"]).status_code == 200


def test_a_confirmed_booking_shows_no_payment_and_cannot_be_paid(alice, entry, book, problem):
    booking = book(alice)

    assert (booking["status"], booking["payment"], booking["open_payment"]) == ("confirmed", None, None)
    problem(alice.post(f"{A}/bookings/{booking['id']}/pay"), 409, "booking_not_held")


def test_a_cancelled_booking_cannot_be_paid(alice, priced, book, session, tenants, problem):
    booking = book(alice)
    alice.post(f"{A}/bookings/{booking['id']}/cancel")
    before = [(p.reference, p.status) for p in payments_of(session, tenants["tenant-a"], booking["id"])]

    problem(alice.post(f"{A}/bookings/{booking['id']}/pay"), 409, "booking_not_held")
    assert [(p.reference, p.status) for p in payments_of(session, tenants["tenant-a"], booking["id"])] == before


def test_a_guest_pays_with_their_booking_token(client, priced, book):
    booking = book(client, phone=phone(7))

    response = client.post(f"{A}/bookings/{booking['id']}/pay", headers={"X-Booking-Token": booking["booking_token"]})

    assert (response.status_code, response.get_json()["amount"]) == (200, 3000)


def test_someone_elses_booking_cannot_be_paid_and_gets_no_payment(alice, bob, client, priced, book, session, tenants, problem):
    booking = book(alice)
    before = payments_of(session, tenants["tenant-a"], booking["id"])

    problem(bob.post(f"{A}/bookings/{booking['id']}/pay"), 404, "booking_not_found")
    problem(client.post(f"{A}/bookings/{booking['id']}/pay"), 404, "booking_not_found")
    assert payments_of(session, tenants["tenant-a"], booking["id"]) == before


def test_reading_bookings_issues_only_selects(alice, priced, make_type, book, session, tenants):
    make_type("free", price_amount=0)
    paying = book(alice, hour=9)
    alice.post(f"{A}/bookings/{paying['id']}/pay")
    unpaid = book(alice, hour=10)
    confirmed = book(alice, booking_type="free")
    assert [b["status"] for b in (paying, unpaid, confirmed)] == ["held", "held", "confirmed"]
    session.commit()

    for booking in (paying, unpaid, confirmed):
        with statements() as sent:
            assert alice.get(f"{A}/bookings/{booking['id']}").status_code == 200
        assert_reads_only(sent)
    with statements() as sent:
        page = alice.get(f"{A}/me/bookings").get_json()["bookings"]
    assert_reads_only(sent)

    assert [b["status"] for b in page] == ["confirmed", "held", "held"]
    assert page[2]["payment"]["status"] == "pending"
