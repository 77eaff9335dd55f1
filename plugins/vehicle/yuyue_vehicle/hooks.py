"""What the shuttle vertical's settings change: seats per booking, bookings per trip and phone, when changes close; and the stops a booking names.

A booking takes as many places as the ``seats`` it asks for. Refusals, each
with a stable code:

- ``too_many_seats`` (a problem of the form, pointer ``/answers/seats``): more
  than ``max_seats_per_order`` seats.
- ``unknown_stop`` (a problem of the form, ``/answers/pickup_point`` or
  ``/answers/dropoff_point``): not the code of an active stop of the booking
  type's route that picks up (``pickup``, ``both``) or drops off (``dropoff``,
  ``both``) respectively. The stops are the merchant's data
  (``…/admin/booking-types/<slug>/stops``), read through ``route_stops``.
- ``stop_order`` (``/answers/dropoff_point``): the drop-off point does not
  come after the pick-up point on the route.
- ``orders_per_trip_exceeded`` (``Refused``, pointer ``/phone``): the booker's
  phone already holds ``max_orders_per_trip_per_phone`` bookings on this trip
  (made by that phone's account or naming it as a passenger).
- ``cancellation_closed`` / ``reschedule_closed``: cancelling or moving later
  than ``change_cutoff_minutes`` before departure. A booking type whose own
  policies carry a ``cancellation`` block, or a ``reschedule`` deadline, keeps it.

A trip's seats are its slot's capacity, set in the booking type's slot rules.
Changes close ``change_cutoff_minutes`` (30 by default) before departure; a
change at exactly the cut-off is still in time.
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
    Refused,
    RescheduleTerms,
    RouteStopView,
    active_bookings,
    hookimpl,
    lazy_ngettext,
    lock_identities,
    route_stops,
)
from yuyue.plugin_api import lazy_gettext as _l

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

VERTICAL = "vehicle"


@hookimpl
def booking_units(booking_type: BookingTypeView, request: BookingRequest) -> int | None:
    """The ``seats`` answered; a form without that field leaves the count to the party size or tickets sent.

    A party size or tickets sent as well must agree with it: the host refuses them otherwise (``party_size_mismatch``).
    """
    if booking_type.vertical != VERTICAL:
        return None
    return request.answers.get("seats")


@hookimpl
def validate_booking(booking_type: BookingTypeView, request: BookingRequest, settings: Mapping[str, Any], session: Session) -> list[FieldProblem] | None:
    if booking_type.vertical != VERTICAL:
        return None
    problems = []
    most_seats = settings["max_seats_per_order"]
    if request.units > most_seats:
        problems.append(FieldProblem("/answers/seats", _l("at most %(most_seats)s seats per booking", most_seats=most_seats), "too_many_seats"))
    problems += _stop_problems(request.answers, route_stops(session, booking_type.id))
    if problems:
        return problems
    if request.phone is None:
        return None
    most_orders = settings["max_orders_per_trip_per_phone"]
    lock_identities(session, [f"phone:{request.phone}"])
    booked = len(active_bookings(session, booking_type_id=booking_type.id, starts_at=request.starts_at, phone=request.phone, excluding=request.moves))
    if booked >= most_orders:
        raise Refused(
            lazy_ngettext(
                "a mobile number may hold at most %(num)s booking on one trip; %(phone)s has %(booked)s",
                "a mobile number may hold at most %(num)s bookings on one trip; %(phone)s has %(booked)s",
                most_orders,
                phone=request.phone,
                booked=booked,
            ),
            code="orders_per_trip_exceeded",
            errors=[FieldProblem("/phone", _l("this number is already booked on this trip"), "orders_per_trip_exceeded")],
        )
    return None


def _stop_problems(answers: Mapping[str, Any], route: list[RouteStopView]) -> list[FieldProblem]:
    """Problems of the pick-up and drop-off points the answers name (a form without those fields has none)."""
    order = {stop.code: index for index, stop in enumerate(route)}
    stops = {stop.code: stop for stop in route}
    problems = []
    pickup, dropoff = answers.get("pickup_point"), answers.get("dropoff_point")
    if pickup is not None and not (pickup in stops and stops[pickup].picks_up):
        problems.append(FieldProblem("/answers/pickup_point", _l("not a pick-up point of this route"), "unknown_stop"))
    if dropoff is not None and not (dropoff in stops and stops[dropoff].drops_off):
        problems.append(FieldProblem("/answers/dropoff_point", _l("not a drop-off point of this route"), "unknown_stop"))
    if not problems and pickup is not None and dropoff is not None and order[dropoff] <= order[pickup]:
        problems.append(FieldProblem("/answers/dropoff_point", _l("the drop-off point must come after the pick-up point on the route"), "stop_order"))
    return problems


@hookimpl
def cancellation_terms(booking: BookingView, now: datetime, settings: Mapping[str, Any]) -> CancellationTerms | None:
    if booking.booking_type.vertical != VERTICAL or "cancellation" in booking.booking_type.policies:
        return None
    deadline = _changes_close(booking, settings)
    if _closed(booking, now, deadline):
        return CancellationTerms(allowed=False, late=True, code="cancellation_closed", deadline=deadline)
    return CancellationTerms(allowed=True, late=False, deadline=deadline)


@hookimpl
def reschedule_terms(booking: BookingView, now: datetime, settings: Mapping[str, Any]) -> RescheduleTerms | None:
    """Refuses a move past the cutoff; otherwise leaves the booking type's ``reschedule`` policy (how often) to the host."""
    if booking.booking_type.vertical != VERTICAL or "deadline_hours" in (booking.booking_type.policies.get("reschedule") or {}):
        return None
    deadline = _changes_close(booking, settings)
    if not _closed(booking, now, deadline):
        return None
    message = f"a booking can be changed only up to {settings['change_cutoff_minutes']} minutes before departure"
    return RescheduleTerms(allowed=False, code="reschedule_closed", message=message, deadline=deadline)


def _changes_close(booking: BookingView, settings: Mapping[str, Any]) -> datetime:
    return booking.starts_at - timedelta(minutes=settings["change_cutoff_minutes"])


def _closed(booking: BookingView, now: datetime, deadline: datetime) -> bool:
    """Past the cutoff, or departed; a change exactly at the cutoff is still in time."""
    return now > deadline or now >= booking.starts_at
