"""Concurrent notifications and expiry, in threads with sessions of their own, on SQLite and PostgreSQL.

However they interleave, a booking ends in one consistent state — confirmed and
paid, or expired with its payment refunded in full — and its place is counted once.
"""

from __future__ import annotations

import threading
from collections import Counter

from payment_setup import PRICE, book, booking_state, taken, timedelta

from yuyue.db import db
from yuyue.payments.builtin import sandbox_notification
from yuyue.payments.operations import handle_notification
from yuyue.payments.providers import payment_providers
from yuyue.provisioning.operations import get_tenant
from yuyue.worker import expire_due

# The refund is sent (pending) if the expiry job's run ended after the payment; else it waits for the next run.
CONSISTENT = {
    ("confirmed", ("paid",), ()),
    ("expired", ("refunded",), ((PRICE, "requested", "booking_expired"),)),
    ("expired", ("refunded",), ((PRICE, "pending", "booking_expired"),)),
}


def together(app, *actions) -> list:
    """Run each ``action(session, tenant)`` in its own thread and application context, released at once."""
    barrier = threading.Barrier(len(actions))
    results: list = [None] * len(actions)

    def run(i: int, action) -> None:
        with app.app_context():
            tenant = get_tenant(db.session, "museum")
            db.session.commit()
            barrier.wait()
            try:
                results[i] = action(db.session, tenant)
            except Exception as error:  # reported by the assertions
                results[i] = f"{type(error).__name__}: {error}"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, action)) for i, action in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_expiry_racing_a_late_payment_ends_in_one_consistent_state_and_counts_the_place_once(app, session, tenant, entry, pay_for, sandbox):
    providers = payment_providers(app)
    outcomes: Counter = Counter()
    for n in range(12):
        booking = book(session, tenant, n)
        payment = pay_for(booking)
        deadline = booking.hold_expires_at
        # Half the payments land just in time by the provider's clock, half just after the hold ran out.
        paid_at = deadline - timedelta(milliseconds=1) if n % 2 else deadline + timedelta(milliseconds=1)
        expire_at = deadline + timedelta(seconds=1)
        headers, body = sandbox_notification(sandbox.secret, "payment.succeeded", payment.reference, amount=PRICE)
        notified, expired = together(
            app,
            lambda s, t, h=headers, b=body, at=paid_at: handle_notification(s, t, "sandbox", h, b, providers=providers, now=at),
            lambda s, t, at=expire_at: expire_due(s, providers=providers, now=at),
        )
        assert notified in {"confirmed", "refund_requested"}, notified
        assert not expired.failed, expired.failed
        status, payments, refunds = booking_state(session, tenant, booking)
        assert (status, tuple(payments), tuple(refunds)) in CONSISTENT
        outcomes[status] += 1
    assert taken(session, tenant) == outcomes["confirmed"]
    assert sum(outcomes.values()) == 12


def test_the_same_notification_delivered_four_times_at_once_is_applied_once(app, session, tenant, entry, pay_for, sandbox):
    providers = payment_providers(app)
    booking = book(session, tenant, 1)
    payment = pay_for(booking)
    headers, body = sandbox_notification(sandbox.secret, "payment.succeeded", payment.reference, amount=PRICE, notification_id="once")
    results = together(app, *[lambda s, t: handle_notification(s, t, "sandbox", headers, body, providers=providers)] * 4)
    assert sorted(results) == ["confirmed", "duplicate", "duplicate", "duplicate"]
    assert booking_state(session, tenant, booking) == ("confirmed", ["paid"], [])
    assert taken(session, tenant) == 1


def test_two_different_paid_notifications_at_once_confirm_once(app, session, tenant, entry, pay_for, sandbox):
    providers = payment_providers(app)
    booking = book(session, tenant, 1)
    payment = pay_for(booking)
    first = sandbox_notification(sandbox.secret, "payment.succeeded", payment.reference, amount=PRICE)
    second = sandbox_notification(sandbox.secret, "payment.succeeded", payment.reference, amount=PRICE)
    results = together(
        app,
        lambda s, t: handle_notification(s, t, "sandbox", *first, providers=providers),
        lambda s, t: handle_notification(s, t, "sandbox", *second, providers=providers),
    )
    assert sorted(results) == ["already_paid", "confirmed"]
    assert booking_state(session, tenant, booking) == ("confirmed", ["paid"], [])
