"""Refunds: on cancellation under the terms, sent to the provider after commit, retried when it fails."""

from __future__ import annotations

import pytest
from payment_setup import PRICE, book, booking_state, fresh, make_priced_type, slot_start, timedelta

from yuyue.bookings import operations as ops
from yuyue.payments.models import Refund
from yuyue.payments.operations import payment_summary, send_refunds
from yuyue.payments.providers import payment_providers
from yuyue.payments.refunds import refund_amount

LATE_FEE = {"cancellation": {"deadline_hours": 24, "late": {"action": "fee", "fee_percent": 20}}}


@pytest.mark.parametrize(
    "amount, fee, expected",
    [(2000, 0, 2000), (2000, 20, 1600), (2000, 100, 0), (999, 33, 670), (1, 50, 1), (3, 10, 3), (2000, 150, 0), (2000, -5, 2000)],
)
def test_refund_is_the_amount_less_the_fee_rounded_in_the_customers_favour(amount, fee, expected):
    assert refund_amount(amount, fee) == expected


def test_cancelling_a_paid_booking_in_time_refunds_in_full(session, tenant, entry, sandbox, pay_for):
    booking = book(session, tenant, 1)
    sandbox.notify(pay_for(booking))
    ops.cancel(session, tenant, booking.public_id)
    assert booking_state(session, tenant, booking) == ("cancelled", ["refunded"], [(PRICE, "requested", "cancelled")])
    assert [r.status.value for r in send_refunds(session, tenant)] == ["pending"]
    assert booking_state(session, tenant, booking) == ("cancelled", ["refunded"], [(PRICE, "pending", "cancelled")])


def test_a_late_cancellation_refunds_less_the_fee(session, tenant, sandbox, pay_for):
    make_priced_type(session, tenant, "late", price=999, policies=LATE_FEE)
    starts_at = slot_start()
    booking = book(session, tenant, 1, slug="late", starts_at=starts_at)
    sandbox.notify(pay_for(booking))
    ops.cancel(session, tenant, booking.public_id, now=starts_at - timedelta(hours=2))
    assert booking_state(session, tenant, booking) == ("cancelled", ["refunded"], [(800, "requested", "cancelled")])
    assert payment_summary(session, booking)["refunded"] == 800


def test_staff_cancelling_late_waive_the_fee(session, tenant, sandbox, pay_for):
    make_priced_type(session, tenant, "late", policies=LATE_FEE)
    starts_at = slot_start()
    booking = book(session, tenant, 1, slug="late", starts_at=starts_at)
    sandbox.notify(pay_for(booking))
    ops.cancel(session, tenant, booking.public_id, now=starts_at - timedelta(hours=2), by_staff=True)
    assert booking_state(session, tenant, booking)[2] == [(PRICE, "requested", "cancelled")]


def test_cancelling_an_unpaid_hold_refunds_nothing_and_a_later_payment_is_refunded(session, tenant, entry, sandbox, pay_for):
    booking = book(session, tenant, 1)
    payment = pay_for(booking)
    ops.cancel(session, tenant, booking.public_id)
    assert booking_state(session, tenant, booking) == ("cancelled", ["pending"], [])
    assert sandbox.notify(payment)[1]["outcome"] == "refund_requested"
    assert booking_state(session, tenant, booking) == ("cancelled", ["refunded"], [(PRICE, "pending", "booking_cancelled")])


def test_a_provider_that_fails_leaves_the_refund_requested_for_the_worker(app, session, tenant, entry, sandbox, pay_for, monkeypatch):
    booking = book(session, tenant, 1)
    sandbox.notify(pay_for(booking))
    ops.cancel(session, tenant, booking.public_id)

    def outage(request, settings):
        raise ConnectionError("sandbox unreachable")

    with monkeypatch.context() as patch:
        patch.setattr(payment_providers(app).get("sandbox"), "refund", outage)
        assert send_refunds(session, tenant) == []
    [refund] = fresh(session, tenant, Refund)
    assert (refund.status.value, refund.attempts, refund.last_error) == ("requested", 1, "ConnectionError: sandbox unreachable")
    assert [r.reference for r in send_refunds(session, tenant)] == [refund.reference]
    assert booking_state(session, tenant, booking)[2] == [(PRICE, "pending", "cancelled")]
