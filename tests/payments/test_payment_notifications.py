"""The provider callback, through HTTP: signed, asynchronous, repeated, late and out-of-order notifications."""

from __future__ import annotations

import io

from payment_setup import PRICE, book, booking_state, taken, timedelta, utcnow
from sqlalchemy import func, select, update

from yuyue.audit.models import AuditRecord
from yuyue.bookings import operations as ops
from yuyue.bookings.models import Booking
from yuyue.db import tenant_scope, write_transaction
from yuyue.payments.builtin import SIGNATURE_HEADER, send_sandbox_notification
from yuyue.payments.models import PaymentNotification, Refund
from yuyue.payments.operations import send_refunds


def audit_count(session, tenant) -> int:
    with tenant_scope(tenant.id):
        return session.scalar(select(func.count()).select_from(AuditRecord))


def run_out_hold(session, tenant, booking) -> None:
    """Make the booking's hold end a minute ago, as if the customer paid late."""
    with tenant_scope(tenant.id), write_transaction(session):
        session.execute(update(Booking).where(Booking.id == booking.id).values(hold_expires_at=utcnow() - timedelta(minutes=1)))


def test_paid_notification_confirms_the_held_booking_and_marks_the_payment_paid(session, tenant, entry, sandbox, pay_for):
    booking = book(session, tenant, 1)
    payment = pay_for(booking)
    status, body = sandbox.notify(payment)
    assert (status, body) == (200, {"code": "SUCCESS", "outcome": "confirmed"})
    assert booking_state(session, tenant, booking) == ("confirmed", ["paid"], [])
    assert taken(session, tenant) == 1


def test_bad_signature_is_a_401_problem_and_changes_nothing(session, tenant, entry, sandbox, pay_for, problem, client):
    booking = book(session, tenant, 1)
    payment = pay_for(booking)
    before = audit_count(session, tenant)
    status, body = sandbox.notify(payment, headers={SIGNATURE_HEADER: "sha256=" + "0" * 64})
    assert status == 401 and body["code"] == "invalid_signature"
    response = client.post("/api/v1/t/museum/payments/sandbox/notify", data=b'{"id": "x"}', headers={SIGNATURE_HEADER: "sha256=abc"})
    problem(response, 401, "invalid_signature")
    assert booking_state(session, tenant, booking) == ("held", ["pending"], [])
    assert audit_count(session, tenant) == before
    with tenant_scope(tenant.id):
        assert session.scalar(select(func.count()).select_from(PaymentNotification)) == 0


def test_notification_signed_with_another_secret_is_refused(session, tenant, entry, client, pay_for):
    payment = pay_for(book(session, tenant, 1))
    status, _ = send_sandbox_notification(client, "museum", "payment.succeeded", payment.reference, secret="not the secret", amount=PRICE)
    assert status == 401
    assert payment.status.value == "pending"


def test_missing_signature_is_refused(client, tenant, problem):
    problem(client.post("/api/v1/t/museum/payments/sandbox/notify", json={"id": "n1"}), 401, "invalid_signature")


def test_the_same_notification_twice_answers_200_and_changes_nothing(session, tenant, entry, sandbox, pay_for):
    booking = book(session, tenant, 1)
    payment = pay_for(booking)
    assert sandbox.notify(payment, notification_id="n-1") == (200, {"code": "SUCCESS", "outcome": "confirmed"})
    records = audit_count(session, tenant)
    assert sandbox.notify(payment, notification_id="n-1") == (200, {"code": "SUCCESS", "outcome": "duplicate"})
    assert audit_count(session, tenant) == records
    assert booking_state(session, tenant, booking) == ("confirmed", ["paid"], [])


def test_paid_twice_under_different_ids_confirms_once(session, tenant, entry, sandbox, pay_for):
    booking = book(session, tenant, 1)
    payment = pay_for(booking)
    assert sandbox.notify(payment)[1]["outcome"] == "confirmed"
    assert sandbox.notify(payment)[1]["outcome"] == "already_paid"
    assert booking_state(session, tenant, booking) == ("confirmed", ["paid"], [])
    assert taken(session, tenant) == 1


