"""Payment operations: open a payment for a booking, process provider notifications, send refunds.

A notification is processed once: its (provider, notification id) is written in
the same transaction as its effects, so a second delivery finds it and changes
nothing, and a delivery whose processing failed leaves no trace and can be
retried. The booking row is locked before the payment row, in the order the
booking operations lock them, so a notification racing a cancellation or the
hold expiry waits instead of deadlocking, and the booking ends in one state:
confirmed and paid, or expired or cancelled with the payment refunded.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app, has_request_context, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from yuyue.audit.operations import record as audit_record
from yuyue.audit.state import touched
from yuyue.bookings import operations as booking_ops
from yuyue.bookings.models import Booking, BookingStatus
from yuyue.bookings.placement import Actor, booking_type_by_slug, get_booking
from yuyue.catalog.models import BookingType
from yuyue.db import insert_unless_exists, tenant_scope, write_transaction
from yuyue.errors import Conflict, FieldProblem, InvalidInput, Refused
from yuyue.payments.models import Payment, PaymentNotification, PaymentSetting, PaymentStatus, Refund, RefundStatus
from yuyue.payments.providers import Notification, NotificationKind, PaymentProviders, PaymentRequest, RefundRequest, payment_providers
from yuyue.payments.refunds import log_payment, paid_payments, refund_amount, request_refund
from yuyue.tenancy.models import Tenant
from yuyue.types import utcnow

log = logging.getLogger(__name__)

# Statuses of a booking whose price is still to be collected.
PAYABLE = (BookingStatus.held, BookingStatus.confirmed)
# Statuses of a booking that kept its place, so money paid for it is kept.
KEPT = (BookingStatus.confirmed, BookingStatus.checked_in, BookingStatus.completed)


# --- choosing a provider ------------------------------------------------------------


def set_payment_provider(
    session: Session,
    tenant: Tenant,
    provider: str,
    *,
    booking_type_slug: str | None = None,
    config: Mapping[str, Any] | None = None,
    providers: PaymentProviders | None = None,
) -> PaymentSetting:
    """Collect payment through ``provider`` for the whole tenant, or for one booking type."""
    providers = providers or payment_providers()
    providers.get(provider)
    with tenant_scope(tenant.id), write_transaction(session):
        booking_type_id = booking_type_by_slug(session, booking_type_slug).id if booking_type_slug else None
        setting = session.scalar(select(PaymentSetting).where(_for_booking_type(booking_type_id)))
        if setting is None:
            setting = PaymentSetting(booking_type_id=booking_type_id)
            session.add(setting)
        setting.provider, setting.config = provider, dict(config or {})
    return setting


def _for_booking_type(booking_type_id: int | None):
    return PaymentSetting.booking_type_id.is_(None) if booking_type_id is None else PaymentSetting.booking_type_id == booking_type_id


def provider_for(session: Session, providers: PaymentProviders, booking_type: BookingType) -> tuple[str, dict[str, Any]]:
    """The provider key and its settings for ``booking_type``: its own choice, else the tenant's, else the application's."""
    rows = session.scalars(select(PaymentSetting).where(or_(PaymentSetting.booking_type_id == booking_type.id, PaymentSetting.booking_type_id.is_(None)))).all()
    chosen = sorted(rows, key=lambda row: row.booking_type_id is None)[:1]
    key = chosen[0].provider if chosen else providers.default_key
    return key, providers.settings(key, chosen[0].config if chosen else None)


def tenant_provider_settings(session: Session, providers: PaymentProviders, key: str) -> dict[str, Any]:
    """The current tenant's settings for provider ``key`` when no booking type is at hand (notifications, refunds).

    From the tenant-wide row naming ``key`` if there is one, else from any row naming it.
    """
    rows = session.scalars(select(PaymentSetting).where(PaymentSetting.provider == key).order_by(PaymentSetting.booking_type_id.is_not(None))).all()
    return providers.settings(key, rows[0].config if rows else None)


def notify_url(tenant: Tenant, provider: str) -> str:
    """Where ``provider`` POSTs notifications for ``tenant``: under ``PUBLIC_URL`` if set, else the requested host."""
    base = current_app.config.get("PUBLIC_URL") or (request.host_url if has_request_context() else "http://localhost/")
    return f"{base.rstrip('/')}/api/v1/t/{tenant.slug}/payments/{provider}/notify"


# --- opening a payment ----------------------------------------------------------------


def _open_payment(session: Session, booking: Booking) -> Payment | None:
    return session.scalar(
        select(Payment).where(Payment.booking_id == booking.id, Payment.status.in_((PaymentStatus.pending, PaymentStatus.paid))).order_by(Payment.id.desc())
    )


def start_payment(session: Session, booking: Booking, *, providers: PaymentProviders | None = None, now: datetime | None = None) -> Payment | None:
    """The booking's open payment, opened with its provider if there is none; None when nothing is due.

    Something is due while a priced booking is held, and, with the ``offline``
    provider, while it is confirmed but unpaid. The provider is asked before the
    write transaction (it may be a network call); if a concurrent request opened
    a payment meanwhile, that one wins and ours is dropped unused.
    """
    providers = providers or payment_providers()
    now = now or utcnow()
    tenant = session.get(Tenant, booking.tenant_id)
    with tenant_scope(tenant.id):
        if booking.price_amount <= 0 or booking.status not in PAYABLE:
            return None
        existing = _open_payment(session, booking)
        if existing is not None:
            return None if existing.status is PaymentStatus.paid else existing
        key, settings = provider_for(session, providers, session.get(BookingType, booking.booking_type_id))
        if booking.status is BookingStatus.confirmed and key != "offline":
            return None  # confirmed without online payment (by staff): nothing to collect online
        reference = uuid.uuid4().hex
        instructions = providers.get(key).create_payment(
            PaymentRequest(
                reference=reference,
                booking=booking.public_id,
                amount=booking.price_amount,
                currency=booking.currency,
                description=f"{tenant.name} {booking.local_date.isoformat()}",
                notify_url=notify_url(tenant, key),
                expires_at=booking.hold_expires_at,
            ),
            settings,
        )
        with write_transaction(session):
            booking = _lock_booking(session, booking.id)
            existing = _open_payment(session, booking)
            if existing is not None or booking.status not in PAYABLE:
                return existing if existing is not None and existing.status is PaymentStatus.pending else None
            payment = Payment(
                booking_id=booking.id,
                provider=key,
                reference=reference,
                amount=booking.price_amount,
                currency=booking.currency,
                instructions=instructions.as_json(),
                created_at=now,
            )
            session.add(payment)
            session.flush()
            log_payment(session, payment, "payment.created", {"booking": booking.public_id})
    return payment


def payment_instructions(session: Session, booking: Booking, *, providers: PaymentProviders | None = None) -> dict[str, Any] | None:
    """What the customer must do to pay for ``booking``, opening its payment if needed; None when nothing is due.

    ``{"provider", "reference", "status", "amount", "currency", "pay_by", "kind", "message", "pay_url", "params"}``;
    ``pay_by`` is when the hold runs out (ISO 8601, UTC), or None.
    """
    payment = start_payment(session, booking, providers=providers)
    return None if payment is None else _instructions(payment, booking)


def pending_payment_instructions(session: Session, booking: Booking) -> dict[str, Any] | None:
    """What the customer must do to pay for ``booking`` through its open payment, as :func:`payment_instructions` says it.

    Only reads, so a page or a GET can show it: None when no payment is open
    (or it is paid already); opening one is :func:`payment_instructions`' job.
    """
    with tenant_scope(booking.tenant_id):
        payment = _open_payment(session, booking)
    return None if payment is None or payment.status is not PaymentStatus.pending else _instructions(payment, booking)


def _instructions(payment: Payment, booking: Booking) -> dict[str, Any]:
    return {
        "provider": payment.provider,
        "reference": payment.reference,
        "status": payment.status.value,
        "amount": payment.amount,
        "currency": payment.currency,
        "pay_by": booking.hold_expires_at.isoformat() if booking.hold_expires_at else None,
        **payment.instructions,
    }


def payment_summary(session: Session, booking: Booking) -> dict[str, Any]:
    """What was paid for ``booking`` and what goes back: ``{"paid", "refunded", "currency", "refunds": [...]}``."""
    with tenant_scope(booking.tenant_id):
        payments = session.scalars(select(Payment).where(Payment.booking_id == booking.id).order_by(Payment.id)).all()
        refunds = session.scalars(select(Refund).where(Refund.payment_id.in_([p.id for p in payments])).order_by(Refund.id)).all() if payments else []
    return {
        "paid": sum(p.amount for p in payments if p.paid_at is not None),
        "refunded": sum(r.amount for r in refunds),
        "currency": booking.currency,
        "refunds": [{"reference": r.reference, "amount": r.amount, "status": r.status.value, "reason": r.reason} for r in refunds],
    }


# --- settling -------------------------------------------------------------------------


def _lock_booking(session: Session, booking_id: int) -> Booking:
    return session.scalar(select(Booking).where(Booking.id == booking_id).with_for_update().execution_options(populate_existing=True))


def _lock_payment(session: Session, payment_id: int) -> Payment:
    return session.scalar(select(Payment).where(Payment.id == payment_id).with_for_update().execution_options(populate_existing=True))


def _settle_paid(
    session: Session, tenant: Tenant, payment: Payment, booking: Booking, now: datetime, *, paid_at: datetime | None = None, provider_txn: str | None = None
) -> str:
    """Money arrived for ``payment``: confirm its booking, or owe the money back if the booking can no longer have it."""
    payment.status, payment.paid_at = PaymentStatus.paid, paid_at or now
    payment.provider_txn = provider_txn or payment.provider_txn
    session.flush()
    log_payment(session, payment, "payment.paid", {"booking": booking.public_id})
    if booking.status is BookingStatus.held:
        try:
            booking_ops.confirm(session, tenant, booking.public_id, now=now)  # expires the booking instead if its hold ran out
        except Conflict:
            pass  # it changed meanwhile (expired, cancelled); move() re-read it
    if booking.status in KEPT:
        other_paid = session.scalar(
            select(func.count()).select_from(Payment).where(Payment.booking_id == booking.id, Payment.id != payment.id, Payment.status == PaymentStatus.paid)
        )
        if not other_paid:
            return "confirmed"
        reason = "duplicate_payment"
    else:
        reason = f"booking_{booking.status.value}"
    request_refund(session, payment, payment.amount, reason, now=now)
    return "refund_requested"


def _settle_refund(session: Session, payment: Payment, note: Notification, now: datetime) -> str:
    """The provider says money went back: complete our refund, or record one made outside yuyue."""
    query = select(Refund).where(Refund.payment_id == payment.id).with_for_update().execution_options(populate_existing=True)
    refund = None
    if note.refund_reference:
        refund = session.scalar(query.where(Refund.reference == note.refund_reference))
    if refund is None and note.provider_refund_ref:
        refund = session.scalar(query.where(Refund.provider_ref == note.provider_refund_ref))
    if refund is not None:
        if refund.status is RefundStatus.succeeded:
            return "already_refunded"
        if note.amount != refund.amount or note.currency != payment.currency:
            _log_mismatch(payment, note, refund.amount)
            return "ignored_amount_mismatch"
        refund.status, refund.completed_at = RefundStatus.succeeded, note.occurred_at or now
        refund.provider_ref = note.provider_refund_ref or refund.provider_ref
        session.flush()
        log_payment(session, payment, "payment.refund_succeeded", {"refund": refund.reference, "refund_amount": refund.amount})
        return "refund_succeeded"
    # Refunded from the provider's console, perhaps before the payment's own notification reached us.
    # Money that went back never confirms a booking: a held one runs out as usual.
    if note.currency != payment.currency:
        _log_mismatch(payment, note, payment.amount)
        return "ignored_amount_mismatch"
    amount = min(note.amount, payment.amount - payment.refunded_amount)
    if payment.paid_at is None:
        payment.paid_at, payment.provider_txn = note.occurred_at or now, note.provider_txn or payment.provider_txn
    refund = Refund(
        payment_id=payment.id,
        reference=note.refund_reference or uuid.uuid4().hex,
        provider_ref=note.provider_refund_ref,
        amount=max(amount, 0),
        status=RefundStatus.succeeded,
        reason="provider",
        created_at=now,
        completed_at=note.occurred_at or now,
    )
    session.add(refund)
    payment.refunded_amount += refund.amount
    payment.status = PaymentStatus.refunded
    session.flush()
    log_payment(session, payment, "payment.refunded_by_provider", {"refund": refund.reference, "refund_amount": refund.amount})
    return "refund_recorded"


def _log_mismatch(payment: Payment, note: Notification, expected: int) -> None:
    log.warning("payment %s: notified %s %s, expected %s %s", payment.reference, note.amount, note.currency, expected, payment.currency)


def _apply(session: Session, tenant: Tenant, provider: str, note: Notification, now: datetime) -> tuple[str, int | None]:
    found = session.scalar(select(Payment).where(Payment.provider == provider, Payment.reference == note.reference))
    if found is None:
        return "ignored_unknown_payment", None
    booking = _lock_booking(session, found.booking_id)
    payment = _lock_payment(session, found.id)
    if note.kind is NotificationKind.refunded:
        return _settle_refund(session, payment, note, now), payment.id
    if note.kind is NotificationKind.failed:
        if payment.status is not PaymentStatus.pending:
            return f"ignored_{payment.status.value}", payment.id
        payment.status = PaymentStatus.failed
        session.flush()
        log_payment(session, payment, "payment.failed", {"booking": booking.public_id})
        return "failed", payment.id
    if note.amount != payment.amount or note.currency != payment.currency:
        _log_mismatch(payment, note, payment.amount)
        return "ignored_amount_mismatch", payment.id
    if payment.status not in (PaymentStatus.pending, PaymentStatus.failed):
        return f"already_{payment.status.value}", payment.id  # paid twice, or paid after the provider refunded it
    return _settle_paid(session, tenant, payment, booking, now, paid_at=note.occurred_at, provider_txn=note.provider_txn), payment.id


# The columns that keep a notification's ids hold 64 characters; PostgreSQL text holds no NUL.
_NOTIFICATION_IDS = ("id", "reference", "provider_txn", "refund_reference", "provider_refund_ref")
_MAX_PROVIDER_ID = 64


def _refuse_unkeepable(note: Notification) -> None:
    """A provider's notification the host could not store: refused as a whole, whatever the provider let through."""
    bad = [name for name in _NOTIFICATION_IDS if (value := getattr(note, name)) is not None and not _is_provider_id(value)]
    if not (note.amount is None or (isinstance(note.amount, int) and not isinstance(note.amount, bool))):
        bad.append("amount")
    if note.occurred_at is not None and (not isinstance(note.occurred_at, datetime) or note.occurred_at.tzinfo is None):
        bad.append("occurred_at")
    if bad:
        raise InvalidInput(_l("the provider's notification has values that cannot be kept: %(names)s", names=", ".join(bad)), code="invalid_notification")


