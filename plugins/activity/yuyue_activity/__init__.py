"""Event registration (活动报名): sign-ups for talks, workshops and family events by session, one per person, called off below a minimum."""

from yuyue.plugin_api import VerticalFile, hookimpl
from yuyue_activity.hooks import booking_units, minimum_participants, validate_booking

# pluggy registers this package, so the behaviour hooks are imported here to be found.
__all__ = ["booking_units", "minimum_participants", "register_verticals", "validate_booking"]


@hookimpl
def register_verticals() -> list[VerticalFile]:
    return [VerticalFile(__package__, "vertical/vertical.json")]