def test_payment_for_a_hold_that_already_expired_keeps_it_expired_and_refunds_in_full(session, tenant, entry, sandbox, pay_for):
    booking = book(session, tenant, 1)
    payment = pay_for(booking)
    assert [b.id for b in ops.expire_holds(session, tenant, now=booking.hold_expires_at)] == [booking.id]
    assert taken(session, tenant) == 0
    assert sandbox.notify(payment)[1]["outcome"] == "refund_requested"
    # The callback hands the refund to the sandbox at once; the sandbox accepts it and notifies later.
    assert booking_state(session, tenant, booking) == ("expired", ["refunded"], [(PRICE, "pending", "booking_expired")])
    assert taken(session, tenant) == 0


def test_late_payment_before_the_expiry_job_ran_expires_the_hold_and_refunds(session, tenant, entry, sandbox, pay_for):
    booking = book(session, tenant, 1)
    payment = pay_for(booking)
    run_out_hold(session, tenant, booking)
    assert sandbox.notify(payment)[1]["outcome"] == "refund_requested"
    assert booking_state(session, tenant, booking) == ("expired", ["refunded"], [(PRICE, "pending", "booking_expired")])
    assert taken(session, tenant) == 0
    assert ops.expire_holds(session, tenant, now=utcnow() + timedelta(days=1)) == []
    assert taken(session, tenant) == 0


def test_a_late_duplicate_after_the_refund_changes_nothing(session, tenant, entry, sandbox, pay_for):
    booking = book(session, tenant, 1)
    payment = pay_for(booking)
    run_out_hold(session, tenant, booking)
    sandbox.notify(payment, notification_id="late")
    assert sandbox.notify(payment, notification_id="late")[1]["outcome"] == "duplicate"
    assert sandbox.notify(payment)[1]["outcome"] == "already_refunded"
    assert booking_state(session, tenant, booking) == ("expired", ["refunded"], [(PRICE, "pending", "booking_expired")])


def test_refund_notification_completes_the_refund_once(session, tenant, entry, sandbox, pay_for):
    booking = book(session, tenant, 1)
    payment = pay_for(booking)
    run_out_hold(session, tenant, booking)
    sandbox.notify(payment)
    with tenant_scope(tenant.id):
        refund = session.scalar(select(Refund))
    assert sandbox.notify(payment, "refund.succeeded", refund_reference=refund.reference, amount=PRICE)[1]["outcome"] == "refund_succeeded"
    assert sandbox.notify(payment, "refund.succeeded", refund_reference=refund.reference, amount=PRICE)[1]["outcome"] == "already_refunded"
    assert booking_state(session, tenant, booking) == ("expired", ["refunded"], [(PRICE, "succeeded", "booking_expired")])


def test_refund_notification_before_the_sender_recorded_the_refund_still_completes_it(session, tenant, entry, sandbox, pay_for):
    booking = book(session, tenant, 1)
    payment = pay_for(booking)
    sandbox.notify(payment)
    ops.cancel(session, tenant, booking.public_id)  # the refund is requested, not yet sent
    with tenant_scope(tenant.id):
        refund = session.scalar(select(Refund))
    assert sandbox.notify(payment, "refund.succeeded", refund_reference=refund.reference, amount=PRICE)[1]["outcome"] == "refund_succeeded"
    assert send_refunds(session, tenant) == []  # no longer requested: not sent again
    assert booking_state(session, tenant, booking) == ("cancelled", ["refunded"], [(PRICE, "succeeded", "cancelled")])


def test_refund_notification_before_the_paid_one_never_confirms_the_booking(session, tenant, entry, sandbox, pay_for):
    booking = book(session, tenant, 1)
    payment = pay_for(booking)
    assert sandbox.notify(payment, "refund.succeeded", refund_reference="console-refund-1", amount=PRICE)[1]["outcome"] == "refund_recorded"
    assert sandbox.notify(payment)[1]["outcome"] == "already_refunded"
    assert booking_state(session, tenant, booking) == ("held", ["refunded"], [(PRICE, "succeeded", "provider")])
    ops.expire_holds(session, tenant, now=booking.hold_expires_at)
    assert booking_state(session, tenant, booking)[0] == "expired"
    assert taken(session, tenant) == 0


