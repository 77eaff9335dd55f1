"""Check-in (核销): staff redeem a booking by its voucher code or signed QR payload, and the day's log of every attempt.

Idempotent: scanning a checked-in booking again answers with the first
check-in instead of an error, so a double scan at a busy gate is harmless;
the log still shows that second scan as refused (the voucher was used).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_appbuilder.security.sqla.models import User
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from yuyue.behaviour import BookingView
from yuyue.bookings import lifecycle
from yuyue.bookings.models import Booking, BookingStatus, CheckIn, CheckInAttempt, CheckInOutcome
from yuyue.bookings.placement import Actor, booking_view, log_change, plugins_of
from yuyue.bookings.vouchers import CODE_LENGTH, normalize_code, qr_payload, read_qr_payload
from yuyue.db import tenant_scope, write_transaction
from yuyue.errors import Conflict, DomainError, FieldProblem, InvalidInput, NotFound, Refused
from yuyue.tenancy.models import Tenant
from yuyue.types import utcnow

# How long before its slot a booking may be checked in, unless the booking type's policies say otherwise.
DEFAULT_EARLY_MINUTES = 60
# The reason a repeated scan is logged with: the voucher was used already.
ALREADY_CHECKED_IN = "already_checked_in"
# Lines of a day's log shown at most (a busy gate's day fits).
LOG_LIMIT = 2000

REFUSALS = {
    BookingStatus.held: ("not_paid", _l("this booking has not been paid")),
    BookingStatus.cancelled: ("booking_cancelled", _l("this booking was cancelled")),
    BookingStatus.expired: ("booking_expired", _l("this booking expired before it was paid")),
    BookingStatus.no_show: ("booking_no_show", _l("this booking was marked as a no-show")),
}


@dataclass(frozen=True)
class CheckInResult:
    booking: Booking
    check_in: CheckIn
    already_checked_in: bool


def voucher_qr(secret_key: str, tenant: Tenant, booking: Booking) -> str:
    """The signed payload a confirmed booking's QR code carries."""
    if booking.voucher_code is None:
        raise Refused(_l("only a confirmed booking has a voucher"), code="no_voucher")
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
    """Check a booking in by ``code`` or ``qr``; refuses the wrong tenant, day or slot with a reason.

    Every attempt but a malformed request goes into the day's log (:class:`CheckInAttempt`):
    an admission and a repeated scan with the check-in's transaction, a refusal in its own
    transaction once the refused one has rolled back.
    """
    now = now or utcnow()
    if bool(code) == bool(qr):
        raise InvalidInput(_l("give a voucher code or a QR payload"), errors=[FieldProblem("/code", _l("exactly one of code and qr is required"), "required")])
    attempt = CheckInAttempt(
        at=now,
        local_date=now.astimezone(ZoneInfo(tenant.time_zone)).date(),
        method="qr" if qr else "code",
        masked_code=masked_code(code) if code else None,
        staff_user_id=staff_user_id,
        place=place,
    )
    try:
        return _check_in(session, tenant, attempt, secret_key=secret_key, code=code, qr=qr, now=now)
    except InvalidInput:
        raise
    except DomainError as refusal:
        with tenant_scope(tenant.id), write_transaction(session):
            attempt.outcome, attempt.reason = CheckInOutcome.refused, refusal.code[:40]
            session.add(attempt)
        raise


