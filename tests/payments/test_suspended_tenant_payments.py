"""A merchant suspended after a customer paid: the provider's notification is still taken, nothing else is served."""

from __future__ import annotations

import pytest
from payment_setup import PRICE, book, booking_state, taken, timedelta, utcnow
from sqlalchemy import func, select, update

from yuyue.bookings.models import Booking
from yuyue.db import tenant_scope, write_transaction
from yuyue.payments.models import PaymentNotification
from yuyue.provisioning.operations import suspend_tenant


@pytest.fixture
def suspend(session, tenant):
    return lambda: suspend_tenant(session, tenant.slug)


def test_a_payment_notification_for_a_suspended_tenant_is_accepted_and_confirms_the_held_booking(session, tenant, entry, sandbox, pay_for, suspend):
    booking = book(session, tenant, 1)
    payment = pay_for(booking)
    suspend()

    assert sandbox.notify(payment) == (200, {"code": "SUCCESS", "outcome": "confirmed"})
    assert booking_state(session, tenant, booking) == ("confirmed", ["paid"], [])
    assert taken(session, tenant) == 1


def test_the_notification_is_recorded_so_a_repeat_changes_nothing(session, tenant, entry, sandbox, pay_for, suspend):
    payment = pay_for(book(session, tenant, 1))
    suspend()

    sandbox.notify(payment, notification_id="n-1")

    assert sandbox.notify(payment, notification_id="n-1") == (200, {"code": "SUCCESS", "outcome": "duplicate"})
    with tenant_scope(tenant.id):
        assert session.scalar(select(func.count()).select_from(PaymentNotification)) == 1


def test_a_payment_arriving_after_the_hold_ran_out_expires_the_booking_and_refunds_it(session, tenant, entry, sandbox, pay_for, suspend):
    booking = book(session, tenant, 1)
    payment = pay_for(booking)
    suspend()
    # The expiry job skips suspended tenants, so the hold is still "held" although its time is up.
    with tenant_scope(tenant.id), write_transaction(session):
        session.execute(update(Booking).where(Booking.id == booking.id).values(hold_expires_at=utcnow() - timedelta(minutes=1)))

    assert sandbox.notify(payment)[1]["outcome"] == "refund_requested"
    assert booking_state(session, tenant, booking) == ("expired", ["refunded"], [(PRICE, "pending", "booking_expired")])
    assert taken(session, tenant) == 0


def test_a_badly_signed_notification_for_a_suspended_tenant_is_still_a_401(session, tenant, entry, client, suspend, problem):
    suspend()

    problem(client.post("/api/v1/t/museum/payments/sandbox/notify", json={"id": "n1"}), 401, "invalid_signature")


@pytest.mark.parametrize(
    "method, path",
    [
        ("POST", "/api/v1/t/museum/payments/sandbox/checkout/{reference}"),
        ("GET", "/api/v1/t/museum/booking-types"),
        ("POST", "/api/v1/t/museum/bookings"),
        ("POST", "/api/v1/t/museum/auth/code"),
        ("GET", "/api/v1/t/museum/admin/bookings"),
    ],
    ids=["sandbox-checkout", "catalog", "booking", "login", "merchant"],
)
def test_every_other_route_of_a_suspended_tenant_still_answers_403(session, tenant, entry, client, pay_for, suspend, problem, method, path):
    payment = pay_for(book(session, tenant, 1))
    suspend()

    response = client.open(path.format(reference=payment.reference), method=method, json={})

    problem(response, 403, "tenant_suspended")


def test_a_notification_for_an_unknown_tenant_is_still_a_404(client, tenant, problem):
    problem(client.post("/api/v1/t/nobody/payments/sandbox/notify", data=b"{}"), 404, "tenant_not_found")
