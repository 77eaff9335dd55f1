"""Class booking (课程预约): hourly classes with a coach and a room, a weekly class limit, late-cancellation points and class packages."""

from yuyue.plugin_api import VerticalFile, hookimpl
from yuyue_course.hooks import (
    booking_cancelled,
    booking_no_show,
    booking_placed,
    cancellation_terms,
    quote_price,
    validate_booking,
    waitlist_closes_at,
)

# pluggy registers this package, so the behaviour hooks are imported here to be found.
__all__ = [
    "booking_cancelled",
    "booking_no_show",
    "booking_placed",
    "cancellation_terms",
    "quote_price",
    "register_verticals",
    "validate_booking",
    "waitlist_closes_at",
]


@hookimpl
def register_verticals() -> list[VerticalFile]:
    return [VerticalFile(__package__, "vertical/vertical.json")]
