"""A shuttle's route as customers read it: the stops of a booking type with the local time a trip reaches each, and the stops a booking chose."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from yuyue.behaviour import MinimumParticipants, RouteStopView
from yuyue.bookings.models import Booking
from yuyue.catalog.stops import route_stops
from yuyue.forms.models import FormVersion
from yuyue.presenting import local_time
from yuyue.presenting.language import localize

# The field type whose answers are stop codes (``yuyue.forms.fields``).
STOP_FIELD = "route_stop"


def stop_json(stop: RouteStopView, locale: str) -> dict[str, Any]:
    return {"code": stop.code, "name": localize(stop.name, locale), "kind": stop.kind, "minutes_after_departure": stop.minutes_after_departure}


def stop_times(stops: list[RouteStopView], departure: datetime, zone: ZoneInfo) -> list[dict[str, Any]]:
    """When a trip leaving at ``departure`` reaches each stop, in the tenant's time."""
    return [{"code": stop.code, "at": local_time(stop.reached_at(departure), zone)} for stop in stops]


def session_rules_json(stops: list[RouteStopView], minimum: MinimumParticipants | None, locale: str) -> dict[str, Any]:
    """What a booking type's detail adds for routes and sessions: its active stops in order, and the minimum a session needs."""
    return {
        "stops": [stop_json(stop, locale) for stop in stops],
        "minimum_participants": (None if minimum is None else {"participants": minimum.participants, "decided_hours_before": minimum.decided_hours_before}),
    }


def chosen_stops(session: Session, booking: Booking, zone: ZoneInfo) -> list[dict[str, Any]]:
    """The stops the booking's answers name (fields of type ``route_stop``), each with its name in every language and the time the trip reaches it.

    A withdrawn stop is still shown; a booking type without stops costs one query.
    """
    stops = {stop.code: stop for stop in route_stops(session, booking.booking_type_id, active_only=False)}
    if not stops:
        return []
    definition = session.scalar(
        select(FormVersion.definition).where(FormVersion.booking_type_id == booking.booking_type_id, FormVersion.version == booking.form_version)
    )
    fields = [name for name, spec in ((definition or {}).get("properties") or {}).items() if isinstance(spec, dict) and spec.get("x-field") == STOP_FIELD]
    chosen = []
    for name in fields:
        stop = stops.get((booking.answers or {}).get(name))
        if stop is not None:
            chosen.append({"field": name, "code": stop.code, "name": stop.name, "kind": stop.kind, "at": local_time(stop.reached_at(booking.starts_at), zone)})
    return chosen
