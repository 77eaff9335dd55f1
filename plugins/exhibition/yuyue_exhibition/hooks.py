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
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from yuyue.plugin_api import BookingRequest, BookingTypeView, BookingView, hookimpl, refuse_too_many_minors, refuse_too_many_persons_a_day

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
        refuse_too_many_minors(request, settings["max_minors_per_booking"], minors.get("adult_age", ADULT_AGE), _id_card_pointer)
    if "max_persons_per_account_per_day" not in booking_type.policies:
        refuse_too_many_persons_a_day(session, request, settings["max_persons_per_account_per_day"], vertical=VERTICAL, pointer="/answers/companions")


@hookimpl
def check_in_window(booking: BookingView, window: tuple[datetime, datetime], settings: Mapping[str, Any]) -> tuple[datetime, datetime] | None:
    """Latecomers are let in for ``entry_grace_minutes`` after the window ends."""
    if booking.booking_type.vertical != VERTICAL:
        return None
    opens, closes = window
    return opens, closes + timedelta(minutes=settings["entry_grace_minutes"])


def _id_card_pointer(index: int) -> str:
    """The visitor is the form's first person, companions follow in order."""
    return "/answers/id_card" if index == 0 else f"/answers/companions/{index - 1}/id_card"
