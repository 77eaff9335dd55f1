"""What the course vertical's settings change: late-cancellation terms and a weekly class limit per student.

Refusals, each with a stable code:

- ``weekly_limit_reached`` (``Refused``, pointer ``/starts_at``): the student
  already holds ``max_bookings_per_week`` classes in the Monday-to-Sunday week
  of the chosen class.

Cancellation terms come from ``cancellation_deadline_hours`` and
``late_cancel_points``: on time up to the deadline, then late with the points
deducted (``late_deduct_points``), and closed once the class has started. A
booking type whose own policies carry a ``cancellation`` block keeps it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from yuyue.plugin_api import BookingRequest, BookingTypeView, BookingView, CancellationTerms, FieldProblem, Refused, active_bookings, hookimpl, lock_identities

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

VERTICAL = "course"


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
        message = f"a student may book at most {limit} classes a week; {booked} already booked from {week[0]} to {week[-1]}"
        raise Refused(message, code="weekly_limit_reached", errors=[FieldProblem("/starts_at", "choose a class in another week", "weekly_limit_reached")])


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
