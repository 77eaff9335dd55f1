"""Data requests: recording a customer's download, erasing a customer (asked by them, by an owner, or by retention),
what still blocks an erasure, the tenant's retention setting, and the list staff read.

An erasure is one transaction: the personal fields everywhere (:mod:`yuyue.privacy.erasure`), the customer marked
erased, the data request, and the ``customer.erased`` audit record and outbox event. A refused erasure is recorded as
a refused request in a transaction of its own, so staff see who asked even when nothing could be erased.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from yuyue.bookings.models import Booking, BookingStatus, WaitlistEntry, WaitlistStatus
from yuyue.bookings.waitlist import leave as leave_waitlist
from yuyue.customers.models import Customer
from yuyue.db import tenant_scope, write_transaction
from yuyue.errors import Conflict, FieldProblem
from yuyue.events.operations import record_change
from yuyue.payments.models import Payment, PaymentStatus, Refund, RefundStatus
from yuyue.privacy.erasure import erase_personal_data, read_subject
from yuyue.privacy.models import DataRequest, DataRequestKind, DataRequestStatus, Requester
from yuyue.tenancy.models import Tenant
from yuyue.types import utcnow

__all__ = [
    "MAX_RETENTION_DAYS",
    "MIN_RETENTION_DAYS",
    "ErasureBlocked",
    "data_requests",
    "erase_customer",
    "erase_expired_customers",
    "erasure_blockers",
    "expired_customers",
    "record_download",
    "set_retention",
]

MIN_RETENTION_DAYS = 30
MAX_RETENTION_DAYS = 3650
REASON_LENGTH = DataRequest.__table__.c.reason.type.length
# Bookings that are still to happen or happening: erasing their people would leave staff unable to admit them.
_UNFINISHED = (BookingStatus.held, BookingStatus.confirmed, BookingStatus.checked_in)
_OPEN_WAITLIST = (WaitlistStatus.waiting, WaitlistStatus.offered)
# Customers retention reads at a time; each is erased in a transaction of its own.
RETENTION_BATCH = 100


class ErasureBlocked(Conflict):
    """The customer still has something in progress that erasure would break; ``errors`` point at each."""

    code = "erasure_blocked"


def _reference() -> str:
    return "DR" + secrets.token_hex(8).upper()


def record_download(session: Session, customer: Customer, *, actor: str, now: datetime | None = None) -> DataRequest:
    """Record that ``customer`` downloaded their data (they asked and got it at once)."""
    now = now or utcnow()
    with write_transaction(session) as session:
        request = _add_request(session, customer, DataRequestKind.download, Requester.customer, actor, now)
        record_change(session, actor=actor, action="customer.data_downloaded", subject_type="customer", subject_id=customer.id, payload=_payload(request))
    return request


def _add_request(session: Session, customer: Customer, kind: DataRequestKind, by: Requester, actor: str, now: datetime, **values) -> DataRequest:
    values.setdefault("status", DataRequestStatus.completed)
    completed_at = now if values["status"] is DataRequestStatus.completed else None
    request = DataRequest(
        reference=_reference(), customer_id=customer.id, kind=kind, requested_by=by, actor=actor, requested_at=now, completed_at=completed_at, **values
    )
    session.add(request)
    session.flush()
    return request


def _payload(request: DataRequest) -> dict:
    """What the audit record and the event say of a request: nothing personal (the reason is staff's, about the request)."""
    return {
        "customer": request.customer_id,
        "request": request.reference,
        "kind": request.kind.value,
        "requested_by": request.requested_by.value,
        "status": request.status.value,
    }


def erasure_blockers(session: Session, customer: Customer, now: datetime) -> list[FieldProblem]:
    """What stops erasing ``customer`` now: bookings not yet over (held, confirmed or checked in and ending later), and
    payments or refunds not settled. Each is a problem pointing at it (``/bookings/<id>``, ``/payments/<reference>``)."""
    bookings = session.scalars(
        select(Booking.public_id).where(Booking.customer_id == customer.id, Booking.status.in_(_UNFINISHED), Booking.ends_at > now).order_by(Booking.starts_at)
    ).all()
    problems = [
        FieldProblem(f"/bookings/{b}", _l("this booking is still to come: cancel it first, or wait until it is over"), "booking_unfinished") for b in bookings
    ]
    customer_bookings = select(Booking.id).where(Booking.customer_id == customer.id)
    unsettled_refund = exists().where(Refund.payment_id == Payment.id, Refund.status.in_((RefundStatus.requested, RefundStatus.pending)))
    payments = session.scalars(
        select(Payment.reference)
        .where(Payment.booking_id.in_(customer_bookings), or_(Payment.status == PaymentStatus.pending, unsettled_refund))
        .order_by(Payment.id)
    ).all()
    problems += [FieldProblem(f"/payments/{p}", _l("this payment or its refund is not settled yet"), "payment_unsettled") for p in payments]
    return problems


def erase_customer(
    session: Session,
    tenant: Tenant,
    customer: Customer,
    *,
    requested_by: Requester,
    actor: str,
    reason: str | None = None,
    now: datetime | None = None,
) -> DataRequest:
    """Erase ``customer``'s personal data everywhere, in one transaction with its data request and audit record.

    Waitlist entries still open are left first (an offered place goes to the next in line).

    :raises ErasureBlocked: (409) with a problem per booking, payment or refund still in progress; the refusal is
        recorded as a refused data request, unless retention asked (it asks again the next day).
    :raises Conflict: ``already_erased`` (409) for a customer erased before.
    """
    now = now or utcnow()
    with tenant_scope(tenant.id):
        with write_transaction(session) as session:
            # One erasure of a customer at a time: a second one waits for the first and then finds the customer erased.
            customer = session.scalars(select(Customer).where(Customer.id == customer.id).with_for_update().execution_options(populate_existing=True)).one()
            if customer.erased_at is not None:
                raise Conflict(_l("this customer's personal data has been erased already"), code="already_erased")
            problems = erasure_blockers(session, customer, now)
            if not problems:
                return _erase(session, tenant, customer, requested_by, actor, reason, now)
        if requested_by is not Requester.retention:  # retention asks again every day: a refusal a day would bury the list
            with write_transaction(session) as session:
                refused = {"status": DataRequestStatus.refused, "refusal": ErasureBlocked.code}
                _add_request(session, customer, DataRequestKind.erasure, requested_by, actor, now, reason=reason, **refused)
    raise ErasureBlocked(_l("something of this customer's is still in progress; see errors"), errors=problems)


def _erase(session: Session, tenant: Tenant, customer: Customer, by: Requester, actor: str, reason: str | None, now: datetime) -> DataRequest:
    for entry_id in session.scalars(select(WaitlistEntry.id).where(WaitlistEntry.customer_id == customer.id, WaitlistEntry.status.in_(_OPEN_WAITLIST))):
        leave_waitlist(session, tenant, entry_id, now=now)
    subject = read_subject(session, customer)
    counts = erase_personal_data(session, subject)
    customer.erased_at = now
    request = _add_request(session, customer, DataRequestKind.erasure, by, actor, now, reason=reason)
    payload = {**_payload(request), "erased": {table: count for table, count in counts.items() if count}}
    record_change(session, actor=actor, action="customer.erased", subject_type="customer", subject_id=customer.id, payload=payload)
    return request


# -- retention -------------------------------------------------------------------------------------


def set_retention(session: Session, tenant: Tenant, days: int | None, *, actor: str) -> Tenant:
    """Keep customers' personal data ``days`` after their last booking ended (None: for as long as the tenant exists)."""
    with tenant_scope(tenant.id), write_transaction(session) as session:
        if tenant.retention_days != days:
            previous, tenant.retention_days = tenant.retention_days, days
            session.flush()
            payload = {"retention_days": days, "previous": previous}
            record_change(session, actor=actor, action="privacy.retention_changed", subject_type="tenant", subject_id=tenant.id, payload=payload)
    return tenant


def expired_customers(session: Session, tenant: Tenant, now: datetime, *, after_id: int = 0, limit: int = RETENTION_BATCH) -> list[Customer]:
    """Up to ``limit`` customers (by id, after ``after_id``) not erased yet, first seen and with every booking ended more
    than ``tenant.retention_days`` before ``now``: nothing of theirs is still to come."""
    cutoff = now - timedelta(days=tenant.retention_days)
    recent = exists().where(Booking.customer_id == Customer.id, Booking.ends_at > cutoff)
    statement = select(Customer).where(
        Customer.id > after_id, Customer.erased_at.is_(None), Customer.merged_into_id.is_(None), Customer.created_at <= cutoff, ~recent
    )
    with tenant_scope(tenant.id):
        return list(session.scalars(statement.order_by(Customer.id).limit(limit)))


@dataclass(frozen=True)
class RetentionReport:
    erased: int
    # Customers whose erasure something in progress blocked (an unsettled payment): tried again at the next run.
    blocked: int


def erase_expired_customers(session: Session, *, now: datetime | None = None) -> RetentionReport:
    """The daily retention run: every tenant with a retention period erases the customers past it, each in a transaction
    of its own, as data requests by ``retention``."""
    now = now or utcnow()
    erased = blocked = 0
    for tenant in session.scalars(select(Tenant).where(Tenant.retention_days.is_not(None)).order_by(Tenant.id)).all():
        after_id = 0
        while batch := expired_customers(session, tenant, now, after_id=after_id):
            for customer in batch:
                try:
                    erase_customer(session, tenant, customer, requested_by=Requester.retention, actor="system", now=now)
                    erased += 1
                except ErasureBlocked:
                    blocked += 1
            after_id = batch[-1].id
    return RetentionReport(erased, blocked)


# -- reading ---------------------------------------------------------------------------------------


def data_requests(
    session: Session, tenant: Tenant, *, kind: DataRequestKind | None = None, status: DataRequestStatus | None = None, before_id: int | None, limit: int
) -> list[DataRequest]:
    """Up to ``limit`` of the tenant's data requests, newest first, before the request ``before_id``."""
    statement = select(DataRequest).order_by(DataRequest.id.desc()).limit(limit)
    if kind is not None:
        statement = statement.where(DataRequest.kind == kind)
    if status is not None:
        statement = statement.where(DataRequest.status == status)
    if before_id is not None:
        statement = statement.where(DataRequest.id < before_id)
    with tenant_scope(tenant.id):
        return list(session.scalars(statement))
