"""Shuttle booking (班车预约): seats on scheduled departures, with pick-up and drop-off points the merchant manages as the route's stops."""

from yuyue.plugin_api import VerticalFile, hookimpl
from yuyue_vehicle.hooks import booking_units, cancellation_terms, reschedule_terms, validate_booking

# pluggy registers this package, so the behaviour hooks are imported here to be found.
__all__ = ["booking_units", "cancellation_terms", "register_verticals", "reschedule_terms", "validate_booking"]


@hookimpl
def register_verticals() -> list[VerticalFile]:
    return [VerticalFile(__package__, "vertical/vertical.json")]
