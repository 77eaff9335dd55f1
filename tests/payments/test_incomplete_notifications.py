"""Signed notifications without the fields that decide money are refused (422), audited, and can be delivered again.

A provider's notification of a payment or a refund must say how much and in
which currency; the host no longer assumes the payment's price or the whole
remainder when it does not. A failure moves no money and needs neither.
"""

from __future__ import annotations

from payment_setup import PRICE, book, booking_state
from sqlalchemy import func, select

from yuyue.audit.models import AuditRecord
from yuyue.bookings import operations as ops
from yuyue.db import tenant_scope
from yuyue.payments.models import PaymentNotification, Refund


def refusals(session, tenant) -> list[AuditRecord]:
    session.commit()
    with tenant_scope(tenant.id):
        return list(session.scalars(select(AuditRecord).where(AuditRecord.action == "payment.notification_refused").order_by(AuditRecord.seq)))


def notifications(session, tenant) -> int:
    with tenant_scope(tenant.id):
        return session.scalar(select(func.count()).select_from(PaymentNotification))


def pointers(body: dict) -> list[str]:
    return [error["pointer"] for error in body["errors"]]


def the_refund(session, tenant) -> Refund:
    session.commit()
    with tenant_scope(tenant.id):
        return session.scalar(select(Refund).execution_options(populate_existing=True))


def test_a_paid_notification_without_an_amount_is_refused_and_the_booking_stays_unpaid(session, tenant, entry, sandbox, pay_for):
    booking = book(session, tenant, 1)
    payment = pay_for(booking)

    status, body = sandbox.notify(payment, amount=None)

    assert (status, body["code"], pointers(body)) == (422, "incomplete_notification", ["/amount"])
    assert booking_state(session, tenant, booking) == ("held", ["pending"], [])
    assert notifications(session, tenant) == 0


def test_a_paid_notification_without_a_currency_is_refused(session, tenant, entry, sandbox, pay_for):
    booking = book(session, tenant, 1)
    payment = pay_for(booking)

    status, body = sandbox.notify(payment, amount=PRICE, currency=None)

    assert (status, body["code"], pointers(body)) == (422, "incomplete_notification", ["/currency"])
    assert booking_state(session, tenant, booking) == ("held", ["pending"], [])


def test_the_refused_notification_is_audited_against_its_payment_without_its_body(session, tenant, entry, sandbox, pay_for):
    payment = pay_for(book(session, tenant, 1))

    sandbox.notify(payment, amount=None, currency=None, notification_id="sbn_incomplete")

    [record] = refusals(session, tenant)
    assert (record.actor, record.subject_type, record.subject_id) == ("provider:sandbox", "payment", payment.reference)
    assert record.data == {
        "provider": "sandbox",
        "notification": "sbn_incomplete",
        "kind": "paid",
        "reference": payment.reference,
        "code": "incomplete_notification",
        "problems": [{"pointer": "/amount", "code": "required"}, {"pointer": "/currency", "code": "required"}],
    }


def test_the_same_notification_sent_again_complete_confirms_the_booking(session, tenant, entry, sandbox, pay_for):
    booking = book(session, tenant, 1)
    payment = pay_for(booking)
    sandbox.notify(payment, amount=None, notification_id="sbn_1")

    assert sandbox.notify(payment, amount=PRICE, notification_id="sbn_1") == (200, {"code": "SUCCESS", "outcome": "confirmed"})
    assert booking_state(session, tenant, booking) == ("confirmed", ["paid"], [])


def test_a_failed_notification_needs_no_amount(session, tenant, entry, sandbox, pay_for):
    booking = book(session, tenant, 1)
    payment = pay_for(booking)

    assert sandbox.notify(payment, "payment.failed", amount=None, currency=None)[1]["outcome"] == "failed"
    assert refusals(session, tenant) == []


def test_a_provider_refund_without_an_amount_refunds_nothing(session, tenant, entry, sandbox, pay_for):
    booking = book(session, tenant, 1)
    payment = pay_for(booking)
    sandbox.notify(payment)

    status, body = sandbox.notify(payment, "refund.succeeded", refund_reference="console-refund-1", amount=None)

    assert (status, body["code"], pointers(body)) == (422, "incomplete_notification", ["/amount"])
    assert booking_state(session, tenant, booking) == ("confirmed", ["paid"], [])
    assert [r.data["kind"] for r in refusals(session, tenant)] == ["refunded"]


def test_a_notification_of_our_refund_without_an_amount_leaves_it_pending(session, tenant, entry, sandbox, pay_for):
    booking = book(session, tenant, 1)
    payment = pay_for(booking)
    sandbox.notify(payment)
    ops.cancel(session, tenant, booking.public_id)
    refund = the_refund(session, tenant)

    status, _ = sandbox.notify(payment, "refund.succeeded", refund_reference=refund.reference, amount=None)

    assert status == 422
    assert the_refund(session, tenant).status.value == "requested"


def test_a_notification_of_our_refund_for_another_amount_is_ignored(session, tenant, entry, sandbox, pay_for):
    booking = book(session, tenant, 1)
    payment = pay_for(booking)
    sandbox.notify(payment)
    ops.cancel(session, tenant, booking.public_id)
    refund = the_refund(session, tenant)

    outcome = sandbox.notify(payment, "refund.succeeded", refund_reference=refund.reference, amount=PRICE - 1)

    assert outcome == (200, {"code": "SUCCESS", "outcome": "ignored_amount_mismatch"})
    assert the_refund(session, tenant).status.value == "requested"


def test_a_provider_refund_in_another_currency_is_ignored(session, tenant, entry, sandbox, pay_for):
    booking = book(session, tenant, 1)
    payment = pay_for(booking)
    sandbox.notify(payment)

    outcome = sandbox.notify(payment, "refund.succeeded", refund_reference="console-refund-1", amount=PRICE, currency="USD")

    assert outcome[1]["outcome"] == "ignored_amount_mismatch"
    assert booking_state(session, tenant, booking) == ("confirmed", ["paid"], [])


def test_a_paid_notification_in_another_currency_is_ignored(session, tenant, entry, sandbox, pay_for):
    booking = book(session, tenant, 1)
    payment = pay_for(booking)

    assert sandbox.notify(payment, amount=PRICE, currency="USD")[1]["outcome"] == "ignored_amount_mismatch"
    assert booking_state(session, tenant, booking) == ("held", ["pending"], [])