def _check_in(session: Session, tenant: Tenant, attempt: CheckInAttempt, *, secret_key: str, code: str | None, qr: str | None, now: datetime) -> CheckInResult:
    public_id = None
    if qr:
        payload = read_qr_payload(secret_key, qr)
        if payload is None:
            raise Refused(_l("this QR code was not issued by us or was altered"), code="invalid_voucher")
        attempt.masked_code = masked_code(str(payload["c"]))
        if payload["t"] != tenant.slug:
            raise Refused(_l("this voucher belongs to another merchant"), code="wrong_tenant")
        code, public_id = payload["c"], payload["b"]
    with tenant_scope(tenant.id), write_transaction(session):
        booking = session.scalar(select(Booking).where(Booking.voucher_code == normalize_code(code)))
        if booking is None or (public_id and booking.public_id != public_id):
            raise NotFound(_l("no booking has this voucher code"), code="voucher_not_found")
        attempt.booking_id = booking.id
        if booking.status in (BookingStatus.checked_in, BookingStatus.completed):
            return _repeated(session, booking, attempt)
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
                return _repeated(session, booking, attempt)
            raise
        record = CheckIn(booking_id=booking.id, staff_user_id=attempt.staff_user_id, place=attempt.place, method=attempt.method, at=now)
        session.add(record)
        attempt.outcome = CheckInOutcome.accepted
        session.add(attempt)
        actor = Actor("staff", attempt.staff_user_id) if attempt.staff_user_id else Actor("staff")
        log_change(session, booking, actor, "booking.checked_in", {"place": attempt.place, "method": record.method})
        plugins.collect("booking_checked_in", booking=booking_view(session, booking), now=now, session=session)
    return CheckInResult(booking, record, already_checked_in=False)


def _repeated(session: Session, booking: Booking, attempt: CheckInAttempt) -> CheckInResult:
    """A second scan of a checked-in booking: answered with the first check-in, logged as refused (the voucher is used)."""
    attempt.outcome, attempt.reason = CheckInOutcome.refused, ALREADY_CHECKED_IN
    session.add(attempt)
    return CheckInResult(booking, session.scalar(select(CheckIn).where(CheckIn.booking_id == booking.id)), already_checked_in=True)


def masked_code(code: str) -> str:
    """A voucher code as the log keeps it: only its last four characters, so the log admits nobody."""
    code = normalize_code(code)[: CODE_LENGTH * 2]
    return "*" * max(len(code) - 4, 0) + code[-4:] if len(code) > 4 else "*" * len(code)


@dataclass(frozen=True)
class LoggedAttempt:
    """A line of the day's redemption log, with the booking's public id and the staff member's login name."""

    attempt: CheckInAttempt
    booking_public_id: str | None
    staff_username: str | None


def check_in_log(session: Session, tenant: Tenant, day: date, *, limit: int = LOG_LIMIT) -> list[LoggedAttempt]:
    """The attempts of ``day`` (the tenant's local date), newest first, at most ``limit``."""
    with tenant_scope(tenant.id):
        rows = session.execute(
            select(CheckInAttempt, Booking.public_id)
            .outerjoin(Booking, Booking.id == CheckInAttempt.booking_id)
            .where(CheckInAttempt.local_date == day)
            .order_by(CheckInAttempt.id.desc())
            .limit(limit)
        ).all()
        staff_ids = {attempt.staff_user_id for attempt, _ in rows if attempt.staff_user_id}
        names = dict(session.execute(select(User.id, User.username).where(User.id.in_(staff_ids))).all()) if staff_ids else {}
    return [LoggedAttempt(attempt, public_id, names.get(attempt.staff_user_id)) for attempt, public_id in rows]


def _check_timing(booking: Booking, tenant: Tenant, now: datetime, window: tuple[datetime, datetime]) -> None:
    """Refuse a check-in outside ``window`` (opens, closes): on another day, too early, or after it closed."""
    opens, closes = window
    if opens <= now <= closes:
        return
    if now.astimezone(ZoneInfo(tenant.time_zone)).date() != booking.local_date:
        raise Refused(_l("this booking is for %(local_date)s, not today", local_date=booking.local_date.isoformat()), code="wrong_day")
    if now < opens:
        minutes = int((booking.starts_at - opens).total_seconds() // 60)
        raise Refused(_l("check-in opens %(minutes)s minutes before the slot", minutes=minutes), code="too_early")
    raise Refused(_l("this booking's slot has ended"), code="slot_ended")


def default_check_in_window(booking: BookingView) -> tuple[datetime, datetime]:
    """From the booking type's ``check_in.early_minutes`` (60) before the slot until it ends."""
    early = booking.booking_type.policies.get("check_in", {}).get("early_minutes", DEFAULT_EARLY_MINUTES)
    return booking.starts_at - timedelta(minutes=early), booking.ends_at
