"""Limits that several verticals set from their settings: minors per booking, people per account and day.

Plugins reach these through ``yuyue.plugin_api``, so the exhibition and the
scenic-area verticals (and any other) count and refuse the same way; the
booking type's own policies are enforced by ``policies`` instead.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from yuyue.behaviour import BookingRequest
from yuyue.bookings.policies import age_on, lock_identities
from yuyue.bookings.queries import active_bookings
from yuyue.errors import FieldProblem, Refused


def refuse_too_many_minors(request: BookingRequest, limit: int, adult_age: int, pointer: Callable[[int], str]) -> None:
    """Refuse (``too_many_minors``) a request naming more than ``limit`` people under ``adult_age`` on the slot's day.

    Someone whose birth date is unknown counts as an adult, as the host's own
    minors rule does. ``pointer(index)`` is where the form holds the ``index``-th
    person's birth date or ID number.
    """
    on = request.local_date
    minors = [index for index, person in enumerate(request.people) if person.birth_date is not None and age_on(person.birth_date, on) < adult_age]
    if len(minors) > limit:
        raise Refused(
            f"a booking may include at most {limit} people under {adult_age}; this one has {len(minors)}",
            code="too_many_minors",
            errors=[FieldProblem(pointer(index), f"under {adult_age} on {on}", "too_many_minors") for index in minors],
        )


def refuse_too_many_persons_a_day(session: Session, request: BookingRequest, limit: int, *, vertical: str, pointer: str) -> None:
    """Refuse (``persons_limit_exceeded``) when the booker's active bookings of ``vertical`` that day and this one hold more than ``limit`` places.

    Takes the booker's identity lock first, so two concurrent requests cannot both pass.
    """
    lock_identities(session, [f"customer:{request.customer_id}"])
    bookings = active_bookings(session, vertical=vertical, customer_id=request.customer_id, local_dates=[request.local_date], excluding=request.moves)
    booked = sum(booking.units for booking in bookings)
    if booked + request.units > limit:
        already = f"; {booked} already booked" if booked else ""
        raise Refused(
            f"an account may book for at most {limit} people a day{already}",
            code="persons_limit_exceeded",
            errors=[FieldProblem(pointer, f"at most {max(limit - booked, 0)} more on {request.local_date}", "persons_limit_exceeded")],
        )
