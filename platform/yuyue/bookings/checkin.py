"""Check-in (核销): staff redeem a booking by its voucher code or signed QR payload.

Idempotent: scanning a checked-in booking again answers with the first
check-in instead of an error, so a double scan at a busy gate is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuyue.behaviour import BookingView
from yuyue.bookings import lifecycle
from yuyue.bookings.models import Booking, BookingStatus, CheckIn
from yuyue.bookings.placement import Actor, booking_view, log_change, plugins_of
from yuyue.bookings.vouchers import normalize_code, qr_payload, read_qr_payload
from yuyue.db import tenant_scope, write_transaction
from yuyue.errors import Conflict, FieldProblem, InvalidInput, NotFound, Refused
from yuyue.tenancy.models import Tenant
from yuyue.types import utcnow

# How long before its slot a booking may be checked in, unless the booking type's policies say otherwise.
DEFAULT_EARLY_MINUTES = 60

REFUSALS = {
    BookingStatus.held: ("not_paid", "this booking has not been paid"),
    BookingStatus.cancelled: ("booking_cancelled", "this booking was cancelled"),
    BookingStatus.expired: ("booking_expired", "this booking expired before it was paid"),
    BookingStatus.no_show: ("booking_no_show", "this booking was marked as a no-show"),
}


@dataclass(frozen=True)
class CheckInResult:
    booking: Booking
    check_in: CheckIn
    already_checked_in: bool


def voucher_qr(secret_key: str, tenant: Tenant, booking: Booking) -> str:
    """The signed payload a confirmed booking's QR code carries."""
    if booking.voucher_code is None:
        raise Refused("only a confirmed booking has a voucher", code="no_voucher")
    return qr_payload(secret_key, tenant.slug, booking.public_id, booking.voucher_code)


def check_in(
    session: Session,
    tenant: Tenant,
    *,
    secret_key: str,
    code: str | None = None,
    qr: str | None = None,
    staff_user_id: int | None = None,
    place: str | None = None,
    now: datetime | None = None,
) -> CheckInResult:
    """Check a booking in by ``code`` or ``qr``; refuses the wrong tenant, day or slot with a reason."""
    now = now or utcnow()
    if bool(code) == bool(qr):
        raise InvalidInput("give a voucher code or a QR payload", errors=[FieldProblem("/code", "exactly one of code and qr is required", "required")])
    public_id = None
    if qr:
        payload = read_qr_payload(secret_key, qr)
        if payload is None:
            raise Refused("this QR code was not issued by us or was altered", code="invalid_voucher")
        if payload["t"] != tenant.slug:
            raise Refused("this voucher belongs to another merchant", code="wrong_tenant")
        code, public_id = payload["c"], payload["b"]
    with tenant_scope(tenant.id), write_transaction(session):
        booking = session.scalar(select(Booking).where(Booking.voucher_code == normalize_code(code)))
        if booking is None or (public_id and booking.public_id != public_id):
            raise NotFound("no booking has this voucher code", code="voucher_not_found")
        if booking.status in (BookingStatus.checked_in, BookingStatus.completed):
            return CheckInResult(booking, session.scalar(select(CheckIn).where(CheckIn.booking_id == booking.id)), already_checked_in=True)
        if booking.status in REFUSALS:
            refusal_code, message = REFUSALS[booking.status]
            raise Refused(message, code=refusal_code)
        plugins = plugins_of(session, tenant)
        view = booking_view(session, booking)
        window = default_check_in_window(view)
        _check_timing(booking, tenant, now, plugins.first("check_in_window", booking=view, window=window) or window)
        try:
            lifecycle.move(session, booking, BookingStatus.checked_in)
        except Conflict:
            # A simultaneous scan won; answer as a repeated scan would.
            if booking.status is BookingStatus.checked_in:
                return CheckInResult(booking, session.scalar(select(CheckIn).where(CheckIn.booking_id == booking.id)), already_checked_in=True)
            raise
        record = CheckIn(booking_id=booking.id, staff_user_id=staff_user_id, place=place, method="qr" if qr else "code", at=now)
        session.add(record)
        actor = Actor("staff", staff_user_id) if staff_user_id else Actor("staff")
        log_change(session, booking, actor, "booking.checked_in", {"place": place, "method": record.method})
        plugins.collect("booking_checked_in", booking=booking_view(session, booking), now=now, session=session)
    return CheckInResult(booking, record, already_checked_in=False)


def _check_timing(booking: Booking, tenant: Tenant, now: datetime, window: tuple[datetime, datetime]) -> None:
    """Refuse a check-in outside ``window`` (opens, closes): on another day, too early, or after it closed."""
    opens, closes = window
    if opens <= now <= closes:
        return
    if now.astimezone(ZoneInfo(tenant.time_zone)).date() != booking.local_date:
        raise Refused(f"this booking is for {booking.local_date.isoformat()}, not today", code="wrong_day")
    if now < opens:
        minutes = int((booking.starts_at - opens).total_seconds() // 60)
        raise Refused(f"check-in opens {minutes} minutes before the slot", code="too_early")
    raise Refused("this booking's slot has ended", code="slot_ended")


def default_check_in_window(booking: BookingView) -> tuple[datetime, datetime]:
    """From the booking type's ``check_in.early_minutes`` (60) before the slot until it ends."""
    early = booking.booking_type.policies.get("check_in", {}).get("early_minutes", DEFAULT_EARLY_MINUTES)
    return booking.starts_at - timedelta(minutes=early), booking.ends_at