def _is_provider_id(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= _MAX_PROVIDER_ID and "\x00" not in value


# What decides money, by kind: a failure moves none, so it needs only to name the payment.
_MONEY_FIELDS = {
    NotificationKind.paid: ("id", "reference", "amount", "currency"),
    NotificationKind.refunded: ("id", "reference", "amount", "currency"),
    NotificationKind.failed: ("id", "reference"),
}


def _refuse_incomplete(note: Notification) -> None:
    """A notification without what decides money is refused, whatever the provider let through (decisions §35).

    Guessing the missing amount (the payment's own, the refund's remainder) is
    how a notification that says nothing about money used to confirm a booking
    or refund all of it.
    """
    if not isinstance(note.kind, NotificationKind):
        raise InvalidInput(
            _l("the provider's notification has no event this host knows"),
            code="incomplete_notification",
            errors=[FieldProblem("/kind", _l("paid, failed or refunded"), "required")],
        )
    missing = [name for name in _MONEY_FIELDS[note.kind] if getattr(note, name) in (None, "")]
    if missing:
        raise InvalidInput(
            _l("a %(kind)s notification must say %(names)s: nothing was recorded; send it complete", kind=note.kind.value, names=", ".join(missing)),
            code="incomplete_notification",
            errors=[FieldProblem(f"/{name}", _l("required in a %(kind)s notification", kind=note.kind.value), "required") for name in missing],
        )


def _record_refusal(session: Session, provider: str, note: Notification | None, error: InvalidInput) -> None:
    """Log and audit a signed notification that was refused, in a transaction of its own: nothing else changed.

    The subject is the payment it names when there is one, else the provider;
    the data holds the provider's ids and the problems, never the body.
    """
    reference = note.reference if note is not None and _is_provider_id(note.reference) else None
    log.warning("payment notification from %s refused (%s): %s %s", provider, error.code, reference, [p.pointer for p in error.errors])
    payment = session.scalar(select(Payment).where(Payment.provider == provider, Payment.reference == reference)) if reference else None
    data = {
        "provider": provider,
        "notification": note.id if note is not None and _is_provider_id(note.id) else None,
        "kind": note.kind.value if note is not None and isinstance(note.kind, NotificationKind) else None,
        "reference": reference,
        "code": error.code,
        "problems": [{"pointer": p.pointer, "code": p.code} for p in error.errors],
    }
    subject_type, subject_id = ("payment", payment.reference) if payment is not None else ("payment_provider", provider[:40])
    with write_transaction(session):
        audit_record(
            session, actor=f"provider:{provider}"[:100], action="payment.notification_refused", subject_type=subject_type, subject_id=subject_id, data=data
        )


def handle_notification(
    session: Session,
    tenant: Tenant,
    provider: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    providers: PaymentProviders | None = None,
    now: datetime | None = None,
) -> str | None:
    """Verify and apply a provider's notification; None when its signature is bad (nothing changes then).

    A signed notification the provider cannot read, with values the host
    cannot keep (``invalid_notification``), or without what decides money
    (``incomplete_notification``: the amount and currency of a payment or a
    refund, the payment's reference, the notification's id) raises
    :class:`~yuyue.errors.InvalidInput` and changes nothing but the audit
    record of its refusal.

    Returns what it did: ``confirmed``, ``refund_requested`` (paid for a booking
    that expired or was cancelled meanwhile), ``failed``, ``refund_succeeded``,
    ``refund_recorded``, ``duplicate`` (this notification was processed before),
    ``already_paid``/``already_refunded`` (another notification said so first),
    or ``ignored_…``. Send the refunds it requested with :func:`send_refunds`.
    """
    providers = providers or payment_providers()
    now = now or utcnow()
    with tenant_scope(tenant.id):
        source, note = providers.get(provider), None
        try:
            note = source.verify_notification(headers, body, tenant_provider_settings(session, providers, provider))
            if note is None:
                return None
            _refuse_unkeepable(note)
            _refuse_incomplete(note)
        except InvalidInput as error:
            # Signed by the provider, so worth a record; answered 422, so the provider sends it again rather than drop it.
            _record_refusal(session, provider, note, error)
            raise
        with write_transaction(session):
            record_id = insert_unless_exists(
                session,
                PaymentNotification,
                {
                    "tenant_id": tenant.id,
                    "provider": provider,
                    "notification_id": note.id,
                    "kind": note.kind.value,
                    "outcome": "processing",
                    "received_at": now,
                },
                ["tenant_id", "provider", "notification_id"],
            )
            if record_id is None:
                return "duplicate"
            outcome, payment_id = _apply(session, tenant, provider, note, now)
            session.execute(
                update(PaymentNotification)
                .where(PaymentNotification.id == record_id)
                .values(outcome=outcome, payment_id=payment_id)
                .execution_options(synchronize_session=False)
            )
    return outcome


def record_offline_payment(session: Session, tenant: Tenant, public_id: str, *, actor: Actor, now: datetime | None = None) -> Payment:
    """Staff took the booking's price at the counter: the offline payment is paid and a held booking confirmed."""
    now = now or utcnow()
    with tenant_scope(tenant.id):
        booking = get_booking(session, public_id)
        payment = start_payment(session, booking, now=now)
        if payment is None or payment.provider != "offline":
            raise Refused(_l("this booking has no payment to take at the counter"), code="nothing_to_pay")
        with write_transaction(session):
            booking = _lock_booking(session, booking.id)
            payment = _lock_payment(session, payment.id)
            if payment.status is not PaymentStatus.pending:
                raise Conflict(_l("the payment is already %(status)s", status=payment.status.value), code="payment_settled")
            _settle_paid(session, tenant, payment, booking, now, provider_txn=f"offline:{actor}")
    return payment


# --- what staff see and do: a booking's money -------------------------------------------

# Why a refund staff made is owed (Refund.reason); their own words go to the audit record.
STAFF_REFUND = "staff"


@dataclass(frozen=True)
class BookingMoney:
    """A booking's payments and their refunds, oldest first, and what may still go back."""

    payments: list[Payment]
    refunds: list[Refund]

    @property
    def paid(self) -> int:
        return sum(p.amount for p in self.payments if p.paid_at is not None)

    @property
    def refundable(self) -> int:
        return sum(p.amount - p.refunded_amount for p in self.payments if p.paid_at is not None and p.status in (PaymentStatus.paid, PaymentStatus.refunded))


def booking_money(session: Session, tenant: Tenant, public_id: str) -> BookingMoney:
    """The payments and refunds of ``tenant``'s booking ``public_id`` (only reads)."""
    with tenant_scope(tenant.id):
        booking = get_booking(session, public_id)
        payments = list(session.scalars(select(Payment).where(Payment.booking_id == booking.id).order_by(Payment.id)))
        refunds = list(session.scalars(select(Refund).where(Refund.payment_id.in_([p.id for p in payments])).order_by(Refund.id))) if payments else []
    return BookingMoney(payments, refunds)


@dataclass(frozen=True)
class CancellationQuote:
    """What cancelling now would mean, money included: the terms that would apply, the customer's own, and the refund."""

    outlook: booking_ops.CancellationOutlook
    paid: int
    refund: int


def cancellation_quote(session: Session, tenant: Tenant, public_id: str, *, by_staff: bool = False, now: datetime | None = None) -> CancellationQuote:
    """The terms and refund :func:`~yuyue.bookings.operations.cancel_with_terms` would apply now, computed as the cancellation refunds (only reads)."""
    outlook = booking_ops.cancellation_outlook(session, tenant, public_id, now=now, by_staff=by_staff)
    money = booking_money(session, tenant, public_id)
    fee = outlook.terms.fee_percent
    refund = sum(
        min(refund_amount(p.amount, fee), p.amount - p.refunded_amount)
        for p in money.payments
        if p.paid_at is not None and p.status in (PaymentStatus.paid, PaymentStatus.refunded)
    )
    return CancellationQuote(outlook, money.paid, max(refund, 0) if outlook.booking.price_amount > 0 else 0)


def refund_booking(
    session: Session,
    tenant: Tenant,
    public_id: str,
    *,
    amount: int,
    actor: Actor,
    note: str | None = None,
    providers: PaymentProviders | None = None,
    now: datetime | None = None,
) -> list[Refund]:
    """Staff give back ``amount`` (minor units) of what was paid for a booking, whatever its status; the booking itself is unchanged.

    Taken from the booking's payments in order, each up to what is left of it;
    the refunds are then handed to their providers at once (the worker retries
    those that fail).

    :raises InvalidInput: ``/amount`` below 1 or above what may still go back.
    """
    now = now or utcnow()
    with tenant_scope(tenant.id):
        with write_transaction(session):
            booking = _lock_booking(session, get_booking(session, public_id).id)
            payments = paid_payments(session, booking)
            left = sum(p.amount - p.refunded_amount for p in payments)
            if not isinstance(amount, int) or isinstance(amount, bool) or not 1 <= amount <= left:
                problem = f"between 1 and {left}" if left else "nothing paid is left to refund"
                raise InvalidInput(_l("the refund amount is not valid"), errors=[FieldProblem("/amount", problem, "out_of_range")])
            refunds, owed = [], amount
            for payment in payments:
                refund = request_refund(session, payment, owed, STAFF_REFUND, now=now, actor=str(actor), note=note)
                if refund is not None:
                    refunds.append(refund)
                    owed -= refund.amount
                if owed <= 0:
                    break
        send_refunds(session, tenant, providers=providers)
        for refund in refunds:
            session.refresh(refund)
    return refunds


# --- sending refunds ------------------------------------------------------------------


def send_refunds(session: Session, tenant: Tenant, *, providers: PaymentProviders | None = None, limit: int = 100) -> list[Refund]:
    """Hand ``requested`` refunds to their providers, outside any transaction; returns the ones the providers answered.

    A provider that fails leaves the refund requested (the worker tries again);
    the refund's reference makes a repeated request refund once.
    """
    providers = providers or payment_providers()
    sent = []
    with tenant_scope(tenant.id):
        rows = session.execute(
            select(Refund, Payment)
            .join(Payment, Payment.id == Refund.payment_id)
            .where(Refund.status == RefundStatus.requested)
            .order_by(Refund.id)
            .limit(limit)
        ).all()
        session.commit()  # end the read before talking to providers
        for refund, payment in rows:
            request_ = RefundRequest(
                reference=refund.reference,
                payment_reference=payment.reference,
                provider_txn=payment.provider_txn,
                payment_amount=payment.amount,
                amount=refund.amount,
                currency=payment.currency,
                reason=refund.reason,
                notify_url=notify_url(tenant, payment.provider),
            )
            try:
                result = providers.get(payment.provider).refund(request_, tenant_provider_settings(session, providers, payment.provider))
                values: dict[str, Any] = {"status": RefundStatus(result.status), "provider_ref": result.provider_ref, "last_error": None}
                if result.status == "succeeded":
                    values["completed_at"] = utcnow()
                elif result.status == "failed":
                    values["last_error"] = (result.message or "refused by the provider")[:200]
            except Exception as error:  # a provider outage must not stop the other refunds
                log.warning("refund %s through %s failed: %s", refund.reference, payment.provider, error)
                values = {"last_error": f"{type(error).__name__}: {error}"[:200]}
            with write_transaction(session):
                changed = session.execute(
                    update(Refund)
                    .where(Refund.id == refund.id, Refund.status == RefundStatus.requested)
                    .values(attempts=Refund.attempts + 1, updated_at=utcnow(), **values)
                    .execution_options(synchronize_session=False)
                ).rowcount
                if changed and "status" in values:
                    session.refresh(refund)
                    touched(session, refund)
                    log_payment(session, payment, f"payment.refund_{refund.status.value}", {"refund": refund.reference, "refund_amount": refund.amount})
                    sent.append(refund)
    return sent
