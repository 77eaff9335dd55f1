"""What the course vertical's settings change: late cancellations, a weekly class limit, class packages and the waitlist's cut-off.

Refusals, each with a stable code:

- ``weekly_limit_reached`` (``Refused``, pointer ``/starts_at``): the student
  already holds ``max_bookings_per_week`` classes in the Monday-to-Sunday week
  of the chosen class.
- ``insufficient_credits`` (``Refused``, pointer ``/booking_type``): with
  ``pay_with_credits``, the student's unexpired credits valid for this booking
  type are fewer than ``credits_per_class`` × places.

Cancellation terms come from ``cancellation_deadline_hours`` and
``late_cancel_points``: on time up to the deadline, then late with the points
deducted (``late_deduct_points``), and closed once the class has started. A
booking type whose own policies carry a ``cancellation`` block keeps it.

Class packages (``pay_with_credits``): a class costs nothing in money (the
quote is 0 with a ``credits`` line) and takes its credits when it is booked,
in the booking's transaction; a cancellation on time (or by staff) gives them
back, a late one keeps them when ``late_cancel_forfeits_credits``, and so does
a no-show. Whether credits come back follows what the booking took, so a class
booked before the setting changed is settled as it was paid.

The waitlist closes ``waitlist_cutoff_hours`` before a class: a place freed
later is not offered to anyone waiting, who could hardly come at such short notice.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from yuyue.plugin_api import (
    BookingRequest,
    BookingTypeView,
    BookingView,
    CancellationTerms,
    FieldProblem,
    PriceLine,
    PriceQuote,
    Refused,
    active_bookings,
    forfeit_credits,
    hookimpl,
    lock_identities,
    return_credits,
    spend_credits,
)
from yuyue.plugin_api import lazy_gettext as _l

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

VERTICAL = "course"
CREDITS_LABEL = {"zh-Hans": "课时", "zh-Hant": "課時", "en": "Class credits"}


@hookimpl
def validate_booking(booking_type: BookingTypeView, request: BookingRequest, settings: Mapping[str, Any], session: Session) -> None:
    if booking_type.vertical != VERTICAL:
        return
    limit = settings["max_bookings_per_week"]
    monday = request.local_date - timedelta(days=request.local_date.weekday())
    week = [monday + timedelta(days=offset) for offset in range(7)]
    lock_identities(session, [f"customer:{request.customer_id}"])
    booked = len(active_bookings(session, vertical=VERTICAL, customer_id=request.customer_id, local_dates=week, excluding=request.moves))
    if booked >= limit:
        message = _l(
            "a student may book at most %(limit)s classes a week; %(booked)s already booked from %(first)s to %(last)s",
            limit=limit,
            booked=booked,
            first=week[0],
            last=week[-1],
        )
        raise Refused(message, code="weekly_limit_reached", errors=[FieldProblem("/starts_at", _l("choose a class in another week"), "weekly_limit_reached")])


@hookimpl
def quote_price(booking_type: BookingTypeView, request: BookingRequest, settings: Mapping[str, Any]) -> PriceQuote | None:
    if booking_type.vertical != VERTICAL or not settings["pay_with_credits"]:
        return None
    return PriceQuote((PriceLine("credits", CREDITS_LABEL, 0, request.units * settings["credits_per_class"]),), booking_type.currency)


@hookimpl
def booking_placed(booking: BookingView, settings: Mapping[str, Any], session: Session) -> None:
    if booking.booking_type.vertical == VERTICAL and settings["pay_with_credits"]:
        spend_credits(session, booking, booking.units * settings["credits_per_class"])


@hookimpl
def booking_cancelled(booking: BookingView, terms: CancellationTerms, by_staff: bool, settings: Mapping[str, Any], session: Session) -> None:
    if booking.booking_type.vertical != VERTICAL:
        return
    if terms.late and not by_staff and settings["late_cancel_forfeits_credits"]:
        forfeit_credits(session, booking, "late_forfeit")
    else:
        return_credits(session, booking)


@hookimpl
def booking_no_show(booking: BookingView, session: Session) -> None:
    if booking.booking_type.vertical == VERTICAL:
        forfeit_credits(session, booking, "no_show")


@hookimpl
def cancellation_terms(booking: BookingView, now: datetime, settings: Mapping[str, Any]) -> CancellationTerms | None:
    if booking.booking_type.vertical != VERTICAL or "cancellation" in booking.booking_type.policies:
        return None
    deadline = booking.starts_at - timedelta(hours=settings["cancellation_deadline_hours"])
    if now >= booking.starts_at:
        return CancellationTerms(allowed=False, late=True, code="cancellation_closed", deadline=deadline)
    if now <= deadline:
        return CancellationTerms(allowed=True, late=False, deadline=deadline)
    return CancellationTerms(allowed=True, late=True, points=settings["late_cancel_points"], code="late_deduct_points", deadline=deadline)


@hookimpl
def waitlist_closes_at(booking_type: BookingTypeView, starts_at: datetime, settings: Mapping[str, Any]) -> datetime | None:
    if booking_type.vertical != VERTICAL:
        return None
    return starts_at - timedelta(hours=settings["waitlist_cutoff_hours"])