def test_failed_payment_keeps_the_hold_and_a_later_success_confirms(session, tenant, entry, sandbox, pay_for):
    booking = book(session, tenant, 1)
    payment = pay_for(booking)
    assert sandbox.notify(payment, "payment.failed")[1]["outcome"] == "failed"
    assert booking_state(session, tenant, booking) == ("held", ["failed"], [])
    assert sandbox.notify(payment)[1]["outcome"] == "confirmed"
    assert booking_state(session, tenant, booking) == ("confirmed", ["paid"], [])


def test_a_failure_after_the_payment_succeeded_is_ignored(session, tenant, entry, sandbox, pay_for):
    booking = book(session, tenant, 1)
    payment = pay_for(booking)
    sandbox.notify(payment)
    assert sandbox.notify(payment, "payment.failed")[1]["outcome"] == "ignored_paid"
    assert booking_state(session, tenant, booking) == ("confirmed", ["paid"], [])


def test_paid_notification_for_the_wrong_amount_does_not_confirm(session, tenant, entry, sandbox, pay_for):
    booking = book(session, tenant, 1)
    payment = pay_for(booking)
    assert sandbox.notify(payment, amount=1)[1]["outcome"] == "ignored_amount_mismatch"
    assert booking_state(session, tenant, booking) == ("held", ["pending"], [])


def test_notification_for_an_unknown_payment_answers_200_and_is_recorded(session, tenant, sandbox):
    status, body = send_sandbox_notification(sandbox.client, "museum", "payment.succeeded", "no-such-payment", secret=sandbox.secret, amount=1)
    assert (status, body["outcome"]) == (200, "ignored_unknown_payment")


def test_unknown_provider_or_tenant_is_404(client, tenant, problem):
    problem(client.post("/api/v1/t/museum/payments/paypal/notify", data=b"{}"), 404, "unknown_provider")
    problem(client.post("/api/v1/t/nobody/payments/sandbox/notify", data=b"{}"), 404)


def test_oversize_notification_is_413(client, tenant, problem):
    problem(client.post("/api/v1/t/museum/payments/sandbox/notify", data=b"x" * (65 * 1024)), 413, "payload_too_large")


def test_sandbox_checkout_pays_like_a_customer_in_the_app(session, tenant, entry, client, pay_for, problem):
    booking = book(session, tenant, 1)
    payment = pay_for(booking)
    assert payment.instructions["pay_url"].endswith(f"/api/v1/t/museum/payments/sandbox/checkout/{payment.reference}")
    response = client.post(f"/api/v1/t/museum/payments/sandbox/checkout/{payment.reference}")
    assert response.get_json() == {"code": "SUCCESS", "outcome": "confirmed"}
    assert booking_state(session, tenant, booking) == ("confirmed", ["paid"], [])
    problem(client.post(f"/api/v1/t/museum/payments/sandbox/checkout/{payment.reference}"), 409, "payment_settled")
    problem(client.post("/api/v1/t/museum/payments/sandbox/checkout/nope"), 404, "payment_not_found")


def test_a_notification_sent_as_text_plain_is_read_as_its_raw_bytes(session, tenant, entry, sandbox, pay_for):
    # Providers choose their media type (JSON, XML, text/plain); the signature covers the bytes, whatever they are called.
    booking = book(session, tenant, 1)
    status, body = sandbox.notify(pay_for(booking), headers={"Content-Type": "text/plain"})

    assert (status, body["outcome"]) == (200, "confirmed")


def test_a_notification_over_64_kib_is_a_413_naming_the_limit_even_when_chunked(client, tenant, problem):
    response = client.post(
        "/api/v1/t/museum/payments/sandbox/notify",
        input_stream=io.BytesIO(b" " * (64 * 1024 + 1)),
        headers={"Transfer-Encoding": "chunked", "Content-Type": "application/json"},
        environ_overrides={"wsgi.input_terminated": True},
    )

    assert "64 KiB (65536 bytes)" in problem(response, 413, "payload_too_large")["detail"]
