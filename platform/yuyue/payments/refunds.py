"""Deciding refunds inside the transaction that makes them due; sending them happens after commit.

A refund is written as ``requested`` in the same transaction as the change that
owes it (a cancellation, a payment that arrived for an expired hold), so it is
never lost; :func:`yuyue.payments.operations.send_refunds` hands it to the
provider afterwards and the worker retries it until the provider accepts.
Imports nothing from the booking operations, which call it.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuyue.bookings.models import Booking
from yuyue.events.operations import record_change
from yuyue.payments.models import Payment, PaymentStatus, Refund, RefundStatus
from yuyue.types import utcnow


def refund_amount(amount: int, fee_percent: int) -> int:
    """What goes back of ``amount`` (minor units) after a fee of ``fee_percent``; a part fen goes to the customer."""
    fee_percent = min(max(fee_percent, 0), 100)
    return -(-amount * (100 - fee_percent) // 100)


def log_payment(session: Session, payment: Payment, action: str, data: dict, actor: str = "system") -> None:
    """The audit record and outbox event of a payment's change, in the caller's write transaction."""
    payload = {"payment": payment.reference, "provider": payment.provider, "status": payment.status.value, "amount": payment.amount, **data}
    record_change(session, actor=actor, action=action, subject_type="payment", subject_id=payment.reference, payload=payload)


def request_refund(
    session: Session, payment: Payment, amount: int, reason: str, *, now: datetime | None = None, actor: str = "system", note: str | None = None
) -> Refund | None:
    """Record that ``amount`` of ``payment`` is owed back (capped at what is left), inside the caller's write transaction.

    The caller holds the payment row (read ``FOR UPDATE``), so two refunds
    decided at once cannot together exceed the amount paid. Returns None when
    nothing is left to refund.
    """
    now = now or utcnow()
    amount = min(amount, payment.amount - payment.refunded_amount)
    if amount <= 0:
        return None
    refund = Refund(payment_id=payment.id, reference=uuid.uuid4().hex, amount=amount, reason=reason, status=RefundStatus.requested, created_at=now)
    session.add(refund)
    payment.refunded_amount += amount
    payment.status = PaymentStatus.refunded
    session.flush()
    data = {"refund": refund.reference, "refund_amount": amount, "reason": reason} | ({"note": note} if note else {})
    log_payment(session, payment, "payment.refund_requested", data, actor=actor)
    return refund


def paid_payments(session: Session, booking: Booking) -> list[Payment]:
    """The booking's payments that collected money not yet all owed back, locked until the transaction ends."""
    query = (
        select(Payment)
        .where(Payment.booking_id == booking.id, Payment.status.in_((PaymentStatus.paid, PaymentStatus.refunded)))
        .order_by(Payment.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return [payment for payment in session.scalars(query) if payment.refunded_amount < payment.amount]


def refund_for_cancellation(session: Session, booking: Booking, *, fee_percent: int = 0, now: datetime | None = None) -> list[Refund]:
    """Refund what was paid for a cancelled booking, less ``fee_percent``; call it in the cancellation's transaction.

    ``fee_percent`` is the fee the cancellation terms applied (0 when staff
    cancel, or when cancelled in time). A booking nobody paid for refunds nothing.
    """
    refunds = []
    for payment in paid_payments(session, booking):
        refund = request_refund(session, payment, refund_amount(payment.amount, fee_percent), "cancelled", now=now)
        if refund is not None:
            refunds.append(refund)
    return refunds
