"""What the exhibition vertical's settings change: people per account and day, minors per booking, late entry.

Refusals, each with a stable code:

- ``too_many_minors`` (``Refused``, a pointer at each minor's ID number): more
  than ``max_minors_per_booking`` people under the adult age (the booking
  type's ``minors.adult_age``, else 18) on the day of the visit.
- ``persons_limit_exceeded`` (``Refused``, pointer ``/answers/companions``):
  the account's exhibition bookings on that day would admit more than
  ``max_persons_per_account_per_day`` people.
- ``slot_ended`` (the host's, at check-in): later than ``entry_grace_minutes``
  after the booking's window ends (``check_in_window``).

A booking type whose own policies set ``max_persons_per_account_per_day`` or
``minors.max_minors_per_booking`` keeps that rule, enforced by the host.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from yuyue.plugin_api import BookingRequest, BookingTypeView, BookingView, FieldProblem, Person, Refused, active_bookings, hookimpl, lock_identities

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

VERTICAL = "exhibition"
ADULT_AGE = 18


@hookimpl
def validate_booking(booking_type: BookingTypeView, request: BookingRequest, settings: Mapping[str, Any], session: Session) -> None:
    if booking_type.vertical != VERTICAL:
        return
    minors = booking_type.policies.get("minors") or {}
    if "max_minors_per_booking" not in minors:
        _check_minors(request, settings["max_minors_per_booking"], minors.get("adult_age", ADULT_AGE))
    if "max_persons_per_account_per_day" not in booking_type.policies:
        _check_persons_per_day(session, request, settings["max_persons_per_account_per_day"])


@hookimpl
def check_in_window(booking: BookingView, window: tuple[datetime, datetime], settings: Mapping[str, Any]) -> tuple[datetime, datetime] | None:
    """Latecomers are let in for ``entry_grace_minutes`` after the window ends."""
    if booking.booking_type.vertical != VERTICAL:
        return None
    opens, closes = window
    return opens, closes + timedelta(minutes=settings["entry_grace_minutes"])


def _check_minors(request: BookingRequest, limit: int, adult_age: int) -> None:
    minors = [index for index, person in enumerate(request.people) if _is_minor(person, request.local_date, adult_age)]
    if len(minors) > limit:
        raise Refused(
            f"a booking may include at most {limit} people under {adult_age}; this one has {len(minors)}",
            code="too_many_minors",
            errors=[FieldProblem(_id_card_pointer(index), f"under {adult_age} on {request.local_date}", "too_many_minors") for index in minors],
        )


def _is_minor(person: Person, on: date, adult_age: int) -> bool:
    """Someone whose birth date is unknown counts as an adult, as the host's own minors rule does."""
    born = person.birth_date
    return born is not None and on.year - born.year - ((on.month, on.day) < (born.month, born.day)) < adult_age


def _id_card_pointer(index: int) -> str:
    """The visitor is the form's first person, companions follow in order."""
    return "/answers/id_card" if index == 0 else f"/answers/companions/{index - 1}/id_card"


def _check_persons_per_day(session: Session, request: BookingRequest, limit: int) -> None:
    lock_identities(session, [f"customer:{request.customer_id}"])
    booked = sum(
        b.units for b in active_bookings(session, vertical=VERTICAL, customer_id=request.customer_id, local_dates=[request.local_date], excluding=request.moves)
    )
    if booked + request.units > limit:
        already = f"; {booked} already booked" if booked else ""
        raise Refused(
            f"an account may book for at most {limit} people a day{already}",
            code="persons_limit_exceeded",
            errors=[FieldProblem("/answers/companions", f"at most {max(limit - booked, 0)} more on {request.local_date}", "persons_limit_exceeded")],
        )
